/**
 * crypto/transcript.js — §1.2 The Fiat–Shamir transcript (crypto/transcript.py): typed, length-prefixed
 * fields hashed with SHA-256, and tagged_hash; the challenge e mod 2^t of eq. Z3.
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

import { byteLength, bytesToInt, concatBytes, intToBytes, u32be, utf8 } from './encoding.js';
import { sha256 } from './webcrypto.js';

export const FIELD_BYTES = 0x01;
export const FIELD_INT = 0x02;
export const FIELD_TEXT = 0x03;
/** Challenge length t in bits (2^t < min(p, q)). */
export const CHALLENGE_BITS = 256;
export const T_MOD = 1n << BigInt(CHALLENGE_BITS);

/**
 * The Fiat–Shamir transcript of crypto/transcript.py.  Each field is
 *   type (1 byte) || u32be(len(label)) || label || u32be(len(value)) || value
 * and the first field is always text("domain", domain).  WebCrypto has no incremental
 * hashing, so the fields are buffered and hashed by digest().
 */
export class Transcript {
  constructor(domain) {
    this._parts = [];
    this.text('domain', domain);
  }

  _field(kind, label, value) {
    const rawLabel = utf8(label);
    this._parts.push(new Uint8Array([kind]), u32be(rawLabel.length), rawLabel,
      u32be(value.length), value);
    return this;
  }

  bytes(label, value) {
    return this._field(FIELD_BYTES, label, Uint8Array.from(value));
  }

  text(label, value) {
    return this._field(FIELD_TEXT, label, utf8(value));
  }

  /** An unsigned integer in exactly `width` bytes, big-endian. */
  integer(label, value, width) {
    return this._field(FIELD_INT, label, intToBytes(value, width));
  }

  /** A residue modulo `modulus` in byteLength(modulus) bytes. */
  integerMod(label, value, modulus) {
    return this.integer(label, value, byteLength(modulus));
  }

  /** A list: its length as a 4-byte integer "label#count", then "label[i]" fields. */
  integersMod(label, values, modulus) {
    const items = Array.from(values);
    this.integer(label + '#count', items.length, 4);
    items.forEach((v, i) => this.integerMod(`${label}[${i}]`, v, modulus));
    return this;
  }

  /** The bytes hashed so far (for tests). */
  encoding() {
    return concatBytes(...this._parts);
  }

  async digest() {
    return sha256(this.encoding());
  }

  /** e = int(SHA-256(transcript)) mod 2^bits. */
  async challenge(bits = CHALLENGE_BITS) {
    if (!(bits > 0 && bits <= 256)) throw new RangeError('challenge length must be 1..256 bits');
    return bytesToInt(await this.digest()) % (1n << BigInt(bits));
  }
}

/** SHA-256 of a transcript holding `domain` then the byte fields [label, bytes], ... */
export async function taggedHash(domain, ...parts) {
  const t = new Transcript(domain);
  for (const [label, value] of parts) t.bytes(label, value);
  return t.digest();
}
