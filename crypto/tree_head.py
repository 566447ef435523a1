"""Signed tree heads (STH) of the bulletin board: Ed25519 over a fixed byte layout.

The signed message (docs/protocol.md, "Bulletin board")::

    b"saylau/v1/tree-head\\x00"          20 bytes, domain tag incl. the 0x00 terminator
    || u32be(len(log_id_utf8))            4 bytes
    || log_id_utf8                        e.g. "saylau/election/<id>"
    || u64be(tree_size)                   8 bytes
    || u64be(timestamp)                   8 bytes, milliseconds since the Unix epoch
    || root_hash                          32 bytes, MTH(D[tree_size]) (crypto.merkle)

Ed25519 (RFC 8032, pure, no pre-hash) signs this message directly; the signature is
64 bytes.  Every failed check raises a typed error from :mod:`crypto.errors`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature as _LibInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from crypto.encoding import bytes_to_hex, hex_to_bytes, require
from crypto.errors import InvalidEncoding, InvalidKey, InvalidMerkleProof, InvalidSignature
from crypto.merkle import (
    HASH_SIZE,
    ConsistencyProof,
    InclusionProof,
    verify_consistency,
    verify_inclusion,
)

TREE_HEAD_DOMAIN = b"saylau/v1/tree-head\x00"
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
_U64_MAX = (1 << 64) - 1
_U32_MAX = (1 << 32) - 1


def tree_head_message(log_id: str, tree_size: int, timestamp: int, root_hash: bytes) -> bytes:
    """The exact bytes Ed25519 signs (layout in the module docstring)."""
    if not isinstance(log_id, str) or not log_id:
        raise InvalidEncoding("log_id must be a non-empty string")
    raw_id = log_id.encode("utf-8")
    if len(raw_id) > _U32_MAX:
        raise InvalidEncoding("log_id too long")
    for name, value in (("tree_size", tree_size), ("timestamp", timestamp)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U64_MAX:
            raise InvalidEncoding(f"{name} must be an integer in [0, 2^64)")
    if not isinstance(root_hash, bytes | bytearray) or len(root_hash) != HASH_SIZE:
        raise InvalidEncoding("root_hash must be 32 bytes")
    return (
        TREE_HEAD_DOMAIN
        + len(raw_id).to_bytes(4, "big")
        + raw_id
        + tree_size.to_bytes(8, "big")
        + timestamp.to_bytes(8, "big")
        + bytes(root_hash)
    )


@dataclass(frozen=True)
class SignedTreeHead:
    """``(log_id, tree_size, root_hash, timestamp)`` and its Ed25519 ``signature``."""

    log_id: str
    tree_size: int
    root_hash: bytes
    timestamp: int
    signature: bytes

    def message(self) -> bytes:
        return tree_head_message(self.log_id, self.tree_size, self.timestamp, self.root_hash)

    def to_json(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "root_hash": bytes_to_hex(self.root_hash),
            "timestamp": self.timestamp,
            "signature": bytes_to_hex(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> SignedTreeHead:
        where = "signed_tree_head"
        log_id = require(obj, "log_id", str, where)
        if not log_id:
            raise InvalidEncoding(f"{where}.log_id: empty")
        tree_size = require(obj, "tree_size", int, where)
        timestamp = require(obj, "timestamp", int, where)
        for name, value in (("tree_size", tree_size), ("timestamp", timestamp)):
            if not 0 <= value <= _U64_MAX:
                raise InvalidEncoding(f"{where}.{name}: out of range")
        return cls(
            log_id=log_id,
            tree_size=int(tree_size),
            root_hash=hex_to_bytes(require(obj, "root_hash", str, where), "root_hash", HASH_SIZE),
            timestamp=int(timestamp),
            signature=hex_to_bytes(
                require(obj, "signature", str, where), "signature", SIGNATURE_SIZE
            ),
        )


class BoardSigningKey:
    """The board's Ed25519 signing key (stored as its 32-byte RFC 8032 seed, hex)."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    def __repr__(self) -> str:  # never print the seed
        return f"BoardSigningKey(public={self.public_key_bytes().hex()})"

    @classmethod
    def generate(cls) -> BoardSigningKey:
        """A fresh key (the library draws the seed from the OS CSPRNG)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed_hex(cls, text: str) -> BoardSigningKey:
        try:
            seed = hex_to_bytes(text, "seed", SEED_SIZE)
        except InvalidEncoding as exc:
            raise InvalidKey("board signing key: expected 32-byte seed in lowercase hex") from exc
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def to_seed_hex(self) -> str:
        raw = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return raw.hex()

    def public_key_bytes(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def sign_tree_head(
    key: BoardSigningKey,
    log_id: str,
    tree_size: int,
    root_hash: bytes,
    timestamp: int | None = None,
) -> SignedTreeHead:
    """Sign ``(log_id, tree_size, timestamp, root_hash)``; timestamp defaults to now (ms)."""
    if timestamp is None:
        timestamp = time.time_ns() // 1_000_000
    message = tree_head_message(log_id, tree_size, timestamp, root_hash)
    return SignedTreeHead(log_id, tree_size, bytes(root_hash), timestamp, key.sign(message))


def _public_key(public_key_bytes: bytes) -> Ed25519PublicKey:
    if not isinstance(public_key_bytes, bytes | bytearray) or len(public_key_bytes) != 32:
        raise InvalidKey("board public key must be 32 bytes")
    try:
        return Ed25519PublicKey.from_public_bytes(bytes(public_key_bytes))
    except ValueError as exc:
        raise InvalidKey("board public key is not a valid Ed25519 key") from exc


def verify_tree_head(public_key_bytes: bytes, sth: SignedTreeHead) -> None:
    """Ed25519 verification of ``sth.signature`` over :func:`tree_head_message`.

    Raises :class:`InvalidSignature` (also for a malformed STH) or :class:`InvalidKey`.
    """
    key = _public_key(public_key_bytes)
    try:
        message = sth.message()
    except InvalidEncoding as exc:
        raise InvalidSignature("malformed signed tree head") from exc
    if not isinstance(sth.signature, bytes | bytearray) or len(sth.signature) != SIGNATURE_SIZE:
        raise InvalidSignature("tree-head signature must be 64 bytes")
    try:
        key.verify(bytes(sth.signature), message)
    except _LibInvalidSignature as exc:
        raise InvalidSignature("tree-head signature does not verify") from exc


def verify_receipt_inclusion(
    public_key_bytes: bytes,
    sth: SignedTreeHead,
    leaf_hash: bytes,
    inclusion_proof: InclusionProof,
) -> None:
    """A receipt check: the STH is signed by the board, and ``leaf_hash`` is in it.

    Raises :class:`InvalidSignature` for the STH, :class:`InvalidMerkleProof` if the
    proof is for another tree size or does not lead to ``sth.root_hash``.
    """
    verify_tree_head(public_key_bytes, sth)
    if inclusion_proof.tree_size != sth.tree_size:
        raise InvalidMerkleProof("inclusion proof is for another tree size than the STH")
    verify_inclusion(
        leaf_hash, inclusion_proof.leaf_index, sth.tree_size, inclusion_proof.path, sth.root_hash
    )


def verify_tree_head_consistency(
    public_key_bytes: bytes,
    old: SignedTreeHead,
    new: SignedTreeHead,
    proof: ConsistencyProof,
) -> None:
    """Both STHs are signed, belong to the same log, and ``new`` extends ``old``.

    Raises :class:`InvalidSignature` or :class:`InvalidMerkleProof` (a board that
    dropped or rewrote entries between the two heads fails here).
    """
    verify_tree_head(public_key_bytes, old)
    verify_tree_head(public_key_bytes, new)
    if old.log_id != new.log_id:
        raise InvalidMerkleProof("tree heads belong to different logs")
    if (proof.old_size, proof.new_size) != (old.tree_size, new.tree_size):
        raise InvalidMerkleProof("consistency proof is for other tree sizes than the STHs")
    verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof.path)


def election_log_id(election_id: str) -> str:
    """The log id of an election's board: ``"saylau/election/" || election_id``."""
    return f"saylau/election/{election_id}"


def petition_log_id(petition_number: int) -> str:
    """The log id of a petition's board: ``"saylau/petition/" || decimal petition number``."""
    return f"saylau/petition/{petition_number}"
