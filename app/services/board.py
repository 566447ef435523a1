"""The election's bulletin board on the board core (:mod:`app.services.board_core`).

Every append runs inside a transaction that *first* takes the election's append lock
(:func:`app.services.board_core.lock_board`: ``UPDATE elections SET board_size = board_size
+ k``): on PostgreSQL that row lock serialises appends per election across processes and
machines, on SQLite the first write takes the database's write lock.  Leaf indexes are
therefore dense, and a rolled-back append leaves no gap.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import BoardEntry, Election, TreeHead
from app.services import board_core
from crypto.ballot import tracker_of as _tracker_of
from crypto.merkle import MerkleLog
from crypto.tree_head import BoardSigningKey, SignedTreeHead, election_log_id

MODELS = board_core.BoardModels(owner=Election, entry=BoardEntry, head=TreeHead,
                                fk="election_id", cache_kind="election")
MAX_PAGE = board_core.MAX_PAGE


class Identified(Protocol):
    """What a receipt needs of its election: the id (an :class:`Election` row or the per-cast
    :class:`app.services.cast_context.ElectionState`)."""

    @property
    def id(self) -> str: ...


def board_key(election: Election) -> BoardSigningKey:
    """The election's board signing key (Ed25519, tree heads and receipts)."""
    return BoardSigningKey.from_seed_hex(election.board_seed_hex)


def log_id(election_id: str) -> str:
    """The Merkle log id signed into every tree head of this election's board."""
    return election_log_id(election_id)


def tracker_of(ballot_json: dict[str, Any]) -> str:
    """``tracker = tagged_hash("saylau/v1/tracker", ("ballot", canonical_json(ballot)))`` (hex)."""
    return _tracker_of(ballot_json)


def now_ms() -> int:
    """The current time as stored and published: floored to ``BOARD_TIME_GRANULARITY_S``."""
    return board_core.coarse_ms()


def lock_election(db: Session, election_id: str, count: int = 1) -> int:
    """Take the per-election append lock and reserve ``count`` leaves; returns the board size
    *before* this append.  The caller appends exactly ``count`` entries or rolls back."""
    try:
        return board_core.lock_board(db, MODELS, election_id, count)
    except ApiError as exc:
        raise ApiError(404, "not_found", "unknown election") from exc


def load_log(db: Session, election_id: str) -> MerkleLog:
    """The board's Merkle log (a copy; cached per database, extended with new rows only)."""
    return board_core.load_log(db, MODELS, election_id)


def sign_head(db: Session, election: Election, *, final: bool, log: MerkleLog | None = None
              ) -> SignedTreeHead:
    """Sign and store a tree head for the board's current contents."""
    log = log if log is not None else load_log(db, election.id)
    return board_core.sign_head(db, MODELS, election.id, board_key(election),
                                log_id(election.id), log, final=final)


def head_json(row: TreeHead, election_id: str) -> dict[str, Any]:
    return board_core.head_of(row, log_id(election_id)).to_json()


def latest_head(db: Session, election_id: str) -> TreeHead | None:
    head: TreeHead | None = board_core.latest_head(db, MODELS, election_id)
    return head


def all_heads(db: Session, election_id: str) -> list[dict[str, Any]]:
    return [head_json(r, election_id) for r in board_core.all_heads(db, MODELS, election_id)]


def append_entry(
    db: Session, election: Election, index: int, entry: dict[str, Any], *, kind: str,
    token_id: str | None, tracker: str, log: MerkleLog | None = None,
) -> tuple[BoardEntry, MerkleLog]:
    """Insert the entry at ``index`` (reserved by :func:`lock_election`); returns it and the
    log (pass it back for the next entry of the same transaction)."""
    log = log if log is not None else load_log(db, election.id)
    row = board_core.append_row(db, MODELS, election.id, log, index, entry, kind=kind,
                                token_id=token_id, tracker=tracker, superseded=False,
                                cast_at_ms=int(entry["cast_at"]))
    return row, log


def receipt(election: Identified, row: BoardEntry | board_core.Leaf, log: MerkleLog, sth: SignedTreeHead
            ) -> dict[str, Any]:
    out = {"election_id": election.id, "tracker": row.tracker}
    out.update(board_core.receipt_fields(row, log, sth))
    return out


def stored_receipt(db: Session, election: Identified, row: BoardEntry) -> dict[str, Any]:
    """The receipt the commit that appended ``row`` returned (idempotent retries)."""
    head = board_core.commit_head(db, MODELS, election.id, row.leaf_index)
    if head is None:  # never expected: every append signs a head
        raise ApiError(503, "busy", "the entry's tree head is not there yet; retry")
    sth = board_core.head_of(head, log_id(election.id))
    return receipt(election, row, load_log(db, election.id), sth)


def entry_public(row: BoardEntry) -> dict[str, Any]:
    return {
        "index": row.leaf_index,
        "kind": row.kind,
        "tracker": row.tracker,
        "leaf_hash": row.leaf_hash,
        "superseded": row.superseded,
        "superseded_by": row.superseded_by,
        "entry": json.loads(row.entry_json),
    }


def entries(db: Session, election_id: str, start: int = 0, limit: int = 100) -> list[BoardEntry]:
    return board_core.entries(db, MODELS, election_id, start, limit)


def by_tracker(db: Session, election_id: str, tracker: str) -> BoardEntry | None:
    return db.scalars(select(BoardEntry).where(BoardEntry.election_id == election_id,
                                               BoardEntry.tracker == tracker)).first()


def inclusion(db: Session, election_id: str, index: int, tree_size: int | None) -> dict[str, Any]:
    return board_core.inclusion(db, MODELS, election_id, index, tree_size)


def consistency(db: Session, election_id: str, old: int, new: int | None) -> dict[str, Any]:
    return board_core.consistency(db, MODELS, election_id, old, new)
