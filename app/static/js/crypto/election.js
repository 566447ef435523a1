/**
 * crypto/election.js — §1.4 Election manifest and fingerprint, eq. F1 (crypto/election.py).
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { canonicalJson, checkId, hexToBytes, requireField } from './encoding.js';
import { InvalidEncoding } from './errors.js';
import { taggedHash } from './transcript.js';

export const FINGERPRINT_DOMAIN = 'saylau/v1/election-fingerprint';
/** Languages a manifest's `labels` may carry, and the longest text (Unicode code points). */
export const LABEL_LANGUAGES = ['kk', 'ru', 'en'];
export const MAX_LABEL_CHARS = 1000;

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * crypto/election.py _check_labels: `{key: {lang: text}}`, keys "title", a question id or
 * "<question id>/<option id>"; languages kk/ru/en; texts of 1..1000 code points; the map
 * and each entry non-empty. Returns a copy with keys in sorted order.
 */
function checkLabels(obj, questions) {
  if (!isPlainObject(obj)) throw new InvalidEncoding('manifest.labels: must be an object');
  const keys = Object.keys(obj).sort();
  if (!keys.length) throw new InvalidEncoding('manifest.labels: must not be empty (omit the field instead)');
  const known = new Set(['title']);
  for (const q of questions) {
    if (q.id === 'title') throw new InvalidEncoding("manifest.labels: question id 'title' is reserved when labels are given");
    known.add(q.id);
    for (const o of q.options) known.add(`${q.id}/${o.id}`);
  }
  const out = {};
  for (const key of keys) {
    if (!known.has(key)) throw new InvalidEncoding(`manifest.labels: unknown key '${key}'`);
    const entry = obj[key];
    if (!isPlainObject(entry) || !Object.keys(entry).length) throw new InvalidEncoding(`manifest.labels['${key}']: must be a non-empty object`);
    const texts = {};
    for (const lang of Object.keys(entry).sort()) {
      if (!LABEL_LANGUAGES.includes(lang)) throw new InvalidEncoding(`manifest.labels['${key}']: unknown language '${lang}'`);
      const text = entry[lang];
      const n = typeof text === 'string' ? [...text].length : 0;
      if (n < 1 || n > MAX_LABEL_CHARS) throw new InvalidEncoding(`manifest.labels['${key}']['${lang}']: text must be 1..${MAX_LABEL_CHARS} characters`);
      texts[lang] = text;
    }
    out[key] = texts;
  }
  return out;
}

/**
 * Manifest.from_json(...).to_json(): validates and keeps exactly the fields the
 * fingerprint covers (election_id, title, questions[id, title, options[id, label],
 * min_selections, max_selections], and `labels` when present: the translations, §1.4).
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
  if (obj && typeof obj === 'object' && 'labels' in obj) out.labels = checkLabels(obj.labels, out.questions);
  return out;
}

/**
 * eq. F1: fingerprint = tagged_hash("saylau/v1/election-fingerprint",
 *   manifest = canonical_json(manifest), election_key = canonical_json(election key),
 *   issuer_key = canonical_json(issuer key), board_key = 32 raw Ed25519 bytes
 *   [, roll = canonical_json(roll commitment {mode, size, root}), §2.7]).
 * `roll` null/undefined: no fifth field (legacy login mode, which saylau verify fails).
 */
export async function electionFingerprint(manifest, electionKeyJson, issuerKeyJson, boardPublicKey, roll = null) {
  if (typeof boardPublicKey === 'string') boardPublicKey = hexToBytes(boardPublicKey, 32, 'board key');
  if (boardPublicKey.length !== 32) throw new InvalidEncoding('board public key must be 32 bytes (Ed25519)');
  const parts = [
    ['manifest', canonicalJson(normalizeManifest(manifest))],
    ['election_key', canonicalJson(electionKeyJson)],
    ['issuer_key', canonicalJson(issuerKeyJson)],
    ['board_key', boardPublicKey]];
  if (roll !== null && roll !== undefined) parts.push(['roll', canonicalJson(roll)]);
  return taggedHash(FINGERPRINT_DOMAIN, ...parts);
}
