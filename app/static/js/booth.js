/**
 * booth.js — the voting page's glue around saylau-crypto.js (no build step, ES module).
 *
 *  1. load GET /api/v1/elections/<id>; start the Web Worker (ballot-worker.js), which
 *     recomputes the election fingerprint (eq. F1) and precomputes r^n and proof
 *     commitments while the voter reads the ballot;
 *  2. the voting card, a separate step (never part of Encrypt or Check): on opening the
 *     page says at once whether this device holds the card; "Get my voting card" (logged
 *     in, when the election's credential policy allows it now) makes an Ed25519 ballot key
 *     from a seed kept for the card, RFC 9474 Prepare+Blind, POSTs the blinded message
 *     with the session and the X-CSRFToken header, Finalize; the card can be saved as a
 *     file or printed, and imported on any device (file or pasted text).  The wallet is
 *     kept in IndexedDB (a revote needs the same credential and key).
 *     Enrolled-key and PKI mode (docs/protocol.md §2.7): the blinded message goes in a
 *     request signed with the voter's roll key; the signer comes from a source chosen by
 *     the election's credential_mode (signerSources): the roll key this browser keeps in
 *     IndexedDB or a roll key card file the voter loads (enrolled), a PKCS#12 file
 *     (pki, ./pki-card.js → ./crypto/pkcs12.js).  The roll index is looked up in the published roll, which
 *     must hash to the commitment the fingerprint binds and hold the key exactly once;
 *  3. encrypt and prove in the worker (progress bar), show the tracker;
 *     Without a card the voter can still encrypt and check (a throwaway token id binds
 *     the proofs), but not cast;
 *  4. "Check this encryption" (Benaloh): reveal the randomness, re-encrypt in the page
 *     and compare, show the decrypted choices, POST it to /audited-ballots (it is never
 *     counted and can never be cast), then encrypt afresh;
 *     "Cast": sign canonical_json(ballot) with the ballot key, POST it anonymously
 *     (credentials: 'omit' — no cookie), verify the receipt, store it in localStorage;
 *  5. a revote button when the election's policy allows it.
 */

import {
  PaillierPublicKey, WorkerBallotClient, auditBallot, bytesToHex, findOnRoll, normalizeManifest,
  requestCredential, rollSignerFromCard, signBallot, trackerOf,
} from './saylau-crypto.js';
import { api, localNumber, setTime } from './page-api.js';
import { loadRollSigner, storeRollKey } from './roll-key-store.js';
import { storeReceipt, verifyReceipt } from './receipt.js';
import { walletStore } from './wallet-store.js';
import { cardOf, newCardKey, walletFromCard } from './voting-card.js';

const $ = (id) => document.getElementById(id);
const root = $('booth');
const strings = JSON.parse(($('booth-strings') || { textContent: '{}' }).textContent);
const t = (key) => strings[key] || key;

// ------------------------------------------------------------------ wallet (IndexedDB)

const wallets = walletStore('saylau', (electionId) => `${location.origin}|${electionId}`);

// ------------------------------------------------------------------ page state

const state = {
  electionId: root ? root.dataset.electionId : null,
  info: null,
  client: null,
  pk: null,
  manifest: null,
  wallet: null,
  choices: null,
  pending: null, // {ballot, secrets, tracker}
  receipt: null,
  rollSigner: null, // enrolled-key mode: the roll key that signs the credential request
};

// ------------------------------------------------------------------ roll key (§2.7)

const ROLL_REFUSED = new Set(['not_enrolled', 'wrong_roll_index', 'bad_request_signature']);

function rollStatus(text, kind) {
  const el = $('roll-key-status');
  if (!el) return;
  el.textContent = text;
  el.dataset.roll = kind;
}

/** Where each credential mode's signer comes from (null: legacy login mode, no signature). */
const signerSources = {
  login: async () => null,
  enrolled: async () => {
    if (!state.rollSigner) state.rollSigner = await loadRollSigner(state.electionId);
    if (!state.rollSigner) throw new Error(t('roll_key_none'));
    return state.rollSigner;
  },
  // PKI mode: the voter's PKCS#12 file (templates/booth/_pki.html), opened by pki-card.js
  // (loaded only here), checked against GET /roll/me; {privateKey: signer, rollIndex}
  pki: async () => (await import('./pki-card.js')).pkiRollKey(state.electionId),
};

