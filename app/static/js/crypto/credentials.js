/**
 * crypto/credentials.js — §2.3 The Saylau credential (crypto/credentials.py): credential message, token id,
 * and the client side of issuance (Prepare + Blind, then Finalize).
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { generateBallotKey } from './ballot-key.js';
import { currentPeriod, signCredentialRequest } from './credential-request.js';
import { blind, finalize, issuerKeyFromJson, prepare, RANDOMIZER_LEN } from './blind-rsa.js';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from './encoding.js';
import { InvalidEncoding } from './errors.js';
import { taggedHash } from './transcript.js';

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

/**
 * The whole client side of issuance, as the booth and the petition page run it: a fresh
 * non-extractable Ed25519 ballot key (§6.5), Prepare + Blind, `sendBlinded(hex, signed)` →
 * the issuer's blind signature (hex; the page POSTs it with the session), Finalize.
 * With `rollKey` ({privateKey, rollIndex} or a signer {rollIndex, sign(bytes)}, e.g. from
 * crypto/roll-key.js, §2.7) the blinded message is
 * put in a request signed by it (eq. R1) and `signed` ({request, signature}) is the body's
 * `signed_request`; without it `signed` is null (legacy login mode).
 * Returns the wallet {credential: Credential.to_json(), tokenId (hex), privateKey}.
 * Options: {ballotKey} — use this ballot key instead of a fresh one (the booth passes one
 * made from a seed it writes on the voting card).
 */
export async function requestCredential(issuerKeyJson, scopeId, sendBlinded,
  { ballotKey, rollKey = null, period } = {}) {
  const issuerKey = issuerKeyFromJson(issuerKeyJson);
  // ballotKey ({privateKey, publicKeyBytes}): a key the caller made, e.g. from a seed it
  // keeps for the voting card (importBallotKeySeed); else a fresh non-extractable one
  const key = ballotKey || await generateBallotKey();
  const { blindedMessage, state } = await beginCredential(issuerKey, scopeId, key.publicKeyBytes);
  const blindedHex = bytesToHex(blindedMessage);
  const signed = rollKey === null ? null : await signCredentialRequest(
    typeof rollKey.sign === 'function' ? rollKey : rollKey.privateKey, {
    election_id: scopeId, roll_index: rollKey.rollIndex, blinded_message: blindedHex,
    period: period || currentPeriod(),
  });
  const blindSignature = await sendBlinded(blindedHex, signed);
  const { token_id: tokenIdHex, ...credential } = await finishCredential(issuerKey, state,
    hexToBytes(blindSignature));
  return { credential, tokenId: tokenIdHex, privateKey: key.privateKey };
}
