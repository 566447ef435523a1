/**
 * roll-key-page.js — the voter's roll key page (/vote/<id>/roll-key, docs/protocol.md §2.7).
 *
 *  - before opening: "Make my key and put it on the roll": WebCrypto makes an Ed25519 key
 *    (extractable once, exported as PKCS#8 for the roll key card, re-imported
 *    NON-extractable for IndexedDB), POSTs the public key to /api/v1/elections/<id>/enroll
 *    with the session, keeps the key in this browser and offers the card as a download
 *    (the card is a secret; it is the only copy of the private key's bytes);
 *  - after opening: "Check the published roll": recompute the election fingerprint (the
 *    roll commitment is its fifth field), the roll's Merkle root, and find my key on it
 *    exactly once (the key this browser holds, else the one the server has for me).
 */

import {
  electionFingerprint, findOnRoll, generateRollKey, bytesToHex, rollKeyCard,
} from './saylau-crypto.js';
import { api } from './page-api.js';
import { loadRollSigner, storeRollKey } from './roll-key-store.js';

const $ = (id) => document.getElementById(id);
const root = $('roll-key-page');
const strings = JSON.parse(($('roll-key-strings') || { textContent: '{}' }).textContent);
const t = (key) => strings[key] || key;
const electionId = root ? root.dataset.electionId : null;
const base = `/api/v1/elections/${encodeURIComponent(electionId || '')}`;

function say(id, text, kind) {
  const el = $(id);
  if (!el) return;
  el.textContent = text;
  el.dataset.result = kind;
}

async function serverKey() {
  try {
    return await api(`${base}/roll/me`, { session: true });
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

async function showEnrollment() {
  const local = await loadRollSigner(electionId);
  const mine = await serverKey();
  if (!mine) say('enroll-status', t('none'), 'none');
  else if (local && local.publicKeyHex === mine.public_key) say('enroll-status', t('here'), 'here');
  else if (root.dataset.state !== 'draft') say('enroll-status', t('on_roll_not_here'), 'elsewhere');
  else say('enroll-status', t('elsewhere'), 'elsewhere');
}

async function onEnroll() {
  const button = $('enroll-button');
  button.disabled = true;
  say('enroll-status', t('working'), 'working');
  try {
    const key = await generateRollKey();
    const publicKeyHex = bytesToHex(key.publicKeyBytes);
    await api(`${base}/enroll`, { method: 'POST', body: { public_key: publicKeyHex }, session: true });
    await storeRollKey(electionId, { privateKey: key.privateKey, publicKeyHex, rollIndex: null });
    const card = rollKeyCard(electionId, key);
    key.pkcs8.fill(0); // the card (below) is the only copy of the private key's bytes
    const link = $('roll-card-download');
    link.href = URL.createObjectURL(new Blob([JSON.stringify(card, null, 2)], { type: 'application/json' }));
    link.download = `saylau-roll-key-${electionId}.json`;
    $('roll-card-save').hidden = false;
    say('enroll-status', t('enrolled'), 'here');
  } catch (err) {
    say('enroll-status', `${t('error')} ${err && err.message ? err.message : err}`, 'error');
  } finally {
    button.disabled = false;
  }
}

async function onCheck() {
  say('roll-check-result', t('checking'), 'working');
  try {
    const info = await api(base);
    const fp = await electionFingerprint(info.manifest, info.election_public_key,
      info.issuer_public_key, info.board_public_key, info.roll, info.rules);
    if (bytesToHex(fp) !== info.fingerprint) { say('roll-check-result', t('fingerprint_bad'), 'bad'); return; }
    const local = await loadRollSigner(electionId);
    const mine = await serverKey();
    if (local && mine && local.publicKeyHex !== mine.public_key) {
      say('roll-check-result', t('check_differs'), 'bad');
      return;
    }
    const keyHex = local ? local.publicKeyHex : mine && mine.public_key;
    if (!keyHex) { say('roll-check-result', t('check_none'), 'bad'); return; }
    const roll = await api(`${base}/roll`);
    const index = await findOnRoll(roll, info.roll, keyHex);
    say('roll-check-result', t('check_ok').replace('%(index)s', String(index)), 'ok');
  } catch (err) {
    say('roll-check-result', `${t('check_bad')} ${err && err.message ? err.message : err}`, 'bad');
  }
}

if (root && root.dataset.mode === 'enrolled' && $('enroll-panel')) {
  if ($('enroll-button')) $('enroll-button').addEventListener('click', onEnroll);
  if ($('roll-check-button')) $('roll-check-button').addEventListener('click', onCheck);
  showEnrollment().catch((err) => say('enroll-status', `${t('error')} ${err.message}`, 'error'));
}