async function rollSignerFor(mode) {
  const source = signerSources[mode];
  if (!source) throw new Error(`${t('error')} ${mode}`);
  return source(mode);
}

/** The signer's roll index: found in the published roll (checked against the fingerprint's
 *  commitment, the key exactly once), or, for a certificate, the server's answer for me. */
async function withRollIndex(signer) {
  if (!signer) return null;
  const id = encodeURIComponent(state.electionId);
  if (signer.publicKeyHex) {
    const roll = await api(`/api/v1/elections/${id}/roll`);
    try {
      return { ...signer, rollIndex: await findOnRoll(roll, state.info.roll, signer.publicKeyHex) };
    } catch (err) {
      if (err && err.name === 'InvalidKey') throw new Error(t('roll_key_not_on_roll'));
      throw err;
    }
  }
  if (Number.isSafeInteger(signer.rollIndex)) return signer;
  const me = await api(`/api/v1/elections/${id}/roll/me`, { session: true });
  return { ...signer, rollIndex: me.roll_index };
}

async function showRollKey() {
  const panel = $('roll-key-panel');
  if (!panel) return;
  const picker = $('roll-key-pick');
  if (panel.dataset.mode !== 'enrolled') { rollStatus(t('pki_needed'), 'none'); return; }
  if (!state.rollSigner) state.rollSigner = await loadRollSigner(state.electionId);
  if (state.rollSigner) {
    rollStatus(t('roll_key_held'), 'held');
    if (picker) picker.hidden = true;
  } else {
    rollStatus(t('roll_key_none'), 'none');
    if (picker) picker.hidden = false;
  }
}

async function onRollKeyFile() {
  const input = $('roll-key-file');
  if (!input.files || !input.files.length) return;
  try {
    const signer = await rollSignerFromCard(await input.files[0].text(), state.electionId);
    state.rollSigner = signer;
    // keep it here, non-extractable, so that this browser need not load the file again
    await storeRollKey(state.electionId, { privateKey: signer.privateKey, publicKeyHex: signer.publicKeyHex, rollIndex: signer.rollIndex });
    rollStatus(t('roll_key_loaded'), 'held');
    $('roll-key-pick').hidden = true;
  } catch (err) {
    rollStatus(t('roll_key_bad'), 'error');
  } finally {
    input.value = '';
  }
}

function setStatus(text, kind = '') {
  const el = $('status');
  if (!el) return;
  el.textContent = text;
  el.className = `status ${kind ? `status-${kind}` : ''}`;
}

function cardStatus(text, kind) {
  const el = $('card-status');
  if (!el) return;
  el.textContent = text;
  el.dataset.card = kind;
}

/** What this device holds, said at once; the card actions that apply. */
function showCard() {
  const panel = $('card-panel');
  if (!panel) return;
  const held = Boolean(state.wallet);
  if (held) {
    cardStatus(t('card_held'), 'held');
  } else if (panel.dataset.canGet === '1') {
    cardStatus(t('card_none_get'), 'none');
  } else if (panel.dataset.phase === 'credentials') {
    cardStatus(t('card_none_login'), 'none');
  } else {
    cardStatus(t('card_none_import'), 'none');
  }
  if ($('get-card-button')) $('get-card-button').hidden = held || panel.dataset.canGet !== '1';
  const saved = $('card-save');
  saved.hidden = !(held && state.wallet.card);
  if (held && state.wallet.card) {
    const blob = new Blob([JSON.stringify(state.wallet.card, null, 2)], { type: 'application/json' });
    $('card-download').href = URL.createObjectURL(blob);
    $('card-download').download = `saylau-voting-card-${state.electionId}.json`;
    $('card-text').value = JSON.stringify(state.wallet.card);
  }
  $('card-import').hidden = held;
  const note = $('cast-needs-card');
  if (note) note.hidden = held;
}

