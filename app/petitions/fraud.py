"""Fraud controls: silent per-address rate heuristics, moderators' flags, and invalidations
appended to the board."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import iso_z, now_ms
from app.config import setting
from app.errors import ApiError
from app.petitions.board_log import _append, lock_petition, receipt, sign_head
from app.petitions.common import MAX_PAGE
from app.petitions.models import Petition, PetitionBoardEntry, PetitionFlag, PetitionRateEvent
from app.petitions.parameters import scope_id
from tally import petition as ptally

ADDRESS_TAG_DOMAIN = "saylau/v1/petition-address-tag"
INVALIDATION_REASONS = ptally.INVALIDATION_REASONS


def address_tag(addr: str | None) -> str:
    """``HMAC-SHA256(secret key, "saylau/v1/petition-address-tag" || addr)``: never the address."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    msg = (ADDRESS_TAG_DOMAIN + "\x00" + (addr or "unknown")).encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def _note_event(db: Session, petition_id: int, kind: str, addr: str | None) -> int:
    """Record the event; return how many events of ``kind`` this address made in the window."""
    tag = address_tag(addr)
    at = now_ms()
    db.add(PetitionRateEvent(petition_id=petition_id, kind=kind, addr_tag=tag, at_ms=at))
    db.flush()
    window_ms = int(float(setting("PETITION_FLAG_WINDOW_S")) * 1000)
    return int(db.scalar(select(func.count()).select_from(PetitionRateEvent).where(
        PetitionRateEvent.addr_tag == tag, PetitionRateEvent.kind == kind,
        PetitionRateEvent.at_ms > at - window_ms)) or 0)


def prune_events(db: Session) -> None:
    window_ms = int(float(setting("PETITION_FLAG_WINDOW_S")) * 1000)
    from sqlalchemy import delete
    db.execute(delete(PetitionRateEvent).where(PetitionRateEvent.at_ms < now_ms() - 10 * window_ms))


def flags(db: Session, status: str | None = "open") -> list[PetitionFlag]:
    q = select(PetitionFlag).order_by(PetitionFlag.id)
    if status:
        q = q.where(PetitionFlag.status == status)
    return list(db.scalars(q.limit(MAX_PAGE)).all())


def flag_json(f: PetitionFlag) -> dict[str, Any]:
    return {"id": f.id, "petition_id": f.petition_id, "kind": f.kind, "detail": f.detail,
            "board_index": f.board_index, "user_id": f.user_id, "status": f.status,
            "created_at": iso_z(f.created_at)}


def flag_signature(db: Session, p: Petition, board_index: int, kind: str, detail: str) -> PetitionFlag:
    f = PetitionFlag(petition_id=p.id, kind=kind, board_index=board_index, detail=detail)
    db.add(f)
    db.flush()
    return f


def invalidate(db: Session, p: Petition, target_index: object, reason_code: object) -> dict[str, Any]:
    """Append ``{"kind": "invalidation", "target_index": i, "reason_code": …}`` to the board."""
    if reason_code not in INVALIDATION_REASONS:
        raise ApiError(400, "invalid_reason", "reason_code must be one of " + ", ".join(INVALIDATION_REASONS))
    if not isinstance(target_index, int) or isinstance(target_index, bool):
        raise ApiError(400, "invalid_body", "target_index must be an integer")
    if p.state not in ("open", "closed"):
        raise ApiError(409, "illegal_transition", "only signatures of open or closed petitions")
    db.rollback()
    try:
        index = lock_petition(db, p.id)
        db.refresh(p)
        target = db.scalars(select(PetitionBoardEntry).where(
            PetitionBoardEntry.petition_id == p.id, PetitionBoardEntry.leaf_index == target_index)
            .with_for_update()).first()
        if target is None or target.kind != "signature":
            raise ApiError(400, "invalid_target", "target_index is not a signature entry")
        if target.invalidated_by is not None:
            raise ApiError(409, "already_invalidated", "this signature was already invalidated")
        entry = {"kind": "invalidation", "petition_id": scope_id(p.id), "index": index,
                 "target_index": target_index, "reason_code": reason_code, "at": now_ms()}
        row, log = _append(db, p, index, entry, kind="invalidation", token_hex=None)
        target.invalidated_by = index
        sth = sign_head(db, p, final=p.state == "closed", log=log)
        for f in db.scalars(select(PetitionFlag).where(PetitionFlag.petition_id == p.id,
                                                       PetitionFlag.board_index == target_index)):
            f.status = "invalidated"
        out = receipt(p, row, log, sth)
        db.commit()
        return out
    except BaseException:
        db.rollback()
        raise
