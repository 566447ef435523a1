#!/usr/bin/env node
// Second, independent verifier of Saylau election records (format saylau-election-record/v1).
//
// Written from docs/protocol.md, docs/election-record.md,
// audit/schema/election-record.schema.json and tests/vectors/ only (see README.md).
// No npm dependencies: BigInt arithmetic; node:crypto only for SHA-256, Ed25519 verification
// and RSA-PSS (SHA-384, MGF1-SHA-384, sLen = 48) verification.
//
// Usage: node verify.mjs RECORD_DIR [--json]      exit 0 valid, 1 a check failed, 2 usage
//        node verify.mjs --self-test [--json]     the published test vectors

import { createHash, createPublicKey, verify as cryptoVerify, constants } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------- encodings (§1.1)

class FormatError extends Error {}

const HEX_INT = /^(0|[1-9a-f][0-9a-f]*)$/;
const HEX_BYTES = /^([0-9a-f]{2})*$/;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

function hexToInt(s, where) {
  if (typeof s !== 'string' || !HEX_INT.test(s)) throw new FormatError(`${where}: not a canonical hex integer`);
  return BigInt('0x' + s);
}
function hexToBytes(s, where, len) {
  if (typeof s !== 'string' || !HEX_BYTES.test(s)) throw new FormatError(`${where}: not lowercase hex bytes`);
  const b = Buffer.from(s, 'hex');
  if (len !== undefined && b.length !== len) throw new FormatError(`${where}: expected ${len} bytes, got ${b.length}`);
  return b;
}
const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
function need(obj, key, type, where) {
  if (!isObj(obj)) throw new FormatError(`${where}: not an object`);
  if (!Object.prototype.hasOwnProperty.call(obj, key)) throw new FormatError(`${where}: missing "${key}"`);
  const v = obj[key];
  const ok = type === 'array' ? Array.isArray(v)
    : type === 'object' ? isObj(v)
      : type === 'int' ? Number.isSafeInteger(v)
        : type === 'any' ? true : typeof v === type;
  if (!ok) throw new FormatError(`${where}: "${key}" is not ${type}`);
  return v;
}
function exactKeys(obj, keys, where) {
  const got = Object.keys(obj).sort();
  const want = [...keys].sort();
  if (got.length !== want.length || got.some((k, i) => k !== want[i])) {
    throw new FormatError(`${where}: fields ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  }
}

// JSON (docs/election-record.md §1): a strict parser. Records contain no floats, no integers
// beyond 2^53 (big integers are hex strings) and no object with a repeated key; JSON.parse
// would silently round numbers and keep the last duplicate, so parse by hand.
function parseJsonStrict(text, where) {
  let i = 0;
  const fail = (msg) => { throw new FormatError(`${where}: ${msg} at offset ${i}`); };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const str = () => {
    const start = i; i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('control character in a string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    try { return JSON.parse(text.slice(start, i)); } catch (e) { return fail(`bad string (${e.message})`); }
  };
  const value = (depth) => {
    if (depth > 64) fail('nesting too deep');
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++; const obj = {}; ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws(); if (text[i] !== '"') fail('expected a key');
        const k = str();
        if (Object.prototype.hasOwnProperty.call(obj, k)) fail(`duplicate key ${JSON.stringify(k)}`);
        ws(); if (text[i] !== ':') fail('expected ":"'); i++;
        obj[k] = value(depth + 1); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail('expected "," or "}"');
      }
    }
    if (ch === '[') {
      i++; const arr = []; ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth + 1)); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail('expected "," or "]"');
      }
    }
    if (ch === '"') return str();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(lit, i)) { i += lit.length; return v; }
    }
    const m = /^-?(0|[1-9][0-9]*)([.eE][0-9eE+.-]*)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-') fail('not JSON');
    if (m[2]) fail(`float ${m[0]} (floats are not allowed)`);
    const n = Number(m[1] === '0' && m[0].startsWith('-') ? '0' : m[0]);
    if (!Number.isSafeInteger(n)) fail(`integer ${m[0]} out of range`);
    i += m[0].length;
    return n;
  };
  const out = value(0); ws();
  if (i !== text.length) fail('trailing data');
  return out;
}

// Canonical JSON (§1.1): Python json.dumps(sort_keys=True, separators=(",", ":"),
// ensure_ascii=False), UTF-8. Keys sorted by code point (not UTF-16 units).
function cmpCodePoints(a, b) {
  const A = Array.from(a, (c) => c.codePointAt(0));
  const B = Array.from(b, (c) => c.codePointAt(0));
  for (let k = 0; k < Math.min(A.length, B.length); k++) if (A[k] !== B[k]) return A[k] - B[k];
  return A.length - B.length;
}
// the deepest nesting of arrays and objects canonical JSON accepts (docs/protocol.md §1.1)
const MAX_JSON_DEPTH = 64;

function canonStr(v, depth = 0) {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new FormatError('canonical JSON: non-integer number');
    return String(v);
  }
  if (typeof v === 'string') {
    if (/[\ud800-\udfff]/u.test(v.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
      throw new FormatError('canonical JSON: lone surrogate');
    }
    return JSON.stringify(v); // same escapes as Python for ensure_ascii=False
  }
  if ((Array.isArray(v) || isObj(v)) && depth >= MAX_JSON_DEPTH) {
    throw new FormatError(`canonical JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (Array.isArray(v)) return '[' + v.map((x) => canonStr(x, depth + 1)).join(',') + ']';
  if (isObj(v)) {
    const keys = Object.keys(v).sort(cmpCodePoints);
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonStr(v[k], depth + 1)).join(',') + '}';
  }
  throw new FormatError('canonical JSON: unsupported value');
}
const canonicalJson = (v) => Buffer.from(canonStr(v), 'utf8');

// ---------------------------------------------------------------- hashing and transcript (§1.2)

const sha256 = (...parts) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };
const u32 = (x) => { const b = Buffer.alloc(4); b.writeUInt32BE(x); return b; };
const u64 = (x) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(x)); return b; };
const bitLen = (x) => (x === 0n ? 0 : x.toString(2).length);
const byteLen = (x) => Math.ceil(bitLen(x) / 8);
function i2osp(x, len) {
  if (x < 0n || bitLen(x) > 8 * len) throw new FormatError(`integer does not fit in ${len} bytes`);
  return Buffer.from(x.toString(16).padStart(2 * len, '0'), 'hex');
}
const os2ip = (b) => (b.length ? BigInt('0x' + Buffer.from(b).toString('hex')) : 0n);

class Transcript {
  constructor(domain) { this.parts = []; this.text('domain', domain); }
  field(kind, label, value) {
    const l = Buffer.from(label, 'utf8');
    this.parts.push(Buffer.from([kind]), u32(l.length), l, u32(value.length), value);
    return this;
  }
  bytes(label, b) { return this.field(0x01, label, Buffer.from(b)); }
  integer(label, x, width) { return this.field(0x02, label, i2osp(BigInt(x), width)); }
  text(label, s) { return this.field(0x03, label, Buffer.from(s, 'utf8')); }
  integers(label, xs, width) {
    this.integer(`${label}#count`, xs.length, 4);
    xs.forEach((x, i) => this.integer(`${label}[${i}]`, x, width));
    return this;
  }
  digest() { return sha256(...this.parts); }
  challenge() { return os2ip(this.digest()); } // mod 2^256 is the identity on a SHA-256 digest
}
function taggedHash(domain, ...pairs) {
  const t = new Transcript(domain);
  for (const [label, value] of pairs) t.bytes(label, value);
  return t.digest();
}

// ---------------------------------------------------------------- BigInt arithmetic

function modPow(base, exp, mod) {
  if (mod === 1n) return 0n;
  if (exp < 0n) return modPow(modInv(base, mod), -exp, mod);
  base %= mod; if (base < 0n) base += mod;
  if (exp === 0n) return 1n;
  const bits = exp.toString(2);
  const w = bits.length > 512 ? 5 : bits.length > 128 ? 4 : bits.length > 24 ? 3 : 1;
  const tbl = [base];
  const b2 = (base * base) % mod;
  for (let k = 1; k < 1 << (w - 1); k++) tbl.push((tbl[k - 1] * b2) % mod);
  let r = 1n; let i = 0;
  while (i < bits.length) {
    if (bits[i] === '0') { r = (r * r) % mod; i++; continue; }
    let j = Math.min(i + w, bits.length);
    while (bits[j - 1] === '0') j--;
    for (let k = i; k < j; k++) r = (r * r) % mod;
    r = (r * tbl[(parseInt(bits.slice(i, j), 2) - 1) >> 1]) % mod;
    i = j;
  }
  return r;
}
function egcd(a, b) {
  let [r0, r1, s0, s1] = [a, b, 1n, 0n];
  while (r1 !== 0n) { const q = r0 / r1; [r0, r1] = [r1, r0 - q * r1]; [s0, s1] = [s1, s0 - q * s1]; }
  return [r0, s0];
}
function gcd(a, b) { a = a < 0n ? -a : a; b = b < 0n ? -b : b; while (b) [a, b] = [b, a % b]; return a; }
function modInv(a, m) {
  a %= m; if (a < 0n) a += m;
  const [g, s] = egcd(a, m);
  if (g !== 1n) throw new Error('not invertible');
  return ((s % m) + m) % m;
}
const inZnStar = (x, n, N) => x > 0n && x < N && gcd(x, n) === 1n; // P4

// ---------------------------------------------------------------- primitives from node:crypto

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
function ed25519Verify(pub32, msg, sig64) {
  if (pub32.length !== 32 || sig64.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, pub32]), format: 'der', type: 'spki' });
    return cryptoVerify(null, msg, key, sig64);
  } catch { return false; }
}
const b64u = (x) => i2osp(x, byteLen(x)).toString('base64url');
// RFC 9474 §4.5 Verify = RSASSA-PSS-VERIFY with SHA-384, MGF1-SHA-384, sLen = 48.
function rsaPssVerify(n, e, msg, sig) {
  const k = byteLen(n);
  if (sig.length !== k || os2ip(sig) >= n) return false;
  try {
    const key = createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' });
    return cryptoVerify('sha384', msg, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, sig);
  } catch { return false; }
}

// ---------------------------------------------------------------- Merkle (RFC 6962 / 9162)

