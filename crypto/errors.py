"""Typed errors of the cryptographic layer.

Every verification in :mod:`crypto` raises one of these on failure; none returns
``False`` (pyca/cryptography's ``InvalidSignature`` habit).  Messages never contain
plaintexts, randomness or key material.
"""


class CryptoError(Exception):
    """Base class of every error raised by the cryptographic layer."""


class InvalidEncoding(CryptoError):
    """A serialised protocol object is malformed (wrong type, length or form)."""


class InvalidKey(CryptoError):
    """A key is malformed, too short, or not the one expected."""


class InvalidCiphertext(CryptoError):
    """A ciphertext is outside Z*_{n^2} (0 < c < n^2 and gcd(c, n) = 1 required)."""


class InvalidProof(CryptoError):
    """A zero-knowledge proof does not verify, or is malformed."""


class InvalidBallot(CryptoError):
    """A ballot does not match its manifest (unknown or missing question/option)."""


class InvalidSignature(CryptoError):
    """A signature (blind RSA credential, Ed25519 ballot or tree-head signature) fails."""


class InvalidShare(CryptoError):
    """A trustee's key share or partial decryption is malformed or fails its proof."""


class InvalidMerkleProof(CryptoError):
    """An inclusion or consistency proof does not match the signed tree head."""


class DecryptionError(CryptoError):
    """Decryption failed (wrong key, not enough valid shares, bad passphrase)."""
