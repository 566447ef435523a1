/**
 * pki-card.js — PKI mode in the browser (issue 11, docs/protocol.md §2.7): the voter's X.509
 * certificate and key from their PKCS#12 file (templates/booth/_pki.html).
 *
 *  * pkiSigner()          open the chosen .p12/.pfx with its password on this device
 *                         (crypto/pkcs12.js: PKI.js + WebCrypto, non-extractable key);
 *  * pkiRollKey(id)       that signer as the booth's roll key: {privateKey: signer,
 *                         rollIndex} after GET /roll/me confirms the certificate's key is
 *                         the one enrolled; requestCredential signs eq. R1 with it;
 *  * the enrollment page  (templates/booth/pki_enroll.html): POST the certificate (base64
 *                         DER) to /api/v1/elections/<id>/enroll.
 *
 * The file's bytes, the password and the key never leave the page; only the certificate
 * and signatures are sent.
 */

import { signerFromPkcs12 } from './crypto/pkcs12.js';
import { api } from './page-api.js';

const $ = (id) => document.getElementById(id);

function message(key) {
  const box = $('pki-card');
  const attr = `msg${key.split(/[-_]/).map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`;
  return (box && box.dataset[attr]) || key;
}

function status(text, kind = '') {
  const el = $('pki-status');
  if (!el) return;
  el.textContent = text;
  el.dataset.state = kind;
  el.className = kind === 'error' ? 'flash flash-error' : kind === 'ok' ? 'flash flash-ok' : 'note';
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function base64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** An Error whose message the voter reads (translated), keeping the technical detail. */
function voterError(key, detail) {
  const err = new Error(message(key));
  err.code = key;
  err.detail = detail;
  return err;
}

/** The signer of the chosen PKCS#12 file (throws an Error with a translated message). */
export async function pkiSigner() {
  const input = $('pki-file');
  const password = $('pki-password');
  if (!input || !input.files || !input.files.length || !password) {
    const err = voterError('no-file');
    status(err.message, 'error');
    throw err;
  }
  status(message('opening'), 'working');
  try {
    const bytes = new Uint8Array(await input.files[0].arrayBuffer());
    const signer = await signerFromPkcs12(bytes, password.value);
    password.value = '';
    status(`${message('opened')} ${input.files[0].name}`, 'ok');
    return signer;
  } catch (exc) {
    const err = exc && exc.code ? voterError(exc.code, exc.message) : voterError('invalid-file', String(exc));
    status(err.message, 'error');
    throw err;
  }
}

/**
 * The booth's roll key in PKI mode: the PKCS#12 signer, after checking that its public key
 * is the one this voter enrolled (GET /api/v1/elections/<id>/roll/me, with the session).
 */
export async function pkiRollKey(electionId) {
  const signer = await pkiSigner();
  let mine;
  try {
    mine = await api(`/api/v1/elections/${encodeURIComponent(electionId)}/roll/me`, { session: true });
  } catch (exc) {
    if (exc.status !== 404) throw exc;
    const err = voterError('none-enrolled', exc.detail);
    status(err.message, 'error');
    throw err;
  }
  if (mine.kind !== 'x509' || mine.public_key !== hex(signer.publicKeyDer)) {
    const err = voterError('not-enrolled');
    status(err.message, 'error');
    throw err;
  }
  return { privateKey: signer, rollIndex: mine.roll_index };
}

async function onEnroll(event) {
  event.preventDefault();
  const button = $('pki-enroll-button');
  button.disabled = true;
  try {
    const signer = await pkiSigner();
    const electionId = $('pki-card').dataset.electionId;
    status(message('enrolling'), 'working');
    await api(`/api/v1/elections/${encodeURIComponent(electionId)}/enroll`, {
      method: 'POST', body: { certificate: base64(signer.certificateDer) }, session: true,
    });
    status(message('enrolled'), 'ok');
  } catch (err) {
    if (!err.code || err.status) status(err.message, 'error');
  } finally {
    button.disabled = false;
  }
}

if ($('pki-enroll-form')) $('pki-enroll-form').addEventListener('submit', onEnroll);
