"""Petition records: a petition's board and by-region tally as a verifiable record.

Same container as the election record (:mod:`audit.record`): a directory or ``.zip`` of
canonical-JSON files plus ``record-index.json`` signed by the board key, here with the
format ``saylau-petition-record/v1``::

    petition.json  board.json  tree-heads.json  issuance.json
    encrypted-tally.json  partial-decryptions.json  results.json   (after a region tally)
    record-index.json

``saylau verify`` dispatches on the kind (:func:`audit.verifier.verify_record`);
docs/election-record.md §"Petition records" lists every field and check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.record import (
    BOARD,
    ENCRYPTED_TALLY,
    ISSUANCE,
    PARTIALS,
    PETITION,
    RESULTS,
    TREE_HEADS,
    Record,
    encode_record,
    read_record,
    write_record,
    zip_bytes,
)
from crypto.tree_head import BoardSigningKey

KIND = "petition"


def _unwrap(item: Any) -> dict[str, Any]:
    """A board entry, from the entry itself or the API's ``{"entry": …}`` wrapper."""
    if isinstance(item, Mapping) and isinstance(item.get("entry"), Mapping):
        return dict(item["entry"])
    return dict(item)


def counted_entries(board: Sequence[Mapping[str, Any]], tree_size: int
                    ) -> tuple[list[int], list[int]]:
    """``(counted, invalidated)`` indices among the first ``tree_size`` entries.

    Structural (as the service folds): every ``signature`` entry not named by an
    ``invalidation`` entry at a position ``< tree_size``.  The verifier recomputes the
    same sets from the *valid* entries only.
    """
    signatures = [i for i, e in enumerate(board[:tree_size]) if e.get("kind") == "signature"]
    targets = {e.get("target_index") for e in board[:tree_size] if e.get("kind") == "invalidation"}
    invalidated = sorted(i for i in signatures if i in targets)
    return [i for i in signatures if i not in targets], invalidated


def build_petition_record_data(
    *,
    parameters: Mapping[str, Any],
    election_key: Mapping[str, Any],
    issuer_key: Mapping[str, Any],
    board_key: str,
    log_id: str,
    fingerprint: str,
    board: Sequence[Any],
    tree_heads: Sequence[Mapping[str, Any]],
    issuance: Mapping[str, Any],
    encrypted_tally: Mapping[str, Any] | None = None,
    partials: Sequence[Mapping[str, Any]] | None = None,
    results: Mapping[str, Any] | None = None,
    info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``{file name: content}`` of a petition record (write it with :func:`write_petition_record`).

    ``parameters``: :class:`crypto.petition.PetitionParameters` JSON; keys as JSON (board
    key as 32-byte hex); ``board``: entries verbatim (or ``{"entry": …}`` rows);
    ``issuance``: ``{"count", "receipts"?}``; ``encrypted_tally``:
    :class:`tally.petition.EncryptedRegionTally` JSON (``counted``/``invalidated`` are
    added from the board when absent); ``partials``: :class:`crypto.threshold.PartialDecryption`
    JSON; ``results``: :class:`tally.petition.RegionResult` JSON.  ``info``: optional
    ``title``, ``state``, ``opened_at``, ``closes_at``, ``closed_at``.  Pass the three
    tally parts together or not at all.
    """
    params = dict(parameters)
    extra = dict(info or {})
    petition: dict[str, Any] = {
        "kind": KIND,
        "petition_id": params["petition_id"],
        "title": str(extra.get("title", params.get("title", ""))),
        "parameters": params,
        "fingerprint": fingerprint,
        "election_key": dict(election_key),
        "issuer_key": dict(issuer_key),
        "board_key": board_key,
        "log_id": log_id,
    }
    for key in ("state", "opened_at", "closes_at", "closed_at"):
        if key in extra:
            petition[key] = extra[key]
    entries = [_unwrap(item) for item in board]
    data: dict[str, Any] = {
        PETITION: petition,
        BOARD: entries,
        TREE_HEADS: [dict(h) for h in tree_heads],
        ISSUANCE: {"count": int(issuance["count"]),
                   **({"receipts": list(issuance["receipts"])} if "receipts" in issuance else {})},
    }
    parts = (encrypted_tally is not None, partials is not None, results is not None)
    if any(parts) and not all(parts):
        raise ValueError("pass the encrypted tally, the partials and the results together")
    if encrypted_tally is not None and partials is not None and results is not None:
        tally = {k: encrypted_tally[k] for k in ("petition_id", "tree_size", "count", "ciphertext")}
        counted, invalidated = counted_entries(entries, int(tally["tree_size"]))
        tally["counted"] = list(encrypted_tally.get("counted", counted))
        tally["invalidated"] = list(encrypted_tally.get("invalidated", invalidated))
        data[ENCRYPTED_TALLY] = tally
        data[PARTIALS] = [dict(p) for p in partials]
        data[RESULTS] = dict(results)
    return data


def petition_record_bytes(data: Mapping[str, Any], board_key: BoardSigningKey) -> dict[str, bytes]:
    """The record's files as bytes, ``record-index.json`` signed by ``board_key``."""
    if PETITION not in data:
        raise ValueError("a petition record needs petition.json")
    return encode_record(data, board_key)


def petition_record_zip(data: Mapping[str, Any], board_key: BoardSigningKey) -> bytes:
    """The record as a ``.zip`` (what ``GET /api/v1/petitions/<id>/record.zip`` serves)."""
    return zip_bytes(petition_record_bytes(data, board_key))


def write_petition_record(path: str | Path, data: Mapping[str, Any],
                          board_key: BoardSigningKey) -> Path:
    """Write a petition record directory, or a ``.zip`` when ``path`` ends in ``.zip``."""
    if PETITION not in data:
        raise ValueError("a petition record needs petition.json")
    return write_record(path, data, board_key)


def read_petition_record(path: str | Path, *, strict: bool = True) -> Record:
    """Read a record and insist that it is a petition record (``ValueError`` otherwise)."""
    record = read_record(path, strict=strict)
    if record.kind != KIND:
        raise ValueError(f"{path}: not a petition record")
    return record


__all__ = [
    "KIND",
    "build_petition_record_data",
    "counted_entries",
    "petition_record_bytes",
    "petition_record_zip",
    "read_petition_record",
    "write_petition_record",
]
