"""Partial decryptions and their proofs of correctness (docs/protocol.md T5-T7).

* T5  ``c_i = c^(2Δ·s_i) mod N``.
* T6  proof of ``log_{c⁴}(c_i²) = log_v(v_i)``: ``a = (c⁴)^w``, ``b = v^w``,
  ``e = H(...) mod 2^256``, ``z = w + e·Δ·s_i`` over the integers.
* T7  verify ``(c⁴)^z = a·(c_i²)^e`` and ``v^z = b·v_i^e (mod N)``.
"""



from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gmpy2

from crypto.encoding import byte_length, hex_to_int, int_to_hex, require
from crypto.errors import (
    InvalidCiphertext,
    InvalidEncoding,
    InvalidShare,
)
from crypto.paillier import (
    powmod,
    validate_ciphertext,
)
from crypto.threshold_keys import (
    HIDING_BITS,
    PARTIAL_DECRYPTION_DOMAIN,
    KeyShare,
    ThresholdPublicKey,
)
from crypto.transcript import CHALLENGE_BITS, Transcript


def response_bits(tpk: ThresholdPublicKey) -> int:
    """Bit length ``W = 2·|n| + |Δ| + 2t`` of the proof randomness ``w`` (t = 256).

    ``e·Δ·s_i < 2^t · Δ · n·m < 2^(t + |Δ| + 2|n|)``, so ``w`` uniform in ``[0, 2^W)``
    makes ``z = w + e·Δ·s_i`` statistically ``2^-t``-close to uniform: ``z`` hides
    ``s_i`` (Shoup 2000 §3: ``|N| + 2t`` bits at least).
    """
    share_bits = 2 * tpk.n.bit_length() if tpk.share_bits is None else tpk.share_bits
    return share_bits + tpk.delta.bit_length() + 2 * HIDING_BITS


@dataclass(frozen=True)
class EqualityProof:
    """Chaum–Pedersen-style proof over the integers: ``a, b`` commitments, ``e``, ``z`` (T6)."""

    a: int
    b: int
    e: int
    z: int

    def to_json(self) -> dict[str, Any]:
        return {
            "a": int_to_hex(self.a),
            "b": int_to_hex(self.b),
            "e": int_to_hex(self.e),
            "z": int_to_hex(self.z),
        }

    @classmethod
    def from_json(cls, obj: object) -> EqualityProof:
        where = "equality proof"
        return cls(
            hex_to_int(require(obj, "a", str, where), "a"),
            hex_to_int(require(obj, "b", str, where), "b"),
            hex_to_int(require(obj, "e", str, where), "e"),
            hex_to_int(require(obj, "z", str, where), "z"),
        )


@dataclass(frozen=True)
class PartialDecryption:
    """Trustee ``index``'s ``c_i = c^(2Δ·s_i) mod N`` with its proof (T5, T6)."""

    index: int
    c_i: int
    proof: EqualityProof

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "c_i": int_to_hex(self.c_i), "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, obj: object) -> PartialDecryption:
        where = "partial decryption"
        return cls(
            require(obj, "index", int, where),
            hex_to_int(require(obj, "c_i", str, where), "c_i"),
            EqualityProof.from_json(require(obj, "proof", dict, where)),
        )


def _challenge(
    tpk: ThresholdPublicKey,
    c: int,
    c_i: int,
    index: int,
    a: int,
    b: int,
    *,
    fingerprint: bytes,
    context: tuple[str, ...],
) -> int:
    """``e = SHA-256(transcript) mod 2^256`` over the fields in the documented order."""
    if not isinstance(fingerprint, bytes):
        raise InvalidEncoding("fingerprint must be bytes")
    nn = tpk.nsquare
    t = Transcript(PARTIAL_DECRYPTION_DOMAIN)
    t.bytes("fingerprint", fingerprint)
    t.integer("n", tpk.n, byte_length(tpk.n))
    t.integer_mod("c", c, nn)
    t.integer_mod("c_i", c_i, nn)
    t.integer_mod("v", tpk.v, nn)
    t.integer_mod("v_i", tpk.verification_key(index), nn)
    t.integer("index", index, 4)
    t.integer("context#count", len(context), 4)
    for position, item in enumerate(context):
        t.text(f"context[{position}]", item)
    t.integer_mod("a", a, nn)
    t.integer_mod("b", b, nn)
    return t.challenge(CHALLENGE_BITS)


