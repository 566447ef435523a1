/**
 * crypto/proofs.js — §1.5 Set-membership proofs, eqs. Z1–Z5 (crypto/proofs.py): prove and verify that a
 * Paillier ciphertext encrypts a member of a public set S, and their JSON form.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { drawUnit, gcd, mod, modInverse, modPow, systemRng } from './bigint.js';
import { byteLength, hexToInt, intToHex } from './encoding.js';
import { InvalidEncoding, InvalidProof } from './errors.js';
import { CHALLENGE_BITS, T_MOD, Transcript } from './transcript.js';

export const DOMAIN_OPTION = 'saylau/v1/option';
export const DOMAIN_SELECTION_COUNT = 'saylau/v1/selection-count';
export const DOMAIN_DECRYPTION = 'saylau/v1/decryption';

/**
 * eq. Z3: e = H(domain, fingerprint, n, context, statement, c, S, a) mod 2^t, with the
 * fields in the order of membership_challenge in crypto/proofs.py.
 * `context` is an array of [label, value] string pairs.
 */
export async function membershipChallenge(pk, domain, fingerprint, context,
  statementCiphertexts, c, allowed, commitments) {
  const t = new Transcript(domain);
  t.bytes('fingerprint', fingerprint);
  t.integer('n', pk.n, byteLength(pk.n));
  t.integer('context#count', context.length, 4);
  for (const [label, value] of context) {
    t.text('context.label', label);
    t.text('context.value', value);
  }
  t.integersMod('statement.ciphertexts', statementCiphertexts, pk.nsquare);
  t.integerMod('statement.c', c, pk.nsquare);
  t.integersMod('statement.allowed', allowed.map(BigInt), pk.n);
  t.integersMod('commitments', commitments, pk.nsquare);
  return t.challenge(CHALLENGE_BITS);
}

/** eq. Z1: u = c · (1 − m·n) mod N. */
function uValue(pk, c, m) {
  return (c * mod(1n - BigInt(m) * pk.n, pk.nsquare)) % pk.nsquare;
}

function checkAllowed(pk, allowed) {
  const values = allowed.map(BigInt);
  if (!values.length || new Set(values.map(String)).size !== values.length) {
    throw new InvalidProof('allowed set must be non-empty and without repeats');
  }
  if (values.some((m) => m < 0n || m >= pk.n)) throw new InvalidProof('allowed values must lie in [0, n)');
  return values;
}

/**
 * Prove that c = (1+mn)·r^n encrypts a member of `allowed` (eqs. Z1–Z4):
 *   i ≠ j:  e_i ←$ [0, 2^t),  z_i ←$ Z*_n,  a_i = z_i^n · u_i^(−e_i) mod N
 *   i = j:  ρ ←$ Z*_n,                      a_j = ρ^n mod N
 *   e = H(...);  e_j = e − Σ_{i≠j} e_i mod 2^t;  z_j = ρ · r^(e_j) mod n
 * Options: domain, fingerprint (Uint8Array), context ([[label, value], ...]),
 * statementCiphertexts (default [c]), rng, pool (a PrecomputePool supplying z_i^n and
 * ρ^n), cInverse (c^-1 mod N, if known, saves an inversion per simulated branch).
 * Returns {a, e, z} as BigInt arrays.
 */