const leafHash = (d) => sha256(Buffer.from([0]), d);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
function mth(leaves) {
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1; while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
function inclusionVerify(leaf, m, n, path, root) { // §3.3 (used by the self-test)
  if (m >= n || path.length > 64) return false;
  let fn = m; let sn = n - 1; let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn !== 0 && fn % 2 === 0) { fn >>= 1; sn >>= 1; }
    } else r = nodeHash(r, p);
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}
function sthMessage(logId, size, ts, root) { // §3.5
  const l = Buffer.from(logId, 'utf8');
  return Buffer.concat([Buffer.from('saylau/v1/tree-head\0', 'latin1'), u32(l.length), l, u64(size), u64(ts), root]);
}

// ---------------------------------------------------------------- protocol objects

function parseManifest(m) {
  const w = 'manifest.json';
  exactKeys(m, ['election_id', 'title', 'questions', ...(isObj(m) && Object.prototype.hasOwnProperty.call(m, 'labels') ? ['labels'] : [])], w);
  const eid = need(m, 'election_id', 'string', w); need(m, 'title', 'string', w);
  if (!ID_RE.test(eid)) throw new FormatError(`${w}: bad election_id`);
  const qs = need(m, 'questions', 'array', w);
  if (qs.length < 1) throw new FormatError(`${w}: no questions`);
  const qids = new Set();
  for (const [qi, q] of qs.entries()) {
    const wq = `${w} questions[${qi}]`;
    exactKeys(q, ['id', 'title', 'options', 'min_selections', 'max_selections'], wq);
    const id = need(q, 'id', 'string', wq); need(q, 'title', 'string', wq);
    if (!ID_RE.test(id) || qids.has(id)) throw new FormatError(`${wq}: bad or repeated id`);
    qids.add(id);
    const opts = need(q, 'options', 'array', wq);
    const mn = need(q, 'min_selections', 'int', wq); const mx = need(q, 'max_selections', 'int', wq);
    if (!(mn >= 0 && mn <= mx && mx <= opts.length && mx >= 1)) throw new FormatError(`${wq}: bad min/max`);
    const oids = new Set();
    for (const [oi, o] of opts.entries()) {
      exactKeys(o, ['id', 'label'], `${wq} options[${oi}]`);
      const oid = need(o, 'id', 'string', wq); need(o, 'label', 'string', wq);
      if (!ID_RE.test(oid) || oids.has(oid)) throw new FormatError(`${wq}: bad or repeated option id ${oid}`);
      oids.add(oid);
    }
  }
  if (Object.prototype.hasOwnProperty.call(m, 'labels')) parseLabels(m.labels, qs, w);
  return m;
}

// §1.4 "Translations": labels = {key: {lang: text}}, key "title" | question id |
// "<question id>/<option id>", lang kk|ru|en, text 1..1000 code points; map and entries non-empty.
function parseLabels(labels, qs, w) {
  const wl = `${w} labels`;
  if (!isObj(labels) || !Object.keys(labels).length) throw new FormatError(`${wl}: must be a non-empty object`);
  const known = new Set(['title']);
  for (const q of qs) {
    if (q.id === 'title') throw new FormatError(`${wl}: question id "title" is reserved when labels are given`);
    known.add(q.id);
    for (const o of q.options) known.add(`${q.id}/${o.id}`);
  }
  for (const [key, entry] of Object.entries(labels)) {
    if (!known.has(key)) throw new FormatError(`${wl}: unknown key ${JSON.stringify(key)}`);
    if (!isObj(entry) || !Object.keys(entry).length) throw new FormatError(`${wl}[${key}]: must be a non-empty object`);
    for (const [lang, text] of Object.entries(entry)) {
      if (!['kk', 'ru', 'en'].includes(lang)) throw new FormatError(`${wl}[${key}]: unknown language ${JSON.stringify(lang)}`);
      const n = typeof text === 'string' ? [...text].length : 0;
      if (n < 1 || n > 1000) throw new FormatError(`${wl}[${key}][${lang}]: text must be 1..1000 characters`);
    }
  }
}

function parseThresholdKey(j) {
  const w = 'election_key';
  const pub = need(j, 'public', 'object', w);
  const n = hexToInt(need(pub, 'n', 'string', w), `${w}.public.n`);
  const k = need(j, 'threshold', 'int', w); const l = need(j, 'trustees', 'int', w);
  if (!(k >= 1 && k <= l && l <= 64)) throw new FormatError(`${w}: need 1 <= threshold <= trustees <= 64`);
  if (bitLen(n) < 1024) throw new FormatError(`${w}: modulus under 1024 bits`);
  const N = n * n;
  const v = hexToInt(need(j, 'v', 'string', w), `${w}.v`);
  const vks = need(j, 'verification_keys', 'array', w).map((x, i) => hexToInt(x, `${w}.verification_keys[${i}]`));
  if (vks.length !== l) throw new FormatError(`${w}: ${vks.length} verification keys for ${l} trustees`);
  for (const x of [v, ...vks]) if (!inZnStar(x, n, N)) throw new FormatError(`${w}: v or v_i not in Z*_N`);
  if ((v * v) % N === 1n) throw new FormatError(`${w}: v has order 1 or 2 (v^2 = 1 mod N)`);
  let delta = 1n; for (let i = 2n; i <= BigInt(l); i++) delta *= i;
  // §4.7.8: a key the trustees generated together has both theta and share_bits
  let theta = 1n; let shareBits = null;
  if ('theta' in j || 'share_bits' in j) {
    theta = hexToInt(need(j, 'theta', 'string', w), `${w}.theta`);
    shareBits = need(j, 'share_bits', 'int', w);
    if (!(theta > 0n && theta < n && gcd(theta, n) === 1n)) throw new FormatError(`${w}: theta not a unit mod n`);
    if (!(shareBits >= 2 * bitLen(n) && shareBits <= 4 * bitLen(n))) throw new FormatError(`${w}: share_bits out of range`);
    if (theta === 1n) throw new FormatError(`${w}: theta = 1 with share_bits`);
  }
  return { n, N, k, l, v, vks, delta, theta, shareBits, nBytes: byteLen(n), NBytes: byteLen(N) };
}

// §4.2 (+ §4.7.8): the threshold public key's fingerprint
function keyFingerprint(pk) {
  const t = new Transcript('saylau/v1/threshold-public-key').integer('n', pk.n, pk.nBytes)
    .integer('threshold', pk.k, 4).integer('trustees', pk.l, 4).integer('v', pk.v, pk.NBytes)
    .integers('verification_keys', pk.vks, pk.NBytes);
  if (pk.shareBits !== null) t.integer('theta', pk.theta, pk.nBytes).integer('share_bits', pk.shareBits, 4);
  return t.digest();
}

const BALLOT_KEYS = ['election_id', 'token_id', 'contests'];
// An EncryptedBallot JSON in canonical form (§1.6, §9.1): exactly these fields at every level,
// canonical hex everywhere. Says nothing about the manifest yet (that is ballotShape).
function parseBallotJson(b, where) {
  if (!isObj(b)) throw new FormatError(`${where}: ballot is not an object`);
  exactKeys(b, BALLOT_KEYS, `${where} ballot`);
  const electionId = need(b, 'election_id', 'string', where);
  const token = hexToBytes(need(b, 'token_id', 'string', where), `${where} token_id`, 32);
  const proofOf = (p, wp) => {
    if (!isObj(p)) throw new FormatError(`${wp}: proof is not an object`);
    exactKeys(p, ['a', 'e', 'z'], wp);
    const out = {};
    for (const key of ['a', 'e', 'z']) out[key] = need(p, key, 'array', wp).map((x, i) => hexToInt(x, `${wp}.${key}[${i}]`));
    return out;
  };
  const contests = need(b, 'contests', 'array', where).map((c, ci) => {
    const wq = `${where} contests[${ci}]`;
    if (!isObj(c)) throw new FormatError(`${wq}: not an object`);
    exactKeys(c, ['question_id', 'selections', 'count_proof'], wq);
    const selections = need(c, 'selections', 'array', wq).map((sel, si) => {
      const wo = `${wq} selections[${si}]`;
      if (!isObj(sel)) throw new FormatError(`${wo}: not an object`);
      exactKeys(sel, ['option_id', 'ciphertext', 'proof'], wo);
      return { id: need(sel, 'option_id', 'string', wo), c: hexToInt(sel.ciphertext, `${wo} ciphertext`), proof: proofOf(sel.proof, `${wo} proof`) };
    });
    return { id: need(c, 'question_id', 'string', wq), selections, countProof: proofOf(c.count_proof, `${wq} count_proof`) };
  });
  return { electionId, token, contests };
}
// Shape of a parsed ballot against the manifest (§1.6): questions and options in manifest
// order, ciphertexts in Z*_{n^2}, proof lengths. Failures belong to ballot-proofs (§9.2).
function ballotShape(parsed, manifest, pk) {
  if (parsed.electionId !== manifest.election_id) throw new Error('ballot election_id differs');
  if (parsed.contests.length !== manifest.questions.length) throw new Error(`${parsed.contests.length} contests for ${manifest.questions.length} questions`);
  const len = (p, k, wp) => { for (const key of ['a', 'e', 'z']) if (p[key].length !== k) throw new Error(`${wp}: |${key}| = ${p[key].length}, expected ${k}`); };
  manifest.questions.forEach((q, qi) => {
    const ct = parsed.contests[qi];
    if (ct.id !== q.id) throw new Error(`contest ${qi} is "${ct.id}", expected question ${q.id}`);
    if (ct.selections.length !== q.options.length) throw new Error(`question ${q.id}: ${ct.selections.length} selections for ${q.options.length} options`);
    q.options.forEach((o, oi) => {
      const sel = ct.selections[oi];
      if (sel.id !== o.id) throw new Error(`question ${q.id}: selection ${oi} is "${sel.id}", expected ${o.id}`);
      if (!inZnStar(sel.c, pk.n, pk.N)) throw new Error(`question ${q.id} option ${o.id}: ciphertext not in Z*_{n^2}`);
      len(sel.proof, 2, `question ${q.id} option ${o.id} proof`);
    });
    ct.q = q;
    len(ct.countProof, q.max_selections - q.min_selections + 1, `question ${q.id} count_proof`);
  });
  return parsed;
}
const parseBallot = (b, manifest, pk, where) => ballotShape(parseBallotJson(b, where), manifest, pk);

