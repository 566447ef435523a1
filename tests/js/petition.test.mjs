// Unit tests of the petition section of saylau-crypto.js: parameters, fingerprint,
// packed region encryption and its membership proof (with tampering), pool use, and
// determinism under the test DRBG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as sc from '../../app/static/js/saylau-crypto.js';
import { makeDrbg } from './drbg.mjs';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/js-vectors.json', import.meta.url), 'utf8'));
const electionKey = vectors.election.election_key;
const issuerKey = vectors.election.issuer_key;
const boardKey = vectors.election.board_key;
const pk = sc.PaillierPublicKey.fromJson(electionKey);
const params = {
  petition_id: 'petition:7', title: 'Plant more trees',
  regions: [{ id: 'abai', label: 'Abai' }, { id: 'almaty', label: 'Almaty' }, { id: 'astana', label: 'Astana' }],
  base_bits: 32,
};
const tokenId = 'ab'.repeat(32);

test('parameters are validated like PetitionParameters', () => {
  assert.deepEqual(sc.normalizePetitionParameters({ ...params, extra: 1 }), params);
  assert.deepEqual(sc.petitionAllowed(params), [1n, 1n << 32n, 1n << 64n]);
  assert.equal(sc.encodeRegion(params, 'astana'), 1n << 64n);
  assert.throws(() => sc.encodeRegion(params, 'nowhere'), sc.InvalidBallot);
  for (const bad of [
    { ...params, regions: [] },
    { ...params, regions: [params.regions[0], params.regions[0]] },
    { ...params, base_bits: 7 },
    { ...params, base_bits: 65 },
    { ...params, petition_id: 'bad id' },
    { ...params, regions: [{ id: 'x' }] },
  ]) assert.throws(() => sc.normalizePetitionParameters(bad), sc.InvalidEncoding);
  const many = { ...params, regions: Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, label: `R${i}` })) };
  assert.throws(() => sc.checkPetitionKey(pk, many), sc.InvalidEncoding); // 40·32 ≥ 1023
});

test('the fingerprint covers every input', async () => {
  const fp = await sc.petitionFingerprint(params, electionKey, issuerKey, boardKey);
  assert.equal(fp.length, 32);
  assert.deepEqual(await sc.petitionFingerprint(params, electionKey, issuerKey, sc.hexToBytes(boardKey)), fp);
  assert.notDeepEqual(await sc.petitionFingerprint({ ...params, title: 'x' }, electionKey, issuerKey, boardKey), fp);
  assert.notDeepEqual(await sc.petitionFingerprint(params, electionKey, { ...issuerKey, e: '3' }, boardKey), fp);
  assert.notDeepEqual(await sc.petitionFingerprint(params, electionKey, issuerKey, '00'.repeat(32)), fp);
  await assert.rejects(sc.petitionFingerprint(params, electionKey, issuerKey, new Uint8Array(31)), sc.InvalidEncoding);
});

test('a signature verifies, and tampering is refused', async () => {
  const fp = await sc.petitionFingerprint(params, electionKey, issuerKey, boardKey);
  const sig = await sc.encryptPetitionSignature(pk, params, fp, tokenId, 'almaty');
  assert.equal(sig.petition_id, 'petition:7');
  assert.equal(sig.token_id, tokenId);
  assert.equal(sig.region.proof.a.length, 3);
  await sc.verifyPetitionSignature(pk, params, fp, sig, tokenId);
  await assert.rejects(sc.verifyPetitionSignature(pk, params, new Uint8Array(32), sig, tokenId), sc.InvalidProof);
  await assert.rejects(sc.verifyPetitionSignature(pk, params, fp, sig, 'cd'.repeat(32)), sc.InvalidBallot);
  await assert.rejects(sc.verifyPetitionSignature(pk, { ...params, petition_id: 'petition:8' }, fp, sig, tokenId),
    sc.InvalidBallot);
  const bad = structuredClone(sig);
  bad.region.proof.z[1] = sc.intToHex((sc.hexToInt(bad.region.proof.z[1]) * 2n) % pk.n);
  await assert.rejects(sc.verifyPetitionSignature(pk, params, fp, bad, tokenId), sc.InvalidProof);
  // Re-encrypting the ciphertext by a factor (1 + B·n) shifts the region: the proof fails.
  const shifted = structuredClone(sig);
  const c = sc.hexToInt(sig.region.ciphertext);
  shifted.region.ciphertext = sc.intToHex((c * (1n + (1n << 32n) * pk.n)) % pk.nsquare);
  await assert.rejects(sc.verifyPetitionSignature(pk, params, fp, shifted, tokenId), sc.InvalidProof);
  await assert.rejects(sc.encryptPetitionSignature(pk, params, fp, tokenId, 'nowhere'), sc.InvalidBallot);
  await assert.rejects(sc.encryptPetitionSignature(pk, params, fp, 'ab', 'abai'), sc.InvalidEncoding);
});

test('the precomputation pool supplies every full exponentiation', async () => {
  const fp = await sc.petitionFingerprint(params, electionKey, issuerKey, boardKey);
  const pool = new sc.PrecomputePool(pk);
  const needs = sc.petitionPoolNeeds(params);
  assert.deepEqual(needs, { encryptions: 1, units: 3 });
  await pool.fill(needs);
  const sig = await sc.encryptPetitionSignature(pk, params, fp, tokenId, 'abai', { pool });
  assert.equal(pool.encryptions.length, 0);
  assert.equal(pool.units.length, 0);
  await sc.verifyPetitionSignature(pk, params, fp, sig, tokenId);
});

test('the same DRBG seed gives the same signature, with or without an (empty) pool', async () => {
  const fp = await sc.petitionFingerprint(params, electionKey, issuerKey, boardKey);
  const seed = sc.utf8('petition-test');
  const a = await sc.encryptPetitionSignature(pk, params, fp, tokenId, 'astana', { rng: makeDrbg(seed) });
  const b = await sc.encryptPetitionSignature(pk, params, fp, tokenId, 'astana', { rng: makeDrbg(seed) });
  const rng = makeDrbg(seed);
  const c = await sc.encryptPetitionSignature(pk, params, fp, tokenId, 'astana',
    { rng, pool: new sc.PrecomputePool(pk, { rng }) });
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
  await sc.verifyPetitionSignature(pk, params, fp, a, tokenId);
});
