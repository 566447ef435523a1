/**
 * receipt.js — check a voting receipt against the public board, in the browser.
 *
 * A receipt is {server, election_id, board_public_key, fingerprint, tracker, index,
 * leaf_hash, inclusion_proof {leaf_index, tree_size, path}, tree_head {log_id,
 * tree_size, root_hash, timestamp, signature}} (what POST …/ballots answers, plus the
 * election's public data).  Checks, as saylau/voter_client.py does:
 *
 *   verifyReceipt: Ed25519 signature of the tree head by the board key over
 *     "saylau/v1/tree-head\0" ‖ u32be(|log_id|) ‖ log_id ‖ u64be(size) ‖ u64be(ts) ‖ root,
 *     and the RFC 9162 §2.1.3.2 inclusion proof of leaf_hash at index;
 *   checkReceipt: also the board entry hashes to leaf_hash (SHA-256(0x00 ‖ canonical_json)),
 *     and the board's latest signed tree head is consistent with the receipt's
 *     (RFC 9162 §2.1.4.2 consistency proof).
 *
 * Receipts are kept in localStorage under "saylau.receipts" (public data only).
 */

import { setTime } from './page-api.js';
import {
  bytesToHex, canonicalJson, concatBytes, hexToBytes, sha256, utf8, verifyPayloadSignature,
} from './saylau-crypto.js';
import { u32be } from './crypto/encoding.js';

const STORAGE_KEY = 'saylau.receipts';
const TREE_HEAD_DOMAIN = concatBytes(utf8('saylau/v1/tree-head'), new Uint8Array([0]));

export class ReceiptError extends Error {}

// ------------------------------------------------------------------ storage

