/**
 * crypto/credential-request.js — §2.7 eq. R1: the voter-signed credential request
 * (crypto/roll.py CredentialRequest / sign_request), Ed25519 roll keys through WebCrypto.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { signPayload } from './ballot-key.js';
import { bytesToHex, canonicalJson } from './encoding.js';
import { InvalidEncoding } from './errors.js';
import { taggedHash } from './transcript.js';

export const REQUEST_DOMAIN = 'saylau/v1/credential-request';
const PERIOD_RE = /^[A-Za-z0-9._-]{1,32}$/;

/** The coarse period of a request: today's UTC date (no time of day). */
export function currentPeriod(now = new Date()) {
  return now.toISOString().slice(0, 10);
}

/** m = tagged_hash("saylau/v1/credential-request", ("request", canonical_json(request))). */
export async function credentialRequestMessage(request) {
  const { election_id: eid, roll_index: index, blinded_message: blinded, period } = request;
  if (typeof eid !== 'string' || !eid) throw new InvalidEncoding('request.election_id must be a non-empty string');
  if (!Number.isSafeInteger(index) || index < 0) throw new InvalidEncoding('request.roll_index must be a non-negative integer');
  if (typeof blinded !== 'string' || !/^([0-9a-f]{2})+$/.test(blinded)) throw new InvalidEncoding('request.blinded_message must be lowercase hex');
  if (typeof period !== 'string' || !PERIOD_RE.test(period) || /\d{2}:\d{2}|T\d/.test(period)) {
    throw new InvalidEncoding('request.period must be coarse (a date or a period id)');
  }
  const exact = { election_id: eid, roll_index: index, blinded_message: blinded, period };
  return taggedHash(REQUEST_DOMAIN, ['request', canonicalJson(exact)]);
}

/**
 * Sign eq. R1 with the voter's roll key: an Ed25519 CryptoKey (enrolled-key mode), or a
 * signer {sign(bytes) → signature bytes} (crypto/roll-key.js, or a PKI-mode signer whose
 * sign() makes the RSA PKCS#1 v1.5 / ECDSA-DER signature of §2.7).
 * Returns the body's {request, signature (hex)} — SignedRequest.to_json().
 */
export async function signCredentialRequest(enrolledKey, request) {
  const m = await credentialRequestMessage(request);
  const signature = enrolledKey && typeof enrolledKey.sign === 'function'
    ? new Uint8Array(await enrolledKey.sign(m)) : await signPayload(enrolledKey, m);
  return { request: { ...request }, signature: bytesToHex(signature) };
}
