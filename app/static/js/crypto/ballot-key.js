/**
 * crypto/ballot-key.js — §6.5 The Ed25519 ballot key (crypto/credentials.py sign_payload /
 * verify_payload_signature) through WebCrypto.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { canonicalJson, concatBytes, hexToBytes } from './encoding.js';
import { InvalidEncoding, InvalidSignature } from './errors.js';
import { requireSubtle } from './webcrypto.js';

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
