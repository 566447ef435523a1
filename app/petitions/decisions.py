"""Decisions on a petition: its election key, approve/reject, thresholds, the response,
debate, and closing (by hand or when the signing period ends).

Every state change goes through :mod:`app.petitions.lifecycle`.
"""

from __future__ import annotations

import datetime as dt
import json

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import setting
from app.errors import ApiError
from app.models import User, utcnow
from app.petitions import lifecycle
from app.petitions.board_log import sign_head
from app.petitions.common import _apply, _flag, _map_illegal
from app.petitions.counts import _check_thresholds, _fold
from app.petitions.lifecycle import IllegalTransition
from app.petitions.models import Petition, PetitionCount, PetitionTally
from app.petitions.parameters import (
    MIN_ELECTION_KEY_BITS,
    compute_fingerprint,
    params_of,
    parse_election_key,
)
from app.petitions.region_tally import request_tally
from app.security import aware
from crypto.errors import InvalidEncoding


def set_election_key(db: Session, p: Petition, key_json: object) -> None:
    if p.state in ("open", "closed", "rejected"):
        raise ApiError(409, "frozen", "the petition's keys are frozen")
    key = parse_election_key(key_json, allow_test_key=bool(current_app.config.get("ALLOW_TEST_KEYS")))
    try:
        params_of(p).check_key(key.public)
    except InvalidEncoding as exc:
        raise ApiError(400, "invalid_key", str(exc)) from exc
    p.election_key_json = json.dumps(key.to_json())
    p.insecure_test_keys = key.n.bit_length() < MIN_ELECTION_KEY_BITS
    db.flush()


def moderate(db: Session, p: Petition, moderator: User, decision: object,
             reason_code: object = None, note: object = None, now: dt.datetime | None = None) -> None:
    """pending_moderation → open (keys frozen, fingerprint, empty tree head) or → rejected."""
    if decision not in ("approve", "reject"):
        raise ApiError(400, "invalid_body", "decision must be 'approve' or 'reject'")
    if note is not None and (not isinstance(note, str) or len(note) > 5000):
        raise ApiError(400, "invalid_body", "note must be a string")
    if decision == "reject":
        if reason_code not in lifecycle.REJECTION_CODES:
            raise ApiError(400, "invalid_reason", "reason_code must be one of "
                           + ", ".join(lifecycle.REJECTION_CODES))
        _apply(p, "reject")
        p.rejection_code = str(reason_code)
        p.rejection_note = note or ""
        p.moderated_by = moderator.id
        db.flush()
        return
    if not lifecycle.can(p.state, "approve"):
        raise _map_illegal(IllegalTransition(p.state, "approve"))
    if p.election_key_json is None:
        configured = setting("PETITION_ELECTION_KEY")
        if configured is None:
            raise ApiError(409, "no_key", "no election key: configure PETITION_ELECTION_KEY or "
                           "POST /api/v1/petitions/<id>/election-key")
        set_election_key(db, p, configured)
    _apply(p, "approve")
    now = now or utcnow()
    p.moderated_by = moderator.id
    p.opened_at = now
    p.closes_at = now + dt.timedelta(days=float(setting("PETITION_OPEN_DAYS")))
    p.fingerprint_hex = compute_fingerprint(p).hex()
    db.add(PetitionCount(petition_id=p.id, folded_size=0, count=0, invalidated=0,
                         product_hex="1", refreshed_ms=0))
    db.flush()
    sign_head(db, p, final=False)


def set_thresholds(db: Session, p: Petition, response: object, debate: object) -> None:
    for name, value in (("response", response), ("debate", debate)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 1 <= value <= 100_000_000):
            raise ApiError(400, "invalid_body", f"{name} threshold must be a positive integer")
    if p.state in ("closed", "rejected"):
        raise ApiError(409, "illegal_transition", f"the petition is {p.state}")
    if isinstance(response, int):
        p.response_threshold = response
    if isinstance(debate, int):
        p.debate_threshold = debate
    db.flush()
    _check_thresholds(db, p)


def respond(db: Session, p: Petition, text: object) -> None:
    if not isinstance(text, str) or not text.strip() or len(text) > 50_000:
        raise ApiError(400, "invalid_body", "field 'text' must be a non-empty string")
    _flag(p, "responded")
    p.response_text = text.strip()
    p.responded_at = utcnow()
    db.flush()


def record_debate(db: Session, p: Petition, text: object) -> None:
    if not isinstance(text, str) or not text.strip() or len(text) > 50_000:
        raise ApiError(400, "invalid_body", "field 'text' must be a non-empty string")
    _flag(p, "debated")
    p.debate_text = text.strip()
    p.debated_at = utcnow()
    db.flush()


def close(db: Session, p: Petition) -> PetitionTally:
    """open → closed: final tree head, last count fold, and a region tally request."""
    if not lifecycle.can(p.state, "close"):
        raise _map_illegal(IllegalTransition(p.state, "close"))
    _fold(db, p)  # while still open, so that thresholds crossed by the last batch are marked
    db.execute(update(Petition).where(Petition.id == p.id)
               .values(board_size=Petition.board_size))  # the append lock, no new entry
    db.refresh(p)
    _apply(p, "close")
    p.closed_at = utcnow()
    sign_head(db, p, final=True)
    db.flush()
    _fold(db, p)
    return request_tally(db, p, reason="close")


def close_expired(db: Session, now: dt.datetime | None = None) -> list[int]:
    now = now or utcnow()
    ids = []
    for p in db.scalars(select(Petition).where(Petition.state == "open")).all():
        closes = aware(p.closes_at)
        if closes is not None and closes <= now:
            close(db, p)
            ids.append(p.id)
    return ids