def _check_context(context: object) -> tuple[str, ...]:
    if not isinstance(context, tuple) or not all(isinstance(x, str) for x in context):
        raise InvalidEncoding("context must be a tuple of strings")
    return context


def partial_decrypt(
    share: KeyShare, c: int, *, fingerprint: bytes, context: tuple[str, ...]
) -> PartialDecryption:
    """``c_i = c^(2Δ·s_i) mod N`` and the proof ``log_{c⁴}(c_i²) = log_v(v_i)`` (T5, T6)."""
    tpk = share.public
    validate_ciphertext(tpk.public, c)
    _check_context(context)
    nn = tpk.nsquare
    x = tpk.delta * share.s  # the common discrete log Δ·s_i
    c_i = powmod(c, 2 * x, nn)
    c4 = powmod(c, 4, nn)
    w = secrets.randbits(response_bits(tpk))
    a = powmod(c4, w, nn)
    b = powmod(tpk.v, w, nn)
    e = _challenge(tpk, c, c_i, share.index, a, b, fingerprint=fingerprint, context=context)
    z = w + e * x
    del w, x
    return PartialDecryption(share.index, c_i, EqualityProof(a, b, e, z))


def partial_decrypt_many(
    share: KeyShare,
    items: Sequence[tuple[int, tuple[str, ...]]],
    *,
    fingerprint: bytes,
) -> list[PartialDecryption]:
    """:func:`partial_decrypt` for each ``(c, context)`` (one per tally option)."""
    return [partial_decrypt(share, c, fingerprint=fingerprint, context=ctx) for c, ctx in items]


def _in_units(n: int, value: object) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 < value < n * n
        and gmpy2.gcd(value, n) == 1
    )


def verify_partial_decryption(
    tpk: ThresholdPublicKey,
    c: int,
    partial: PartialDecryption,
    *,
    fingerprint: bytes,
    context: tuple[str, ...],
) -> None:
    """Recompute ``e`` and check T7; raise InvalidShare on any failure."""
    try:
        validate_ciphertext(tpk.public, c)
    except InvalidCiphertext as exc:
        raise InvalidShare(f"ciphertext invalid: {exc}") from exc
    _check_context(context)
    index = partial.index
    v_i = tpk.verification_key(index)
    n, nn = tpk.n, tpk.nsquare
    proof = partial.proof
    if not _in_units(n, partial.c_i):
        raise InvalidShare(f"share {index}: c_i is not in Z*_(n^2)")
    if not _in_units(n, proof.a) or not _in_units(n, proof.b):
        raise InvalidShare(f"share {index}: commitment is not in Z*_(n^2)")
    if not isinstance(proof.e, int) or not 0 <= proof.e < 1 << CHALLENGE_BITS:
        raise InvalidShare(f"share {index}: challenge out of range")
    if not isinstance(proof.z, int) or not 0 <= proof.z < 1 << (response_bits(tpk) + 1):
        raise InvalidShare(f"share {index}: response out of range")
    e = _challenge(
        tpk, c, partial.c_i, index, proof.a, proof.b, fingerprint=fingerprint, context=context
    )
    if e != proof.e:
        raise InvalidShare(f"share {index}: challenge does not match the transcript")
    c4 = powmod(c, 4, nn)
    ci2 = partial.c_i * partial.c_i % nn
    if powmod(c4, proof.z, nn) != proof.a * powmod(ci2, e, nn) % nn:
        raise InvalidShare(f"share {index}: proof fails (c^4)^z = a·(c_i^2)^e")
    if powmod(tpk.v, proof.z, nn) != proof.b * powmod(v_i, e, nn) % nn:
        raise InvalidShare(f"share {index}: proof fails v^z = b·v_i^e")



__all__ = [
    "EqualityProof",
    "PartialDecryption",
    "partial_decrypt",
    "partial_decrypt_many",
    "response_bits",
    "verify_partial_decryption",
]