const T_BITS = 256n;
const TWO_T = 1n << T_BITS;

// §1.5 (Z1, Z3, Z5): throws Error naming what failed.
function verifyMembership(pk, fp, domain, context, stmt, c, allowed, proof) {
  const { n, N, nBytes, NBytes } = pk;
  const k = allowed.length;
  for (let i = 0; i < k; i++) {
    if (!inZnStar(proof.a[i], n, N)) throw new Error(`commitment a[${i}] not in Z*_N`);
    if (!(proof.e[i] >= 0n && proof.e[i] < TWO_T)) throw new Error(`challenge e[${i}] out of range`);
    if (!inZnStar(proof.z[i], n, n)) throw new Error(`response z[${i}] not in Z*_n`);
  }
  const t = new Transcript(domain).bytes('fingerprint', fp).integer('n', n, nBytes)
    .integer('context#count', context.length, 4);
  for (const [label, value] of context) t.text('context.label', label).text('context.value', value);
  t.integers('statement.ciphertexts', stmt, NBytes).integer('statement.c', c, NBytes)
    .integers('statement.allowed', allowed, nBytes).integers('commitments', proof.a, NBytes);
  const e = t.challenge();
  const sum = proof.e.reduce((s, x) => s + x, 0n) % TWO_T;
  if (sum !== e) throw new Error('challenges do not sum to the Fiat-Shamir challenge');
  for (let i = 0; i < k; i++) {
    const u = (c * (((1n - allowed[i] * n) % N + N) % N)) % N; // Z1
    // Z5: z^n = ±a·u^e (mod N); −1 = (n−1)^n is an n-th residue (n odd), so either sign is sound
    const lhs = modPow(proof.z[i], n, N); const rhs = (proof.a[i] * modPow(u, proof.e[i], N)) % N;
    if (lhs !== rhs && (lhs + rhs) % N !== 0n) {
      throw new Error(`verification equation fails for branch ${i} (m = ${allowed[i]})`);
    }
  }
  return e;
}

// §1.6 (B1, B2): every option proof and count proof of one ballot under context token `tokenHex`.
function verifyBallotProofs(pk, fp, eid, parsed, tokenHex) {
  for (const ct of parsed.contests) {
    for (const s of ct.selections) {
      try {
        verifyMembership(pk, fp, 'saylau/v1/option',
          [['election_id', eid], ['question_id', ct.id], ['option_id', s.id], ['token_id', tokenHex]],
          [s.c], s.c, [0n, 1n], s.proof);
      } catch (e) { throw new Error(`question ${ct.id} option ${s.id}: ${e.message}`); }
    }
    const cs = ct.selections.map((s) => s.c);
    const C = cs.reduce((a, b) => (a * b) % pk.N, 1n);
    const allowed = [];
    for (let m = ct.q.min_selections; m <= ct.q.max_selections; m++) allowed.push(BigInt(m));
    try {
      verifyMembership(pk, fp, 'saylau/v1/selection-count',
        [['election_id', eid], ['question_id', ct.id], ['token_id', tokenHex]], cs, C, allowed, ct.countProof);
    } catch (e) { throw new Error(`question ${ct.id} count proof: ${e.message}`); }
  }
}

function credentialMessage(scope, bpk) {
  return taggedHash('saylau/v1/credential-message', ['scope_id', Buffer.from(scope, 'utf8')], ['ballot_public_key', bpk]);
}
const tokenIdOf = (prepared) => taggedHash('saylau/v1/token-id', ['prepared_message', prepared]);
const trackerOf = (ballot) => taggedHash('saylau/v1/tracker', ['ballot', canonicalJson(ballot)]).toString('hex');

function electionFingerprint(manifest, electionKey, issuerKey, boardKey, roll, rules) { // F1
  const parts = [['manifest', canonicalJson(manifest)], ['election_key', canonicalJson(electionKey)],
    ['issuer_key', canonicalJson(issuerKey)], ['board_key', boardKey]];
  if (roll !== undefined && roll !== null) parts.push(['roll', canonicalJson(roll)]); // §2.7
  if (rules !== undefined && rules !== null) parts.push(['rules', canonicalJson(rules)]); // §1.4 rules
  return taggedHash('saylau/v1/election-fingerprint', ...parts);
}

// §1.4 "Rules": {revote_policy, time_granularity_s, voting_window {opens_at, closes_at}}
const MAX_MS = 253402300799999;
function parseRules(r, policy, w) {
  exactKeys(r, ['revote_policy', 'time_granularity_s', 'voting_window'], `${w} rules`);
  if (r.revote_policy !== policy) throw new FormatError(`${w}: revote_policy differs from rules.revote_policy`);
  const g = r.time_granularity_s;
  if (!Number.isSafeInteger(g) || g < 1 || g > 86400) throw new FormatError(`${w}: rules.time_granularity_s must be 1..86400`);
  const win = r.voting_window;
  exactKeys(win, ['opens_at', 'closes_at'], `${w} rules.voting_window`);
  const okMs = (v) => Number.isSafeInteger(v) && v >= 0 && v <= MAX_MS;
  if (!okMs(win.opens_at)) throw new FormatError(`${w}: rules.voting_window.opens_at must be a non-negative integer`);
  if (win.closes_at !== null && !okMs(win.closes_at)) throw new FormatError(`${w}: rules.voting_window.closes_at must be a non-negative integer or null`);
  if (win.closes_at !== null && win.closes_at <= win.opens_at) throw new FormatError(`${w}: rules.voting_window: closes_at must be after opens_at`);
  // cast_at is floored to the granularity: the earliest honest cast_at is floor_G(opens_at)
  return { earliest: win.opens_at - (win.opens_at % (g * 1000)), closes: win.closes_at };
}

// ---------------------------------------------------------------- the roll and requests (§2.7)

