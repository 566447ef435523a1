// Static cross-check: the JS client reproduces tests/fixtures/js-vectors.json, which
// the Python reference implementation wrote (python -m tests.js_vectors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { computeFromVectors } from './vector-check.mjs';

const v = JSON.parse(readFileSync(new URL('../fixtures/js-vectors.json', import.meta.url), 'utf8'));
const js = await computeFromVectors(v);

test('canonical JSON bytes match Python', () => {
  assert.deepEqual(js.canonical_json, v.canonical_json);
});

test('transcript digest and challenge match Python', () => {
  assert.equal(js.transcript.digest, v.transcript.digest);
  assert.equal(js.transcript.challenge, v.transcript.challenge);
});

test('Paillier encryption for given (m, r) matches Python (eq. P1)', () => {
  assert.deepEqual(js.paillier, v.paillier);
});

test('membership challenge matches Python (eq. Z3)', () => {
  assert.equal(js.challenge_e, v.challenge.e);
});

test('membership proofs with the same DRBG are byte-identical (eqs. Z1–Z4)', () => {
  assert.deepEqual(js.proofs, v.proofs.map((p) => p.proof));
});

test('election fingerprint matches Python (eq. F1)', () => {
  assert.equal(js.fingerprint, v.election.fingerprint);
});

test('credential message, token id and Ed25519 signature match Python', () => {
  for (const k of ['ballot_public_key', 'message', 'token_id', 'signature']) {
    assert.equal(js.credential[k], v.credential[k], k);
  }
  // signBallot signs canonical_json(value): here the manifest, as the payload was.
  assert.equal(js.credential.manifest_signature, v.credential.signature);
});

test('whole ballot with the same DRBG is byte-identical (eqs. B1–B3)', () => {
  assert.deepEqual(js.ballot.ballot, v.ballot.ballot);
  assert.deepEqual(js.ballot.secrets, v.ballot.secrets);
  assert.equal(js.ballot.ballot_canonical_sha256, v.ballot.ballot_canonical_sha256);
});
