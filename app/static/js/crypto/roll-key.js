/**
 * crypto/roll-key.js — §2.7 The voter's Ed25519 roll key in the browser (enrolled-key mode):
 * generation, the roll key card (backup file, format `saylau-roll-key/1`, the same file
 * `saylau vote --roll-key` reads), signers for eq. R1, and the voter's check of the
 * published roll (V-R1: my key is on it exactly once, and the roll is the one F1 binds).
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 * Keeping the key in IndexedDB is the page's job (../roll-key-store.js): a CryptoKey made
 * here is non-extractable, so the stored key can sign but never be read back.
 */

import { signPayload } from './ballot-key.js';
import { bytesToHex, canonicalJson, concatBytes, hexToBytes } from './encoding.js';
import { InvalidEncoding, InvalidKey } from './errors.js';
import { taggedHash } from './transcript.js';
import { requireSubtle, sha256 } from './webcrypto.js';

export const ROLL_KEY_FORMAT = 'saylau-roll-key/1';
export const ROLL_ENTRY_DOMAIN = 'saylau/v1/roll-entry';
export const ROLL_KEY_WARNING = 'SECRET: this file holds the private key that signs your '
  + 'credential request. Whoever has it can ask for your credential. Keep it private and offline.';

const ED25519 = { name: 'Ed25519' };
const b64urlToBytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')),
  (ch) => ch.charCodeAt(0));

/**
 * A fresh Ed25519 roll key.  It is generated extractable ONCE, exported as PKCS#8 for the
 * card, then re-imported non-extractable: {privateKey (non-extractable CryptoKey),
 * publicKeyBytes (32), pkcs8 (Uint8Array; put it in the card, then drop it)}.
 */
export async function generateRollKey() {
  const subtle = requireSubtle();
  const pair = await subtle.generateKey(ED25519, true, ['sign', 'verify']);
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey));
  const publicKeyBytes = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  const privateKey = await subtle.importKey('pkcs8', pkcs8, ED25519, false, ['sign']);
  return { privateKey, publicKeyBytes, pkcs8 };
}

/** The roll key card (JSON object) of a key made by generateRollKey. */
export function rollKeyCard(electionId, key, rollIndex = null) {
  if (typeof electionId !== 'string' || !electionId) throw new InvalidEncoding('election id must be a non-empty string');
  return {
    format: ROLL_KEY_FORMAT,
    election_id: electionId,
    kind: 'ed25519',
    public_key: bytesToHex(key.publicKeyBytes),
    private_key_pkcs8: bytesToHex(key.pkcs8),
    roll_index: rollIndex,
    warning: ROLL_KEY_WARNING,
  };
}

/** A signer for eq. R1: {kind, electionId, rollIndex, publicKeyHex, privateKey, sign(bytes)}. */
export function rollSigner(electionId, privateKey, publicKeyHex, rollIndex = null) {
  return {
    kind: 'ed25519',
    electionId,
    rollIndex,
    publicKeyHex,
    privateKey,
    sign: (bytes) => signPayload(privateKey, bytes),
  };
}

/**
 * Read a roll key card (object or JSON text): checks the format, the election (when
 * `electionId` is given) and that the private key matches the public key.  Returns a
 * signer whose private key is non-extractable.  Throws InvalidEncoding / InvalidKey.
 */
export async function rollSignerFromCard(card, electionId = undefined) {
  let doc = card;
  if (typeof card === 'string') {
    try { doc = JSON.parse(card); } catch { throw new InvalidEncoding('a roll key card is JSON'); }
  }
  if (!doc || typeof doc !== 'object' || doc.format !== ROLL_KEY_FORMAT) {
    throw new InvalidEncoding(`not a roll key card (format ${ROLL_KEY_FORMAT})`);
  }
  if (doc.kind !== 'ed25519') throw new InvalidEncoding('only ed25519 roll key cards are supported');
  if (typeof doc.election_id !== 'string' || !doc.election_id) throw new InvalidEncoding('card.election_id is missing');
  if (electionId !== undefined && doc.election_id !== electionId) {
    throw new InvalidKey(`this roll key card is for election ${doc.election_id}, not ${electionId}`);
  }
  const index = doc.roll_index === undefined ? null : doc.roll_index;
  if (index !== null && (!Number.isSafeInteger(index) || index < 0)) throw new InvalidEncoding('card.roll_index must be null or a non-negative integer');
  const publicKeyBytes = hexToBytes(doc.public_key, 32, 'card.public_key');
  const pkcs8 = hexToBytes(doc.private_key_pkcs8, undefined, 'card.private_key_pkcs8');
  const subtle = requireSubtle();
  let jwk;
  let privateKey;
  try {
    jwk = await subtle.exportKey('jwk', await subtle.importKey('pkcs8', pkcs8, ED25519, true, ['sign']));
    privateKey = await subtle.importKey('pkcs8', pkcs8, ED25519, false, ['sign']);
  } catch {
    throw new InvalidEncoding('card.private_key_pkcs8 is not an Ed25519 PKCS#8 key');
  }
  if (bytesToHex(b64urlToBytes(jwk.x)) !== bytesToHex(publicKeyBytes)) {
    throw new InvalidKey('the card\'s private key does not match its public key');
  }
  return rollSigner(doc.election_id, privateKey, doc.public_key, index);
}

// ------------------------------------------------------------------ the published roll (V-R1)

/** leaf_i = tagged_hash("saylau/v1/roll-entry", ("entry", canonical_json(entry))). */
export async function rollLeaf(entry) {
  const exact = { index: entry.index, kind: entry.kind, public_key: entry.public_key, id_hash: entry.id_hash };
  return taggedHash(ROLL_ENTRY_DOMAIN, ['entry', canonicalJson(exact)]);
}

/** MTH over already-hashed leaves (crypto/merkle.py root_hash): a leaf is its own hash. */
async function mth(leaves) {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(concatBytes(new Uint8Array([1]), await mth(leaves.slice(0, k)), await mth(leaves.slice(k))));
}

/** roll_root = MTH(leaf_0 … leaf_{n-1}) (RFC 9162); entries must be at indexes 0..n-1. */
export async function rollRoot(entries) {
  const leaves = [];
  for (const [position, entry] of entries.entries()) {
    if (entry.index !== position) throw new InvalidEncoding(`roll entry ${position} has index ${entry.index}`);
    leaves.push(await rollLeaf(entry));
  }
  return mth(leaves);
}

/**
 * The voter's check of GET /roll: the roll hashes to `commitment` ({mode, size, root}, as
 * the election's F1 binds it) and `publicKeyHex` is on it exactly once.  Returns the roll
 * index; throws InvalidKey (not on the roll / on it twice) or InvalidEncoding (bad roll).
 */
export async function findOnRoll(roll, commitment, publicKeyHex) {
  const entries = roll && Array.isArray(roll.entries) ? roll.entries : null;
  if (!entries || !commitment) throw new InvalidEncoding('the roll is not published yet (it is frozen when voting opens)');
  if (entries.length !== commitment.size) throw new InvalidEncoding(`the roll has ${entries.length} keys, the fingerprint says ${commitment.size}`);
  if (bytesToHex(await rollRoot(entries)) !== commitment.root) throw new InvalidEncoding('the published roll does not hash to the root the fingerprint binds');
  const mine = entries.filter((e) => e.public_key === publicKeyHex).map((e) => e.index);
  if (mine.length !== 1) throw new InvalidKey(`your key is on the roll ${mine.length} times (expected exactly once)`);
  return mine[0];
}
