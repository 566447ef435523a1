/**
 * Helper for tests/crypto/test_js_petition_crosscheck.py: reads a JSON request on stdin, writes
 * the JS client's petition signature on stdout.
 *   {params, election_key, issuer_key, board_key, token_id, region, seed?}
 *     → {fingerprint, signature, canonical, ballot_public_key, ed25519_signature}
 * With `seed` (hex) the DRBG of tests/js/drbg.mjs is the randomness (no pool); without
 * it, real randomness and a filled PrecomputePool, as in the browser.
 */
import * as sc from '../../app/static/js/saylau-crypto.js';
import { makeDrbg } from './drbg.mjs';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const pk = sc.PaillierPublicKey.fromJson(req.election_key);
const fp = await sc.petitionFingerprint(req.params, req.election_key, req.issuer_key, req.board_key);
let options;
if (req.seed !== undefined) {
  options = { rng: makeDrbg(sc.hexToBytes(req.seed)) };
} else {
  const pool = new sc.PrecomputePool(pk);
  await pool.fill(sc.petitionPoolNeeds(sc.normalizePetitionParameters(req.params)));
  options = { pool };
}
const signature = await sc.encryptPetitionSignature(pk, req.params, fp, req.token_id, req.region, options);
const key = await sc.generateBallotKey();
process.stdout.write(JSON.stringify({
  fingerprint: sc.bytesToHex(fp),
  signature,
  canonical: sc.bytesToHex(sc.canonicalJson(signature)),
  ballot_public_key: sc.bytesToHex(key.publicKeyBytes),
  ed25519_signature: sc.bytesToHex(await sc.signPayload(key.privateKey, sc.canonicalJson(signature))),
}) + '\n');
