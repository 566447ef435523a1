"""The petition's bulletin board on the board core (:mod:`app.services.board_core`): the
append lock, the Merkle log, signed tree heads, entries, inclusion and consistency proofs,
and the receipt of an appended entry."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ApiError
from app.petitions.common import MAX_PAGE
from app.petitions.models import Petition, PetitionBoardEntry, PetitionTreeHead
from app.petitions.parameters import board_key, log_id, scope_id
from app.services import board_core
from crypto.merkle import MerkleLog
from crypto.tree_head import SignedTreeHead

MODELS = board_core.BoardModels(owner=Petition, entry=PetitionBoardEntry, head=PetitionTreeHead,
                                fk="petition_id", cache_kind="petition")


def lock_petition(db: Session, petition_id: int, count: int = 1) -> int:
    """Take the per-petition append lock (:func:`app.services.board_core.lock_board`);
    returns the board size before this append."""
    try:
        return board_core.lock_board(db, MODELS, petition_id, count)
    except ApiError as exc:
        raise ApiError(404, "not_found", "unknown petition") from exc


def load_log(db: Session, petition_id: int) -> MerkleLog:
    """The board's Merkle log (a copy; cached per database, extended with new rows only)."""
    return board_core.load_log(db, MODELS, petition_id)


def sign_head(db: Session, p: Petition, *, final: bool, log: MerkleLog | None = None) -> SignedTreeHead:
    log = log if log is not None else load_log(db, p.id)
    return board_core.sign_head(db, MODELS, p.id, board_key(p), log_id(p.id), log, final=final)


def head_json(row: PetitionTreeHead) -> dict[str, Any]:
    return board_core.head_of(row, log_id(row.petition_id)).to_json()


def latest_head(db: Session, petition_id: int) -> PetitionTreeHead | None:
    head: PetitionTreeHead | None = board_core.latest_head(db, MODELS, petition_id)
    return head


def _append(db: Session, p: Petition, index: int, entry: dict[str, Any], *, kind: str,
            token_hex: str | None, log: MerkleLog | None = None
            ) -> tuple[PetitionBoardEntry, MerkleLog]:
    """Insert one entry; ``log`` is the log returned by the previous ``_append`` of the same
    transaction (a batch), so rows inserted by this transaction are never re-read."""
    log = log if log is not None else load_log(db, p.id)
    row = board_core.append_row(db, MODELS, p.id, log, index, entry, kind=kind,
                                token_id=token_hex, created_ms=board_core.coarse_ms())
    return row, log


def entry_public(row: PetitionBoardEntry) -> dict[str, Any]:
    return {"index": row.leaf_index, "kind": row.kind, "leaf_hash": row.leaf_hash,
            "invalidated_by": row.invalidated_by, "entry": json.loads(row.entry_json)}


def board_entries(db: Session, petition_id: int, start: int, limit: int) -> list[PetitionBoardEntry]:
    return board_core.entries(db, MODELS, petition_id, start, min(limit, MAX_PAGE))


def inclusion(db: Session, petition_id: int, index: int, tree_size: int | None) -> dict[str, Any]:
    return board_core.inclusion(db, MODELS, petition_id, index, tree_size)


def consistency(db: Session, petition_id: int, old: int, new: int | None) -> dict[str, Any]:
    return board_core.consistency(db, MODELS, petition_id, old, new)


def receipt(p: Petition, row: PetitionBoardEntry | board_core.Leaf, log: MerkleLog,
            sth: SignedTreeHead) -> dict[str, Any]:
    return {"petition_id": p.id, "scope_id": scope_id(p.id),
            **board_core.receipt_fields(row, log, sth)}
