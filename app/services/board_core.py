"""The one bulletin-board core shared by elections and petitions.

A board is an append-only Merkle log (RFC 9162 style, :mod:`crypto.merkle`) owned by one
row (an election or a petition) that carries the board's size.  Everything that differs
between the two kinds of board is named by a :class:`BoardModels` (the owner, entry and
tree-head tables); everything else is here once:

* **append lock** — :func:`lock_board` runs ``UPDATE owner SET board_size = board_size + k``
  first in the append transaction.  On PostgreSQL that takes the owner row's lock until
  commit (like ``SELECT … FOR UPDATE``), so appenders in *different processes and
  different machines* sharing the database are serialised; on SQLite the first write takes
  the database's write lock.  Leaf indexes are therefore dense, and a rolled-back append
  leaves no gap;
* the committed-log cache (:mod:`app.board_cache`), leaf insertion, signed tree heads,
  inclusion and consistency proofs, receipts;
* **coarse times** — stored and published entry times (``cast_at``, ``signed_at``) and
  tree-head timestamps are floored to ``BOARD_TIME_GRANULARITY_S`` (default 3600 s): the
  board order gives the sequence, the clock only the hour (DESIGN §2, anonymity);
* **stored receipts** — :func:`commit_head` finds the tree head signed by the commit that
  appended an entry (the first head whose ``tree_size`` exceeds its index), so a retried
  request gets byte-for-byte the receipt of the original commit.

Group commit (several entries verified together and appended in one transaction with one
signed tree head) is :mod:`app.services.group_commit`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.board_cache import committed_logs
from app.errors import ApiError
from crypto.encoding import canonical_json, canonical_json_reusing
from crypto.merkle import MerkleLog, leaf_hash, make_consistency_proof, make_inclusion_proof
from crypto.tree_head import SignedTreeHead, sign_tree_head

MAX_PAGE = 500
#: Default granularity of stored and published times (seconds).
DEFAULT_TIME_GRANULARITY_S = 3600


@dataclass(frozen=True)
class BoardModels:
    """The tables of one kind of board.

    ``owner`` has ``id`` and ``board_size``; ``entry`` has ``<fk>``, ``leaf_index``,
    ``leaf_hash``; ``head`` has ``<fk>``, ``tree_size``, ``root_hash``, ``timestamp_ms``,
    ``signature``, ``final``.
    """

    owner: Any
    entry: Any
    head: Any
    fk: str
    cache_kind: str


def time_granularity_s() -> int:
    """``BOARD_TIME_GRANULARITY_S`` of the current app (default 3600; at least 1)."""
    if has_app_context():
        value = current_app.config.get("BOARD_TIME_GRANULARITY_S", DEFAULT_TIME_GRANULARITY_S)
    else:
        value = DEFAULT_TIME_GRANULARITY_S
    return max(1, int(value))


def coarse_ms(ms: int | None = None, granularity_s: int | None = None) -> int:
    """``ms`` (default: now) floored to a multiple of the granularity, in milliseconds.

    ``granularity_s``: the granularity bound into an election's fingerprint (its rules,
    eq. F1), which wins over the current setting once the election is open.
    """
    if ms is None:
        ms = time.time_ns() // 1_000_000
    step = (granularity_s if granularity_s is not None else time_granularity_s()) * 1000
    return ms - ms % step


def lock_board(db: Session, models: BoardModels, board_id: object, count: int = 1) -> int:
    """Take the board's append lock and reserve ``count`` leaves; returns the size before.

    The caller appends exactly ``count`` entries or rolls back; :func:`set_size` corrects the
    reservation inside the same transaction when fewer are appended.
    """
    owner = models.owner
    db.execute(update(owner).where(owner.id == board_id)
               .values(board_size=owner.board_size + count))
    size = db.scalar(select(owner.board_size).where(owner.id == board_id))
    if size is None:
        raise ApiError(404, "not_found", "unknown board")
    return int(size) - count


def set_size(db: Session, models: BoardModels, board_id: object, size: int) -> None:
    """Set the board size (under the lock taken by :func:`lock_board`)."""
    owner = models.owner
    db.execute(update(owner).where(owner.id == board_id).values(board_size=size))


def _fk(models: BoardModels, table: Any) -> Any:
    return getattr(table, models.fk)


def load_log(db: Session, models: BoardModels, board_id: object) -> MerkleLog:
    """The board's Merkle log (a copy; cached per database, extended with new rows only)."""
    entry = models.entry

    def fetch_from(start: int) -> list[str]:
        return list(db.scalars(select(entry.leaf_hash).where(
            _fk(models, entry) == board_id, entry.leaf_index >= start)
            .order_by(entry.leaf_index)).all())

    def leaf_at(index: int) -> str | None:
        value = db.scalar(select(entry.leaf_hash).where(
            _fk(models, entry) == board_id, entry.leaf_index == index))
        return None if value is None else str(value)

    return committed_logs(db).log((models.cache_kind, board_id), fetch_from, leaf_at)


def append_row(db: Session, models: BoardModels, board_id: object, log: MerkleLog, index: int,
               entry: dict[str, Any], **columns: Any) -> Any:
    """Insert ``entry`` as leaf ``index`` (``log.size`` must equal it) and extend ``log``."""
    if log.size != index:
        raise RuntimeError("board size out of step with its entries")  # never expected
    canonical = canonical_json(entry)
    leaf = leaf_hash(canonical)
    row = models.entry(leaf_index=index, entry_json=canonical.decode("utf-8"),
                       leaf_hash=leaf.hex(), **{models.fk: board_id}, **columns)
    db.add(row)
    db.flush()
    log.append(leaf)
    return row