const PERIOD_RE = /^[A-Za-z0-9._-]{1,32}$/;
const rollLeaf = (entry) => taggedHash('saylau/v1/roll-entry', ['entry', canonicalJson(entry)]);
// eq. R1: m = tagged_hash("saylau/v1/credential-request", ("request", canonical_json(request)))
const requestMessage = (req) => taggedHash('saylau/v1/credential-request', ['request', canonicalJson(req)]);
function parseRollEntry(e, w) {
  exactKeys(e, ['index', 'kind', 'public_key', 'id_hash'], w);
  need(e, 'index', 'int', w);
  const kind = need(e, 'kind', 'string', w);
  const pub = hexToBytes(need(e, 'public_key', 'string', w), `${w} public_key`);
  if (kind === 'ed25519') {
    if (pub.length !== 32) throw new FormatError(`${w}: ed25519 key is not 32 bytes`);
    if (e.id_hash !== null) throw new FormatError(`${w}: only x509 entries carry an id_hash`);
  } else if (kind === 'x509') {
    hexToBytes(need(e, 'id_hash', 'string', w), `${w} id_hash`, 32);
    spkiKey(pub, w);
  } else throw new FormatError(`${w}: unknown kind ${kind}`);
  return e;
}
function spkiKey(der, w) { // RSA >= 2048 bits or ECDSA P-256/P-384; GOST is not supported
  let key;
  try { key = createPublicKey({ key: der, format: 'der', type: 'spki' }); } catch { throw new FormatError(`${w}: not a DER SubjectPublicKeyInfo`); }
  const d = key.asymmetricKeyDetails || {};
  if (key.asymmetricKeyType === 'rsa' && d.modulusLength >= 2048) return key;
  if (key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1'].includes(d.namedCurve)) return key;
  throw new FormatError(`${w}: x509 roll keys must be RSA >= 2048 bits or ECDSA P-256/P-384`);
}
function verifyRequestSignature(entry, m, sig) {
  const pub = Buffer.from(entry.public_key, 'hex');
  if (entry.kind === 'ed25519') return ed25519Verify(pub, m, sig);
  try {
    const key = spkiKey(pub, 'roll key');
    if (key.asymmetricKeyType === 'rsa') return cryptoVerify('sha256', m, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
    return cryptoVerify('sha256', m, key, sig);
  } catch { return false; }
}
// V-R1: the roll is the one the fingerprint binds; no key (or id hash) twice.
function rollProblems(entries, commitment) {
  if (commitment === undefined || commitment === null) return ["the election has no voter roll: credentials were issued on the operator's word alone"];
  const out = []; const keys = new Map(); const ids = new Map();
  entries.forEach((e, i) => {
    if (e.index !== i) out.push(`roll entry ${i} has index ${e.index}`);
    if (e.kind !== (commitment.mode === 'enrolled' ? 'ed25519' : 'x509')) out.push(`roll entry ${i}: kind ${e.kind} in ${commitment.mode} mode`);
    if (keys.has(e.public_key)) out.push(`roll entry ${i}: the key of entry ${keys.get(e.public_key)} again`); else keys.set(e.public_key, i);
    if (e.id_hash !== null) { if (ids.has(e.id_hash)) out.push(`roll entry ${i}: the id hash of entry ${ids.get(e.id_hash)} again`); else ids.set(e.id_hash, i); }
  });
  if (entries.length !== commitment.size) out.push(`the roll has ${entries.length} entries; the fingerprint binds ${commitment.size}`);
  if (out.length === 0 && mth(entries.map(rollLeaf)).toString('hex') !== commitment.root) out.push("the roll's Merkle root differs from the one bound in the fingerprint");
  return out;
}
// V-R2: every request signed by its roll key, for this election, at most one per key.
function requestProblems(entries, requests, eid, blindedLen) {
  const out = []; const used = new Map();
  requests.forEach((sr, k) => {
    const w = `request ${k}`;
    try {
      exactKeys(sr, ['request', 'signature'], w);
      const req = need(sr, 'request', 'object', w);
      exactKeys(req, ['election_id', 'roll_index', 'blinded_message', 'period'], w);
      const idx = need(req, 'roll_index', 'int', w);
      if (idx < 0) throw new FormatError(`${w}: negative roll_index`);
      const blinded = hexToBytes(need(req, 'blinded_message', 'string', w), `${w} blinded_message`);
      const period = need(req, 'period', 'string', w);
      if (!PERIOD_RE.test(period) || /\d{2}:\d{2}|T\d/.test(period)) throw new FormatError(`${w}: period is not coarse`);
      const sig = hexToBytes(need(sr, 'signature', 'string', w), `${w} signature`);
      if (need(req, 'election_id', 'string', w) !== eid) out.push(`${w}: for election ${JSON.stringify(req.election_id)}`);
      if (blinded.length !== blindedLen) out.push(`${w}: blinded_message is not ${blindedLen} bytes`);
      if (idx >= entries.length) { out.push(`${w}: roll_index ${idx} is not on the roll (${entries.length} entries)`); return; }
      if (used.has(idx)) out.push(`${w}: a second request from roll key ${idx} (first: request ${used.get(idx)})`); else used.set(idx, k);
      if (!verifyRequestSignature(entries[idx], requestMessage(req), sig)) out.push(`${w}: credential request signature does not verify against its roll key`);
    } catch (e) { out.push(e.message); }
  });
  return out;
}

// T6/T7: verify one partial decryption of c by trustee i; throws Error.
function verifyPartial(pk, fp, c, part, context) {
  const { n, N, nBytes, NBytes, delta, l } = pk;
  if (!isObj(part)) throw new Error('partial is not an object');
  const i = need(part, 'index', 'int', 'partial');
  const proof = need(part, 'proof', 'object', 'partial');
  const ci = hexToInt(part.c_i, 'c_i');
  const a = hexToInt(proof.a, 'proof.a'); const b = hexToInt(proof.b, 'proof.b');
  const e = hexToInt(proof.e, 'proof.e'); const z = hexToInt(proof.z, 'proof.z');
  if (!(i >= 1 && i <= l)) throw new Error(`index ${i} outside 1..${l}`);
  if (!inZnStar(c, n, N)) throw new Error('c not in Z*_N');
  for (const [nm, x] of [['c_i', ci], ['a', a], ['b', b]]) if (!inZnStar(x, n, N)) throw new Error(`${nm} not in Z*_N`);
  if (!(e >= 0n && e < TWO_T)) throw new Error('e out of range');
  const sBits = pk.shareBits === null ? 2n * BigInt(bitLen(n)) : BigInt(pk.shareBits); // T6, §4.7.8
  const W = sBits + BigInt(bitLen(delta)) + 2n * T_BITS;
  if (!(z >= 0n && z < 1n << (W + 1n))) throw new Error('z out of range');
  const vi = pk.vks[i - 1];
  const t = new Transcript('saylau/v1/partial-decryption').bytes('fingerprint', fp).integer('n', n, nBytes)
    .integer('c', c, NBytes).integer('c_i', ci, NBytes).integer('v', pk.v, NBytes).integer('v_i', vi, NBytes)
    .integer('index', i, 4).integer('context#count', context.length, 4);
  context.forEach((s, j) => t.text(`context[${j}]`, s));
  t.integer('a', a, NBytes).integer('b', b, NBytes);
  if (t.challenge() !== e) throw new Error('challenge mismatch');
  const c4 = modPow(c, 4n, N);
  if (modPow(c4, z, N) !== (a * modPow((ci * ci) % N, e, N)) % N) throw new Error('(c^4)^z != a (c_i^2)^e');
  if (modPow(pk.v, z, N) !== (b * modPow(vi, e, N)) % N) throw new Error('v^z != b v_i^e');
  return { i, ci };
}

// T8/T9
function combine(pk, shares) {
  const { n, N, delta } = pk;
  const S = shares.map((s) => BigInt(s.i));
  let cp = 1n;
  for (const s of shares) {
    const i = BigInt(s.i);
    let num = delta; let den = 1n;
    for (const j of S) if (j !== i) { num *= j; den *= j - i; }
    if (num % den !== 0n) throw new Error('Lagrange coefficient is not an integer');
    const lam = num / den;
    cp = (cp * modPow(s.ci, 2n * lam, N)) % N;
  }
  if ((cp - 1n) % n !== 0n) throw new Error("c' is not 1 mod n");
  const L = (cp - 1n) / n;
  return (L * modInv((4n * delta * delta * pk.theta) % n, n)) % n; // T9 (θ = 1: dealer key)
}

// ---------------------------------------------------------------- §4.7.9 key-generation transcript

const STAT_BITS = 128;
const BPT_ROUNDS = 64;
const TD_BOUND = 1 << 15;
let oddPrimorial = null;
function primorialBelow(bound) {
  if (oddPrimorial) return oddPrimorial;
  const sieve = new Uint8Array(bound);
  let acc = 1n;
  for (let i = 3; i < bound; i += 2) {
    if (sieve[i]) continue;
    acc *= BigInt(i);
    for (let j = i * i; j < bound; j += 2 * i) sieve[j] = 1;
  }
  oddPrimorial = acc;
  return acc;
}
function iroot(x, k) { // floor(x^(1/k)) by Newton
  if (x < 2n) return x;
  const kb = BigInt(k);
  let r = 1n << BigInt(Math.ceil(bitLen(x) / k));
  for (;;) {
    const s = ((kb - 1n) * r + x / (r ** (kb - 1n))) / kb;
    if (s >= r) return r;
    r = s;
  }
}
function isPerfectPower(x) {
  for (let k = 2; k <= bitLen(x); k++) {
    let prime = true; for (let d = 2; d * d <= k; d++) if (k % d === 0) { prime = false; break; }
    if (!prime) continue;
    if (iroot(x, k) ** BigInt(k) === x) return true;
  }
  return false;
}
// hash_int(label, parts…) of §4.7.5: the first bits+128 bits of SHA-256 in counter mode
function hashInt(label, parts, bits) {
  const chunks = [Buffer.from('saylau/v1/dkg-hash', 'utf8'), Buffer.from([0]), Buffer.from(label, 'utf8'), Buffer.from([0])];
  for (const part of parts) {
    const data = Buffer.from(typeof part === 'bigint' ? part.toString(16) : part, 'utf8');
    chunks.push(u32(data.length), data);
  }
  const base = sha256(...chunks);
  const need = Math.ceil((bits + 128) / 256);
  const stream = [];
  for (let i = 0; i < need; i++) stream.push(sha256(base, u32(i)));
  return os2ip(Buffer.concat(stream)) >> BigInt(need * 256 - bits - 128);
}
const clog2 = (x) => Math.max(1, bitLen(BigInt(x - 1)));

function verifyKeygenTranscript(t, eid, electionKey) {
  const fail = (m) => { throw new Error(`key-generation transcript: ${m}`); };
  if (!isObj(t)) fail('not an object');
  try {
    exactKeys(t, ['format', 'election', 'run', 'sid', 'params', 'roster', 'candidates_tried', 'modulus',
      'biprimality', 'theta', 'commitments', 'confirmation', 'public_key', 'signatures'], 'keygen.json');
  } catch (e) { fail(e.message); }
  if (t.format !== 'saylau-dkg-transcript/v1') fail('unknown format');
  if (t.election !== eid) fail('it is for another election');
  const P = t.params;
  if (!isObj(P)) fail('params');
  try { exactKeys(P, ['bits', 'trustees', 'threshold', 'batch', 'stat_bits', 'bpt_rounds', 'trial_division_bound'], 'params'); } catch (e) { fail(e.message); }
  const { bits, trustees: l, threshold: k } = P;
  if (![bits, l, k, P.batch].every(Number.isSafeInteger)) fail('params must be integers');
  if (bits < 512 || bits % 8 || l < 3 || l > 16 || k < 2 || l < 2 * (k - 1) + 1 || P.batch < 1) fail('bad parameters');
  if (P.stat_bits !== STAT_BITS || P.bpt_rounds !== BPT_ROUNDS || P.trial_division_bound !== TD_BOUND) fail('parameters differ from this version\'s constants');
  const roster = t.roster;
  if (!Array.isArray(roster) || roster.length !== l || roster.some((e, i) => !isObj(e) || e.index !== i + 1)) fail('roster must list trustees 1..ℓ in order');
  const sid = sha256(Buffer.from('saylau/v1/dkg-session', 'utf8'), Buffer.from([0]),
    canonicalJson({ election: t.election, run: t.run, params: P, roster })).toString('hex');
  if (t.sid !== sid) fail('session id does not match election, run, parameters and roster');
  const n = hexToInt(need(t.modulus, 'n', 'string', 'modulus'), 'n');
  const N = n * n;
  // D1, D5
  if (bitLen(n) !== bits || n < (9n << BigInt(bits - 4))) fail('modulus has the wrong size');
  if (n % 4n !== 1n || gcd(n, primorialBelow(TD_BOUND)) !== 1n || isPerfectPower(n)) fail('modulus fails trial division (or is a perfect power, or N ≢ 1 mod 4)');
  // D6
  if (!Array.isArray(t.biprimality) || t.biprimality.length !== BPT_ROUNDS) fail(`biprimality test must have ${BPT_ROUNDS} rounds`);
  t.biprimality.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== l) fail(`biprimality round ${r}: one value per trustee required`);
    let acc = 1n;
    for (const x of row) { const y = hexToInt(x, 'bpt'); if (!(y > 0n && y < n)) acc = 0n; acc = (acc * y) % n; }
    if (acc !== 1n && acc !== n - 1n) fail(`biprimality round ${r}: product of the values is not ±1 mod N`);
  });
  // D9
  const W = hexToInt(need(t.theta, 'w', 'string', 'theta'), 'w');
  const theta = hexToInt(need(t.theta, 'theta', 'string', 'theta'), 'theta');
  if (!(W < 1n << BigInt(2 * bits + 2 * STAT_BITS + 16)) || theta !== W % n || gcd(theta, n) !== 1n) fail('θ is not W mod N, or gcd(θ, N) ≠ 1');
  // D11, D13, D14
  const tdeg = k - 1;
  if (!Array.isArray(t.commitments) || t.commitments.length !== l) fail('one commitment row per trustee required');
  const C = t.commitments.map((row, i) => {
    if (!Array.isArray(row) || row.length !== tdeg + 1) fail(`trustee ${i + 1}: ${tdeg + 1} commitments required`);
    const vals = row.map((x) => hexToInt(x, 'C'));
    if (vals.some((c) => !inZnStar(c, n, N))) fail(`trustee ${i + 1}: commitment not in Z*_(N^2)`);
    return vals;
  });
  let pk;
  try { pk = parseThresholdKey(t.public_key); } catch (e) { fail(`public key: ${e.message}`); }
  if (canonStr(t.public_key) !== canonStr(electionKey)) fail('the transcript certifies a different key than election.json\'s');
  const D = 2 * bits + 2 * STAT_BITS + 13;
  const A = D + 1 + bitLen(pk.delta) + tdeg * clog2(l) + STAT_BITS;
  const S = A + (tdeg + 1) * clog2(l) + 2;
  if (pk.n !== n || pk.l !== l || pk.k !== k || pk.shareBits !== S) fail('public key does not match the modulus and parameters');
  const x = hashInt('feldman-v', [sid, n], bitLen(N)) % N;
  if (pk.v !== (x * x) % N) fail('public key\'s v is not the transcript-derived base');
  if (pk.theta !== (pk.delta * theta) % n) fail('public key\'s θ is not Δ·θ mod N');
  for (let j = 1; j <= l; j++) {
    let acc = 1n;
    for (const row of C) row.forEach((c, kk) => { acc = (acc * modPow(c, BigInt(j) ** BigInt(kk), N)) % N; });
    if (modPow(acc, pk.delta, N) !== pk.vks[j - 1]) fail(`verification key v_${j} does not match the commitments`);
  }
  // D15
  const mStar = hashInt('confirm-m', [sid, n], bitLen(n)) % n;
  const rStar = hashInt('confirm-r', [sid, n], bitLen(n)) % n;
  const cStar = ((1n + n * mStar) * modPow(rStar, n, N)) % N;
  const kfp = keyFingerprint(pk);
  const parts = t.confirmation && t.confirmation.partials;
  if (!Array.isArray(parts) || parts.length !== l) fail('one confirmation partial decryption per trustee required');
  const shares = parts.map((part, i) => {
    if (!isObj(part) || part.index !== i + 1) fail('confirmation partials must be in trustee order');
    try { return verifyPartial(pk, kfp, cStar, part, ['saylau-dkg', 'confirm']); } catch (e) { return fail(`confirmation: ${e.message}`); }
  });
  for (const subset of [shares.slice(0, k), shares.slice(l - k)]) {
    let m; try { m = combine(pk, subset); } catch (e) { fail(`confirmation: ${e.message}`); }
    if (m !== mStar) fail('the key does not decrypt the confirmation ciphertext');
  }
  // D16
  const core = {}; for (const key of Object.keys(t)) if (key !== 'signatures') core[key] = t[key];
  const digest = sha256(Buffer.from('saylau/v1/dkg-transcript', 'utf8'), Buffer.from([0]), canonicalJson(core));
  const sigs = t.signatures;
  if (!Array.isArray(sigs) || sigs.length !== l || sigs.some((g, i) => !isObj(g) || g.index !== i + 1)) fail('one signature per trustee required, in order');
  const msg = Buffer.concat([Buffer.from('saylau/v1/dkg-sign', 'utf8'), Buffer.from([0]), digest]);
  sigs.forEach((g, i) => {
    let ok = false;
    try { ok = ed25519Verify(hexToBytes(roster[i].sign_key, 'sign_key', 32), msg, hexToBytes(g.signature, 'signature', 64)); } catch { ok = false; }
    if (!ok) fail(`trustee ${i + 1}'s signature does not verify`);
  });
  if (!Number.isSafeInteger(t.candidates_tried) || t.candidates_tried < 1) fail('candidates_tried must be a positive integer');
}

