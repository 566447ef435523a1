/**
 * roll-key-store.js — the voter's roll key for an election (docs/protocol.md §2.7) in
 * IndexedDB, as a NON-extractable Ed25519 CryptoKey: this browser can sign the credential
 * request with it, but no script can read the private key back (the roll key card the
 * voter downloaded at enrollment is the only copy of its bytes).
 *
 * storeRollKey(electionId, {privateKey, publicKeyHex, rollIndex}); loadRollSigner(electionId)
 * → a signer (crypto/roll-key.js rollSigner) or null; dropRollKey(electionId).
 */

import { rollSigner } from './crypto/roll-key.js';
import { walletStore } from './wallet-store.js';

const store = walletStore('saylau-roll-keys', (electionId) => `${location.origin}|${electionId}`);

export async function storeRollKey(electionId, { privateKey, publicKeyHex, rollIndex = null }) {
  await store.save(electionId, { electionId, privateKey, publicKeyHex, rollIndex });
}

export async function loadRollSigner(electionId) {
  const row = await store.load(electionId);
  if (!row || !row.privateKey || row.electionId !== electionId) return null;
  return rollSigner(electionId, row.privateKey, row.publicKeyHex, row.rollIndex ?? null);
}

export async function dropRollKey(electionId) {
  await store.drop(electionId);
}