/** The receipts kept under localStorage `key` (a JSON list; [] when absent or unreadable). */
export function loadReceiptList(key) {
  try {
    const list = JSON.parse(localStorage.getItem(key) || '[]');
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** Append `receipt` (stamped stored_at) to the list under `key`, replacing those sameAs() it. */
export function storeReceiptIn(key, receipt, sameAs) {
  const list = loadReceiptList(key).filter((r) => !sameAs(r));
  list.push({ ...receipt, stored_at: new Date().toISOString() });
  localStorage.setItem(key, JSON.stringify(list));
}

export function loadReceipts() {
  return loadReceiptList(STORAGE_KEY);
}

export function storeReceipt(receipt) {
  storeReceiptIn(STORAGE_KEY, receipt, (r) => r.election_id === receipt.election_id && r.tracker === receipt.tracker);
}

// ------------------------------------------------------------------ Merkle (RFC 9162)

async function nodeHash(left, right) {
  return sha256(concatBytes(new Uint8Array([1]), left, right));
}

export async function leafHash(data) {
  return sha256(concatBytes(new Uint8Array([0]), data));
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function size(value, name) {
  if (!Number.isSafeInteger(value) || value < 0) throw new ReceiptError(`${name} must be a non-negative integer`);
  return value;
}

/** RFC 9162 §2.1.3.2; throws ReceiptError. */
export async function verifyInclusion(leaf, index, treeSize, path, root) {
  size(index, 'leaf index');
  size(treeSize, 'tree size');
  if (index >= treeSize) throw new ReceiptError('leaf index is not below the tree size');
  let fn = BigInt(index);
  let sn = BigInt(treeSize - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new ReceiptError('inclusion proof is too long');
    if ((fn & 1n) || fn === sn) {
      r = await nodeHash(p, r);
      while (fn && !(fn & 1n)) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ReceiptError('inclusion proof is too short');
  if (!equal(r, root)) throw new ReceiptError('inclusion proof does not lead to the signed root');
}

/** RFC 9162 §2.1.4.2 for 0 < oldSize ≤ newSize; throws ReceiptError. */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, path) {
  size(oldSize, 'old size');
  size(newSize, 'new size');
  if (oldSize > newSize) throw new ReceiptError('the board shrank since your receipt');
  if (oldSize === newSize) {
    if (path.length || !equal(oldRoot, newRoot)) throw new ReceiptError('tree heads of equal size differ');
    return;
  }
  if (oldSize === 0) throw new ReceiptError('a receipt never has an empty tree');
  if (!path.length) throw new ReceiptError('consistency proof is empty');
  let proof = path;
  if ((oldSize & (oldSize - 1)) === 0) proof = [oldRoot, ...path];
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  while (fn & 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = proof[0];
  let sr = proof[0];
  for (const c of proof.slice(1)) {
    if (sn === 0n) throw new ReceiptError('consistency proof is too long');
    if ((fn & 1n) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn && !(fn & 1n)) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ReceiptError('consistency proof is too short');
  if (!equal(fr, oldRoot) || !equal(sr, newRoot)) throw new ReceiptError('the board is NOT consistent with your receipt');
}

// ------------------------------------------------------------------ tree heads

function u64be(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function treeHeadMessage(head) {
  const logId = utf8(head.log_id);
  return concatBytes(TREE_HEAD_DOMAIN, u32be(logId.length), logId, u64be(size(head.tree_size, 'tree_size')),
    u64be(size(head.timestamp, 'timestamp')), hexToBytes(head.root_hash, 32, 'root_hash'));
}

export async function verifyTreeHead(boardKeyHex, head) {
  try {
    await verifyPayloadSignature(hexToBytes(boardKeyHex, 32, 'board_public_key'), treeHeadMessage(head),
      hexToBytes(head.signature, 64, 'signature'));
  } catch (err) {
    throw new ReceiptError(`the tree head is not signed by the board key: ${err.message}`);
  }
}

const paths = (proof) => (proof.path || []).map((h) => hexToBytes(h, 32, 'proof hash'));

/** The receipt's tree head is signed by the board and includes its leaf. */
export async function verifyReceipt(receipt) {
  const head = receipt.tree_head;
  const proof = receipt.inclusion_proof;
  if (!head || !proof) throw new ReceiptError('the receipt lacks its tree head or inclusion proof');
  await verifyTreeHead(receipt.board_public_key, head);
  if (proof.tree_size !== head.tree_size) throw new ReceiptError('the inclusion proof is for another tree size');
  if (proof.leaf_index !== receipt.index) throw new ReceiptError("the receipt's index and inclusion proof disagree");
  await verifyInclusion(hexToBytes(receipt.leaf_hash, 32, 'leaf_hash'), proof.leaf_index, proof.tree_size,
    paths(proof), hexToBytes(head.root_hash, 32, 'root_hash'));
  return head;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'omit', cache: 'no-store' });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const msg = data && data.error ? data.error.message : response.statusText;
    throw new ReceiptError(`${path}: ${msg} (${response.status})`);
  }
  return data;
}

/** Everything: receipt, board entry, latest tree head and consistency.  Returns {head, entry}. */
export async function checkReceipt(receipt) {
  const old = await verifyReceipt(receipt);
  const eid = encodeURIComponent(receipt.election_id);
  const entry = await getJson(`/api/v1/elections/${eid}/board/${encodeURIComponent(receipt.tracker)}`);
  const hash = bytesToHex(await leafHash(canonicalJson(entry.entry)));
  if (hash !== receipt.leaf_hash || entry.leaf_hash !== receipt.leaf_hash || entry.index !== receipt.index) {
    throw new ReceiptError('the board entry does not hash to the receipt\'s leaf');
  }
  const head = await getJson(`/api/v1/elections/${eid}/tree-head`);
  await verifyTreeHead(receipt.board_public_key, head);
  if (head.log_id !== old.log_id) throw new ReceiptError('the board answered for another log');
  if (head.tree_size < old.tree_size) throw new ReceiptError('the board shrank since your receipt');
  if (head.tree_size > old.tree_size) {
    const proof = await getJson(`/api/v1/elections/${eid}/consistency?old=${old.tree_size}&new=${head.tree_size}`);
    await verifyConsistency(old.tree_size, head.tree_size, hexToBytes(old.root_hash, 32),
      hexToBytes(head.root_hash, 32), paths(proof));
  } else {
    await verifyConsistency(old.tree_size, head.tree_size, hexToBytes(old.root_hash, 32),
      hexToBytes(head.root_hash, 32), []);
  }
  return { head, entry };
}

// ------------------------------------------------------------------ pages

function strings() {
  const el = document.getElementById('booth-strings');
  try { return JSON.parse(el ? el.textContent : '{}'); } catch { return {}; }
}

function statusOf(entry, s) {
  if (entry.superseded) return `${s.superseded || 'superseded'} (#${entry.superseded_by})`;
  return entry.kind === 'audited' ? (s.audited || 'audited') : (s.counted || 'counted');
}

/** A check that has not finished after this long (a server or network that never answers)
 *  is reported, so the voter can press Check again instead of watching "Checking…" for ever. */
export const CHECK_TIMEOUT_MS = 30_000;

class CheckTimeout extends ReceiptError {}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new CheckTimeout(message)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runCheck(receipt, out, s) {
  out.className = 'flash';
  delete out.dataset.result;
  out.textContent = s.checking || 'Checking…';
  try {
    const { head, entry } = await withTimeout(checkReceipt(receipt), CHECK_TIMEOUT_MS,
      s.check_timeout || 'the check did not finish; press Check again');
    out.className = 'flash flash-ok';
    out.dataset.result = 'ok';
    out.textContent = `${s.check_ok || 'OK'} #${receipt.index} · ${statusOf(entry, s)} · ${head.tree_size}`;
  } catch (err) {
    out.className = 'flash flash-error';
    out.dataset.result = err instanceof CheckTimeout ? 'timeout' : 'bad';
    out.textContent = err instanceof CheckTimeout ? err.message : `${s.check_bad || 'FAILED:'} ${err.message}`;
  }
}

function initCheckPage() {
  const s = strings();
  const out = document.getElementById('check-result');
  const list = document.getElementById('stored-receipts');
  const receipts = loadReceipts().filter((r) => !r.server || r.server === location.origin);
  if (!receipts.length) {
    const li = document.createElement('li');
    li.textContent = s.no_receipts || 'No receipts.';
    list.append(li);
  }
  receipts.forEach((r, i) => {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.className = 'hash';
    code.textContent = `${r.election_id} · #${r.index} · ${r.tracker}`;
    const button = document.createElement('button');
    button.type = 'button';
    button.id = `check-${i}`;
    button.textContent = s.check_button || 'Check';
    button.addEventListener('click', () => runCheck(r, out, s));
    const link = document.createElement('a');
    link.href = `/elections/${encodeURIComponent(r.election_id)}/receipt/${r.tracker}`;
    link.textContent = s.view_receipt || 'Receipt page';
    const when = document.createElement('time');
    if (r.stored_at) setTime(when, r.stored_at);
    li.append(code, ' ', when, ' ', button, ' ', link);
    list.append(li);
  });
  document.getElementById('paste-form').addEventListener('submit', (event) => {
    event.preventDefault();
    let receipt;
    try {
      receipt = JSON.parse(document.getElementById('receipt-json').value);
    } catch (err) {
      out.className = 'flash flash-error';
      out.textContent = `${s.check_bad || 'FAILED:'} ${err.message}`;
      return;
    }
    runCheck(receipt, out, s);
  });
}

function initReceiptPage(page) {
  const s = strings();
  const receipt = loadReceipts().find((r) => r.election_id === page.dataset.electionId && r.tracker === page.dataset.tracker);
  if (!receipt) return; // someone else's receipt (e.g. scanned QR): the page shows the board status
  const button = document.getElementById('check-stored');
  const out = document.getElementById('check-result');
  button.hidden = false;
  button.addEventListener('click', () => runCheck(receipt, out, s));
}

if (typeof document !== 'undefined') {
  if (document.getElementById('check-page')) initCheckPage();
  const page = document.getElementById('receipt-page');
  if (page) initReceiptPage(page);
}
