/**
 * crypto/webcrypto.js — What comes from WebCrypto: SHA-256 (§1.2), SHA-384 (§2.2, RFC 9474) and random bytes
 * (crypto.getRandomValues, §6.2).  Works in browsers, module workers and Node >= 20.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { CryptoError } from './errors.js';

const webcrypto = globalThis.crypto;
const subtle = webcrypto && webcrypto.subtle;

export function requireSubtle() {
  if (!subtle) throw new CryptoError('WebCrypto (crypto.subtle) is not available');
  return subtle;
}

export async function sha256(bytes) {
  return new Uint8Array(await requireSubtle().digest('SHA-256', bytes));
}

export async function sha384(bytes) {
  return new Uint8Array(await requireSubtle().digest('SHA-384', bytes));
}

/** `length` bytes from crypto.getRandomValues. */
export function randomBytes(length) {
  const out = new Uint8Array(length);
  for (let off = 0; off < length; off += 65536) {
    webcrypto.getRandomValues(out.subarray(off, Math.min(length, off + 65536)));
  }
  return out;
}