async function onGetCard() {
  const button = $('get-card-button');
  button.disabled = true;
  cardStatus(t('card_getting'), 'working');
  try {
    const rollKey = await withRollIndex(await rollSignerFor(state.info.credential_mode || 'login'));
    const key = await newCardKey();
    const wallet = await requestCredential(state.info.issuer_public_key, state.electionId, async (blinded, signed) => {
      try {
        const answer = await api(`/api/v1/elections/${encodeURIComponent(state.electionId)}/credential`, {
          method: 'POST', body: signed ? { signed_request: signed } : { blinded_message: blinded }, session: true,
        });
        return answer.blind_signature;
      } catch (err) {
        if (err.status === 409 && err.code === 'already_issued') throw new Error(t('card_taken'));
        if (err.status === 403 && ROLL_REFUSED.has(err.code)) throw new Error(t('roll_key_not_on_roll'));
        throw err;
      }
    }, { ballotKey: key, rollKey });
    wallet.card = cardOf(state.electionId, wallet, key.seed);
    state.wallet = wallet;
    await wallets.save(state.electionId, wallet);
    showCard();
    cardStatus(t('card_got'), 'held');
  } catch (err) {
    cardStatus(`${t('error')} ${err && err.message ? err.message : err}`, 'error');
    // a key not on the roll (or none): let the voter load their roll key card
    if (err && [t('roll_key_not_on_roll'), t('roll_key_none')].includes(err.message) && $('roll-key-pick')) {
      $('roll-key-pick').hidden = false;
    }
  } finally {
    button.disabled = false;
  }
}

async function importCard(text) {
  try {
    const wallet = await walletFromCard(text, state.electionId, state.info.issuer_public_key);
    state.wallet = wallet;
    await wallets.save(state.electionId, wallet);
    showCard();
    cardStatus(t('card_imported'), 'held');
  } catch (err) {
    cardStatus(t('card_bad'), 'error');
  }
}

async function onImportFile() {
  const input = $('card-file');
  if (!input.files || !input.files.length) return;
  await importCard(await input.files[0].text());
  input.value = '';
}

async function onImportPaste(event) {
  event.preventDefault();
  await importCard($('card-paste').value);
}

function onPrintCard() {
  document.body.classList.add('printing-card');
  window.print();
  document.body.classList.remove('printing-card');
}

function showError(err) {
  setStatus(`${t('error')} ${err && err.message ? err.message : err}`, 'error');
  const button = $('encrypt-button');
  if (button) button.disabled = false;
}

function show(sectionId, focus = true) {
  for (const id of ['ballot-form', 'encrypting', 'review', 'audit', 'done']) {
    const el = $(id);
    if (el) el.hidden = id !== sectionId;
  }
  const el = $(sectionId);
  if (focus && el && el.tabIndex === -1) el.focus();
}

function readChoices() {
  // Every question is checked and marked, not only the first one that is wrong.
  const choices = {};
  let ok = true;
  for (const fs of document.querySelectorAll('#ballot-form fieldset.question')) {
    const qid = fs.dataset.questionId;
    const chosen = [...fs.querySelectorAll('input:checked')].map((i) => i.value);
    const min = Number(fs.dataset.min);
    const max = Number(fs.dataset.max);
    if (chosen.length < min || chosen.length > max) {
      fs.setAttribute('aria-invalid', 'true');
      ok = false;
      continue;
    }
    fs.removeAttribute('aria-invalid');
    choices[qid] = chosen;
  }
  return ok ? choices : null;
}

function questionLabel(qid) {
  const legend = document.querySelector(`#ballot-form fieldset[data-question-id="${CSS.escape(qid)}"]`);
  return legend && legend.dataset.title ? legend.dataset.title : questionTitle(qid);
}

/** The review list: each question with the chosen options, in the page's language. */
function renderChoices(list, chosen) {
  list.replaceChildren();
  for (const q of state.manifest.questions) {
    const li = document.createElement('li');
    const strong = document.createElement('strong');
    strong.textContent = `${questionLabel(q.id)}: `;
    const picked = (chosen[q.id] || []).map((o) => labelOf(q.id, o));
    li.append(strong, picked.length ? picked.join(', ') : t('none_selected'));
    list.append(li);
  }
}

