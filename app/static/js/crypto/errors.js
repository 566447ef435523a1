/**
 * crypto/errors.js — Typed errors, named as in crypto/errors.py (docs/protocol.md §6.6, “Errors are typed”).
 *
 * Part of the browser client (docs/protocol.md §6); re-exported by ../saylau-crypto.js.
 */

/** Base class of every error raised here (names match crypto/errors.py). */
export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = this.constructor.name;
  }
}
export class InvalidEncoding extends CryptoError {}
export class InvalidKey extends CryptoError {}
export class InvalidCiphertext extends CryptoError {}
export class InvalidProof extends CryptoError {}
export class InvalidBallot extends CryptoError {}
export class InvalidSignature extends CryptoError {}