// ---------------------------------------------------------------- the record

const FILES = ['manifest.json', 'election.json', 'board.json', 'tree-heads.json', 'issuance.json', 'roll.json',
  'encrypted-tally.json', 'partial-decryptions.json', 'results.json', 'record-index.json', 'keygen.json'];
const REQUIRED = ['manifest.json', 'election.json', 'board.json', 'tree-heads.json', 'issuance.json', 'record-index.json'];
const TALLY_FILES = ['encrypted-tally.json', 'partial-decryptions.json', 'results.json'];

class Report {
  constructor() { this.checks = []; }
  add(name, details, okMessage, failMessage) {
    const ok = details.length === 0;
    this.checks.push({ name, ok, message: ok ? okMessage : (failMessage || `${details.length} problem(s)`), details });
    return ok;
  }
  get valid() { return this.checks.length > 0 && this.checks.every((c) => c.ok); }
  // Verdict (docs/election-record.md, "Verdicts"): valid; operator-fault when every failed
  // check is an entry-level check whose details all name entries ("entry N: ...") and the
  // tally checks ran and passed; otherwise invalid.
  get verdict() {
    if (this.valid) return 'valid';
    const failed = this.checks.filter((c) => !c.ok);
    const entryLevel = failed.every((c) => OPERATOR_FAULT_CHECKS.has(c.name) && c.details.length > 0
      && c.details.every((d) => d.startsWith('entry ')));
    return entryLevel && this.checks.some((c) => c.name === 'results') ? 'operator-fault' : 'invalid';
  }
}
const OPERATOR_FAULT_CHECKS = new Set(['board-entries', 'credentials', 'ballot-signatures',
  'ballot-proofs', 'audited-ballots', 'ciphertext-copies', 'revote-chains']);

