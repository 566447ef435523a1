/**
 * crypto/bigint.js — §6.2 Arithmetic on BigInt: mod, gcd, modular inverse, sliding-window modPow, and
 * uniform sampling in [0, n) and Z*_n (RandBelow / random_unit of crypto/paillier.py).
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { bitLength, bytesToInt } from './encoding.js';
import { InvalidCiphertext } from './errors.js';
import { randomBytes } from './webcrypto.js';

/** a mod m in [0, m). */
export function mod(a, m) {
  const r = a % m;
  return r < 0n ? r + m : r;
}

export function gcd(a, b) {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** a^-1 mod m by the extended Euclidean algorithm; raises if gcd(a, m) != 1. */
export function modInverse(a, m) {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new InvalidCiphertext('value is not invertible');
  return mod(oldS, m);
}

/**
 * base^exponent mod modulus, left-to-right sliding-window exponentiation
 * (window 1..6 bits by exponent length; odd powers precomputed).  Not constant
 * time: the exponents here are public (n, e_i) or used once (ρ·r^e_j mod n).
 */
export function modPow(base, exponent, modulus) {
  if (modulus === 1n) return 0n;
  if (exponent < 0n) return modPow(modInverse(base, modulus), -exponent, modulus);
  base = mod(base, modulus);
  if (exponent === 0n) return 1n;
  const bits = exponent.toString(2);
  const L = bits.length;
  const w = L > 671 ? 6 : L > 239 ? 5 : L > 79 ? 4 : L > 23 ? 3 : 1;
  const table = [base]; // table[k] = base^(2k+1)
  if (w > 1) {
    const b2 = (base * base) % modulus;
    for (let k = 1; k < 1 << (w - 1); k++) table.push((table[k - 1] * b2) % modulus);
  }
  let result = null;
  let i = 0;
  while (i < L) {
    if (bits[i] === '0') {
      result = (result * result) % modulus;
      i++;
      continue;
    }
    let j = Math.min(i + w, L);
    while (bits[j - 1] === '0') j--;
    const power = table[(parseInt(bits.slice(i, j), 2) - 1) >> 1];
    if (result === null) {
      result = power;
    } else {
      for (let k = i; k < j; k++) result = (result * result) % modulus;
      result = (result * power) % modulus;
    }
    i = j;
  }
  return result;
}

/** Uniform BigInt in [0, n) by rejection sampling. */
export function randomBelow(n) {
  const bits = bitLength(n);
  const len = Math.ceil(bits / 8);
  const excess = BigInt(len * 8 - bits);
  for (;;) {
    const x = bytesToInt(randomBytes(len)) >> excess;
    if (x < n) return x;
  }
}

/** Uniform element of Z*_n (random_unit in paillier.py). */
export function randomUnit(n) {
  for (;;) {
    const x = randomBelow(n);
    if (x > 0n && gcd(x, n) === 1n) return x;
  }
}

/** The default randomness source: bound → uniform BigInt in [0, bound) (getRandomValues). */
export const systemRng = randomBelow;

/**
 * random_unit(n, rng) of paillier.py: draw from [0, n) until 0 < r and gcd(r, n) = 1
 * (the same draws as Python, so injected sources stay in step).
 */
export async function drawUnit(rng, n) {
  for (;;) {
    const r = BigInt(await rng(n));
    if (r > 0n && gcd(r, n) === 1n) return r;
  }
}
