"""Shared petition helpers: configuration defaults, time, lifecycle transitions, lookup.

``cfg`` reads the Flask config with :data:`DEFAULTS` as fallback; ``_apply`` and ``_flag``
drive :mod:`app.petitions.lifecycle` and map an illegal step to HTTP 409.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import User
from app.petitions import lifecycle
from app.petitions.lifecycle import Flags, IllegalTransition
from app.petitions.models import Petition
from app.security import aware

#: The default region scope: Kazakhstan's 17 regions and 3 cities of republican significance.
DEFAULT_REGIONS: tuple[tuple[str, str], ...] = (
    ("abai", "Abai"), ("akmola", "Akmola"), ("aktobe", "Aktobe"),
    ("almaty-region", "Almaty Region"), ("atyrau", "Atyrau"),
    ("east-kazakhstan", "East Kazakhstan"), ("jambyl", "Jambyl"), ("jetisu", "Jetisu"),
    ("karaganda", "Karaganda"), ("kostanay", "Kostanay"), ("kyzylorda", "Kyzylorda"),
    ("mangystau", "Mangystau"), ("north-kazakhstan", "North Kazakhstan"),
    ("pavlodar", "Pavlodar"), ("turkistan", "Turkistan"), ("ulytau", "Ulytau"),
    ("west-kazakhstan", "West Kazakhstan"), ("almaty", "Almaty"), ("astana", "Astana"),
    ("shymkent", "Shymkent"),
)
MAX_PAGE = 500


DEFAULTS: dict[str, Any] = {
    "PETITION_SPONSORS_REQUIRED": 5,
    "PETITION_OPEN_DAYS": 182,          # about 6 months
    "PETITION_RESPONSE_THRESHOLD": 10_000,
    "PETITION_DEBATE_THRESHOLD": 100_000,
    "PETITION_COUNT_MAX_AGE_S": 5.0,    # refresh on read when the count is older
    "PETITION_COUNT_INTERVAL_S": 3.0,   # background folding interval
    "PETITION_COUNT_WORKER": False,     # start the background thread in create_app callers
    "PETITION_CONFIRM_TTL_S": 72 * 3600,
    "PETITION_FLAG_WINDOW_S": 60,
    "PETITION_FLAG_CREDENTIALS_PER_ADDRESS": 20,
    "PETITION_FLAG_SIGNATURES_PER_ADDRESS": 20,
    "PETITION_ELECTION_KEY": None,      # ThresholdPublicKey JSON (the trustees' key)
    "PETITION_CREDENTIAL_LIMIT": "30/minute",
    "PETITION_SIGN_LIMIT": "60/minute",
    # differential-decryption rule D1 (docs/protocol.md §11.6): K
    "PETITION_TALLY_MIN_DIFFERENCE": 10,
}


def cfg(name: str) -> Any:
    return current_app.config.get(name, DEFAULTS[name])


def _iso(value: dt.datetime | None) -> str | None:
    v = aware(value)
    return v.isoformat().replace("+00:00", "Z") if v else None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _map_illegal(exc: IllegalTransition) -> ApiError:
    return ApiError(409, "illegal_transition", str(exc))


def flags_of(p: Petition) -> Flags:
    return Flags(response_threshold_reached=p.response_threshold_reached_at is not None,
                 debate_threshold_reached=p.debate_threshold_reached_at is not None,
                 responded=p.responded_at is not None, debated=p.debated_at is not None)


def _apply(p: Petition, event: str) -> None:
    try:
        p.state = lifecycle.transition(p.state, event)
    except IllegalTransition as exc:
        raise _map_illegal(exc) from exc


def _flag(p: Petition, flag: str) -> None:
    try:
        lifecycle.check_flag(p.state, flags_of(p), flag)
    except IllegalTransition as exc:
        raise _map_illegal(exc) from exc


def get_petition(db: Session, petition_id: object) -> Petition:
    try:
        pid = int(str(petition_id))
    except ValueError:
        raise ApiError(404, "not_found", "unknown petition") from None
    p = db.get(Petition, pid) if 0 < pid < 2**31 else None
    if p is None:
        raise ApiError(404, "not_found", "unknown petition")
    return p


def visible(p: Petition, user: User | None) -> bool:
    if p.state in lifecycle.PUBLIC_STATES or p.state == "collecting_sponsors":
        return True  # (petitions gathering sponsors are reachable by id, never listed)
    return user is not None and (user.id == p.creator_id or user.has_role("moderator"))
