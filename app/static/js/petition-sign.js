/**
 * petition-sign.js — the petition signing page's glue around saylau-crypto.js (ES module,
 * no build step).  The same file runs as the page script and as its module Web Worker:
 *
 *  1. load GET /api/v1/petitions/<id>; start a worker (this file), which recomputes the
 *     petition fingerprint (compared with the published one) and precomputes the
 *     exponentiations of one signature (r^n, ρ^n and the simulated z_i^n) while the
 *     citizen reads the page;
 *  2. on "Sign": a fresh non-extractable Ed25519 key, RFC 9474 Prepare+Blind, POST the
 *     blinded message with the session and the X-CSRFToken header; Finalize.  The
 *     credential and key are kept in IndexedDB until the signature is accepted, so a
 *     failed upload can be retried (the server issues one credential per citizen);
 *  3. encrypt B^i for the chosen region and prove it in the worker (progress bar);
 *  4. sign canonical_json(signature) with the key, POST anonymously (credentials: 'omit'),
 *     verify the receipt (board-signed tree head, inclusion), store it in localStorage
 *     ("saylau.petition-receipts") and show it.  A 409 shows "already signed".
 *
 * Worker requests ({id, type, ...}; replies carry the id):
 *   init {petition}                     → done {fingerprint}
 *   precompute                          → progress {stage: 'precompute', done, total}… done
 *   encrypt {tokenId, regionId}         → progress… done {signature}
 */

import {
  PaillierPublicKey, PrecomputePool, bytesToHex, canonicalJson, encryptPetitionSignature,
  normalizePetitionParameters, petitionFingerprint, petitionPoolNeeds, requestCredential, signPayload,
} from './saylau-crypto.js';
import { createRpcHandler, RpcClient, serveInWorker } from './crypto/rpc.js';
import { api, localNumber, setTime } from './page-api.js';
import { walletStore } from './wallet-store.js';

// ------------------------------------------------------------------ worker side

/**
 * The request handler shared by the worker and the in-page fallback.  `petition` is the
 * public petition JSON (GET /api/v1/petitions/<id>).  Pool fills are serialised, and a
 * pool entry is never used twice.
 */
export function createPetitionHandler(post) {
  let ctx = null;
  let chain = Promise.resolve();
  const serial = (fn) => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => {});
    return next;
  };
  const fill = (onProgress) => serial(() => ctx.pool.fill(ctx.needs, { onProgress }));
  const requireCtx = () => {
    if (!ctx) throw new Error('not initialised');
    return ctx;
  };
  return createRpcHandler(post, {
    async init(message) {
      const info = message.petition;
      const params = normalizePetitionParameters(info.parameters);
      const pk = PaillierPublicKey.fromJson(info.election_public_key);
      const fp = await petitionFingerprint(params, info.election_public_key, info.issuer_public_key,
        info.board_public_key);
      if (bytesToHex(fp) !== info.fingerprint) throw new Error('petition fingerprint does not match the published one');
      ctx = { params, pk, fp, pool: new PrecomputePool(pk), needs: petitionPoolNeeds(params) };
      return { fingerprint: bytesToHex(fp) };
    },
    precompute(message, progress) {
      requireCtx();
      return fill(progress);
    },
    async encrypt(message, progress) {
      const { needs } = requireCtx();
      const total = needs.encryptions + needs.units + 1;
      const report = (done) => progress({ stage: 'encrypt', done, total });
      // Finish (or do) the precomputation first: its steps are this signature's steps.
      await fill((p) => report(total - 1 - (p.total - p.done)));
      const signature = await serial(() => encryptPetitionSignature(ctx.pk, ctx.params, ctx.fp,
        message.tokenId, message.regionId, { pool: ctx.pool }));
      report(total);
      return { signature };
    },
  });
}

const inWorker = serveInWorker(createPetitionHandler((msg) => self.postMessage(msg)));

// ------------------------------------------------------------------ page side

/** Promise wrapper around the worker (or, without workers, the same handler in the page). */
class SignerClient {
  constructor(petition) {
    let send;
    this.rpc = new RpcClient((msg) => send(msg));
    try {
      this.worker = new Worker(import.meta.url, { type: 'module' });
      this.worker.onmessage = (event) => this.rpc.receive(event.data);
      send = (msg) => this.worker.postMessage(msg);
    } catch {
      const handle = createPetitionHandler((msg) => this.rpc.receive(msg));
      send = (msg) => { handle(msg); };
    }
    this.initialised = this.call('init', { petition });
  }

  call(type, payload = {}, onProgress = undefined) {
    return this.rpc.call(type, payload, onProgress);
  }

  async precompute(onProgress) {
    await this.initialised;
    return this.call('precompute', {}, onProgress);
  }

  async encrypt(tokenId, regionId, onProgress) {
    await this.initialised;
    return (await this.call('encrypt', { tokenId, regionId }, onProgress)).signature;
  }
}

const RECEIPTS_KEY = 'saylau.petition-receipts';

/** Append a petition receipt to localStorage (kept apart from ballot receipts). */
export async function storePetitionReceipt(receipt) {
  const { storeReceiptIn } = await import('./receipt.js');
  storeReceiptIn(RECEIPTS_KEY, receipt,
    (r) => r.petition_id === receipt.petition_id && r.leaf_hash === receipt.leaf_hash);
}

