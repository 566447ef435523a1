/**
 * crypto/blind-rsa.js — §2.2 RFC 9474 blind RSA, client side, RSABSSA-SHA384-PSS-Randomized
 * (crypto/blind_rsa.py): Prepare, EMSA-PSS-ENCODE with MGF1-SHA-384, Blind, Finalize.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { gcd, modInverse, modPow, randomUnit } from './bigint.js';
import {
  bitLength, byteLength, bytesToInt, concatBytes, hexToBytes, hexToInt, intToBytes, requireField, u32be,
} from './encoding.js';
import { InvalidEncoding, InvalidSignature } from './errors.js';
import { randomBytes, requireSubtle, sha384 } from './webcrypto.js';

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
