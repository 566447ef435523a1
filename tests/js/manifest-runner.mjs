/**
 * Helper for tests/crypto/test_manifest_labels.py: reads a JSON list of
 * {manifest, election_key, issuer_key, board_key, roll?, rules?} on stdin; for each writes
 * {normalized, fingerprint} from the browser client's normalizeManifest / eq. F1, or
 * {error} with the InvalidEncoding message.
 */
import { electionFingerprint, normalizeManifest } from '../../app/static/js/crypto/election.js';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const out = [];
for (const c of cases) {
  try {
    const normalized = normalizeManifest(c.manifest);
    const fp = await electionFingerprint(c.manifest, c.election_key, c.issuer_key, c.board_key, c.roll, c.rules);
    out.push({ normalized, fingerprint: Buffer.from(fp).toString('hex') });
  } catch (e) {
    if (e.name !== 'InvalidEncoding' && !(e.constructor && e.constructor.name === 'InvalidEncoding')) throw e;
    out.push({ error: e.message });
  }
}
process.stdout.write(JSON.stringify(out));
