"""The petition's bulletin board: the append lock, the Merkle log, signed tree heads, entries,
inclusion and consistency proofs, and the receipt of an appended entry."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.board_cache import committed_logs
from app.clock import now_ms
from app.errors import ApiError
from app.petitions.common import MAX_PAGE
from app.petitions.models import Petition, PetitionBoardEntry, PetitionTreeHead
from app.petitions.parameters import board_key, log_id, scope_id
from crypto.encoding import canonical_json
from crypto.merkle import MerkleLog, leaf_hash, make_consistency_proof, make_inclusion_proof
from crypto.tree_head import SignedTreeHead, sign_tree_head


def lock_petition(db: Session, petition_id: int) -> int:
    """Take the per-petition append lock; returns the board size before this append."""
    db.execute(update(Petition).where(Petition.id == petition_id)
               .values(board_size=Petition.board_size + 1))
    size = db.scalar(select(Petition.board_size).where(Petition.id == petition_id))
    if size is None:
        raise ApiError(404, "not_found", "unknown petition")
    return int(size) - 1


def load_log(db: Session, petition_id: int) -> MerkleLog:
    """The board's Merkle log (a copy; cached per database, extended with new rows only)."""
    def fetch_from(start: int) -> list[str]:
        return list(db.scalars(select(PetitionBoardEntry.leaf_hash).where(
            PetitionBoardEntry.petition_id == petition_id, PetitionBoardEntry.leaf_index >= start)
            .order_by(PetitionBoardEntry.leaf_index)).all())

    def leaf_at(index: int) -> str | None:
        return db.scalar(select(PetitionBoardEntry.leaf_hash).where(
            PetitionBoardEntry.petition_id == petition_id, PetitionBoardEntry.leaf_index == index))

    return committed_logs(db).log(("petition", petition_id), fetch_from, leaf_at)


def sign_head(db: Session, p: Petition, *, final: bool, log: MerkleLog | None = None) -> SignedTreeHead:
    log = log if log is not None else load_log(db, p.id)
    sth = sign_tree_head(board_key(p), log_id(p.id), log.size, log.root(), now_ms())
    db.add(PetitionTreeHead(petition_id=p.id, tree_size=sth.tree_size, root_hash=sth.root_hash.hex(),
                            timestamp_ms=sth.timestamp, signature=sth.signature.hex(), final=final))
    db.flush()
    return sth


def head_json(row: PetitionTreeHead) -> dict[str, Any]:
    return SignedTreeHead(log_id(row.petition_id), row.tree_size, bytes.fromhex(row.root_hash),
                          row.timestamp_ms, bytes.fromhex(row.signature)).to_json()


def latest_head(db: Session, petition_id: int) -> PetitionTreeHead | None:
    return db.scalars(select(PetitionTreeHead).where(PetitionTreeHead.petition_id == petition_id)
                      .order_by(PetitionTreeHead.tree_size.desc(), PetitionTreeHead.id.desc())
                      .limit(1)).first()


def _append(db: Session, p: Petition, index: int, entry: dict[str, Any], *, kind: str,
            token_hex: str | None, log: MerkleLog | None = None
            ) -> tuple[PetitionBoardEntry, MerkleLog]:
    """Insert one entry; ``log`` is the log returned by the previous ``_append`` of the same
    transaction (a batch), so rows inserted by this transaction are never re-read."""
    log = log if log is not None else load_log(db, p.id)
    if log.size != index:
        raise RuntimeError("petition board size out of step with its entries")  # never expected
    leaf = leaf_hash(canonical_json(entry))
    row = PetitionBoardEntry(petition_id=p.id, leaf_index=index, kind=kind, token_id=token_hex,
                             entry_json=json.dumps(entry, sort_keys=True), leaf_hash=leaf.hex(),
                             created_ms=now_ms())
    db.add(row)
    db.flush()
    log.append(leaf)
    return row, log


def entry_public(row: PetitionBoardEntry) -> dict[str, Any]:
    return {"index": row.leaf_index, "kind": row.kind, "leaf_hash": row.leaf_hash,
            "invalidated_by": row.invalidated_by, "entry": json.loads(row.entry_json)}


def board_entries(db: Session, petition_id: int, start: int, limit: int) -> list[PetitionBoardEntry]:
    limit = max(1, min(limit, MAX_PAGE))
    return list(db.scalars(select(PetitionBoardEntry).where(
        PetitionBoardEntry.petition_id == petition_id, PetitionBoardEntry.leaf_index >= start)
        .order_by(PetitionBoardEntry.leaf_index).limit(limit)).all())


def inclusion(db: Session, petition_id: int, index: int, tree_size: int | None) -> dict[str, Any]:
    log = load_log(db, petition_id)
    size = log.size if tree_size is None else tree_size
    if not 0 <= index < size <= log.size:
        raise ApiError(400, "out_of_range", "need 0 <= index < tree_size <= board size")
    return make_inclusion_proof(log, index, size).to_json()


def consistency(db: Session, petition_id: int, old: int, new: int | None) -> dict[str, Any]:
    log = load_log(db, petition_id)
    new_size = log.size if new is None else new
    if not 0 <= old <= new_size <= log.size:
        raise ApiError(400, "out_of_range", "need 0 <= old <= new <= board size")
    return make_consistency_proof(log, old, new_size).to_json()


def receipt(p: Petition, row: PetitionBoardEntry, log: MerkleLog, sth: SignedTreeHead) -> dict[str, Any]:
    return {"petition_id": p.id, "scope_id": scope_id(p.id), "index": row.leaf_index,
            "leaf_hash": row.leaf_hash,
            "inclusion_proof": make_inclusion_proof(log, row.leaf_index, sth.tree_size).to_json(),
            "tree_head": sth.to_json()}
