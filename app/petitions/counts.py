"""Batched signature counts: fold new board entries into ``petition_counts``, mark the
thresholds crossed, refresh on read."""

from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.clock import now_ms
from app.config import setting
from app.models import utcnow
from app.petitions.common import _flag
from app.petitions.models import Petition, PetitionBoardEntry, PetitionCount
from app.petitions.parameters import election_key
from crypto.encoding import hex_to_int, int_to_hex
from tally import petition as ptally


def _fold(db: Session, p: Petition) -> bool:
    """Fold board entries ``[folded_size, board_size)`` into the count row (caller commits)."""
    row = db.get(PetitionCount, p.id)
    if row is None or p.election_key_json is None:
        return False
    old = row.folded_size
    new_rows = db.scalars(select(PetitionBoardEntry).where(
        PetitionBoardEntry.petition_id == p.id, PetitionBoardEntry.leaf_index >= old)
        .order_by(PetitionBoardEntry.leaf_index)).all()
    if not new_rows:
        row.refreshed_ms = now_ms()
        return False
    pk = election_key(p).public
    product, count, invalidated = hex_to_int(row.product_hex, "product"), row.count, row.invalidated
    expected = old
    for e in new_rows:
        if e.leaf_index != expected:
            break  # a gap: an append still in flight; fold the rest next time
        entry = json.loads(e.entry_json)
        if e.kind == "signature":
            product = product * hex_to_int(entry["signature"]["region"]["ciphertext"], "c") % pk.nsquare
            count += 1
        else:
            target = db.scalars(select(PetitionBoardEntry.entry_json).where(
                PetitionBoardEntry.petition_id == p.id,
                PetitionBoardEntry.leaf_index == entry["target_index"])).one()
            c = hex_to_int(json.loads(target)["signature"]["region"]["ciphertext"], "c")
            product = ptally.remove(pk, product, c)
            count -= 1
            invalidated += 1
        expected += 1
    result = db.execute(update(PetitionCount).where(PetitionCount.petition_id == p.id,
                                                    PetitionCount.folded_size == old)
                        .values(folded_size=expected, count=count, invalidated=invalidated,
                                product_hex=int_to_hex(product), refreshed_ms=now_ms()))
    if getattr(result, "rowcount", 1) != 1:
        return False  # another folder won the race; its result is the same
    db.refresh(row)
    _check_thresholds(db, p)
    return True


def _check_thresholds(db: Session, p: Petition) -> None:
    row = db.get(PetitionCount, p.id)
    if row is None or p.state != "open":
        return
    if row.count >= p.response_threshold and p.response_threshold_reached_at is None:
        _flag(p, "response_threshold_reached")
        p.response_threshold_reached_at = utcnow()
    if row.count >= p.debate_threshold and p.debate_threshold_reached_at is None:
        _flag(p, "debate_threshold_reached")
        p.debate_threshold_reached_at = utcnow()
    db.flush()


def refresh_counts(session: Session, petition_id: int | None = None) -> int:
    """Fold new board entries into ``petition_counts`` (the batch job); returns petitions updated.

    One transaction per petition; never called from the signing transaction.
    """
    q = select(Petition.id).join(PetitionCount, PetitionCount.petition_id == Petition.id).where(
        Petition.board_size > PetitionCount.folded_size)
    if petition_id is not None:
        q = q.where(Petition.id == petition_id)
    updated = 0
    for pid in list(session.scalars(q).all()):
        try:
            p = session.get(Petition, pid)
            if p is not None and _fold(session, p):
                updated += 1
            session.commit()
        except OperationalError:
            session.rollback()
    return updated


def maybe_refresh(db: Session, p: Petition) -> None:
    """Refresh-on-read when the count row is older than PETITION_COUNT_MAX_AGE_S."""
    row = db.get(PetitionCount, p.id)
    if row is None:
        return
    max_age_ms = float(setting("PETITION_COUNT_MAX_AGE_S")) * 1000
    if p.board_size > row.folded_size and now_ms() - row.refreshed_ms >= max_age_ms:
        refresh_counts(db, p.id)
        db.refresh(p)


def count_of(db: Session, p: Petition) -> tuple[int, int]:
    row = db.get(PetitionCount, p.id)
    return (row.count, row.folded_size) if row is not None else (0, 0)