export async function proveMembership(pk, c, r, m, allowed, {
  domain, fingerprint, context, statementCiphertexts = undefined, rng = systemRng,
  pool = undefined, cInverse = undefined,
} = {}) {
  const values = checkAllowed(pk, allowed);
  m = BigInt(m);
  const j = values.findIndex((v) => v === m);
  if (j < 0) throw new InvalidProof('the plaintext is not in the allowed set; no proof exists');
  const N = pk.nsquare;
  const k = values.length;
  const a = new Array(k).fill(0n);
  const e = new Array(k).fill(0n);
  const z = new Array(k).fill(0n);
  const unit = async () => {
    if (pool) return pool.takeUnit();
    const x = await drawUnit(rng, pk.n);
    return { x, xn: modPow(x, pk.n, N) };
  };
  for (let i = 0; i < k; i++) {
    if (i === j) continue;
    e[i] = BigInt(await rng(T_MOD)); // e_i = rng(2^t), then z_i (order of proofs.py)
    const { x, xn } = await unit();
    z[i] = x;
    let uInvE; // u_i^(−e_i) mod N
    if (cInverse !== undefined) {
      // u_i^-1 = c^-1 · (1 + m_i·n) mod N, since (1 − m_i·n)^-1 = 1 + m_i·n.
      uInvE = modPow((cInverse * ((1n + values[i] * pk.n) % N)) % N, e[i], N);
    } else {
      uInvE = modInverse(modPow(uValue(pk, c, values[i]), e[i], N), N);
    }
    a[i] = (xn * uInvE) % N;
  }
  const { x: rho, xn: rhoN } = await unit();
  a[j] = rhoN;
  const statement = statementCiphertexts !== undefined ? statementCiphertexts : [c];
  const challenge = await membershipChallenge(pk, domain, fingerprint, context, statement, c, values, a);
  let sum = 0n;
  for (let i = 0; i < k; i++) if (i !== j) sum += e[i];
  e[j] = mod(challenge - sum, T_MOD);
  z[j] = (rho * modPow(r, e[j], pk.n)) % pk.n;
  return { a, e, z };
}

/** Verify a membership proof (eq. Z5); raises InvalidProof. */
export async function verifyMembership(pk, c, allowed, proof, {
  domain, fingerprint, context, statementCiphertexts = undefined,
} = {}) {
  try {
    pk.validateCiphertext(c);
  } catch (err) {
    throw new InvalidProof(`statement ciphertext invalid: ${err.message}`);
  }
  const values = checkAllowed(pk, allowed);
  const k = values.length;
  const N = pk.nsquare;
  if (proof.a.length !== k || proof.e.length !== k || proof.z.length !== k) {
    throw new InvalidProof(`proof must have exactly ${k} branches`);
  }
  for (const ai of proof.a) {
    if (ai <= 0n || ai >= N || gcd(ai, pk.n) !== 1n) throw new InvalidProof('commitment not in Z*_{n^2}');
  }
  for (const ei of proof.e) if (ei < 0n || ei >= T_MOD) throw new InvalidProof('challenge out of range [0, 2^t)');
  for (const zi of proof.z) {
    if (zi <= 0n || zi >= pk.n || gcd(zi, pk.n) !== 1n) throw new InvalidProof('response is not in Z*_n');
  }
  const statement = statementCiphertexts !== undefined ? statementCiphertexts : [c];
  const expected = await membershipChallenge(pk, domain, fingerprint, context, statement, c, values, proof.a);
  if (proof.e.reduce((s, x) => s + x, 0n) % T_MOD !== expected) {
    throw new InvalidProof('challenges do not sum to the Fiat–Shamir challenge');
  }
  for (let i = 0; i < k; i++) {
    const rhs = (proof.a[i] * modPow(uValue(pk, c, values[i]), proof.e[i], N)) % N;
    const lhs = modPow(proof.z[i], pk.n, N); // Z5: z^n = ±a·u^e (docs/protocol.md §1.5)
    if (lhs !== rhs && (lhs + rhs) % N !== 0n) throw new InvalidProof('verification equation z^n = ±a·u^e fails');
  }
}

/** MembershipProof.to_json: {"a": [hex], "e": [hex], "z": [hex]}. */
export function proofToJson(proof) {
  return { a: proof.a.map(intToHex), e: proof.e.map(intToHex), z: proof.z.map(intToHex) };
}

export function proofFromJson(obj, where = 'proof') {
  const out = {};
  for (const key of ['a', 'e', 'z']) {
    const items = obj && obj[key];
    if (!Array.isArray(items) || items.length < 1 || items.length > 1024) {
      throw new InvalidEncoding(`${where}.${key}: bad length`);
    }
    out[key] = items.map((x) => hexToInt(x, `${where}.${key}`));
  }
  return out;
}
