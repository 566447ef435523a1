/**
 * saylau-crypto.js — the voter-side cryptography of Saylau, in plain JavaScript.
 *
 * An ES module with no dependencies and no build step.  It runs in browsers (main
 * thread or a module Web Worker) and in Node >= 20 (globalThis.crypto.subtle).
 * Every function mirrors the Python reference implementation in crypto/ and produces
 * byte-identical JSON, so the server's Python verifier accepts what it produces:
 *
 *   crypto/encoding.py    → hex, canonical JSON                       (§1.1)
 *   crypto/transcript.py  → the Fiat–Shamir transcript (SHA-256)      (§1.2)
 *   crypto/paillier.py    → Paillier encryption, eq. P1               (§1.3)
 *   crypto/election.py    → manifest and election fingerprint, eq. F1 (§1.4)
 *   crypto/proofs.py      → set-membership proofs, eqs. Z1–Z5         (§1.5)
 *   crypto/ballot.py      → ballot encryption, eqs. B1–B3             (§1.6)
 *   crypto/blind_rsa.py   → RFC 9474 client side (Prepare/Blind/Finalize)
 *   crypto/credentials.py → credential message, token id, Ed25519 ballot key
 *
 * Randomness comes from crypto.getRandomValues unless an `rng` is injected (tests and
 * worked examples only).  As in the Python code (RandBelow in crypto/paillier.py), an
 * rng is a function bound → uniform BigInt in [0, bound) (it may return a Promise),
 * and it is called in exactly the order the Python code calls it, so the same source
 * (e.g. the DRBG of tests/drbg.py) gives byte-identical ciphertexts and proofs.  See docs/sections/70-browser-client.md for the API.
 */

const webcrypto = globalThis.crypto;
const subtle = webcrypto && webcrypto.subtle;

// ------------------------------------------------------------------------ errors

/** Base class of every error raised here (names match crypto/errors.py). */
export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = this.constructor.name;
  }
}
export class InvalidEncoding extends CryptoError {}
export class InvalidKey extends CryptoError {}
export class InvalidCiphertext extends CryptoError {}
export class InvalidProof extends CryptoError {}
export class InvalidBallot extends CryptoError {}
export class InvalidSignature extends CryptoError {}

// ------------------------------------------------------------------------ §1.1 encoding

const HEX_INT = /^(0|[1-9a-f][0-9a-f]*)$/;
const HEX_BYTES = /^([0-9a-f]{2})*$/;
/** Largest integer accepted from the wire (bits), as MAX_INT_BITS in encoding.py. */
export const MAX_INT_BITS = 16384;

