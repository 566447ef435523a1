// RFC 9474 client side against the RFC's Appendix A vectors (tests/vectors/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as sc from '../../app/static/js/saylau-crypto.js';

const doc = JSON.parse(readFileSync(new URL('../vectors/rfc9474-test-vectors.json', import.meta.url), 'utf8'));
const H = (x) => sc.hexToBytes(x);
const I = (x) => BigInt('0x' + x);

for (const v of doc.vectors) {
  const key = { n: I(v.n), e: I(v.e) };
  const saltLength = v.salt.length / 2;

  test(`${v.variant}: Prepare and EMSA-PSS-ENCODE (SHA-384, MGF1-SHA-384)`, async () => {
    const randomized = v.msg_prefix.length > 0;
    const prepared = sc.prepare(H(v.msg), { randomized, randomizer: randomized ? H(v.msg_prefix) : undefined });
    assert.equal(sc.bytesToHex(prepared), v.prepared_msg);
    const em = await sc.emsaPssEncode(prepared, sc.bitLength(key.n) - 1, H(v.salt));
    assert.equal(sc.bytesToHex(em), v.encoded_msg);
  });

  test(`${v.variant}: Blind with the vector's r gives blinded_msg and inv`, async () => {
    const r = sc.modInverse(I(v.inv), key.n);
    const { blindedMessage, inv } = await sc.blind(key, H(v.prepared_msg), { salt: H(v.salt), r, saltLength });
    assert.equal(sc.bytesToHex(blindedMessage), v.blinded_msg);
    assert.equal(inv, I(v.inv));
  });

  test(`${v.variant}: Finalize unblinds and verifies through WebCrypto RSA-PSS`, async () => {
    const sig = await sc.finalize(key, H(v.prepared_msg), H(v.blind_sig), I(v.inv), { saltLength });
    assert.equal(sc.bytesToHex(sig), v.sig);
  });

  test(`${v.variant}: Finalize rejects a tampered blind signature or message`, async () => {
    const bad = H(v.blind_sig);
    bad[bad.length - 1] ^= 1;
    await assert.rejects(sc.finalize(key, H(v.prepared_msg), bad, I(v.inv), { saltLength }), sc.InvalidSignature);
    const msg = H(v.prepared_msg);
    msg[0] ^= 1;
    await assert.rejects(sc.finalize(key, msg, H(v.blind_sig), I(v.inv), { saltLength }), sc.InvalidSignature);
    await assert.rejects(sc.finalize(key, H(v.prepared_msg), H(v.blind_sig).slice(1), I(v.inv), { saltLength }),
      sc.InvalidEncoding);
    await assert.rejects(sc.rsaPssVerify(key, H(v.prepared_msg), H(v.sig), { saltLength: saltLength ? 0 : 48 }),
      sc.InvalidSignature);
  });
}

test('beginCredential/finishCredential round trip with the RFC key as issuer', async () => {
  const v = doc.vectors[0];
  const key = { n: I(v.n), e: I(v.e) };
  const d = I(v.d);
  const { publicKeyBytes } = await sc.generateBallotKey();
  const { blindedMessage, state } = await sc.beginCredential(key, 'election-1', publicKeyBytes);
  const blindSig = sc.intToBytes(sc.modPow(sc.bytesToInt(blindedMessage), d, key.n), blindedMessage.length);
  const cred = await sc.finishCredential(key, state, blindSig);
  assert.equal(cred.scope_id, 'election-1');
  assert.equal(cred.token_id, await sc.credentialTokenId(cred));
  assert.equal(cred.randomizer.length, 64);
  // The credential verifies as an RFC 9474 signature over randomizer || msg.
  const prepared = sc.concatBytes(H(cred.randomizer), await sc.credentialMessage('election-1', publicKeyBytes));
  await sc.rsaPssVerify(key, prepared, H(cred.signature));
  // A signature on another scope does not finish.
  const other = await sc.beginCredential(key, 'election-2', publicKeyBytes);
  await assert.rejects(sc.finishCredential(key, other.state, blindSig), sc.InvalidSignature);
});

test('requestCredential: key, Prepare+Blind, the issuer callback, Finalize into a wallet', async () => {
  const v = doc.vectors[0];
  const key = { n: I(v.n), e: I(v.e) };
  const d = I(v.d);
  const seen = [];
  const wallet = await sc.requestCredential({ n: sc.intToHex(key.n), e: sc.intToHex(key.e) }, 'election-1',
    async (blindedHex) => {
      seen.push(blindedHex);
      const z = sc.bytesToInt(sc.hexToBytes(blindedHex));
      return sc.bytesToHex(sc.intToBytes(sc.modPow(z, d, key.n), blindedHex.length / 2));
    });
  assert.equal(seen.length, 1);
  assert.deepEqual(Object.keys(wallet.credential), ['scope_id', 'ballot_public_key', 'randomizer', 'signature']);
  assert.equal(wallet.tokenId, await sc.credentialTokenId(wallet.credential));
  assert.equal(wallet.privateKey.extractable, false);
  // An issuer answering garbage yields no wallet.
  await assert.rejects(sc.requestCredential({ n: sc.intToHex(key.n), e: sc.intToHex(key.e) }, 'election-1',
    async (blindedHex) => blindedHex), sc.InvalidSignature);
});