function labelOf(qid, oid) {
  const input = document.querySelector(`#ballot-form fieldset[data-question-id="${CSS.escape(qid)}"] input[value="${CSS.escape(oid)}"]`);
  return input ? input.dataset.label : oid;
}

function questionTitle(qid) {
  const q = state.manifest.questions.find((x) => x.id === qid);
  return q ? q.title : qid;
}

function precompute() {
  const bar = $('precompute-progress');
  state.client.precompute((p) => {
    if (bar && p.total) { bar.max = p.total; bar.value = p.done; }
  }).then(() => {
    if (bar) { bar.max = 1; bar.value = 1; }
  }).catch(() => { /* precomputation is only an optimisation */ });
}

async function init() {
  if (!root || !$('card-panel')) return;
  try {
    setStatus(t('loading'));
    const info = await api(root.dataset.api, { session: false });
    state.info = info;
    state.manifest = normalizeManifest(info.manifest);
    state.wallet = await wallets.load(state.electionId);
    showCard();
    await showRollKey();
    if (!$('ballot-form')) { setStatus(t('precomputed'), 'ok'); return; }
    state.pk = PaillierPublicKey.fromJson(info.election_public_key);
    const election = {
      manifest: info.manifest,
      election_key: info.election_public_key,
      issuer_key: info.issuer_public_key,
      board_key: info.board_public_key,
      roll: info.roll,
      rules: info.rules,
      fingerprint: info.fingerprint,
    };
    state.client = new WorkerBallotClient(new URL(root.dataset.worker, location.href), election);
    try {
      await state.client.ready();
    } catch (err) {
      setStatus(t('fingerprint_bad'), 'error');
      return;
    }
    setStatus(`${t('fingerprint_ok')} ${t('precomputed')}`, 'ok');
    $('encrypt-button').disabled = false;
    precompute();
  } catch (err) {
    showError(err);
  }
}

async function encryptNow() {
  show('encrypting', false);
  setStatus(t('encrypting'));
  const bar = $('encrypt-progress');
  bar.value = 0;
  // without a card: a throwaway token id, so that the encryption can be checked (never cast)
  const tokenIdHex = state.wallet ? state.wallet.tokenId : bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  const { ballot, secrets } = await state.client.encrypt(state.choices, tokenIdHex, (p) => {
    if (p.total) { bar.max = p.total; bar.value = p.done; }
  });
  state.pending = { ballot, secrets, tracker: await trackerOf(ballot), castable: Boolean(state.wallet) };
  $('review-tracker').textContent = state.pending.tracker;
  $('cast-button').disabled = !state.pending.castable;
  $('cast-needs-card').hidden = state.pending.castable;
  renderChoices($('review-choices'), state.choices);
  setStatus(t('encrypted'), 'ok');
  show('review');
  precompute(); // refill the pool for a possible next encryption
}

async function onEncrypt(event) {
  event.preventDefault();
  const errorBox = $('form-error');
  const choices = readChoices();
  if (!choices) {
    errorBox.textContent = t('choose');
    errorBox.hidden = false;
    const bad = document.querySelector('#ballot-form fieldset[aria-invalid="true"] input');
    if (bad) bad.focus();
    return;
  }
  errorBox.hidden = true;
  $('encrypt-button').disabled = true;
  try {
    state.choices = choices;
    await encryptNow();
  } catch (err) {
    show('ballot-form', false);
    showError(err);
  }
}