// A wallet {credential, tokenId, privateKey} survives a failed upload (IndexedDB).
const wallets = walletStore('saylau-petitions', (pid) => `${location.origin}|petition|${pid}`);

function runPage() {
  const $ = (id) => document.getElementById(id);
  const root = $('sign-app');
  if (!root || !$('sign-form')) return;
  const strings = JSON.parse(($('sign-strings') || { textContent: '{}' }).textContent);
  const t = (key) => strings[key] || key;
  const ds = root.dataset;
  const state = { info: null, client: null, wallet: null };

  function setStatus(text, kind = '') {
    const el = $('status');
    el.textContent = text;
    el.className = `status ${kind ? `status-${kind}` : ''}`;
  }

  function show(sectionId) {
    for (const id of ['sign-form', 'signing', 'already', 'done']) $(id).hidden = id !== sectionId;
    const el = $(sectionId);
    if (el.tabIndex === -1) el.focus();
  }

  function precompute() {
    const bar = $('precompute-progress');
    state.client.precompute((p) => {
      if (p.total) { bar.max = p.total; bar.value = p.done; }
    }).then(() => { bar.max = 1; bar.value = 1; }).catch(() => { /* only an optimisation */ });
  }

  async function init() {
    try {
      setStatus(t('loading'));
      const info = await api(ds.petitionUrl);
      state.info = info;
      if (ds.fingerprint && info.fingerprint !== ds.fingerprint) throw new Error(t('fingerprint_bad'));
      state.client = new SignerClient(info);
      try {
        await state.client.initialised;
      } catch {
        setStatus(t('fingerprint_bad'), 'error');
        return;
      }
      state.wallet = await wallets.load(ds.petitionId);
      $('sign-button').disabled = false;
      precompute();
      setStatus(`${t('fingerprint_ok')} ${t('ready')} ${t('precomputing')}`, 'ok');
    } catch (err) {
      setStatus(`${t('error')} ${err.message}`, 'error');
    }
  }

  function alreadySigned() {
    $('already-text').textContent = t('already_signed');
    setStatus(t('already_signed'), 'error');
    show('already');
  }

  async function obtainCredential() {
    if (state.wallet) return state.wallet;
    setStatus(t('credential'));
    state.wallet = await requestCredential(state.info.issuer_public_key, state.info.scope_id, async (blinded) => {
      const answer = await api(ds.credentialUrl, { method: 'POST', body: { blinded_message: blinded }, session: true });
      return answer.blind_signature;
    });
    await wallets.save(ds.petitionId, state.wallet);
    return state.wallet;
  }

  async function onSign(event) {
    event.preventDefault();
    const errorBox = $('form-error');
    const chosen = document.querySelector('#sign-form input[name="region"]:checked');
    if (!chosen) {
      errorBox.textContent = t('choose');
      errorBox.hidden = false;
      $('region-group').setAttribute('aria-invalid', 'true');
      const first = document.querySelector('#sign-form input[name="region"]');
      if (first) first.focus();
      return;
    }
    errorBox.hidden = true;
    $('region-group').removeAttribute('aria-invalid');
    $('sign-button').disabled = true;
    try {
      const wallet = await obtainCredential();
      show('signing');
      setStatus(t('encrypting'));
      const bar = $('sign-progress');
      bar.value = 0;
      const signature = await state.client.encrypt(wallet.tokenId, chosen.value, (p) => {
        if (p.total) { bar.max = p.total; bar.value = Math.max(0, p.done); }
      });
      setStatus(t('sending'));
      const ed = await signPayload(wallet.privateKey, canonicalJson(signature));
      const data = await api(ds.signaturesUrl, {
        method: 'POST',
        body: { credential: wallet.credential, signature, ed25519_signature: bytesToHex(ed) },
      });
      const { verifyReceipt } = await import('./receipt.js');
      const receipt = {
        server: location.origin, board_public_key: state.info.board_public_key,
        fingerprint: state.info.fingerprint, tracker: data.leaf_hash, ...data,
      };
      await verifyReceipt(receipt);
      await storePetitionReceipt(receipt);
      await wallets.drop(ds.petitionId);
      state.wallet = null;
      $('receipt-tracker').textContent = receipt.tracker;
      $('receipt-index').textContent = `#${receipt.index}`;
      $('receipt-size').textContent = localNumber(receipt.tree_head.tree_size);
      setTime($('receipt-time'), receipt.tree_head.timestamp);
      $('receipt-board').href = `${ds.boardUrl}?start=${receipt.index}&limit=1`;
      const blob = new Blob([JSON.stringify(receipt, null, 2)], { type: 'application/json' });
      $('receipt-download').href = URL.createObjectURL(blob);
      $('done-status').textContent = `${t('signed')} ${t('receipt_ok')}`;
      setStatus(t('signed'), 'ok');
      show('done');
    } catch (err) {
      if (err.status === 409 && err.code === 'already_signed') {
        await wallets.drop(ds.petitionId);
        state.wallet = null;
        alreadySigned();
        return;
      }
      show('sign-form');
      setStatus(`${t('error')} ${err.message}`, 'error');
      $('sign-button').disabled = false;
    }
  }

  $('sign-form').addEventListener('submit', onSign);
  init();
}

if (!inWorker && typeof document !== 'undefined') runPage();
