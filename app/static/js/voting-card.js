/**
 * voting-card.js — the voter's voting card (docs/protocol.md §"Linkability"): the credential
 * with the seed of its Ed25519 ballot key, as one JSON document
 *   {format: "saylau-voting-card/1", election_id, server, credential, ballot_private_key}
 * (the same document as `saylau vote card export`).  Whoever holds it can vote in the
 * voter's name; it cannot be replaced if lost (the blind issuer cannot revoke it).
 *
 *   newCardKey()                       → {seed, privateKey, publicKeyBytes}
 *   cardOf(electionId, wallet, seed)   → the card document
 *   walletFromCard(card, electionId, issuerKeyJson) → {credential, tokenId, privateKey, card}
 *                                        (checks the key matches and the issuer's signature)
 */

import {
  bytesToHex, concatBytes, credentialMessage, credentialTokenId, hexToBytes, importBallotKeySeed,
  issuerKeyFromJson, RANDOMIZER_LEN, rsaPssVerify,
} from './saylau-crypto.js';

export const CARD_FORMAT = 'saylau-voting-card/1';

/** A fresh ballot key whose 32-byte seed is kept for the card (the CryptoKey stays non-extractable). */
export async function newCardKey() {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const { privateKey, publicKeyBytes } = await importBallotKeySeed(seed);
  return { seed, privateKey, publicKeyBytes };
}

export function cardOf(electionId, wallet, seed) {
  return {
    format: CARD_FORMAT,
    election_id: electionId,
    server: location.origin,
    credential: wallet.credential,
    ballot_private_key: bytesToHex(seed),
  };
}

/** Parse (text or object) and check a card for `electionId`; returns a wallet. */
export async function walletFromCard(input, electionId, issuerKeyJson) {
  let card = input;
  if (typeof input === 'string') {
    try { card = JSON.parse(input.trim()); } catch { throw new Error('not_json'); }
  }
  if (!card || typeof card !== 'object' || (card.format && card.format !== CARD_FORMAT)) throw new Error('not_card');
  if (card.election_id !== electionId) throw new Error('other_election');
  const c = card.credential;
  if (!c || typeof c !== 'object' || c.scope_id !== electionId) throw new Error('not_card');
  let seed;
  let bpk;
  try {
    seed = hexToBytes(card.ballot_private_key, 32);
    bpk = hexToBytes(c.ballot_public_key, 32);
  } catch { throw new Error('not_card'); }
  const { privateKey, publicKeyBytes } = await importBallotKeySeed(seed);
  if (bytesToHex(publicKeyBytes) !== bytesToHex(bpk)) throw new Error('key_mismatch');
  try {
    const prepared = concatBytes(hexToBytes(c.randomizer, RANDOMIZER_LEN), await credentialMessage(electionId, bpk));
    await rsaPssVerify(issuerKeyFromJson(issuerKeyJson), prepared, hexToBytes(c.signature));
  } catch { throw new Error('bad_signature'); }
  const credential = {
    scope_id: c.scope_id, ballot_public_key: c.ballot_public_key, randomizer: c.randomizer, signature: c.signature,
  };
  return { credential, tokenId: await credentialTokenId(credential), privateKey, card };
}
