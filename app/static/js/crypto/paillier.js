/**
 * crypto/paillier.js — §1.3 Paillier with g = n + 1 (crypto/paillier.py): eq. P1 c = (1 + m·n)·r^n mod n²,
 * the ciphertext check and homomorphic addition.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { gcd, modPow, randomUnit } from './bigint.js';
import { bitLength, hexToInt, intToHex } from './encoding.js';
import { InvalidCiphertext, InvalidEncoding, InvalidKey } from './errors.js';

/** Paillier public key n (generator g = n + 1), N = n^2. */
export class PaillierPublicKey {
  constructor(n) {
    n = BigInt(n);
    if (n < 3n || n % 2n === 0n) throw new InvalidKey('Paillier modulus must be an odd integer');
    this.n = n;
    this.nsquare = n * n;
    this.bits = bitLength(n);
  }

  /** Accepts {"n": hex} (PublicKey.to_json) or a threshold key {"public": {"n": hex}, ...}. */
  static fromJson(obj) {
    if (obj && typeof obj === 'object' && obj.public && typeof obj.public === 'object') {
      obj = obj.public;
    }
    if (!obj || typeof obj !== 'object') throw new InvalidEncoding('paillier public key: expected an object');
    const n = hexToInt(obj.n, 'n');
    if (bitLength(n) < 1024) throw new InvalidKey('Paillier modulus too small');
    return new PaillierPublicKey(n);
  }

  toJson() {
    return { n: intToHex(this.n) };
  }

  /** eq. P1: c = (1 + m·n) · r^n mod N; returns {c, r}. */
  encrypt(m, r = undefined) {
    m = BigInt(m);
    if (m < 0n || m >= this.n) throw new InvalidEncoding('plaintext out of range [0, n)');
    if (r === undefined) r = randomUnit(this.n);
    else if (r <= 0n || r >= this.n) throw new InvalidEncoding('randomness out of range');
    return { c: this.encryptWithRn(m, modPow(r, this.n, this.nsquare)), r };
  }

  /** Encrypt with a precomputed r^n mod N. */
  encryptWithRn(m, rn) {
    return (((1n + BigInt(m) * this.n) % this.nsquare) * rn) % this.nsquare;
  }

  /** Ciphertext check: 0 < c < N and gcd(c, n) = 1. */
  validateCiphertext(c) {
    if (typeof c !== 'bigint' || c <= 0n || c >= this.nsquare || gcd(c, this.n) !== 1n) {
      throw new InvalidCiphertext('ciphertext is not in Z*_{n^2}');
    }
    return c;
  }

  /** Homomorphic addition: ∏ c_i mod N. */
  add(...cs) {
    return cs.reduce((acc, c) => (acc * c) % this.nsquare, 1n);
  }
}
