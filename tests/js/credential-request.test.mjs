// §2.7 eq. R1 in the browser: signCredentialRequest signs exactly what crypto/roll.py
// verifies (checked from Python in tests/test_js_crosscheck.py::test_js_signed_request).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importBallotKeySeed } from '../../app/static/js/crypto/ballot-key.js';
import { credentialRequestMessage, currentPeriod, signCredentialRequest } from '../../app/static/js/crypto/credential-request.js';

test('the period is a date, never a time of day', () => {
  assert.equal(currentPeriod(new Date('2026-11-29T13:45:07Z')), '2026-11-29');
});

test('malformed requests are refused before signing', async () => {
  const ok = { election_id: 'e1', roll_index: 0, blinded_message: 'ab', period: '2026-11-29' };
  await credentialRequestMessage(ok);
  for (const bad of [{ ...ok, period: '2026-11-29T13:45' }, { ...ok, roll_index: -1 },
    { ...ok, blinded_message: 'AB' }, { ...ok, election_id: '' }]) {
    await assert.rejects(credentialRequestMessage(bad));
  }
});

test('signs with an Ed25519 roll key', async () => {
  const key = await importBallotKeySeed(new Uint8Array(32).fill(7));
  const signed = await signCredentialRequest(key.privateKey,
    { election_id: 'e1', roll_index: 3, blinded_message: 'ab'.repeat(256), period: '2026-11-29' });
  assert.equal(signed.signature.length, 128);
  if (process.env.SAYLAU_PRINT_SIGNED) console.log(JSON.stringify({ ...signed, public_key: Buffer.from(key.publicKeyBytes).toString('hex') }));
});