@dataclass(frozen=True)
class Leaf:
    """A row inserted by :func:`append_rows` (what a receipt needs)."""

    id: int
    leaf_index: int
    leaf_hash: str
    tracker: str | None


def append_rows(db: Session, models: BoardModels, board_id: object, log: MerkleLog,
                start: int, rows: list[tuple[dict[str, Any], dict[str, Any]]],
                known: Sequence[dict[str, bytes]] | None = None) -> list[Leaf]:
    """Insert ``rows`` (``(entry, columns)``, entry ``i`` as leaf ``start + i``) with ONE
    bulk INSERT (and ONE SELECT of their ids) and extend ``log``; ``log.size`` must equal
    ``start``.

    ``columns`` must carry the same keys for every row (``tracker`` where the board has
    trackers); returns the inserted rows' ids and leaves, in order.  ``known[i]``: members
    of entry ``i`` whose canonical JSON the caller has already made (its ballot, from the
    signature check: :func:`crypto.encoding.canonical_json_reusing`).  The row stores the
    entry's canonical JSON, the bytes its leaf hashes.
    """
    if log.size != start:
        raise RuntimeError("board size out of step with its entries")  # never expected
    if not rows:
        return []
    params = []
    for i, (entry, columns) in enumerate(rows):
        canonical = (canonical_json_reusing(entry, known[i]) if known is not None
                     else canonical_json(entry))
        leaf = leaf_hash(canonical)
        log.append(leaf)
        params.append({models.fk: board_id, "leaf_index": start + i,
                       "entry_json": canonical.decode("utf-8"),
                       "leaf_hash": leaf.hex(), **columns})
    db.execute(insert(models.entry.__table__), params)  # Core executemany: one INSERT
    entry = models.entry
    ids: dict[int, int] = {int(i): int(id_) for i, id_ in db.execute(
        select(entry.leaf_index, entry.id).where(
            _fk(models, entry) == board_id, entry.leaf_index >= start,
            entry.leaf_index < start + len(params)))}
    return [Leaf(ids[p["leaf_index"]], p["leaf_index"], p["leaf_hash"], p.get("tracker"))
            for p in params]


def sign_head(db: Session, models: BoardModels, board_id: object, key: Any, log_id: str,
              log: MerkleLog, *, final: bool) -> SignedTreeHead:
    """Sign and store a tree head for ``log`` (timestamp coarsened like entry times)."""
    sth = sign_tree_head(key, log_id, log.size, log.root(), coarse_ms())
    db.add(models.head(tree_size=sth.tree_size, root_hash=sth.root_hash.hex(),
                       timestamp_ms=sth.timestamp, signature=sth.signature.hex(), final=final,
                       **{models.fk: board_id}))
    db.flush()
    return sth


def head_of(row: Any, log_id: str) -> SignedTreeHead:
    return SignedTreeHead(log_id=log_id, tree_size=row.tree_size,
                          root_hash=bytes.fromhex(row.root_hash), timestamp=row.timestamp_ms,
                          signature=bytes.fromhex(row.signature))


def latest_head(db: Session, models: BoardModels, board_id: object) -> Any:
    head = models.head
    return db.scalars(select(head).where(_fk(models, head) == board_id)
                      .order_by(head.tree_size.desc(), head.id.desc()).limit(1)).first()


def all_heads(db: Session, models: BoardModels, board_id: object) -> list[Any]:
    head = models.head
    return list(db.scalars(select(head).where(_fk(models, head) == board_id)
                           .order_by(head.id)).all())


def commit_head(db: Session, models: BoardModels, board_id: object, index: int) -> Any:
    """The tree head signed by the commit that appended leaf ``index``.

    Every append transaction signs exactly one head covering its entries, so that head is
    the first (smallest ``tree_size``, then oldest) whose ``tree_size`` exceeds ``index``.
    """
    head = models.head
    return db.scalars(select(head).where(_fk(models, head) == board_id,
                                         head.tree_size > index)
                      .order_by(head.tree_size, head.id).limit(1)).first()


def receipt_fields(row: Any, log: MerkleLog, sth: SignedTreeHead) -> dict[str, Any]:
    """The board part of a receipt: index, leaf hash, inclusion proof, tree head."""
    return {
        "index": row.leaf_index,
        "leaf_hash": row.leaf_hash,
        "inclusion_proof": make_inclusion_proof(log, row.leaf_index, sth.tree_size).to_json(),
        "tree_head": sth.to_json(),
    }


def entries(db: Session, models: BoardModels, board_id: object, start: int = 0,
            limit: int = 100) -> list[Any]:
    limit = max(1, min(limit, MAX_PAGE))
    entry = models.entry
    return list(db.scalars(select(entry).where(_fk(models, entry) == board_id,
                                               entry.leaf_index >= start)
                           .order_by(entry.leaf_index).limit(limit)).all())


def inclusion(db: Session, models: BoardModels, board_id: object, index: int,
              tree_size: int | None) -> dict[str, Any]:
    log = load_log(db, models, board_id)
    size = log.size if tree_size is None else tree_size
    if not 0 <= index < size <= log.size:
        raise ApiError(400, "out_of_range", "need 0 <= index < tree_size <= board size")
    return make_inclusion_proof(log, index, size).to_json()


def consistency(db: Session, models: BoardModels, board_id: object, old: int,
                new: int | None) -> dict[str, Any]:
    log = load_log(db, models, board_id)
    new_size = log.size if new is None else new
    if not 0 <= old <= new_size <= log.size:
        raise ApiError(400, "out_of_range", "need 0 <= old <= new <= board size")
    return make_consistency_proof(log, old, new_size).to_json()
