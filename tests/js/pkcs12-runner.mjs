/**
 * Helper for tests/crypto/test_js_pkcs12.py: reads {password, request, files: {name: base64}}
 * on stdin; for each PKCS#12 file runs the booth's signer (app/static/js/crypto/pkcs12.js)
 * and signs the credential request; writes {name: {certificate, public_key, signed} |
 * {error, code}} (hex) on stdout.
 */
import { signerFromPkcs12 } from '../../app/static/js/crypto/pkcs12.js';
import { signCredentialRequest } from '../../app/static/js/crypto/credential-request.js';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const hex = (u8) => Buffer.from(u8).toString('hex');
const out = {};
for (const [name, b64] of Object.entries(req.files)) {
  try {
    const signer = await signerFromPkcs12(new Uint8Array(Buffer.from(b64, 'base64')), req.password);
    out[name] = {
      certificate: hex(signer.certificateDer),
      public_key: hex(signer.publicKeyDer),
      signed: await signCredentialRequest(signer, req.request),
    };
  } catch (err) {
    out[name] = { error: err.name, code: err.code || null, message: String(err.message || err) };
  }
}
process.stdout.write(JSON.stringify(out));
