/**
 * crypto/encoding.js — §1.1 Notation and encodings (docs/protocol.md; browser: §6.1): canonical hex of
 * integers and bytes, I2OSP/OS2IP, UTF-8, canonical JSON (crypto/encoding.py), and the
 * strict JSON field checks shared by the manifest, issuer key and petition parsers.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { InvalidEncoding } from './errors.js';

const HEX_INT = /^(0|[1-9a-f][0-9a-f]*)$/;
const HEX_BYTES = /^([0-9a-f]{2})*$/;
/** Largest integer accepted from the wire (bits), as MAX_INT_BITS in encoding.py. */
export const MAX_INT_BITS = 16384;

/** Lowercase hex of the exact bytes. */
export function bytesToHex(bytes) {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Decode lowercase hex bytes, optionally of an exact length. */
export function hexToBytes(text, length = undefined, name = 'bytes') {
  if (typeof text !== 'string' || !HEX_BYTES.test(text)) {
    throw new InvalidEncoding(`${name}: expected lowercase hex bytes`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  if (length !== undefined && out.length !== length) {
    throw new InvalidEncoding(`${name}: expected ${length} bytes, got ${out.length}`);
  }
  return out;
}

/** Canonical lowercase hex of a non-negative BigInt (no prefix, no leading zeros). */
export function intToHex(value) {
  value = BigInt(value);
  if (value < 0n) throw new InvalidEncoding('negative integers have no canonical encoding');
  return value.toString(16);
}

/** Decode canonical lowercase hex into a BigInt; anything else raises InvalidEncoding. */
export function hexToInt(text, name = 'integer') {
  if (typeof text !== 'string' || !HEX_INT.test(text)) {
    throw new InvalidEncoding(`${name}: expected canonical lowercase hex`);
  }
  if (text.length * 4 > MAX_INT_BITS) throw new InvalidEncoding(`${name}: integer too large`);
  return BigInt('0x' + text);
}

/** OS2IP: big-endian bytes → BigInt. */
export function bytesToInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

/** I2OSP: BigInt → exactly `width` big-endian bytes; raises if it does not fit. */
export function intToBytes(value, width) {
  value = BigInt(value);
  if (value < 0n) throw new InvalidEncoding('negative integer');
  const hex = value.toString(16);
  if (hex.length > 2 * width && value !== 0n) {
    throw new InvalidEncoding(`integer does not fit in ${width} bytes`);
  }
  return hexToBytes(hex.padStart(2 * width, '0'));
}

/** Number of bits of a non-negative BigInt (0 for 0). */
export function bitLength(value) {
  return value === 0n ? 0 : value.toString(2).length;
}

/** Number of bytes of residues modulo `modulus` (byte_length in encoding.py). */
export function byteLength(modulus) {
  return Math.floor((bitLength(BigInt(modulus)) + 7) / 8);
}

const textEncoder = new TextEncoder();

/** UTF-8 bytes of a well-formed string (lone surrogates are refused, as in Python). */
export function utf8(text) {
  if (!isWellFormed(text)) throw new InvalidEncoding('string is not valid Unicode');
  return textEncoder.encode(text);
}

function isWellFormed(text) {
  if (typeof text.isWellFormed === 'function') return text.isWellFormed();
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** Concatenate byte arrays. */
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Compare strings by Unicode code point (Python's str order, used by sort_keys). */
function compareCodePoints(a, b) {
  const x = Array.from(a, (ch) => ch.codePointAt(0));
  const y = Array.from(b, (ch) => ch.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

function canonicalValue(value, path) {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw new InvalidEncoding(`${path}: string is not valid Unicode`);
    // JSON.stringify escapes exactly as Python's json with ensure_ascii=False:
    // \" \\ \b \f \n \r \t, other C0 controls as \u00xx (lowercase hex).
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint') return value.toString(10);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new InvalidEncoding(`${path}: only safe integers are allowed in canonical JSON`);
    }
    return String(value === 0 ? 0 : value);
  }
  if (Array.isArray(value)) {
    return '[' + value.map((item, i) => canonicalValue(item, `${path}[${i}]`)).join(',') + ']';
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(compareCodePoints);
    const parts = [];
    for (const key of keys) {
      if (value[key] === undefined) throw new InvalidEncoding(`${path}.${key}: undefined`);
      parts.push(canonicalValue(key, path) + ':' + canonicalValue(value[key], `${path}.${key}`));
    }
    return '{' + parts.join(',') + '}';
  }
  throw new InvalidEncoding(`${path}: ${typeof value} is not JSON`);
}

/** Canonical JSON text: sorted keys (code point order), compact, no floats. */
export function canonicalJsonString(value) {
  return canonicalValue(value, '$');
}

/** Canonical JSON bytes (UTF-8), byte-identical to crypto.encoding.canonical_json. */
export function canonicalJson(value) {
  return textEncoder.encode(canonicalJsonString(value));
}

export function u32be(n) {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function checkId(value, where) {
  if (typeof value !== 'string' || !ID_RE.test(value)) {
    throw new InvalidEncoding(`${where}: identifiers are 1-64 characters of A-Z a-z 0-9 _ . : -`);
  }
  return value;
}

export function requireField(obj, key, type, where) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new InvalidEncoding(`${where}: expected a JSON object`);
  if (!(key in obj)) throw new InvalidEncoding(`${where}: missing field '${key}'`);
  const v = obj[key];
  const ok = type === 'array' ? Array.isArray(v) : type === 'int' ? Number.isSafeInteger(v) : typeof v === type;
  if (!ok) throw new InvalidEncoding(`${where}.${key}: expected ${type}`);
  return v;
}
