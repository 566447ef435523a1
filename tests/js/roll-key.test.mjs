// §2.7 roll keys in the browser (app/static/js/crypto/roll-key.js): the roll key card
// round-trips, the stored key is non-extractable, a card signs requests that crypto/roll.py
// verifies (tests/crypto/test_js_crosscheck.py::test_js_roll_key_card_verifies_in_python),
// and the voter's roll check finds the key exactly once under the committed root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { signCredentialRequest } from '../../app/static/js/crypto/credential-request.js';
import { requestCredential } from '../../app/static/js/crypto/credentials.js';
import {
  ROLL_KEY_FORMAT, findOnRoll, generateRollKey, rollKeyCard, rollRoot, rollSignerFromCard,
} from '../../app/static/js/crypto/roll-key.js';
import { bytesToHex } from '../../app/static/js/crypto/encoding.js';

const request = (index) => ({ election_id: 'e1', roll_index: index, blinded_message: 'cd'.repeat(256), period: '2026-11-29' });

test('a fresh roll key is non-extractable; its card round-trips', async () => {
  const key = await generateRollKey();
  assert.equal(key.privateKey.extractable, false);
  await assert.rejects(globalThis.crypto.subtle.exportKey('pkcs8', key.privateKey));
  const card = rollKeyCard('e1', key);
  assert.equal(card.format, ROLL_KEY_FORMAT);
  assert.equal(card.roll_index, null);
  assert.match(card.warning, /SECRET/);
  const signer = await rollSignerFromCard(JSON.stringify(card), 'e1');
  assert.equal(signer.kind, 'ed25519');
  assert.equal(signer.publicKeyHex, bytesToHex(key.publicKeyBytes));
  assert.equal(signer.privateKey.extractable, false);
  // the same key: a signature by the stored key and one by the card's both verify
  const a = await signCredentialRequest(key.privateKey, request(0));
  const b = await signCredentialRequest(signer, request(0));
  assert.equal(a.signature, b.signature); // Ed25519 is deterministic
});

test('bad cards are refused', async () => {
  const card = rollKeyCard('e1', await generateRollKey());
  const other = rollKeyCard('e1', await generateRollKey());
  await assert.rejects(rollSignerFromCard('not json'), /JSON/);
  await assert.rejects(rollSignerFromCard({ ...card, format: 'saylau-voting-card/1' }), /roll key card/);
  await assert.rejects(rollSignerFromCard(card, 'e2'), /for election e1/);
  await assert.rejects(rollSignerFromCard({ ...card, public_key: other.public_key }), /does not match/);
  await assert.rejects(rollSignerFromCard({ ...card, private_key_pkcs8: 'abcd' }), /PKCS#8/);
  await assert.rejects(rollSignerFromCard({ ...card, roll_index: -1 }), /roll_index/);
});

test('the roll check: exactly once, under the committed root', async () => {
  const keys = [];
  for (let i = 0; i < 3; i++) keys.push(bytesToHex((await generateRollKey()).publicKeyBytes));
  keys.sort();
  const entries = keys.map((k, index) => ({ index, kind: 'ed25519', public_key: k, id_hash: null }));
  const commitment = { mode: 'enrolled', size: 3, root: bytesToHex(await rollRoot(entries)) };
  assert.equal(await findOnRoll({ entries }, commitment, keys[1]), 1);
  await assert.rejects(findOnRoll({ entries }, commitment, 'ab'.repeat(32)), /0 times/);
  const twice = [...entries, { ...entries[1], index: 3 }];
  const c4 = { ...commitment, size: 4, root: bytesToHex(await rollRoot(twice)) };
  await assert.rejects(findOnRoll({ entries: twice }, c4, keys[1]), /2 times/);
  await assert.rejects(findOnRoll({ entries }, { ...commitment, root: '00'.repeat(32) }, keys[1]), /root/);
  await assert.rejects(findOnRoll({ entries }, null, keys[1]), /not published/);
});

test('requestCredential signs with a card signer', async () => {
  const card = rollKeyCard('e1', await generateRollKey(), 2);
  const signer = await rollSignerFromCard(card);
  const issuer = JSON.parse(readFileSync(new URL('../vectors/rfc9474-test-vectors.json', import.meta.url), 'utf8'));
  const vector = Array.isArray(issuer) ? issuer[0] : issuer.vectors[0];
  let seen = null;
  const canon = (x) => BigInt(`0x${x.replace(/^0x/, '')}`).toString(16);
  await requestCredential({ n: canon(vector.n), e: canon(vector.e) }, 'e1', async (_blinded, signed) => {
    seen = signed;
    throw new Error('stop');
  }, { rollKey: signer }).catch((err) => assert.equal(err.message, 'stop'));
  assert.equal(seen.request.roll_index, 2);
  assert.equal(seen.signature.length, 128);
});

test('a card prints a signed request and a roll for the Python cross-check', async () => {
  const card = rollKeyCard('e1', await generateRollKey(), 3);
  const signed = await signCredentialRequest(await rollSignerFromCard(card), request(3));
  const entries = [];
  for (let index = 0; index < 5; index++) {
    entries.push({ index, kind: 'ed25519', public_key: bytesToHex((await generateRollKey()).publicKeyBytes), id_hash: null });
  }
  const root = bytesToHex(await rollRoot(entries));
  if (process.env.SAYLAU_PRINT_CARD) console.log(JSON.stringify({ card, signed, entries, root }));
});
