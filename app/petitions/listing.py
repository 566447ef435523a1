"""Public read views: a petition's public JSON and list summary, listing with filters, and
search for similar titles."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.clock import iso_z
from app.errors import ApiError
from app.petitions import lifecycle
from app.petitions.counts import count_of
from app.petitions.drafting import sponsor_count
from app.petitions.models import Petition, PetitionCount
from app.petitions.parameters import log_id, params_of, regions_of, scope_id
from app.petitions.region_tally import region_results_json
from app.petitions.signing import signers_count


def translations_of(p: Petition) -> dict[str, dict[str, str]]:
    """The display-only translations ``{"title"|"action": {lang: text}}`` (may be empty)."""
    return json.loads(p.translations_json) if p.translations_json else {}


def summary_json(db: Session, p: Petition) -> dict[str, Any]:
    count, _ = count_of(db, p)
    return {"id": p.id, "title": p.title, "translations": translations_of(p),
            "state": p.state, "signatures": count,
            "created_at": iso_z(p.created_at), "opened_at": iso_z(p.opened_at),
            "closes_at": iso_z(p.closes_at), "response_threshold_reached": p.response_threshold_reached_at is not None,
            "responded": p.responded_at is not None, "debated": p.debated_at is not None,
            "rejection_code": p.rejection_code}


def public_json(db: Session, p: Petition) -> dict[str, Any]:
    count, folded = count_of(db, p)
    row = db.get(PetitionCount, p.id)
    return {
        "id": p.id, "scope_id": scope_id(p.id), "title": p.title, "action": p.action,
        "translations": translations_of(p),
        "background": p.background, "details": p.details, "state": p.state,
        "regions": [r.to_json() for r in regions_of(p)],
        "flags": {"response_threshold_reached": p.response_threshold_reached_at is not None,
                  "debate_threshold_reached": p.debate_threshold_reached_at is not None,
                  "responded": p.responded_at is not None, "debated": p.debated_at is not None},
        "signatures": count, "counted_board_size": folded,
        "invalidated": row.invalidated if row is not None else 0,
        "counted_at_ms": row.refreshed_ms if row is not None else None,
        "board_size": p.board_size, "credentials_issued": signers_count(db, p.id),
        "sponsors": {"required": p.sponsors_required, "count": sponsor_count(db, p.id)},
        "thresholds": {
            "response": {"threshold": p.response_threshold, "reached_at": iso_z(p.response_threshold_reached_at)},
            "debate": {"threshold": p.debate_threshold, "reached_at": iso_z(p.debate_threshold_reached_at)}},
        "response": {"text": p.response_text, "at": iso_z(p.responded_at)} if p.response_text else None,
        "debate": {"text": p.debate_text, "at": iso_z(p.debated_at)} if p.debate_text else None,
        "rejection": {"code": p.rejection_code, "note": p.rejection_note} if p.state == "rejected" else None,
        "created_at": iso_z(p.created_at), "opened_at": iso_z(p.opened_at),
        "closes_at": iso_z(p.closes_at), "closed_at": iso_z(p.closed_at),
        "parameters": params_of(p).to_json(),
        "issuer_public_key": json.loads(p.issuer_public_json),
        "board_public_key": p.board_public_hex, "log_id": log_id(p.id),
        "election_public_key": json.loads(p.election_key_json) if p.election_key_json else None,
        "fingerprint": p.fingerprint_hex, "insecure_test_keys": p.insecure_test_keys,
        "region_results": region_results_json(db, p),
    }


_WORD = re.compile(r"\w{3,}", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return sorted({w.lower() for w in _WORD.findall(text)})[:12]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def similar(db: Session, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Open (and pending) petitions sharing words with ``q``, ranked by token overlap."""
    words = _tokens(q)
    if not words:
        return []
    rows = db.scalars(select(Petition).where(
        Petition.state.in_(("open", "pending_moderation", "collecting_sponsors")),
        or_(*[func.lower(Petition.title).like(_like(w), escape="\\") for w in words])).limit(200)).all()
    scored = []
    for p in rows:
        title_words = set(_tokens(p.title))
        overlap = len(title_words & set(words)) + sum(0.5 for w in words if w in p.title.lower())
        scored.append((overlap / max(1, len(words)), p))
    scored.sort(key=lambda x: (-x[0], -x[1].id))
    return [{"id": p.id, "title": p.title, "state": p.state, "score": round(s, 3)}
            for s, p in scored[:limit]]


def list_petitions(db: Session, *, state: str | None, q: str | None, sort: str, page: int,
                   per_page: int) -> tuple[list[Petition], int]:
    query = select(Petition).outerjoin(PetitionCount, PetitionCount.petition_id == Petition.id).where(
        Petition.state.in_(lifecycle.PUBLIC_STATES))
    if state:
        if state not in lifecycle.PUBLIC_FILTERS:
            raise ApiError(400, "invalid_parameter", "state must be one of " + ", ".join(lifecycle.PUBLIC_FILTERS))
        if state == "awaiting_response":
            query = query.where(Petition.state.in_(("open", "closed")),
                                Petition.response_threshold_reached_at.is_not(None),
                                Petition.responded_at.is_(None))
        elif state == "responded":
            query = query.where(Petition.responded_at.is_not(None))
        elif state == "debated":
            query = query.where(Petition.debated_at.is_not(None))
        else:
            query = query.where(Petition.state == state)
    if q:
        words = _tokens(q) or [q.strip().lower()]
        for w in words:
            query = query.where(func.lower(Petition.title).like(_like(w), escape="\\"))
    if sort not in ("signatures", "date"):
        raise ApiError(400, "invalid_parameter", "sort must be 'signatures' or 'date'")
    total = int(db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    order = ((func.coalesce(PetitionCount.count, 0).desc(), Petition.id.desc()) if sort == "signatures"
             else (Petition.created_at.desc(), Petition.id.desc()))
    rows = db.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total
