/**
 * Recompute, in JS, everything in a vectors document made by tests/js_vectors.py.
 *
 *   node tests/js/vector-check.mjs VECTORS.json   → prints the JS results as JSON
 *
 * Used by tests/js/vectors.test.mjs (static tests/fixtures/js-vectors.json) and by
 * tests/crypto/test_js_crosscheck.py (fresh vectors from the Python implementation).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as sc from '../../app/static/js/saylau-crypto.js';
import { makeDrbg } from './drbg.mjs';

const H = sc.hexToBytes;
const I = sc.hexToInt;

export async function computeFromVectors(v) {
  const pk = new sc.PaillierPublicKey(I(v.paillier_n));
  const out = {};

  out.canonical_json = v.canonical_json.map((c) => ({
    value: c.value, hex: sc.bytesToHex(sc.canonicalJson(c.value)),
  }));

  const tv = v.transcript;
  const vals = tv.values.map((x) => I(x));
  const t = new sc.Transcript(tv.domain);
  t.bytes('raw', H(tv.raw)).text('text', tv.text).integer('int', 258n, 4);
  t.integerMod('mod', vals[0], pk.nsquare).integersMod('list', vals, pk.nsquare).integersMod('empty', [], pk.n);
  out.transcript = { digest: sc.bytesToHex(await t.digest()), challenge: sc.intToHex(await t.challenge()) };

  out.paillier = v.paillier.map((e) => {
    const { c } = pk.encrypt(I(e.m), I(e.r));
    return { m: e.m, r: e.r, c: sc.intToHex(c) };
  });

  const ch = v.challenge;
  out.challenge_e = sc.intToHex(await sc.membershipChallenge(pk, ch.domain, H(ch.fingerprint), ch.context,
    ch.statement.map((x) => I(x)), I(ch.c), ch.allowed.map((x) => I(x)), ch.commitments.map((x) => I(x))));

  out.proofs = [];
  for (const p of v.proofs) {
    const proof = await sc.proveMembership(pk, I(p.c), I(p.r), BigInt(p.m), p.allowed.map(BigInt), {
      domain: p.domain, fingerprint: H(p.fingerprint), context: p.context, rng: makeDrbg(H(p.drbg_seed)),
    });
    out.proofs.push(sc.proofToJson(proof));
  }

  const el = v.election;
  const fp = await sc.electionFingerprint(el.manifest, el.election_key, el.issuer_key, el.board_key);
  out.fingerprint = sc.bytesToHex(fp);

  const cr = v.credential;
  const key = await sc.importBallotKeySeed(H(cr.seed));
  const msg = await sc.credentialMessage(cr.scope_id, key.publicKeyBytes);
  out.credential = {
    ballot_public_key: sc.bytesToHex(key.publicKeyBytes),
    message: sc.bytesToHex(msg),
    token_id: sc.bytesToHex(await sc.tokenId(sc.concatBytes(H(cr.randomizer), msg))),
    signature: sc.bytesToHex(await sc.signPayload(key.privateKey, H(cr.payload))),
    manifest_signature: sc.bytesToHex(await sc.signBallot(key.privateKey, el.manifest)),
  };

  const b = v.ballot;
  const { ballot, secrets } = await sc.encryptBallot(pk, el.manifest, fp, b.token_id, b.choices,
    { rng: makeDrbg(H(b.drbg_seed)) });
  out.ballot = {
    ballot, secrets,
    ballot_canonical_sha256: sc.bytesToHex(await sc.sha256(sc.canonicalJson(ballot))),
  };
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const v = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  process.stdout.write(JSON.stringify(await computeFromVectors(v)) + '\n');
}