async function onChallenge() {
  const { ballot, secrets, tracker } = state.pending;
  state.pending = null; // a ballot whose secrets were revealed must never be cast
  $('audit-tracker').textContent = tracker;
  const list = $('audit-choices');
  list.replaceChildren();
  const result = $('audit-result');
  result.className = 'flash';
  result.textContent = t('auditing');
  $('audit-board').replaceChildren();
  show('audit');
  try {
    const chosen = auditBallot(state.pk, state.manifest, ballot, secrets); // re-encryption, eq. P1
    renderChoices(list, chosen);
    const same = state.manifest.questions.every((q) => {
      const a = [...(chosen[q.id] || [])].sort().join('\n');
      const b = [...(state.choices[q.id] || [])].sort().join('\n');
      return a === b;
    });
    result.textContent = same ? t('audit_ok') : t('audit_bad');
    setStatus(result.textContent, same ? 'ok' : 'error');
    result.className = same ? 'flash flash-ok' : 'flash flash-error';
    result.setAttribute('data-audit', same ? 'ok' : 'bad');
    const receipt = await api(`/api/v1/elections/${encodeURIComponent(state.electionId)}/audited-ballots`, {
      method: 'POST', body: { ballot, secrets },
    });
    const p = $('audit-board');
    p.textContent = `${t('audit_posted')} `;
    const a = document.createElement('a');
    // The check page: opened and checked again by the server's Python code, with a QR code
    // so that a second device can confirm the choices (and saylau verify-audit offline).
    a.href = root.dataset.check.replace('TRACKER', receipt.tracker);
    a.textContent = `${root.dataset.checkLabel} (#${receipt.index})`;
    a.id = 'audit-receipt-link';
    p.append(a);
    $('continue-button').focus();
  } catch (err) {
    result.className = 'flash flash-error';
    result.textContent = `${t('error')} ${err.message}`;
  }
}

async function onContinue() {
  try {
    await encryptNow();
  } catch (err) {
    show('ballot-form', false);
    showError(err);
  }
}

async function onCast() {
  const pending = state.pending;
  if (!pending || !pending.castable || !state.wallet) return;
  $('cast-button').disabled = true;
  setStatus(t('casting'));
  try {
    const signature = await signBallot(state.wallet.privateKey, pending.ballot);
    const data = await api(`/api/v1/elections/${encodeURIComponent(state.electionId)}/ballots`, {
      method: 'POST',
      body: { credential: state.wallet.credential, ballot: pending.ballot, signature: bytesToHex(signature) },
    });
    const receipt = {
      server: location.origin,
      election_id: state.electionId,
      board_public_key: state.info.board_public_key,
      fingerprint: state.info.fingerprint,
      ...data,
    };
    if (receipt.tracker !== pending.tracker) throw new Error('the receipt is for another ballot');
    await verifyReceipt(receipt);
    state.pending = null;
    state.receipt = receipt;
    storeReceipt(receipt);
    $('receipt-tracker').textContent = receipt.tracker;
    $('receipt-index').textContent = `#${receipt.index}`;
    $('receipt-size').textContent = localNumber(receipt.tree_head.tree_size);
    setTime($('receipt-time'), receipt.tree_head.timestamp);
    $('receipt-link').href = `/elections/${encodeURIComponent(state.electionId)}/receipt/${receipt.tracker}`;
    const blob = new Blob([JSON.stringify(receipt, null, 2)], { type: 'application/json' });
    $('receipt-download').href = URL.createObjectURL(blob);
    $('done-status').textContent = `${t('cast_ok')} ${t('receipt_ok')}`;
    setStatus(t('cast_ok'), 'ok');
    show('done');
  } catch (err) {
    showError(err);
  } finally {
    $('cast-button').disabled = !(state.pending && state.pending.castable);
  }
}

function onBack() {
  state.pending = null;
  show('ballot-form', false);
  $('encrypt-button').disabled = false;
  const first = document.querySelector('#ballot-form input');
  if (first) first.focus();
}

function onRevote() {
  for (const input of document.querySelectorAll('#ballot-form input')) input.checked = false;
  setStatus(t('revoting'));
  onBack();
}

if (root && $('card-panel')) {
  if ($('get-card-button')) $('get-card-button').addEventListener('click', onGetCard);
  $('card-file').addEventListener('change', onImportFile);
  $('card-paste-form').addEventListener('submit', onImportPaste);
  $('card-print').addEventListener('click', onPrintCard);
  if ($('roll-key-file')) $('roll-key-file').addEventListener('change', onRollKeyFile);
}
if (root && $('ballot-form')) {
  $('ballot-form').addEventListener('submit', onEncrypt);
  $('cast-button').addEventListener('click', onCast);
  $('challenge-button').addEventListener('click', onChallenge);
  $('continue-button').addEventListener('click', onContinue);
  $('back-button').addEventListener('click', onBack);
  if ($('revote-button')) $('revote-button').addEventListener('click', onRevote);
}
if (root && $('card-panel')) init();
