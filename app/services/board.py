"""The bulletin board: an append-only Merkle log (RFC 9162 style) per election.

Every append runs inside a transaction that *first* increments
``elections.board_size`` (``UPDATE ... SET board_size = board_size + 1``): on
PostgreSQL that row lock serialises appends per election (like ``SELECT ... FOR
UPDATE``), on SQLite the first write takes the database's write lock.  Leaf indexes
are therefore dense, and a rolled-back append leaves no gap.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.board_cache import committed_logs
from app.clock import now_ms
from app.errors import ApiError
from app.models import BoardEntry, Election, TreeHead
from crypto.encoding import canonical_json
from crypto.merkle import MerkleLog, leaf_hash, make_consistency_proof, make_inclusion_proof
from crypto.tree_head import BoardSigningKey, SignedTreeHead, election_log_id, sign_tree_head

MAX_PAGE = 500


def board_key(election: Election) -> BoardSigningKey:
    """The election's board signing key (Ed25519, tree heads and receipts)."""
    return BoardSigningKey.from_seed_hex(election.board_seed_hex)


def log_id(election_id: str) -> str:
    """The Merkle log id signed into every tree head of this election's board."""
    return election_log_id(election_id)


def lock_election(db: Session, election_id: str) -> int:
    """Take the per-election append lock; returns the board size *before* this append.

    Increments ``board_size``; the caller must append exactly one entry or roll back.
    """
    db.execute(update(Election).where(Election.id == election_id)
               .values(board_size=Election.board_size + 1))
    size = db.scalar(select(Election.board_size).where(Election.id == election_id))
    if size is None:
        raise ApiError(404, "not_found", "unknown election")
    return int(size) - 1


def load_log(db: Session, election_id: str) -> MerkleLog:
    """The board's Merkle log (a copy; cached per database, extended with new rows only)."""
    def fetch_from(start: int) -> list[str]:
        return list(db.scalars(select(BoardEntry.leaf_hash).where(
            BoardEntry.election_id == election_id, BoardEntry.leaf_index >= start)
            .order_by(BoardEntry.leaf_index)).all())

    def leaf_at(index: int) -> str | None:
        return db.scalar(select(BoardEntry.leaf_hash).where(
            BoardEntry.election_id == election_id, BoardEntry.leaf_index == index))

    return committed_logs(db).log(("election", election_id), fetch_from, leaf_at)


def sign_head(db: Session, election: Election, *, final: bool, log: MerkleLog | None = None
              ) -> SignedTreeHead:
    """Sign and store a tree head for the board's current contents."""
    log = log if log is not None else load_log(db, election.id)
    sth = sign_tree_head(board_key(election), log_id(election.id),
                         log.size, log.root(), now_ms())
    db.add(TreeHead(election_id=election.id, tree_size=sth.tree_size,
                    root_hash=sth.root_hash.hex(), timestamp_ms=sth.timestamp,
                    signature=sth.signature.hex(), final=final))
    db.flush()
    return sth


def head_json(row: TreeHead, election_id: str) -> dict[str, Any]:
    return SignedTreeHead(
        log_id=log_id(election_id), tree_size=row.tree_size,
        root_hash=bytes.fromhex(row.root_hash), timestamp=row.timestamp_ms,
        signature=bytes.fromhex(row.signature),
    ).to_json()


def latest_head(db: Session, election_id: str) -> TreeHead | None:
    return db.scalars(select(TreeHead).where(TreeHead.election_id == election_id)
                      .order_by(TreeHead.tree_size.desc(), TreeHead.id.desc()).limit(1)).first()


def all_heads(db: Session, election_id: str) -> list[dict[str, Any]]:
    rows = db.scalars(select(TreeHead).where(TreeHead.election_id == election_id)
                      .order_by(TreeHead.id)).all()
    return [head_json(r, election_id) for r in rows]


def append_entry(
    db: Session, election: Election, index: int, entry: dict[str, Any], *, kind: str,
    token_id: str | None, tracker: str,
) -> tuple[BoardEntry, MerkleLog]:
    """Insert the entry at ``index`` (from :func:`lock_election`); returns it and the new log."""
    log = load_log(db, election.id)
    if log.size != index:
        raise RuntimeError("board size out of step with its entries")  # never expected
    leaf = leaf_hash(canonical_json(entry))
    row = BoardEntry(election_id=election.id, leaf_index=index, kind=kind, token_id=token_id,
                     tracker=tracker, entry_json=json.dumps(entry, sort_keys=True),
                     leaf_hash=leaf.hex(), superseded=False, cast_at_ms=int(entry["cast_at"]))
    db.add(row)
    db.flush()
    log.append(leaf)
    return row, log


def receipt(election: Election, row: BoardEntry, log: MerkleLog, sth: SignedTreeHead
            ) -> dict[str, Any]:
    return {
        "election_id": election.id,
        "tracker": row.tracker,
        "index": row.leaf_index,
        "leaf_hash": row.leaf_hash,
        "inclusion_proof": make_inclusion_proof(log, row.leaf_index, sth.tree_size).to_json(),
        "tree_head": sth.to_json(),
    }


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
    limit = max(1, min(limit, MAX_PAGE))
    return list(db.scalars(select(BoardEntry).where(BoardEntry.election_id == election_id,
                                                     BoardEntry.leaf_index >= start)
                           .order_by(BoardEntry.leaf_index).limit(limit)).all())


def by_tracker(db: Session, election_id: str, tracker: str) -> BoardEntry | None:
    return db.scalars(select(BoardEntry).where(BoardEntry.election_id == election_id,
                                               BoardEntry.tracker == tracker)).first()


def inclusion(db: Session, election_id: str, index: int, tree_size: int | None) -> dict[str, Any]:
    log = load_log(db, election_id)
    size = log.size if tree_size is None else tree_size
    if not 0 <= index < size <= log.size:
        raise ApiError(400, "out_of_range", "need 0 <= index < tree_size <= board size")
    return make_inclusion_proof(log, index, size).to_json()


def consistency(db: Session, election_id: str, old: int, new: int | None) -> dict[str, Any]:
    log = load_log(db, election_id)
    new_size = log.size if new is None else new
    if not 0 <= old <= new_size <= log.size:
        raise ApiError(400, "out_of_range", "need 0 <= old <= new <= board size")
    return make_consistency_proof(log, old, new_size).to_json()
