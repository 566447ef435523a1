"""Shared petition helpers: regions, lifecycle transitions, lookup.

Settings live in :mod:`app.config`; ``_apply`` and ``_flag`` drive :mod:`app.petitions.lifecycle` and map an illegal step to HTTP 409.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import User
from app.petitions import lifecycle
from app.petitions.lifecycle import Flags, IllegalTransition
from app.petitions.models import Petition

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
