// PKI mode (§2.7): the booth's PKCS#12 signer (app/static/js/crypto/pkcs12.js, PKI.js +
// WebCrypto).  Fixtures: tests/js/fixtures/*.p12, made by make_pkcs12.py with a TEST CA.
// Signatures are checked here with node:crypto (RSA PKCS#1 v1.5 / ECDSA DER, SHA-256) and
// from Python with crypto/roll.py in tests/crypto/test_js_pkcs12.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { Pkcs12Error, signerFromPkcs12 } from '../../app/static/js/crypto/pkcs12.js';
import { credentialRequestMessage, signCredentialRequest } from '../../app/static/js/crypto/credential-request.js';

const PASSWORD = 'test-paßwörd';
const fixture = (name) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}.p12`, import.meta.url)));
const request = { election_id: 'e1', roll_index: 2, blinded_message: 'cd'.repeat(256), period: '2026-11-29' };

for (const [name, algorithm, spkiType] of [['rsa2048', 'rsa', 'rsa'], ['p256', 'ecdsa', 'ec'], ['p384', 'ecdsa', 'ec']]) {
  test(`${name}: signs a credential request that verifies with the certificate's key`, async () => {
    const signer = await signerFromPkcs12(fixture(name), PASSWORD);
    assert.equal(signer.kind, 'x509');
    assert.equal(signer.algorithm, algorithm);
    const cert = new X509Certificate(Buffer.from(signer.certificateDer));
    assert.match(cert.subject, /serialNumber=IIN900101300123/);
    const certKey = cert.publicKey.export({ type: 'spki', format: 'der' });
    assert.deepEqual(Buffer.from(signer.publicKeyDer), certKey);
    const publicKey = createPublicKey({ key: certKey, format: 'der', type: 'spki' });
    assert.equal(publicKey.asymmetricKeyType, spkiType);
    const signed = await signCredentialRequest(signer, request);
    const m = await credentialRequestMessage(request);
    const sig = Buffer.from(signed.signature, 'hex');
    assert.ok(verify('sha256', m, { key: publicKey, dsaEncoding: 'der' }, sig));
    const other = await credentialRequestMessage({ ...request, roll_index: 3 });
    assert.ok(!verify('sha256', other, { key: publicKey, dsaEncoding: 'der' }, sig));
    if (process.env.SAYLAU_PRINT_PKCS12) {
      console.log(JSON.stringify({ fixture: name, public_key: Buffer.from(signer.publicKeyDer).toString('hex'), ...signed }));
    }
  });
}

async function rejects(bytes, password, code) {
  await assert.rejects(signerFromPkcs12(bytes, password), (err) => {
    assert.ok(err instanceof Pkcs12Error, `${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

test('a wrong password is refused (the MAC does not verify)', async () => {
  await rejects(fixture('p256'), 'test-password', 'wrong_password');
  await rejects(fixture('rsa2048'), '', 'wrong_password');
});

test('a tampered file is refused', async () => {
  for (const at of [0.3, 0.6, 0.95]) {
    const bytes = fixture('p256');
    const i = Math.floor(bytes.length * at);
    bytes[i] ^= 0x01;
    await assert.rejects(signerFromPkcs12(bytes, PASSWORD), Pkcs12Error);
  }
  await rejects(fixture('p256').subarray(0, 500), PASSWORD, 'invalid_file');
  await rejects(new TextEncoder().encode('not a pkcs12 file'), PASSWORD, 'invalid_file');
  await rejects(new Uint8Array(0), PASSWORD, 'invalid_file');
});

test('a file without a key, or whose key is not the certificate\'s, is refused', async () => {
  await rejects(fixture('cert-only'), PASSWORD, 'no_key');
  await rejects(fixture('mismatch'), PASSWORD, 'key_mismatch');
});

test('keys other than RSA >= 2048 / ECDSA P-256 / P-384 are refused (GOST is out of scope)', async () => {
  await rejects(fixture('ed25519'), PASSWORD, 'unsupported_key');
  await rejects(fixture('rsa1024'), PASSWORD, 'unsupported_key');
});

test('a file with the CA certificate too: the voter certificate is the one matching the key', async () => {
  const signer = await signerFromPkcs12(fixture('with-chain'), PASSWORD);
  assert.match(new X509Certificate(Buffer.from(signer.certificateDer)).subject, /serialNumber=IIN900101300123/);
  const m = new Uint8Array(32).fill(9);
  const key = createPublicKey({ key: Buffer.from(signer.publicKeyDer), format: 'der', type: 'spki' });
  assert.ok(verify('sha256', m, { key, dsaEncoding: 'der' }, Buffer.from(await signer.sign(m))));
});

test('legacy 3DES files: refused with a typed error (WebCrypto has no DES)', async () => {
  await rejects(fixture('legacy-3des'), PASSWORD, 'unsupported_encryption');
});

test('the private key is non-extractable and only the signer is exposed', async () => {
  const signer = await signerFromPkcs12(fixture('p256'), PASSWORD);
  assert.deepEqual(Object.keys(signer).sort(), ['algorithm', 'certificateDer', 'kind', 'publicKeyDer', 'sign']);
  assert.ok(Object.isFrozen(signer));
});

test('the key algorithms: RSA, P-256, P-384; GOST is refused as out of scope', async () => {
  const { algorithmFor } = await import('../../app/static/js/crypto/pkcs12.js');
  assert.equal(algorithmFor({ algorithmId: '1.2.840.113549.1.1.1' }).kind, 'rsa');
  const curve = (oid) => ({ algorithmId: '1.2.840.10045.2.1', algorithmParams: { valueBlock: { toString: () => oid } } });
  assert.equal(algorithmFor(curve('1.3.132.0.34')).import.namedCurve, 'P-384');
  assert.throws(() => algorithmFor(curve('1.3.132.0.35')), (e) => e.code === 'unsupported_key');
  for (const gost of ['1.2.643.7.1.1.1.1', '1.2.643.7.1.1.1.2', '1.2.643.2.2.19']) {
    assert.throws(() => algorithmFor({ algorithmId: gost }), (e) => e instanceof Pkcs12Error && e.code === 'gost_out_of_scope' && /GOST/.test(e.message));
  }
});