/** Lowercase hex of the exact bytes. */
export function bytesToHex(bytes) {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Decode lowercase hex bytes, optionally of an exact length. */
export function hexToBytes(text, length = undefined, name = 'bytes') {
  if (typeof text !== 'string' || !HEX_BYTES.test(text)) {
    throw new InvalidEncoding(`${name}: expected lowercase hex bytes`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  if (length !== undefined && out.length !== length) {
    throw new InvalidEncoding(`${name}: expected ${length} bytes, got ${out.length}`);
  }
  return out;
}

/** Canonical lowercase hex of a non-negative BigInt (no prefix, no leading zeros). */
export function intToHex(value) {
  value = BigInt(value);
  if (value < 0n) throw new InvalidEncoding('negative integers have no canonical encoding');
  return value.toString(16);
}

/** Decode canonical lowercase hex into a BigInt; anything else raises InvalidEncoding. */
export function hexToInt(text, name = 'integer') {
  if (typeof text !== 'string' || !HEX_INT.test(text)) {
    throw new InvalidEncoding(`${name}: expected canonical lowercase hex`);
  }
  if (text.length * 4 > MAX_INT_BITS) throw new InvalidEncoding(`${name}: integer too large`);
  return BigInt('0x' + text);
}

/** OS2IP: big-endian bytes → BigInt. */
export function bytesToInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

/** I2OSP: BigInt → exactly `width` big-endian bytes; raises if it does not fit. */
export function intToBytes(value, width) {
  value = BigInt(value);
  if (value < 0n) throw new InvalidEncoding('negative integer');
  const hex = value.toString(16);
  if (hex.length > 2 * width && value !== 0n) {
    throw new InvalidEncoding(`integer does not fit in ${width} bytes`);
  }
  return hexToBytes(hex.padStart(2 * width, '0'));
}

/** Number of bits of a non-negative BigInt (0 for 0). */
export function bitLength(value) {
  return value === 0n ? 0 : value.toString(2).length;
}

/** Number of bytes of residues modulo `modulus` (byte_length in encoding.py). */
export function byteLength(modulus) {
  return Math.floor((bitLength(BigInt(modulus)) + 7) / 8);
}

const textEncoder = new TextEncoder();

/** UTF-8 bytes of a well-formed string (lone surrogates are refused, as in Python). */
export function utf8(text) {
  if (!isWellFormed(text)) throw new InvalidEncoding('string is not valid Unicode');
  return textEncoder.encode(text);
}

function isWellFormed(text) {
  if (typeof text.isWellFormed === 'function') return text.isWellFormed();
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** Concatenate byte arrays. */
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Compare strings by Unicode code point (Python's str order, used by sort_keys). */
function compareCodePoints(a, b) {
  const x = Array.from(a, (ch) => ch.codePointAt(0));
  const y = Array.from(b, (ch) => ch.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

function canonicalValue(value, path) {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw new InvalidEncoding(`${path}: string is not valid Unicode`);
    // JSON.stringify escapes exactly as Python's json with ensure_ascii=False:
    // \" \\ \b \f \n \r \t, other C0 controls as \u00xx (lowercase hex).
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint') return value.toString(10);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new InvalidEncoding(`${path}: only safe integers are allowed in canonical JSON`);
    }
    return String(value === 0 ? 0 : value);
  }
  if (Array.isArray(value)) {
    return '[' + value.map((item, i) => canonicalValue(item, `${path}[${i}]`)).join(',') + ']';
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(compareCodePoints);
    const parts = [];
    for (const key of keys) {
      if (value[key] === undefined) throw new InvalidEncoding(`${path}.${key}: undefined`);
      parts.push(canonicalValue(key, path) + ':' + canonicalValue(value[key], `${path}.${key}`));
    }
    return '{' + parts.join(',') + '}';
  }
  throw new InvalidEncoding(`${path}: ${typeof value} is not JSON`);
}

/** Canonical JSON text: sorted keys (code point order), compact, no floats. */
export function canonicalJsonString(value) {
  return canonicalValue(value, '$');
}

/** Canonical JSON bytes (UTF-8), byte-identical to crypto.encoding.canonical_json. */
export function canonicalJson(value) {
  return textEncoder.encode(canonicalJsonString(value));
}

// ------------------------------------------------------------------------ §1.2 transcript

export const FIELD_BYTES = 0x01;
export const FIELD_INT = 0x02;
export const FIELD_TEXT = 0x03;
/** Challenge length t in bits (2^t < min(p, q)). */
export const CHALLENGE_BITS = 256;
const T_MOD = 1n << BigInt(CHALLENGE_BITS);

function requireSubtle() {
  if (!subtle) throw new CryptoError('WebCrypto (crypto.subtle) is not available');
  return subtle;
}

export async function sha256(bytes) {
  return new Uint8Array(await requireSubtle().digest('SHA-256', bytes));
}

export async function sha384(bytes) {
  return new Uint8Array(await requireSubtle().digest('SHA-384', bytes));
}

function u32be(n) {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

/**
 * The Fiat–Shamir transcript of crypto/transcript.py.  Each field is
 *   type (1 byte) || u32be(len(label)) || label || u32be(len(value)) || value
 * and the first field is always text("domain", domain).  WebCrypto has no incremental
 * hashing, so the fields are buffered and hashed by digest().
 */
export class Transcript {
  constructor(domain) {
    this._parts = [];
    this.text('domain', domain);
  }

  _field(kind, label, value) {
    const rawLabel = utf8(label);
    this._parts.push(new Uint8Array([kind]), u32be(rawLabel.length), rawLabel,
      u32be(value.length), value);
    return this;
  }

  bytes(label, value) {
    return this._field(FIELD_BYTES, label, Uint8Array.from(value));
  }

  text(label, value) {
    return this._field(FIELD_TEXT, label, utf8(value));
  }

  /** An unsigned integer in exactly `width` bytes, big-endian. */
  integer(label, value, width) {
    return this._field(FIELD_INT, label, intToBytes(value, width));
  }

  /** A residue modulo `modulus` in byteLength(modulus) bytes. */
  integerMod(label, value, modulus) {
    return this.integer(label, value, byteLength(modulus));
  }

  /** A list: its length as a 4-byte integer "label#count", then "label[i]" fields. */
  integersMod(label, values, modulus) {
    const items = Array.from(values);
    this.integer(label + '#count', items.length, 4);
    items.forEach((v, i) => this.integerMod(`${label}[${i}]`, v, modulus));
    return this;
  }

  /** The bytes hashed so far (for tests). */
  encoding() {
    return concatBytes(...this._parts);
  }

  async digest() {
    return sha256(this.encoding());
  }

  /** e = int(SHA-256(transcript)) mod 2^bits. */
  async challenge(bits = CHALLENGE_BITS) {
    if (!(bits > 0 && bits <= 256)) throw new RangeError('challenge length must be 1..256 bits');
    return bytesToInt(await this.digest()) % (1n << BigInt(bits));
  }
}

/** SHA-256 of a transcript holding `domain` then the byte fields [label, bytes], ... */
export async function taggedHash(domain, ...parts) {
  const t = new Transcript(domain);
  for (const [label, value] of parts) t.bytes(label, value);
  return t.digest();
}

// ------------------------------------------------------------------------ arithmetic

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

/** `length` bytes from crypto.getRandomValues. */
export function randomBytes(length) {
  const out = new Uint8Array(length);
  for (let off = 0; off < length; off += 65536) {
    webcrypto.getRandomValues(out.subarray(off, Math.min(length, off + 65536)));
  }
  return out;
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

// ------------------------------------------------------------------------ §1.3 Paillier

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

// ------------------------------------------------------------------------ precomputation

/**
 * A pool of values that do not depend on the vote, computed ahead of time:
 *   encryption entries {r, rn = r^n mod N, rnInv = (r^n)^-1 mod N}   (eq. P1)
 *   unit entries       {x, xn = x^n mod N}     (ρ for a_j = ρ^n, z_i for a_i, eq. Z2)
 * Every entry is handed out once and removed: reusing ρ would reveal r.
 */
export class PrecomputePool {
  constructor(pk, { rng = systemRng } = {}) {
    this.pk = pk;
    this.rng = rng;
    this.encryptions = [];
    this.units = [];
  }

  async makeEncryption() {
    const r = await drawUnit(this.rng, this.pk.n);
    const rn = modPow(r, this.pk.n, this.pk.nsquare);
    return { r, rn, rnInv: modInverse(rn, this.pk.nsquare) };
  }

  async makeUnit() {
    const x = await drawUnit(this.rng, this.pk.n);
    return { x, xn: modPow(x, this.pk.n, this.pk.nsquare) };
  }

  /** The next encryption entry (computed now if the pool is empty). */
  async takeEncryption() {
    return this.encryptions.length ? this.encryptions.shift() : this.makeEncryption();
  }

  /** The next unit entry (computed now if the pool is empty). */
  async takeUnit() {
    return this.units.length ? this.units.shift() : this.makeUnit();
  }

  /**
   * Fill up to `encryptions` / `units` entries, yielding to the event loop between
   * exponentiations so that the page (or worker messages) stay responsive.
   * `onProgress({stage: 'precompute', done, total})`; stops early when shouldStop().
   */
  async fill({ encryptions = 0, units = 0 }, { onProgress, shouldStop, waitWhile } = {}) {
    const needE = Math.max(0, encryptions - this.encryptions.length);
    const needU = Math.max(0, units - this.units.length);
    const total = needE + needU;
    let done = 0;
    for (let i = 0; i < total; i++) {
      await yieldToEventLoop();
      if (waitWhile) await waitWhile();
      if (shouldStop && shouldStop()) break;
      if (this.encryptions.length < encryptions) this.encryptions.push(await this.makeEncryption());
      else if (this.units.length < units) this.units.push(await this.makeUnit());
      else break;
      done++;
      if (onProgress) onProgress({ stage: 'precompute', done, total });
    }
    return { encryptions: this.encryptions.length, units: this.units.length };
  }

  /** Forget every secret entry. */
  clear() {
    this.encryptions.length = 0;
    this.units.length = 0;
  }
}

function yieldToEventLoop() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// ------------------------------------------------------------------------ §1.5 proofs

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

// ------------------------------------------------------------------------ §1.4 election

export const FINGERPRINT_DOMAIN = 'saylau/v1/election-fingerprint';
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

function checkId(value, where) {
  if (typeof value !== 'string' || !ID_RE.test(value)) {
    throw new InvalidEncoding(`${where}: identifiers are 1-64 characters of A-Z a-z 0-9 _ . : -`);
  }
  return value;
}

function requireField(obj, key, type, where) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new InvalidEncoding(`${where}: expected a JSON object`);
  if (!(key in obj)) throw new InvalidEncoding(`${where}: missing field '${key}'`);
  const v = obj[key];
  const ok = type === 'array' ? Array.isArray(v) : type === 'int' ? Number.isSafeInteger(v) : typeof v === type;
  if (!ok) throw new InvalidEncoding(`${where}.${key}: expected ${type}`);
  return v;
}

/**
 * Manifest.from_json(...).to_json(): validates and keeps exactly the fields the
 * fingerprint covers (election_id, title, questions[id, title, options[id, label],
 * min_selections, max_selections]).
 */
export function normalizeManifest(obj) {
  const eid = checkId(requireField(obj, 'election_id', 'string', 'manifest'), 'manifest.election_id');
  const questions = requireField(obj, 'questions', 'array', 'manifest');
  if (questions.length < 1 || questions.length > 64) throw new InvalidEncoding('manifest: 1..64 questions required');
  const out = {
    election_id: eid,
    title: requireField(obj, 'title', 'string', 'manifest'),
    questions: questions.map((q, i) => {
      const where = `manifest.questions[${i}]`;
      const options = requireField(q, 'options', 'array', where).map((o, k) => ({
        id: checkId(requireField(o, 'id', 'string', `${where}.options[${k}]`), `${where}.options[${k}].id`),
        label: requireField(o, 'label', 'string', `${where}.options[${k}]`),
      }));
      const nq = {
        id: checkId(requireField(q, 'id', 'string', where), `${where}.id`),
        title: requireField(q, 'title', 'string', where),
        options,
        min_selections: requireField(q, 'min_selections', 'int', where),
        max_selections: requireField(q, 'max_selections', 'int', where),
      };
      if (!options.length || options.length > 64) throw new InvalidEncoding(`question ${nq.id}: 1..64 options required`);
      if (new Set(options.map((o) => o.id)).size !== options.length) throw new InvalidEncoding(`question ${nq.id}: option ids must be unique`);
      if (!(nq.min_selections >= 0 && nq.min_selections <= nq.max_selections && nq.max_selections <= options.length)) {
        throw new InvalidEncoding(`question ${nq.id}: need 0 <= min <= max <= number of options`);
      }
      if (nq.max_selections < 1) throw new InvalidEncoding(`question ${nq.id}: max selections must be at least 1`);
      return nq;
    }),
  };
  if (new Set(out.questions.map((q) => q.id)).size !== out.questions.length) {
    throw new InvalidEncoding('manifest: question ids must be unique');
  }
  return out;
}

/**
 * eq. F1: fingerprint = tagged_hash("saylau/v1/election-fingerprint",
 *   manifest = canonical_json(manifest), election_key = canonical_json(election key),
 *   issuer_key = canonical_json(issuer key), board_key = 32 raw Ed25519 bytes).
 */
export async function electionFingerprint(manifest, electionKeyJson, issuerKeyJson, boardPublicKey) {
  if (typeof boardPublicKey === 'string') boardPublicKey = hexToBytes(boardPublicKey, 32, 'board key');
  if (boardPublicKey.length !== 32) throw new InvalidEncoding('board public key must be 32 bytes (Ed25519)');
  return taggedHash(FINGERPRINT_DOMAIN,
    ['manifest', canonicalJson(normalizeManifest(manifest))],
    ['election_key', canonicalJson(electionKeyJson)],
    ['issuer_key', canonicalJson(issuerKeyJson)],
    ['board_key', boardPublicKey]);
}

// ------------------------------------------------------------------------ §1.6 ballots

export const OPTION_VALUES = [0n, 1n];

export function optionContext(electionId, questionId, optionId, tokenId) {
  return [['election_id', electionId], ['question_id', questionId],
    ['option_id', optionId], ['token_id', bytesToHex(tokenId)]];
}

export function countContext(electionId, questionId, tokenId) {
  return [['election_id', electionId], ['question_id', questionId], ['token_id', bytesToHex(tokenId)]];
}

function allowedCounts(q) {
  const out = [];
  for (let v = q.min_selections; v <= q.max_selections; v++) out.push(BigInt(v));
  return out;
}

/** Check choices {questionId: [optionId, ...]} against the manifest (InvalidBallot). */
export function checkChoices(manifest, choices) {
  const qids = new Set(manifest.questions.map((q) => q.id));
  const unknown = Object.keys(choices).filter((q) => !qids.has(q)).sort();
  if (unknown.length) throw new InvalidBallot(`unknown question(s): ${unknown.join(', ')}`);
  for (const q of manifest.questions) {
    const chosen = new Set(choices[q.id] || []);
    const ids = new Set(q.options.map((o) => o.id));
    for (const o of chosen) if (!ids.has(o)) throw new InvalidBallot(`question ${q.id}: unknown option(s)`);
    if (chosen.size < q.min_selections || chosen.size > q.max_selections) {
      throw new InvalidBallot(`question ${q.id}: choose between ${q.min_selections} and ${q.max_selections}`);
    }
  }
}

/** Number of pool entries one ballot consumes: {encryptions, units}. */
export function poolNeeds(manifest) {
  let encryptions = 0;
  let units = 0;
  for (const q of manifest.questions) {
    encryptions += q.options.length;
    units += 2 * q.options.length; // z_i for the other 0/1 branch, ρ
    units += q.max_selections - q.min_selections + 1; // count proof: |S| − 1 z_i and ρ
  }
  return { encryptions, units };
}

/**
 * Encrypt and prove a ballot (eqs. B1–B3), exactly as crypto.ballot.encrypt_ballot:
 *   c_i = Enc(x_i; r_i) with a proof for S = (0, 1), domain saylau/v1/option,
 *     context (election_id, question_id, option_id, token_id);
 *   C = ∏ c_i, R = ∏ r_i mod n with a proof for S = (min … max), domain
 *     saylau/v1/selection-count, context (election_id, question_id, token_id),
 *     statement (c_1 … c_k).
 * Returns {ballot, secrets}: ballot is EncryptedBallot.to_json(), secrets is
 * BallotSecrets.to_json() ({q: {o: {m, r}}}) for a Benaloh audit.
 * Options: rng, pool (PrecomputePool), onProgress({stage: 'encrypt', done, total}).
 */
export async function encryptBallot(pk, manifest, fingerprint, tokenId, choices, {
  rng = systemRng, pool = undefined, onProgress = undefined,
} = {}) {
  manifest = normalizeManifest(manifest);
  if (typeof tokenId === 'string') tokenId = hexToBytes(tokenId, 32, 'token id');
  if (tokenId.length !== 32) throw new InvalidEncoding('token id must be 32 bytes');
  checkChoices(manifest, choices);
  const eid = manifest.election_id;
  const N = pk.nsquare;
  const total = manifest.questions.reduce((s, q) => s + q.options.length + 1, 0);
  let done = 0;
  const step = async () => {
    done++;
    if (onProgress) onProgress({ stage: 'encrypt', done, total });
    await yieldToEventLoop();
  };
  const contests = [];
  const secrets = {};
  for (const q of manifest.questions) {
    const chosen = new Set(choices[q.id] || []);
    const selections = [];
    const cts = [];
    secrets[q.id] = {};
    let R = 1n;
    let cInvProduct = 1n;
    for (const o of q.options) {
      const m = chosen.has(o.id) ? 1n : 0n;
      let r;
      let c;
      let cInverse;
      if (pool) {
        const entry = await pool.takeEncryption();
        r = entry.r;
        c = pk.encryptWithRn(m, entry.rn);
        cInverse = ((1n + N - m * pk.n) % N) * entry.rnInv % N; // c^-1 = (1 − mn)·r^-n
      } else {
        r = await drawUnit(rng, pk.n);
        c = pk.encryptWithRn(m, modPow(r, pk.n, N));
      }
      const proof = await proveMembership(pk, c, r, m, OPTION_VALUES, {
        domain: DOMAIN_OPTION, fingerprint, context: optionContext(eid, q.id, o.id, tokenId),
        rng, pool, cInverse,
      });
      selections.push({ option_id: o.id, ciphertext: intToHex(c), proof: proofToJson(proof) });
      cts.push(c);
      secrets[q.id][o.id] = { m: Number(m), r: intToHex(r) };
      R = (R * r) % pk.n;
      cInvProduct = cInverse !== undefined && cInvProduct !== undefined ? (cInvProduct * cInverse) % N : undefined;
      await step();
    }
    const C = pk.add(...cts);
    const countProof = await proveMembership(pk, C, R, BigInt(chosen.size), allowedCounts(q), {
      domain: DOMAIN_SELECTION_COUNT, fingerprint, context: countContext(eid, q.id, tokenId),
      statementCiphertexts: cts, rng, pool, cInverse: cInvProduct,
    });
    contests.push({ question_id: q.id, selections, count_proof: proofToJson(countProof) });
    await step();
  }
  return {
    ballot: { election_id: eid, token_id: bytesToHex(tokenId), contests },
    secrets,
  };
}

/** Verify every proof of a ballot JSON (as crypto.ballot.verify_ballot); raises. */
export async function verifyBallot(pk, manifest, fingerprint, ballot, tokenId) {
  manifest = normalizeManifest(manifest);
  if (typeof tokenId !== 'string') tokenId = bytesToHex(tokenId);
  if (ballot.election_id !== manifest.election_id) throw new InvalidBallot('ballot is for another election');
  if (ballot.token_id !== tokenId) throw new InvalidBallot('ballot token id does not match the credential');
  const tid = hexToBytes(tokenId, 32);
  if (!Array.isArray(ballot.contests) || ballot.contests.map((c) => c.question_id).join('\n')
      !== manifest.questions.map((q) => q.id).join('\n') || ballot.contests.length !== manifest.questions.length) {
    throw new InvalidBallot('ballot questions do not match the manifest (order matters)');
  }
  for (let qi = 0; qi < manifest.questions.length; qi++) {
    const q = manifest.questions[qi];
    const contest = ballot.contests[qi];
    if (!Array.isArray(contest.selections) || contest.selections.length !== q.options.length
        || contest.selections.some((s, i) => s.option_id !== q.options[i].id)) {
      throw new InvalidBallot(`question ${q.id}: options do not match the manifest`);
    }
    const cts = [];
    for (const s of contest.selections) {
      const c = hexToInt(s.ciphertext, 'ciphertext');
      pk.validateCiphertext(c);
      cts.push(c);
      try {
        await verifyMembership(pk, c, OPTION_VALUES, proofFromJson(s.proof), {
          domain: DOMAIN_OPTION, fingerprint,
          context: optionContext(manifest.election_id, q.id, s.option_id, tid),
        });
      } catch (err) {
        if (err instanceof InvalidProof) throw new InvalidProof(`question ${q.id}, option ${s.option_id}: ${err.message}`);
        throw err;
      }
    }
    try {
      await verifyMembership(pk, pk.add(...cts), allowedCounts(q), proofFromJson(contest.count_proof), {
        domain: DOMAIN_SELECTION_COUNT, fingerprint,
        context: countContext(manifest.election_id, q.id, tid), statementCiphertexts: cts,
      });
    } catch (err) {
      if (err instanceof InvalidProof) throw new InvalidProof(`question ${q.id}, selection count: ${err.message}`);
      throw err;
    }
  }
}

/**
 * Benaloh audit (verify_audited_ballot): re-encrypt with the revealed plaintexts and
 * randomness, check every ciphertext, return {questionId: [chosen option ids]}.
 */
export function auditBallot(pk, manifest, ballot, secrets) {
  manifest = normalizeManifest(manifest);
  const chosen = {};
  for (const contest of ballot.contests) {
    chosen[contest.question_id] = [];
    for (const s of contest.selections) {
      const entry = secrets[contest.question_id] && secrets[contest.question_id][s.option_id];
      if (!entry) throw new InvalidBallot(`audit data lacks ${contest.question_id}/${s.option_id}`);
      if (entry.m !== 0 && entry.m !== 1) throw new InvalidEncoding('ballot secrets: m must be 0 or 1');
      const { c } = pk.encrypt(BigInt(entry.m), hexToInt(entry.r, 'r'));
      if (intToHex(c) !== s.ciphertext) {
        throw new InvalidBallot(`question ${contest.question_id}, option ${s.option_id}: the revealed `
          + 'plaintext and randomness do not reproduce the ciphertext');
      }
      if (entry.m) chosen[contest.question_id].push(s.option_id);
    }
  }
  return chosen;
}

// ------------------------------------------------------------------------ RFC 9474

export const RSABSSA_HASH_LEN = 48;
export const RANDOMIZER_LEN = 32;
/** RSABSSA-SHA384-PSS-Randomized: salt length 48 (the variant every credential uses). */
export const SALT_LEN = 48;

/** Issuer key {n, e} from its JSON {"n": hex, "e": hex}. */
export function issuerKeyFromJson(obj) {
  const n = hexToInt(requireField(obj, 'n', 'string', 'issuer_public_key'), 'issuer_public_key.n');
  const e = hexToInt(requireField(obj, 'e', 'string', 'issuer_public_key'), 'issuer_public_key.e');
  if (bitLength(n) < 2048 || n % 2n === 0n) throw new InvalidEncoding('issuer_public_key: RSA modulus must be odd and at least 2048 bits');
  if (e < 3n || e % 2n === 0n || e >= n) throw new InvalidEncoding('issuer_public_key: bad exponent');
  return { n, e, bits: bitLength(n), modulusLen: byteLength(n) };
}

function asIssuerKey(key) {
  if (typeof key.n === 'bigint') return { bits: bitLength(key.n), modulusLen: byteLength(key.n), ...key };
  return issuerKeyFromJson(key);
}

/** MGF1 with SHA-384 (RFC 8017 §B.2.1). */
export async function mgf1(seed, maskLen) {
  const blocks = [];
  for (let counter = 0, have = 0; have < maskLen; counter++, have += RSABSSA_HASH_LEN) {
    blocks.push(await sha384(concatBytes(seed, u32be(counter))));
  }
  return concatBytes(...blocks).slice(0, maskLen);
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 / MGF1-SHA-384:
 *   mHash = H(M); H = Hash(0x00^8 || mHash || salt); DB = PS || 0x01 || salt;
 *   maskedDB = DB xor MGF1(H, emLen − hLen − 1), leftmost 8·emLen − emBits bits cleared;
 *   EM = maskedDB || H || 0xbc.
 */
export async function emsaPssEncode(message, emBits, salt) {
  const emLen = Math.ceil(emBits / 8);
  const hLen = RSABSSA_HASH_LEN;
  if (emLen < hLen + salt.length + 2) throw new InvalidEncoding('EMSA-PSS encoding error: modulus too short for salt');
  const mHash = await sha384(message);
  const h = await sha384(concatBytes(new Uint8Array(8), mHash, salt));
  const db = concatBytes(new Uint8Array(emLen - salt.length - hLen - 2), new Uint8Array([1]), salt);
  const mask = await mgf1(h, emLen - hLen - 1);
  const masked = db.map((b, i) => b ^ mask[i]);
  masked[0] &= 0xff >> (8 * emLen - emBits);
  return concatBytes(masked, h, new Uint8Array([0xbc]));
}

/** RFC 9474 §4.1 Prepare (randomized): randomizer (32 random bytes) || msg. */
export function prepare(msg, { randomizer = undefined, randomized = true } = {}) {
  if (!randomized) return Uint8Array.from(msg);
  if (randomizer === undefined) randomizer = randomBytes(RANDOMIZER_LEN);
  if (randomizer.length !== RANDOMIZER_LEN) throw new InvalidEncoding(`message randomizer must be ${RANDOMIZER_LEN} bytes`);
  return concatBytes(randomizer, msg);
}

/**
 * RFC 9474 §4.2 Blind: m = OS2IP(EMSA-PSS-ENCODE(prepared, modBits − 1)),
 * r ←$ Z*_n, z = m · r^e mod n, inv = r^-1 mod n.
 * Returns {blindedMessage: I2OSP(z, k), inv}.  salt / r are injectable for vectors.
 */
export async function blind(issuerKey, prepared, { salt = undefined, r = undefined, saltLength = SALT_LEN } = {}) {
  const pk = asIssuerKey(issuerKey);
  if (salt === undefined) salt = randomBytes(saltLength);
  if (salt.length !== saltLength) throw new InvalidEncoding(`salt must be ${saltLength} bytes`);
  const encoded = await emsaPssEncode(prepared, pk.bits - 1, salt);
  const m = bytesToInt(encoded);
  if (gcd(m, pk.n) !== 1n) throw new InvalidEncoding('encoded message is not invertible modulo n');
  if (r === undefined) r = randomUnit(pk.n);
  else if (r <= 0n || r >= pk.n || gcd(r, pk.n) !== 1n) throw new InvalidEncoding('blinding factor must be in Z*_n');
  const inv = modInverse(r, pk.n);
  const z = (m * modPow(r, pk.e, pk.n)) % pk.n;
  return { blindedMessage: intToBytes(z, pk.modulusLen), inv };
}

function base64url(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function intToMinimalBytes(x) {
  return intToBytes(x, Math.max(1, byteLength(x)));
}

/** RSASSA-PSS-VERIFY (SHA-384, MGF1-SHA-384, sLen) through WebCrypto; raises InvalidSignature. */
export async function rsaPssVerify(issuerKey, prepared, signature, { saltLength = SALT_LEN } = {}) {
  const pk = asIssuerKey(issuerKey);
  if (signature.length !== pk.modulusLen) throw new InvalidSignature(`signature must be ${pk.modulusLen} bytes`);
  if (bytesToInt(signature) >= pk.n) throw new InvalidSignature('signature representative out of range');
  const key = await requireSubtle().importKey('jwk', {
    kty: 'RSA', n: base64url(intToMinimalBytes(pk.n)), e: base64url(intToMinimalBytes(pk.e)), ext: true,
  }, { name: 'RSA-PSS', hash: 'SHA-384' }, false, ['verify']);
  const ok = await requireSubtle().verify({ name: 'RSA-PSS', saltLength }, key, signature, prepared);
  if (!ok) throw new InvalidSignature('RSABSSA-SHA384-PSS signature does not verify');
}

/** RFC 9474 §4.4 Finalize: s = blind_sig · inv mod n, then RSASSA-PSS-VERIFY. */
export async function finalize(issuerKey, prepared, blindSignature, inv, { saltLength = SALT_LEN } = {}) {
  const pk = asIssuerKey(issuerKey);
  if (typeof blindSignature === 'string') blindSignature = hexToBytes(blindSignature);
  if (blindSignature.length !== pk.modulusLen) throw new InvalidEncoding(`blind signature must be ${pk.modulusLen} bytes`);
  const z = bytesToInt(blindSignature);
  if (z >= pk.n) throw new InvalidEncoding('blind signature out of range (>= n)');
  if (inv <= 0n || inv >= pk.n) throw new InvalidEncoding('blinding inverse out of range');
  const sig = intToBytes((z * inv) % pk.n, pk.modulusLen);
  await rsaPssVerify(pk, prepared, sig, { saltLength });
  return sig;
}

// ------------------------------------------------------------------------ credentials

export const CREDENTIAL_MESSAGE_DOMAIN = 'saylau/v1/credential-message';
export const TOKEN_ID_DOMAIN = 'saylau/v1/token-id';

/** msg = tagged_hash("saylau/v1/credential-message", scope_id, ballot_public_key). */
export async function credentialMessage(scopeId, ballotPublicKey) {
  if (typeof scopeId !== 'string' || !scopeId) throw new InvalidEncoding('scope_id must be a non-empty string');
  if (ballotPublicKey.length !== 32) throw new InvalidEncoding('ballot public key must be 32 raw bytes');
  return taggedHash(CREDENTIAL_MESSAGE_DOMAIN, ['scope_id', utf8(scopeId)], ['ballot_public_key', ballotPublicKey]);
}

/** token_id = tagged_hash("saylau/v1/token-id", ("prepared_message", randomizer || msg)). */
export async function tokenId(preparedMessage) {
  return taggedHash(TOKEN_ID_DOMAIN, ['prepared_message', preparedMessage]);
}

/**
 * Client side of issuance: Prepare then Blind credential_message(scopeId, bpk).
 * Returns {blindedMessage (bytes; send as hex), state}.  Keep state secret (inv links
 * the request to the credential) until finishCredential, then drop it.
 */
export async function beginCredential(issuerKey, scopeId, ballotPublicKey, { randomizer, salt, r } = {}) {
  const msg = await credentialMessage(scopeId, ballotPublicKey);
  const prepared = prepare(msg, { randomizer });
  const { blindedMessage, inv } = await blind(issuerKey, prepared, { salt, r });
  return {
    blindedMessage,
    state: { scopeId, ballotPublicKey: Uint8Array.from(ballotPublicKey), randomizer: prepared.slice(0, RANDOMIZER_LEN), inv },
  };
}

/**
 * Finalize into a credential, Credential.to_json() plus token_id:
 * {scope_id, ballot_public_key, randomizer, signature, token_id} (all bytes as hex).
 */
export async function finishCredential(issuerKey, state, blindSignature) {
  const prepared = concatBytes(state.randomizer, await credentialMessage(state.scopeId, state.ballotPublicKey));
  const signature = await finalize(issuerKey, prepared, blindSignature, state.inv);
  return {
    scope_id: state.scopeId,
    ballot_public_key: bytesToHex(state.ballotPublicKey),
    randomizer: bytesToHex(state.randomizer),
    signature: bytesToHex(signature),
    token_id: bytesToHex(await tokenId(prepared)),
  };
}

/** Token id (hex) of a credential JSON {scope_id, ballot_public_key, randomizer, ...}. */
export async function credentialTokenId(credential) {
  const prepared = concatBytes(hexToBytes(credential.randomizer, RANDOMIZER_LEN),
    await credentialMessage(credential.scope_id, hexToBytes(credential.ballot_public_key, 32)));
  return bytesToHex(await tokenId(prepared));
}

// ------------------------------------------------------------------------ Ed25519 ballot key

/**
 * A fresh Ed25519 ballot key through WebCrypto.  Returns {privateKey, publicKey
 * (CryptoKeys), publicKeyBytes (32 raw bytes)}.  Non-extractable by default; a
 * CryptoKey can still be kept in IndexedDB for a later revote.
 */
export async function generateBallotKey({ extractable = false } = {}) {
  const pair = await requireSubtle().generateKey({ name: 'Ed25519' }, extractable, ['sign', 'verify']);
  const raw = new Uint8Array(await requireSubtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, publicKeyBytes: raw };
}

const PKCS8_ED25519_PREFIX = hexToBytes('302e020100300506032b657004220420');

/** Import an Ed25519 private key from its 32-byte seed (RFC 8032); for tests and backups. */
export async function importBallotKeySeed(seed, { extractable = false } = {}) {
  if (seed.length !== 32) throw new InvalidEncoding('Ed25519 seed must be 32 bytes');
  const privateKey = await requireSubtle().importKey('pkcs8', concatBytes(PKCS8_ED25519_PREFIX, seed),
    { name: 'Ed25519' }, true, ['sign']);
  const jwk = await requireSubtle().exportKey('jwk', privateKey);
  const publicKeyBytes = Uint8Array.from(atob(jwk.x.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
  const key = extractable ? privateKey : await requireSubtle().importKey('pkcs8',
    concatBytes(PKCS8_ED25519_PREFIX, seed), { name: 'Ed25519' }, false, ['sign']);
  return { privateKey: key, publicKeyBytes };
}

/** Ed25519 signature (64 bytes) over arbitrary payload bytes. */
export async function signPayload(privateKey, payload) {
  return new Uint8Array(await requireSubtle().sign({ name: 'Ed25519' }, privateKey, payload));
}

/** Ed25519 signature over canonical_json(ballot) — what credentials.sign_payload signs. */
export async function signBallot(privateKey, ballot) {
  return signPayload(privateKey, canonicalJson(ballot));
}

/** Verify an Ed25519 signature with a raw 32-byte key; raises InvalidSignature. */
export async function verifyPayloadSignature(publicKeyBytes, payload, signature) {
  if (publicKeyBytes.length !== 32) throw new InvalidEncoding('ballot public key must be 32 raw bytes');
  if (signature.length !== 64) throw new InvalidSignature('Ed25519 signature must be 64 bytes');
  const key = await requireSubtle().importKey('raw', publicKeyBytes, { name: 'Ed25519' }, false, ['verify']);
  if (!(await requireSubtle().verify({ name: 'Ed25519' }, key, signature, payload))) {
    throw new InvalidSignature('ballot payload signature does not verify');
  }
}

// ------------------------------------------------------------------------ BallotClient

/**
 * What the voting page uses.  `election` is the public election record:
 *   {manifest, election_key (threshold key JSON or {n}), issuer_key {n, e},
 *    board_key (hex, 32 bytes), fingerprint? (hex, checked if present)}
 *
 *   const client = new BallotClient(election);
 *   await client.ready();                 // fingerprint computed and checked
 *   client.precompute({onProgress});      // background pool (not awaited)
 *   const {ballot, secrets} = await client.encrypt(choices, tokenIdHex, onProgress);
 */
export class BallotClient {
  constructor(election, { rng = systemRng, ballots = 2 } = {}) {
    this.election = election;
    this.manifest = normalizeManifest(election.manifest);
    this.pk = PaillierPublicKey.fromJson(election.election_key);
    this.rng = rng;
    this.pool = new PrecomputePool(this.pk, { rng });
    this.ballots = ballots;
    this.fingerprint = null;
    this._busy = null;
    this._stop = false;
  }

  /** Compute eq. F1 and compare it with election.fingerprint when that is given. */
  async ready() {
    if (!this.fingerprint) {
      const fp = await electionFingerprint(this.manifest, this.election.election_key,
        this.election.issuer_key, this.election.board_key);
      if (this.election.fingerprint !== undefined && this.election.fingerprint !== bytesToHex(fp)) {
        throw new InvalidEncoding('election fingerprint does not match the published one');
      }
      this.fingerprint = fp;
    }
    return bytesToHex(this.fingerprint);
  }

  /** Pool entries one ballot needs. */
  needs() {
    return poolNeeds(this.manifest);
  }

  /**
   * Fill the pool for `ballots` ballots (default 2: one to audit, one to cast),
   * yielding between exponentiations; pauses while encrypt() runs.
   */
  async precompute({ onProgress, ballots = this.ballots } = {}) {
    const need = this.needs();
    this._stop = false;
    return this.pool.fill(
      { encryptions: need.encryptions * ballots, units: need.units * ballots },
      { onProgress, shouldStop: () => this._stop, waitWhile: () => this._busy },
    );
  }

  stopPrecompute() {
    this._stop = true;
  }

  /** Encrypt {questionId: [optionId, ...]} for the credential's token id (hex or bytes). */
  async encrypt(choices, tokenIdValue, onProgress = undefined) {
    await this.ready();
    let release;
    const previous = this._busy;
    this._busy = new Promise((resolve) => { release = resolve; });
    try {
      if (previous) await previous;
      return await encryptBallot(this.pk, this.manifest, this.fingerprint, tokenIdValue, choices,
        { rng: this.rng, pool: this.pool, onProgress });
    } finally {
      release();
      this._busy = null;
    }
  }

  /** Benaloh audit of a ballot and its secrets (returns the chosen options). */
  audit(ballot, secrets) {
    return auditBallot(this.pk, this.manifest, ballot, secrets);
  }

  /** Verify a ballot's proofs on this device (slow: two full exponentiations a branch). */
  async verify(ballot, tokenIdValue) {
    await this.ready();
    return verifyBallot(this.pk, this.manifest, this.fingerprint, ballot, tokenIdValue);
  }
}

/**
 * Main-thread wrapper around ballot-worker.js with promises:
 *   const w = new WorkerBallotClient(new URL('./ballot-worker.js', import.meta.url), election);
 *   await w.ready(); w.precompute(p => ...); const {ballot, secrets} = await w.encrypt(choices, tokenId, p => ...);
 */
export class WorkerBallotClient {
  constructor(workerUrl, election) {
    this.worker = new Worker(workerUrl, { type: 'module' });
    this.pending = new Map();
    this.nextId = 1;
    this.worker.onmessage = (event) => {
      const msg = event.data;
      const entry = this.pending.get(msg.id);
      if (!entry) return;
      if (msg.type === 'progress') {
        if (entry.onProgress) entry.onProgress(msg.progress);
        return;
      }
      this.pending.delete(msg.id);
      if (msg.type === 'error') entry.reject(new CryptoError(msg.message));
      else entry.resolve(msg.result);
    };
    this._init = this._call('init', { election });
  }

  _call(type, payload, onProgress = undefined) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, type, ...payload });
    });
  }

  async ready() {
    return this._init;
  }

  async precompute(onProgress = undefined) {
    await this._init;
    return this._call('precompute', {}, onProgress);
  }

  async encrypt(choices, tokenIdHex, onProgress = undefined) {
    await this._init;
    return this._call('encrypt', { choices, tokenId: tokenIdHex }, onProgress);
  }

  terminate() {
    this.worker.terminate();
  }
}

// ========================================================================
// Petitions (crypto/petition.py) — a separate section; nothing above depends on it.
// ========================================================================

export const PETITION_FINGERPRINT_DOMAIN = 'saylau/v1/petition-fingerprint';
export const DOMAIN_PETITION_REGION = 'saylau/v1/petition-region';
export const PETITION_DEFAULT_BASE_BITS = 32;
export const PETITION_MAX_REGIONS = 64;

/**
 * PetitionParameters.from_json(...).to_json(): validates and keeps exactly the fields
 * the fingerprint covers: {petition_id, title, regions: [{id, label}], base_bits}.
 * Raises InvalidEncoding like the Python constructor (1..64 unique regions, 8 <= b <= 64).
 */
export function normalizePetitionParameters(obj) {
  const petitionId = checkId(requireField(obj, 'petition_id', 'string', 'petition'), 'petition.petition_id');
  const title = requireField(obj, 'title', 'string', 'petition');
  const regions = requireField(obj, 'regions', 'array', 'petition').map((r, i) => ({
    id: checkId(requireField(r, 'id', 'string', `petition.regions[${i}]`), `petition.regions[${i}].id`),
    label: requireField(r, 'label', 'string', `petition.regions[${i}]`),
  }));
  const baseBits = requireField(obj, 'base_bits', 'int', 'petition');
  if (regions.length < 1 || regions.length > PETITION_MAX_REGIONS) {
    throw new InvalidEncoding(`a petition needs 1..${PETITION_MAX_REGIONS} regions`);
  }
  if (new Set(regions.map((r) => r.id)).size !== regions.length) throw new InvalidEncoding('region ids must be unique');
  if (baseBits < 8 || baseBits > 64) throw new InvalidEncoding('base_bits must be 8..64');
  return { petition_id: petitionId, title, regions, base_bits: baseBits };
}

/** S = (B^0, …, B^(R−1)) with B = 2^base_bits (PetitionParameters.allowed). */
export function petitionAllowed(params) {
  const b = BigInt(params.base_bits);
  return params.regions.map((_, i) => 1n << (b * BigInt(i)));
}

/** The packed plaintext B^i of region `regionId` (PetitionParameters.encode); InvalidBallot if unknown. */
export function encodeRegion(params, regionId) {
  const i = params.regions.findIndex((r) => r.id === regionId);
  if (i < 0) throw new InvalidBallot(`unknown region ${JSON.stringify(regionId)}`);
  return 1n << (BigInt(params.base_bits) * BigInt(i));
}

/** PetitionParameters.check_key: R·b < |n| − 1, else InvalidEncoding. */
export function checkPetitionKey(pk, params) {
  if (params.regions.length * params.base_bits >= pk.bits - 1) {
    throw new InvalidEncoding('too many regions for this key size');
  }
}

/** region_context: [["petition_id", id], ["token_id", hex]]. */
export function regionContext(petitionId, tokenIdBytes) {
  return [['petition_id', petitionId], ['token_id', bytesToHex(tokenIdBytes)]];
}

/**
 * petition_fingerprint: tagged_hash("saylau/v1/petition-fingerprint",
 *   petition = canonical_json(params), election_key = canonical_json(election key JSON),
 *   issuer_key = canonical_json(issuer key JSON), board_key = 32 raw Ed25519 bytes).
 * `boardKeyBytes` may be a Uint8Array or its hex.
 */
export async function petitionFingerprint(params, electionKeyJson, issuerKeyJson, boardKeyBytes) {
  if (typeof boardKeyBytes === 'string') boardKeyBytes = hexToBytes(boardKeyBytes, 32, 'board key');
  if (!(boardKeyBytes instanceof Uint8Array) || boardKeyBytes.length !== 32) {
    throw new InvalidEncoding('board public key must be 32 bytes (Ed25519)');
  }
  return taggedHash(PETITION_FINGERPRINT_DOMAIN,
    ['petition', canonicalJson(normalizePetitionParameters(params))],
    ['election_key', canonicalJson(electionKeyJson)],
    ['issuer_key', canonicalJson(issuerKeyJson)],
    ['board_key', boardKeyBytes]);
}

/** Pool entries one petition signature consumes: one encryption, R units (R − 1 z_i and ρ). */
export function petitionPoolNeeds(params) {
  return { encryptions: 1, units: params.regions.length };
}

function tokenBytes(tokenId) {
  if (typeof tokenId === 'string') tokenId = hexToBytes(tokenId, 32, 'token id');
  if (!(tokenId instanceof Uint8Array) || tokenId.length !== 32) throw new InvalidEncoding('token id must be 32 bytes');
  return tokenId;
}

/**
 * encrypt_signature: c = Enc(B^i; r) and a membership proof for S = (B^0..B^(R−1)),
 * domain "saylau/v1/petition-region", context (petition_id, token_id).  Returns
 * EncryptedSignature.to_json(): {petition_id, token_id, region: {ciphertext, proof}}.
 * The rng is drawn in Python's order (r, then for i ≠ j: e_i, z_i; then ρ), so the same
 * source gives byte-identical JSON; with a `pool`, r, z_i^n and ρ^n come from it.
 */
export async function encryptPetitionSignature(pk, params, fingerprint, tokenId, regionId, {
  rng = systemRng, pool = undefined,
} = {}) {
  params = normalizePetitionParameters(params);
  checkPetitionKey(pk, params);
  const tid = tokenBytes(tokenId);
  const m = encodeRegion(params, regionId);
  const N = pk.nsquare;
  let r;
  let c;
  let cInverse;
  if (pool) {
    const entry = await pool.takeEncryption();
    r = entry.r;
    c = pk.encryptWithRn(m, entry.rn);
    cInverse = ((1n + N - ((m * pk.n) % N)) % N) * entry.rnInv % N; // c^-1 = (1 − mn)·r^-n
  } else {
    r = await drawUnit(rng, pk.n);
    c = pk.encryptWithRn(m, modPow(r, pk.n, N));
  }
  const proof = await proveMembership(pk, c, r, m, petitionAllowed(params), {
    domain: DOMAIN_PETITION_REGION, fingerprint, context: regionContext(params.petition_id, tid),
    rng, pool, cInverse,
  });
  return {
    petition_id: params.petition_id,
    token_id: bytesToHex(tid),
    region: { ciphertext: intToHex(c), proof: proofToJson(proof) },
  };
}

/** verify_signature: shape checks and the region proof; raises InvalidBallot / InvalidCiphertext / InvalidProof. */
export async function verifyPetitionSignature(pk, params, fingerprint, signature, tokenId) {
  params = normalizePetitionParameters(params);
  checkPetitionKey(pk, params);
  const tid = tokenBytes(tokenId);
  if (!signature || typeof signature !== 'object') throw new InvalidEncoding('signature: expected an object');
  if (signature.petition_id !== params.petition_id) throw new InvalidBallot('signature is for another petition');
  if (signature.token_id !== bytesToHex(tid)) throw new InvalidBallot('signature token id does not match the credential');
  const region = requireField(signature, 'region', 'object', 'signature');
  const c = hexToInt(requireField(region, 'ciphertext', 'string', 'signature.region'), 'ciphertext');
  pk.validateCiphertext(c);
  try {
    await verifyMembership(pk, c, petitionAllowed(params), proofFromJson(region.proof, 'signature.region.proof'), {
      domain: DOMAIN_PETITION_REGION, fingerprint, context: regionContext(params.petition_id, tid),
    });
  } catch (err) {
    if (err instanceof InvalidProof) throw new InvalidProof(`region proof: ${err.message}`);
    throw err;
  }
}