function verifyRecord(dir) {
  const rep = new Report();
  const raw = {}; const data = {};
  // 1. record-format
  const fmt = [];
  const present = readdirSync(dir);
  for (const f of present) if (!FILES.includes(f)) fmt.push(`unexpected file ${f}`);
  for (const f of REQUIRED) if (!present.includes(f)) fmt.push(`missing file ${f}`);
  const tallyPresent = TALLY_FILES.filter((f) => present.includes(f));
  if (tallyPresent.length !== 0 && tallyPresent.length !== 3) fmt.push(`tally files incomplete: only ${tallyPresent.join(', ')}`);
  for (const f of FILES) {
    if (!present.includes(f)) continue;
    raw[f] = readFileSync(join(dir, f));
    try { data[f] = parseJsonStrict(raw[f].toString('utf8'), f); } catch (e) { fmt.push(e.message); }
  }
  let manifest; let election; let pk; let issuerN; let issuerE; let boardKey; let eid;
  const tryFmt = (fn) => { try { fn(); } catch (e) { fmt.push(e.message); } };
  tryFmt(() => { manifest = parseManifest(data['manifest.json']); eid = manifest.election_id; });
  tryFmt(() => {
    const e = data['election.json']; const w = 'election.json';
    if (need(e, 'kind', 'string', w) !== 'election') throw new FormatError(`${w}: kind is not "election"`);
    if (need(e, 'election_id', 'string', w) !== eid) throw new FormatError(`${w}: election_id differs from the manifest's`);
    hexToBytes(need(e, 'fingerprint', 'string', w), `${w} fingerprint`, 32);
    pk = parseThresholdKey(need(e, 'election_key', 'object', w));
    const ik = need(e, 'issuer_key', 'object', w);
    issuerN = hexToInt(ik.n, `${w} issuer_key.n`); issuerE = hexToInt(ik.e, `${w} issuer_key.e`);
    if (issuerE !== 65537n) throw new FormatError(`${w}: issuer e is not 65537`);
    if (bitLen(issuerN) < 2048) throw new FormatError(`${w}: issuer modulus under 2048 bits`);
    boardKey = hexToBytes(need(e, 'board_key', 'string', w), `${w} board_key`, 32);
    need(e, 'log_id', 'string', w);
    if (!['last-counts', 'no-revote'].includes(need(e, 'revote_policy', 'string', w))) throw new FormatError(`${w}: bad revote_policy`);
    if (e.rules !== undefined && e.rules !== null) parseRules(e.rules, e.revote_policy, w);
    election = e;
  });
  tryFmt(() => {
    const ri = data['record-index.json']; const w = 'record-index.json';
    exactKeys(ri, ['format', 'files', 'signature'], w);
    if (ri.format !== 'saylau-election-record/v1') throw new FormatError(`${w}: unsupported format ${ri.format}`);
    need(ri, 'files', 'object', w); hexToBytes(need(ri, 'signature', 'string', w), `${w} signature`, 64);
  });
  tryFmt(() => { if (!Array.isArray(data['board.json'])) throw new FormatError('board.json: not a list'); });
  tryFmt(() => {
    const ths = data['tree-heads.json'];
    if (!Array.isArray(ths) || ths.length < 1) throw new FormatError('tree-heads.json: not a non-empty list');
    ths.forEach((h, k) => {
      const w = `tree-heads.json[${k}]`;
      need(h, 'log_id', 'string', w); need(h, 'tree_size', 'int', w); need(h, 'timestamp', 'int', w);
      if (h.tree_size < 0 || h.timestamp < 0) throw new FormatError(`${w}: negative size or time`);
      hexToBytes(need(h, 'root_hash', 'string', w), `${w} root_hash`, 32);
      hexToBytes(need(h, 'signature', 'string', w), `${w} signature`, 64);
    });
  });
  tryFmt(() => {
    const c = need(data['issuance.json'], 'count', 'int', 'issuance.json');
    if (c < 0) throw new FormatError('issuance.json: negative count');
  });
  const fatal = !manifest || !election || !pk || !data['record-index.json'] || !Array.isArray(data['board.json']) || !Array.isArray(data['tree-heads.json']) || !isObj(data['issuance.json']);
  rep.add('record-format', fmt, `${present.length} files parsed`);
  if (fatal) return { rep, tally: null, eid };

  // 2. record-index
  const idx = [];
  {
    const ri = data['record-index.json'];
    const files = ri.files;
    const msg = canonicalJson({ format: ri.format, files });
    if (!ed25519Verify(boardKey, msg, Buffer.from(ri.signature, 'hex'))) idx.push('index signature does not verify under board_key');
    for (const f of present) {
      if (f === 'record-index.json' || !FILES.includes(f)) continue;
      if (!(f in files)) idx.push(`${f} not listed in the index`);
      else if (sha256(raw[f]).toString('hex') !== files[f]) idx.push(`${f}: SHA-256 differs from the index`);
    }
    for (const f of Object.keys(files)) if (!present.includes(f)) idx.push(`${f} listed but missing`);
    rep.add('record-index', idx, `signature and ${Object.keys(files).length} file hashes verify`);
  }

  // 3. election-fingerprint
  const fp = electionFingerprint(manifest, election.election_key, election.issuer_key, boardKey, election.roll, election.rules);
  const sizeNote = bitLen(pk.n) < 2048 ? `; TEST-SIZE election key (${bitLen(pk.n)} bits < 2048): not for real elections` : '';
  const fpd = fp.toString('hex') === election.fingerprint ? [] : [`recomputed ${fp.toString('hex')} != published ${election.fingerprint}`];
  // keys below 2048 bits fail unless --allow-test-keys (or SAYLAU_VERIFY_ALLOW_TEST_KEYS=1)
  if (bitLen(pk.n) < 2048 && !ALLOW_TEST_KEYS) fpd.push(`TEST-SIZE election key (${bitLen(pk.n)} bits < 2048): refused without --allow-test-keys`);
  if (election.rules === undefined || election.rules === null) fpd.push('election.json has no rules: the fingerprint binds no revote policy and voting window');
  const votingWindow = election.rules ? parseRules(election.rules, election.revote_policy, 'election.json') : null;
  rep.add('election-fingerprint', fpd, fp.toString('hex') + sizeNote);

  // 3b. key-generation (docs/election-record.md §3, docs/protocol.md §4.7.9)
  {
    const kg = [];
    const mode = election.key_generation === undefined ? 'dealer' : election.key_generation;
    const t = data['keygen.json'];
    if (mode === 'distributed') {
      if (t === undefined) kg.push('election.json says "distributed" but keygen.json is missing');
      else {
        try { verifyKeygenTranscript(t, eid, election.election_key); } catch (e) { kg.push(e.message); }
      }
    } else if (mode === 'dealer') {
      if (present.includes('keygen.json')) kg.push('keygen.json present but election.json says "dealer"');
      if (pk.shareBits !== null) kg.push('a key with theta/share_bits but election.json says "dealer"');
    } else kg.push(`unknown key_generation ${JSON.stringify(mode)}`);
    rep.add('key-generation', kg, mode === 'distributed' ? 'distributed key generation verified' : 'trusted-dealer key');
  }

  // 4. tree-heads, 5. board-merkle
  const board = data['board.json'];
  const heads = data['tree-heads.json'];
  const th = [];
  const logId = `saylau/election/${eid}`; // §3: the log id of an election's board
  if (election.log_id !== logId) th.push(`election.json log_id "${election.log_id}" is not "${logId}"`);
  heads.forEach((h, k) => {
    if (h.log_id !== logId) th.push(`STH ${k}: log_id "${h.log_id}" != "${logId}"`);
    const m = sthMessage(h.log_id, h.tree_size, h.timestamp, Buffer.from(h.root_hash, 'hex'));
    if (!ed25519Verify(boardKey, m, Buffer.from(h.signature, 'hex'))) th.push(`STH ${k}: signature does not verify`);
    if (k > 0 && (h.tree_size < heads[k - 1].tree_size || h.timestamp < heads[k - 1].timestamp)) th.push(`STH ${k}: size or timestamp decreases`);
  });
  rep.add('tree-heads', th, `${heads.length} signed tree heads verify`);
  const leaves = [];
  const bm = [];
  try { for (const e of board) leaves.push(leafHash(canonicalJson(e))); } catch (e) { bm.push(`board entry not canonicalisable: ${e.message}`); }
  if (bm.length === 0) {
    const last = heads[heads.length - 1];
    if (last.tree_size !== board.length) bm.push(`last STH size ${last.tree_size} != ${board.length} entries`);
    heads.forEach((h, k) => {
      if (h.tree_size > board.length) { bm.push(`STH ${k}: size ${h.tree_size} beyond the board`); return; }
      if (mth(leaves.slice(0, h.tree_size)).toString('hex') !== h.root_hash) bm.push(`STH ${k}: root != MTH of the first ${h.tree_size} leaves`);
    });
  }
  rep.add('board-merkle', bm, `board of ${board.length} entries matches every tree head`);

  // 6. per-entry checks (§9.2). An entry is *parsed* when it is an object of a known kind whose
  // ballot JSON is canonical and, for a ballot entry, whose credential JSON is well formed;
  // only parsed entries take part in ciphertext-copies, revote-chains and issuance.
  const pb = { fmt: [], cred: [], sig: [], proof: [], audit: [], copy: [], revote: [] };
  const entries = board.map((d, i) => ({ i, d, ok: true }));
  for (const ent of entries) {
    const { d, i } = ent; const w = `entry ${i}`;
    const bad = (key, msg) => { pb[key].push(`${w}: ${msg}`); ent.ok = false; };
    if (!isObj(d)) { bad('fmt', 'not an object'); continue; }
    if (d.index !== i) bad('fmt', `index ${JSON.stringify(d.index)} != position ${i}`);
    if (!['ballot', 'audited'].includes(d.kind)) { bad('fmt', `unknown kind ${JSON.stringify(d.kind)}`); continue; }
    if (d.election_id !== eid) bad('fmt', 'election_id differs');
    let parsed;
    try { parsed = parseBallotJson(d.ballot, w); } catch (e) { bad('fmt', `malformed ballot: ${e.message}`); continue; }
    if (!Number.isSafeInteger(d.cast_at) || d.cast_at < 0) bad('fmt', 'cast_at is not a non-negative integer');
    else if (votingWindow && d.cast_at < votingWindow.earliest) bad('fmt', `cast_at ${d.cast_at} is before the window opens (${votingWindow.earliest})`);
    else if (votingWindow && votingWindow.closes !== null && d.cast_at >= votingWindow.closes) bad('fmt', `cast_at ${d.cast_at} is not before the window closes (${votingWindow.closes})`);
    ent.kind = d.kind;
    if (d.kind === 'ballot') {
      try {
        const cr = need(d, 'credential', 'object', w);
        exactKeys(cr, ['scope_id', 'ballot_public_key', 'randomizer', 'signature'], `${w} credential`);
        ent.cred = {
          scope: need(cr, 'scope_id', 'string', w), bpk: hexToBytes(cr.ballot_public_key, `${w} ballot_public_key`, 32),
          rnd: hexToBytes(cr.randomizer, `${w} randomizer`, 32), sig: hexToBytes(cr.signature, `${w} credential signature`),
        };
      } catch (e) { bad('cred', `malformed credential: ${e.message}`); continue; }
      if (!('replaces' in d)) bad('fmt', 'missing replaces');
    } else {
      for (const f of ['credential', 'signature', 'replaces']) if (!(f in d) || d[f] !== null) bad('fmt', `an audited entry must have ${f} = null`);
    }
    ent.parsed = parsed;
    // credential (RFC 9474, scope = the election), ballot signature
    if (ent.kind === 'ballot') {
      const { scope, bpk, rnd, sig } = ent.cred;
      const prepared = Buffer.concat([rnd, credentialMessage(scope, bpk)]);
      ent.token = tokenIdOf(prepared);
      if (scope !== eid) bad('cred', `credential scope "${scope}" is not this election`);
      else if (!rsaPssVerify(issuerN, issuerE, prepared, sig)) bad('cred', 'RFC 9474 credential signature does not verify');
      let bsig = null;
      try { bsig = hexToBytes(need(d, 'signature', 'string', w), `${w} signature`, 64); } catch (e) { bad('sig', e.message); }
      if (bsig && !ed25519Verify(bpk, canonicalJson(d.ballot), bsig)) bad('sig', 'Ed25519 ballot signature does not verify');
      if (!parsed.token.equals(ent.token)) bad('sig', "ballot token_id differs from the credential's token id");
    } else ent.token = parsed.token;
    // shape and proofs, under context token(d)
    try {
      ballotShape(parsed, manifest, pk);
      verifyBallotProofs(pk, fp, eid, parsed, ent.token.toString('hex'));
    } catch (e) { bad('proof', e.message); }
    // Benaloh audit: secrets in canonical form, exactly the manifest's questions and options,
    // r in Z*_n, and every (m, r) re-encrypts (P1) to the ciphertext
    if (ent.kind === 'audited') {
      try {
        const sec = d.secrets;
        if (!isObj(sec)) throw new Error('audited entry without secrets');
        exactKeys(sec, manifest.questions.map((q) => q.id), 'secrets');
        for (const [qi, q] of manifest.questions.entries()) {
          const qs = sec[q.id];
          if (!isObj(qs)) throw new Error(`question ${q.id}: secrets are not an object`);
          exactKeys(qs, q.options.map((o) => o.id), `secrets of question ${q.id}`);
          for (const [oi, o] of q.options.entries()) {
            const so = qs[o.id];
            if (!isObj(so)) throw new Error(`question ${q.id} option ${o.id}: bad secret`);
            exactKeys(so, ['m', 'r'], `secret of ${q.id}/${o.id}`);
            if (so.m !== 0 && so.m !== 1) throw new Error(`question ${q.id} option ${o.id}: m is not 0 or 1`);
            const r = hexToInt(so.r, 'r');
            if (!inZnStar(r, pk.n, pk.n)) throw new Error(`question ${q.id} option ${o.id}: r not in Z*_n`);
            const sel = parsed.contests[qi] && parsed.contests[qi].selections[oi];
            if (!sel || sel.id !== o.id) throw new Error(`question ${q.id} option ${o.id}: no such ciphertext in the ballot`);
            const c = ((1n + BigInt(so.m) * pk.n) * modPow(r, pk.n, pk.N)) % pk.N; // P1
            if (c !== sel.c) throw new Error(`question ${q.id} option ${o.id}: (m, r) does not re-encrypt to the ciphertext`);
          }
        }
      } catch (e) { bad('audit', e.message); }
    }
  }
  // ciphertext-copies: a ciphertext appears in at most one entry (and once in it)
  const seen = new Map();
  for (const ent of entries) {
    if (!ent.parsed) continue;
    let msg = null;
    for (const ct of ent.parsed.contests) for (const sel of ct.selections) {
      const key = sel.c.toString(16);
      if (seen.has(key)) {
        const j = seen.get(key);
        const other = entries[j];
        const how = j === ent.i ? 'repeated inside the ballot'
          : other.token && ent.token && !other.token.equals(ent.token) ? 'copied under another credential' : 'reused';
        msg = msg || `ciphertext of entry ${j} ${how}`;
      } else seen.set(key, ent.i);
    }
    if (msg) { pb.copy.push(`entry ${ent.i}: ${msg}`); ent.ok = false; }
  }
  // revote-chains (walking the board in order)
  const cur = new Map(); const ballotsOf = new Map();
  for (const ent of entries) {
    if (ent.kind !== 'ballot' || !ent.token) continue;
    const t = ent.token.toString('hex');
    ballotsOf.set(t, (ballotsOf.get(t) || 0) + 1);
    const prev = cur.has(t) ? cur.get(t) : null;
    if (ent.d.replaces !== prev) pb.revote.push(`entry ${ent.i}: replaces ${JSON.stringify(ent.d.replaces)}, expected ${JSON.stringify(prev)}`);
    if (election.revote_policy === 'no-revote' && prev !== null) pb.revote.push(`entry ${ent.i}: second ballot of a token under no-revote`);
    cur.set(t, ent.i);
  }
  const nBallots = entries.filter((e) => e.kind === 'ballot').length;
  rep.add('board-entries', pb.fmt, `${entries.length} entries well formed`);
  rep.add('credentials', pb.cred, `${nBallots} credentials verify (RFC 9474, scope ${eid})`);
  rep.add('ballot-signatures', pb.sig, `${nBallots} Ed25519 ballot signatures verify`);
  rep.add('ballot-proofs', pb.proof, 'every 0/1 and selection-count proof verifies');
  rep.add('audited-ballots', pb.audit, `${entries.filter((e) => e.kind === 'audited').length} audited ballots re-encrypt`);
  rep.add('ciphertext-copies', pb.copy, 'no ciphertext appears twice');
  rep.add('revote-chains', pb.revote, `revote chains consistent (${election.revote_policy})`);
  const issued = data['issuance.json'].count;
  const iss = ballotsOf.size <= issued ? [] : [`${ballotsOf.size} credentials voted > ${issued} issued`];
  const receipts = data['issuance.json'].receipts;
  if (receipts !== undefined) { // §5.2, §9.2: the public register, sorted, one receipt per issuance
    if (!Array.isArray(receipts) || receipts.some((r) => typeof r !== 'string' || !/^[0-9a-f]{64}$/.test(r))) iss.push('receipts are not a list of 32-byte hashes');
    else {
      if (receipts.some((r, k) => k > 0 && receipts[k - 1] >= r)) iss.push('receipts are not sorted and distinct');
      if (receipts.length !== 0 && receipts.length !== issued) iss.push(`${receipts.length} issuance receipts for count ${issued}`);
    }
  }
  rep.add('issuance', iss, `${ballotsOf.size} credentials voted <= ${issued} issued`);

  // roll (V-R1) and credential-requests (V-R2, V-R3): §2.7, §9.2
  {
    let entries = null; const rp = [];
    try {
      const roll = data['roll.json'];
      if (election.roll !== undefined && election.roll !== null) {
        exactKeys(election.roll, ['mode', 'size', 'root'], 'election.roll');
        if (!['enrolled', 'pki'].includes(election.roll.mode)) throw new FormatError('election.roll: bad mode');
        need(election.roll, 'size', 'int', 'election.roll'); hexToBytes(need(election.roll, 'root', 'string', 'election.roll'), 'election.roll root', 32);
        if (roll === undefined) throw new FormatError('roll.json is missing');
      }
      const list = roll === undefined ? [] : need(roll, 'entries', 'array', 'roll.json');
      entries = list.map((e, i) => parseRollEntry(e, `roll.entries[${i}]`));
      rp.push(...rollProblems(entries, election.roll));
    } catch (e) { rp.push(e.message); }
    const rollOk = rep.add('roll', rp, `${entries ? entries.length : 0} distinct keys; size and Merkle root = the fingerprint's`, 'the published roll is not the one the fingerprint binds');
    if (!rollOk) rep.add('credential-requests', ['not checked: no valid roll'], '', 'not checked: no valid roll');
    else {
      const requests = data['issuance.json'].requests === undefined ? [] : data['issuance.json'].requests;
      const cr = Array.isArray(requests) ? requestProblems(entries, requests, eid, byteLen(issuerN)) : ['issuance.requests: not a list'];
      const nReq = Array.isArray(requests) ? requests.length : 0;
      if (issued !== nReq) cr.push(`issuance.count is ${issued} but ${nReq} signed requests are published`);
      if (nReq > entries.length) cr.push(`${nReq} signed requests for a roll of ${entries.length} keys`);
      if (ballotsOf.size > nReq) cr.push(`${ballotsOf.size} credentials voted but only ${nReq} signed requests`);
      rep.add('credential-requests', cr, `${ballotsOf.size} credentials voted <= ${nReq} signed requests <= ${entries.length} on the roll`);
    }
  }

  // 8. encrypted-tally (§9.3): the last valid ballot entry of each token, in board order
  if (tallyPresent.length !== 3) {
    // The spec lists encrypted-tally as a step of every verification; a record without a
    // tally has nothing to check it against, so it is not (yet) a valid election record.
    rep.add('encrypted-tally', ['the record has no tally (encrypted-tally.json, partial-decryptions.json, results.json)'], '', 'no tally');
    return { rep, tally: null, eid };
  }
  const lastValid = new Map();
  for (const ent of entries) if (ent.kind === 'ballot' && ent.ok) lastValid.set(ent.token.toString('hex'), ent.i);
  const counted = [...lastValid.values()].sort((a, b) => a - b).map((i) => entries[i]);
  const T = {};
  for (const [qi, q] of manifest.questions.entries()) {
    T[q.id] = {};
    q.options.forEach((o, oi) => {
      T[q.id][o.id] = counted.reduce((acc, ent) => (acc * ent.parsed.contests[qi].selections[oi].c) % pk.N, 1n);
    });
  }
  const et = []; const pubTally = data['encrypted-tally.json'];
  try {
    const w = 'encrypted-tally.json';
    exactKeys(pubTally, ['election_id', 'ballots_counted', 'counted_trackers', 'tally'], w);
    if (pubTally.election_id !== eid) et.push('election_id differs');
    if (pubTally.ballots_counted !== counted.length) et.push(`ballots_counted ${pubTally.ballots_counted} != recomputed ${counted.length}`);
    const trackers = counted.map((e) => trackerOf(e.d.ballot));
    if (canonStr(pubTally.counted_trackers) !== canonStr(trackers)) et.push('counted_trackers differ from the recomputed list');
    const tally = need(pubTally, 'tally', 'object', w);
    if (Object.keys(tally).length !== manifest.questions.length) et.push('tally questions differ from the manifest');
    for (const q of manifest.questions) {
      const tq = tally[q.id];
      if (!isObj(tq) || Object.keys(tq).length !== q.options.length) { et.push(`question ${q.id}: options differ from the manifest`); continue; }
      for (const o of q.options) {
        let v; try { v = hexToInt(tq[o.id], `${q.id}/${o.id}`); } catch (e) { et.push(e.message); continue; }
        if (v !== T[q.id][o.id]) et.push(`question ${q.id} option ${o.id}: published T != recomputed product`);
      }
    }
  } catch (e) { et.push(e.message); }
  rep.add('encrypted-tally', et, `recomputed from ${counted.length} counted ballots`);

  // 9. partial-decryptions (T7) against the recomputed tally
  const pd = []; const dec = [];
  const valid = {}; // q -> o -> [{i, ci}] in the order given
  for (const q of manifest.questions) { valid[q.id] = {}; for (const o of q.options) valid[q.id][o.id] = []; }
  const trusteesSeen = new Set();
  const files = data['partial-decryptions.json'];
  if (!Array.isArray(files)) pd.push('partial-decryptions.json is not a list');
  else {
    files.forEach((tf, k) => {
      const w = `trustee file ${k}`;
      try {
        const ti = need(tf, 'trustee_index', 'int', w);
        if (!(ti >= 1 && ti <= pk.l)) throw new Error(`trustee_index ${ti} outside 1..${pk.l}`);
        if (trusteesSeen.has(ti)) throw new Error(`trustee ${ti} appears twice`);
        trusteesSeen.add(ti);
        if (need(tf, 'election_id', 'string', w) !== eid) throw new Error(`trustee ${ti}: election_id differs`);
        const seenQO = new Set();
        for (const p of need(tf, 'partials', 'array', w)) {
          const q = p && p.question_id; const o = p && p.option_id;
          const where = `trustee ${ti} question ${q} option ${o}`;
          if (!valid[q] || !valid[q][o]) { pd.push(`${where}: not an option of the manifest (extra)`); continue; }
          if (seenQO.has(`${q}/${o}`)) { pd.push(`${where}: repeated`); continue; }
          seenQO.add(`${q}/${o}`);
          try {
            if (!isObj(p.partial) || p.partial.index !== ti) throw new Error(`partial index ${p.partial && p.partial.index} != trustee_index ${ti}`);
            const share = verifyPartial(pk, fp, T[q][o], p.partial, ['election_id', eid, 'question_id', q, 'option_id', o]);
            valid[q][o].push(share);
          } catch (e) { pd.push(`${where}: ${e.message}`); }
        }
        for (const q of manifest.questions) for (const o of q.options) if (!seenQO.has(`${q.id}/${o.id}`)) pd.push(`trustee ${ti} question ${q.id} option ${o.id}: missing`);
      } catch (e) { pd.push(`${w}: ${e.message}`); }
    });
  }
  rep.add('partial-decryptions', pd, `${trusteesSeen.size} trustees' partial decryptions verify`);

  // 10. decryption (T8-T9), 11. results
  const plain = {};
  for (const q of manifest.questions) {
    plain[q.id] = {};
    for (const o of q.options) {
      const shares = valid[q.id][o.id];
      if (shares.length < pk.k) { dec.push(`question ${q.id} option ${o.id}: ${shares.length} valid partials < k = ${pk.k}`); continue; }
      try { plain[q.id][o.id] = combine(pk, shares.slice(0, pk.k)); } catch (e) { dec.push(`question ${q.id} option ${o.id}: ${e.message}`); }
    }
  }
  rep.add('decryption', dec, `every option combines from k = ${pk.k} of l = ${pk.l} (Delta = l!)`);
  const rs = []; const results = data['results.json'];
  if (dec.length) rs.push('not checked: the tally could not be decrypted');
  else if (!isObj(results) || Object.keys(results).length !== manifest.questions.length) rs.push('results questions differ from the manifest');
  else {
    for (const q of manifest.questions) {
      const rq = results[q.id];
      if (!isObj(rq) || Object.keys(rq).length !== q.options.length) { rs.push(`question ${q.id}: options differ from the manifest`); continue; }
      for (const o of q.options) {
        const m = plain[q.id][o.id];
        if (!Number.isSafeInteger(rq[o.id])) rs.push(`question ${q.id} option ${o.id}: not an integer`);
        else if (m === undefined) rs.push(`question ${q.id} option ${o.id}: not decrypted`);
        else if (BigInt(rq[o.id]) !== m) rs.push(`question ${q.id} option ${o.id}: published ${rq[o.id]} != decrypted ${m}`);
      }
    }
  }
  rep.add('results', rs, 'results.json equals the decrypted tally');
  const tally = {};
  for (const q of manifest.questions) {
    tally[q.id] = {};
    for (const o of q.options) tally[q.id][o.id] = plain[q.id][o.id] === undefined ? null : Number(plain[q.id][o.id]);
  }
  return { rep, tally: rep.valid ? tally : null, eid, validEntriesTally: rep.verdict === 'operator-fault' ? tally : null };
}

