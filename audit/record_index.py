"""``record-index.json``: the board key's Ed25519 signature over the SHA-256 of every file
(docs/election-record.md, "Record index")."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature as _PycaInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.record_io import (
    FORMAT,
    format_of_files,
)
from crypto.encoding import canonical_json, hex_to_bytes, require
from crypto.errors import InvalidEncoding, InvalidKey, InvalidSignature
from crypto.tree_head import BoardSigningKey


def index_message(files: Mapping[str, str], record_format: str = FORMAT) -> bytes:
    """The bytes the board key signs: ``canonical_json({"format", "files"})``."""
    return canonical_json({"format": record_format, "files": dict(files)})


def sign_index(raw: Mapping[str, bytes], board_key: BoardSigningKey,
               record_format: str | None = None) -> dict[str, Any]:
    """``record-index.json`` for the given file bytes (format implied by the file names)."""
    fmt = record_format or format_of_files(raw)
    files = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(raw.items())}
    return {"format": fmt, "files": files,
            "signature": board_key.sign(index_message(files, fmt)).hex()}


def verify_index(index: object, board_public_key: bytes, record_format: str = FORMAT) -> None:
    """Check the index signature by the board key; raises InvalidSignature.

    ``record_format`` is the format the reader expects (the index must name it).
    """
    files = require(index, "files", dict, "record index")
    if require(index, "format", str, "record index") != record_format:
        raise InvalidEncoding(f"record index: format is not {record_format}")
    signature = hex_to_bytes(require(index, "signature", str, "record index"), "signature", 64)
    try:
        key = Ed25519PublicKey.from_public_bytes(board_public_key)
    except ValueError as exc:
        raise InvalidKey("board public key is not an Ed25519 key") from exc
    try:
        key.verify(signature, index_message(files, record_format))
    except _PycaInvalidSignature as exc:
        raise InvalidSignature("record index signature does not verify under the board key") from exc


__all__ = ["index_message", "sign_index", "verify_index"]
