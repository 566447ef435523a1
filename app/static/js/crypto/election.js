/**
 * crypto/election.js — §1.4 Election manifest and fingerprint, eq. F1 (crypto/election.py).
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { canonicalJson, checkId, hexToBytes, requireField } from './encoding.js';
import { InvalidEncoding } from './errors.js';
import { taggedHash } from './transcript.js';

export const FINGERPRINT_DOMAIN = 'saylau/v1/election-fingerprint';

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