// ---------------------------------------------------------------- self-test (tests/vectors)

function selfTest() {
  const rep = new Report();
  const here = dirname(fileURLToPath(import.meta.url));
  const vec = (f) => JSON.parse(readFileSync(join(here, '..', '..', 'tests', 'vectors', f), 'utf8'));
  const check = (name, fn) => { try { const d = fn(); rep.add(name, d || [], 'matches'); } catch (e) { rep.add(name, [e.message], ''); } };
  const W = vec('saylau-worked-examples.json');
  check('vector-transcript', () => {
    const t = new Transcript(W.transcript_example.domain);
    for (const [kind, label, v, width] of W.transcript_example.fields) {
      if (kind === 'bytes') t.bytes(label, Buffer.from(v, 'hex'));
      else if (kind === 'int') t.integer(label, v, width);
      else t.text(label, v);
    }
    return t.digest().toString('hex') === W.transcript_example.digest ? [] : ['digest differs'];
  });
  const F = W.fingerprint_example;
  check('canonical-json-limits', () => { // §1.1: nesting at most 64 deep, no lone surrogate
    const nest = (k) => { let v = 1; for (let i = 0; i < k; i++) v = i % 2 ? { a: v } : [v]; return v; };
    const refused = (v) => { try { canonStr(v); return false; } catch (e) { return e instanceof FormatError; } };
    const out = [];
    if (refused(nest(64))) out.push('64 levels refused');
    if (!refused(nest(65))) out.push('65 levels accepted');
    if (!refused('\ud800')) out.push('lone surrogate accepted');
    return out;
  });
  check('vector-fingerprint', () => (electionFingerprint(F.manifest, F.election_key, F.issuer_key, Buffer.from(F.board_key, 'hex')).toString('hex') === F.fingerprint ? [] : ['fingerprint differs']));
  check('vector-encryption', () => {
    const n = hexToInt(W.key.n, 'n'); const N = n * n; const E = W.encryption_example;
    const c = ((1n + BigInt(E.m) * n) * modPow(hexToInt(E.r, 'r'), n, N)) % N;
    return c === hexToInt(E.c, 'c') ? [] : ['ciphertext differs'];
  });
  check('vector-option-proof', () => {
    const n = hexToInt(W.key.n, 'n'); const N = n * n;
    const pk = { n, N, nBytes: byteLen(n), NBytes: byteLen(N) };
    const O = W.option_proof_example; const c = hexToInt(W.encryption_example.c, 'c');
    const proof = { a: O.proof.a.map((x) => hexToInt(x)), e: O.proof.e.map((x) => hexToInt(x)), z: O.proof.z.map((x) => hexToInt(x)) };
    const e = verifyMembership(pk, Buffer.from(F.fingerprint, 'hex'), 'saylau/v1/option', O.context, [c], c, O.allowed.map(BigInt), proof);
    return e === hexToInt(O.challenge) ? [] : ['challenge differs'];
  });
  check('vector-ballot', () => {
    const n = hexToInt(W.key.n, 'n'); const N = n * n;
    const pk = { n, N, nBytes: byteLen(n), NBytes: byteLen(N) };
    const B = W.ballot_example;
    const parsed = parseBallot(B.ballot, F.manifest, pk, 'ballot');
    verifyBallotProofs(pk, Buffer.from(F.fingerprint, 'hex'), F.manifest.election_id, parsed, B.token_id);
  });
  check('vector-credential', () => {
    const msg = credentialMessage('election-1', Buffer.alloc(32, 7));
    const tok = tokenIdOf(Buffer.concat([Buffer.alloc(32, 1), msg]));
    const d = [];
    if (msg.toString('hex') !== 'ff98d57230b20ae43761d475394afe0030b171c7ea20249e061ce1459a787833') d.push('credential message differs');
    if (tok.toString('hex') !== '1fe6f79eacf0f6bdfc14aa3b717ef1eea9c0e193a3b98e100ef52aacae87f3f9') d.push('token id differs');
    return d;
  });
  check('vector-rfc9474', () => {
    const v = vec('rfc9474-test-vectors.json').vectors.find((x) => x.variant === 'RSABSSA-SHA384-PSS-Randomized');
    const n = BigInt('0x' + v.n); const e = BigInt('0x' + v.e); // RFC vectors keep leading zeros
    const sig = Buffer.from(v.sig, 'hex'); const prep = Buffer.from(v.prepared_msg, 'hex');
    const d = [];
    if (!rsaPssVerify(n, e, prep, sig)) d.push('signature does not verify');
    const bad = Buffer.from(sig); bad[bad.length - 1] ^= 1;
    if (rsaPssVerify(n, e, prep, bad)) d.push('tampered signature verifies');
    return d;
  });
  check('vector-rfc6962', () => {
    const M = vec('rfc6962-merkle-test-vectors.json');
    const leaves = M.leaves.map((x) => leafHash(Buffer.from(x, 'hex')));
    const d = [];
    if (mth([]).toString('hex') !== M.empty_tree_root) d.push('empty root');
    for (const [size, root] of Object.entries(M.roots_by_size)) if (mth(leaves.slice(0, +size)).toString('hex') !== root) d.push(`root of size ${size}`);
    for (const p of M.inclusion_proofs) {
      const root = Buffer.from(M.roots_by_size[p.tree_size], 'hex');
      if (!inclusionVerify(leaves[p.leaf_index], p.leaf_index, p.tree_size, p.proof.map((x) => Buffer.from(x, 'hex')), root)) d.push(`inclusion ${p.leaf_index}/${p.tree_size}`);
    }
    return d;
  });
  return rep;
}

