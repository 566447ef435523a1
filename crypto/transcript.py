"""The one Fiat–Shamir transcript used by every proof in Saylau.

A transcript is SHA-256 over a sequence of *fields*.  Each field is encoded as::

    type (1 byte) || u32be(len(label)) || label (UTF-8) || u32be(len(value)) || value

with ``type`` 0x01 for raw bytes, 0x02 for an unsigned integer written big-endian in a
fixed width chosen by the statement (``|N|`` bytes for values mod ``N = n^2``, ``|n|``
bytes for values mod ``n``), and 0x03 for UTF-8 text.  The first field is always the
text field ``"domain"`` holding the proof kind's domain tag (``saylau/v1/option``,
...).  The challenge is ``e = int(SHA-256(encoding)) mod 2^t`` (docs/protocol.md §1.2).

Everything the verifier sees goes in: the domain tag, the election fingerprint, the
full statement (modulus, every ciphertext involved, the allowed set), the context
(question, option, credential token id) and every commitment.  This is the lesson of
Helios' commitments-only challenges and of the "Frozen Heart" family of bugs.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Iterable

from crypto.encoding import byte_length, int_to_fixed

FIELD_BYTES = 0x01
FIELD_INT = 0x02
FIELD_TEXT = 0x03
_INT_TYPE = bytes([FIELD_INT])

#: Challenge length in bits (docs/protocol.md §1.2): 2^t must stay below min(p, q).
CHALLENGE_BITS = 256


class Transcript:
    """An append-only Fiat–Shamir transcript (SHA-256, length-prefixed typed fields)."""

    __slots__ = ("_hash",)

    def __init__(self, domain: str) -> None:
        self._hash = hashlib.sha256()
        self.text("domain", domain)

    def _field(self, kind: int, label: str, value: builtins.bytes) -> Transcript:
        raw_label = label.encode("utf-8")
        self._hash.update(
            bytes([kind])
            + len(raw_label).to_bytes(4, "big")
            + raw_label
            + len(value).to_bytes(4, "big")
            + value
        )
        return self

    def bytes(self, label: str, value: builtins.bytes) -> Transcript:
        return self._field(FIELD_BYTES, label, builtins.bytes(value))

    def text(self, label: str, value: str) -> Transcript:
        return self._field(FIELD_TEXT, label, value.encode("utf-8"))

    def integer(self, label: str, value: int, width: int) -> Transcript:
        """Append an unsigned integer in exactly ``width`` bytes (big-endian)."""
        return self._field(FIELD_INT, label, int_to_fixed(int(value), width))

    def integer_mod(self, label: str, value: int, modulus: int) -> Transcript:
        """Append a residue modulo ``modulus`` in ``byte_length(modulus)`` bytes."""
        return self.integer(label, value, byte_length(modulus))

    def integers_mod(self, label: str, values: Iterable[int], modulus: int) -> Transcript:
        """Append a list: its length as a 4-byte integer, then each element as a field.

        The same bytes as ``integer_mod(f"{label}[{i}]", value, modulus)`` per element,
        written in one pass (a proof's transcript is mostly these lists)."""
        items = list(values)
        self.integer(label + "#count", len(items), 4)
        width = byte_length(modulus)
        width_prefix = width.to_bytes(4, "big")
        update = self._hash.update
        for index, value in enumerate(items):
            raw_label = f"{label}[{index}]".encode()
            update(b"".join((_INT_TYPE, len(raw_label).to_bytes(4, "big"), raw_label,
                             width_prefix, int_to_fixed(int(value), width))))
        return self

    def digest(self) -> builtins.bytes:
        return self._hash.copy().digest()

    def challenge(self, bits: int = CHALLENGE_BITS) -> int:
        """``e = int(SHA-256(transcript)) mod 2^bits`` (bits <= 256)."""
        if not 0 < bits <= 256:
            raise ValueError("challenge length must be 1..256 bits")
        return int.from_bytes(self.digest(), "big") % (1 << bits)


def tagged_hash(domain: str, *parts: tuple[str, bytes]) -> bytes:
    """SHA-256 of a transcript holding ``domain`` then the given byte fields."""
    transcript = Transcript(domain)
    for label, value in parts:
        transcript.bytes(label, value)
    return transcript.digest()