// ---------------------------------------------------------------- CLI

let ALLOW_TEST_KEYS = false;

function main(argv) {
  const json = argv.includes('--json');
  ALLOW_TEST_KEYS = argv.includes('--allow-test-keys') || process.env.SAYLAU_VERIFY_ALLOW_TEST_KEYS === '1';
  const rest = argv.filter((a) => a !== '--json' && a !== '--allow-test-keys');
  const usage = 'usage: node verify.mjs RECORD_DIR [--json] [--allow-test-keys] | --self-test [--json] | --keygen TRANSCRIPT.json';
  if (rest[0] === '--keygen' && rest.length === 2) { // §4.7.9 alone: a keygen-transcript.json
    let t;
    try { t = parseJsonStrict(readFileSync(rest[1], 'utf8'), rest[1]); } catch (e) { process.stderr.write(`error: ${e.message}\n`); return 2; }
    try {
      verifyKeygenTranscript(t, t.election, t.public_key);
    } catch (e) {
      process.stdout.write(json ? JSON.stringify({ valid: false, error: e.message }) + '\n' : `FAIL: ${e.message}\n`);
      return 1;
    }
    process.stdout.write(json ? JSON.stringify({ valid: true }) + '\n' : 'OK: key-generation transcript verifies\n');
    return 0;
  }
  if (rest.length !== 1 || (rest[0].startsWith('-') && rest[0] !== '--self-test')) { process.stderr.write(usage + '\n'); return 2; }
  let rep; let tally = null; let eid = null; let validEntriesTally = null;
  if (rest[0] === '--self-test') rep = selfTest();
  else {
    let st;
    try { st = statSync(rest[0]); } catch { process.stderr.write(`error: cannot read ${rest[0]}\n${usage}\n`); return 2; }
    if (!st.isDirectory()) { process.stderr.write(`error: ${rest[0]} is not a directory (unzip a .zip record first)\n`); return 2; }
    try { ({ rep, tally, eid, validEntriesTally } = verifyRecord(rest[0])); } catch (e) { process.stderr.write(`error: ${e.stack}\n`); return 2; }
  }
  if (json) {
    const doc = { valid: rep.valid, election_id: eid, checks: rep.checks, tally, verdict: rep.verdict };
    if (rep.verdict === 'operator-fault') {
      doc.operator_faults = rep.checks.filter((c) => !c.ok).flatMap((c) => c.details.map((d) => `${c.name}: ${d}`));
      doc.valid_entries_tally = validEntriesTally;
    }
    process.stdout.write(JSON.stringify(doc, null, 1) + '\n');
  } else {
    for (const c of rep.checks) {
      process.stdout.write(`[${c.ok ? 'PASS' : 'FAIL'}] ${c.name}: ${c.message}\n`);
      for (const d of c.details) process.stdout.write(`       - ${d}\n`);
    }
    process.stdout.write(rep.valid ? 'RECORD VALID\n' : rep.verdict === 'operator-fault'
      ? 'RECORD INVALID: OPERATOR FAULT (the tally of the valid entries verifies)\n' : 'RECORD INVALID\n');
    if (tally) process.stdout.write(JSON.stringify(tally) + '\n');
    if (validEntriesTally) process.stdout.write(JSON.stringify(validEntriesTally) + '\n');
  }
  return rep.valid ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
