"""Drafting: create and edit drafts, submit them, and gather sponsors through the share link.

Every state change goes through :mod:`app.petitions.lifecycle`.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import setting
from app.errors import ApiError
from app.models import User, utcnow
from app.petitions import lifecycle
from app.petitions.citizens import require_citizen
from app.petitions.common import DEFAULT_REGIONS, _apply
from app.petitions.models import Petition, PetitionSponsor
from app.petitions.parameters import params_of
from app.security import new_token, token_hash
from crypto.blind_rsa import IssuerPrivateKey
from crypto.tree_head import BoardSigningKey

ISSUER_KEY_BITS = 2048


def _text(data: dict[str, Any], key: str, max_len: int, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise ApiError(400, "invalid_body", f"field {key!r} must be a non-empty string of at most "
                       f"{max_len} characters")
    return value.strip()


def _regions(value: object) -> list[dict[str, str]]:
    known = dict(DEFAULT_REGIONS)
    if value is None:
        return [{"id": i, "label": label} for i, label in DEFAULT_REGIONS]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ApiError(400, "invalid_regions", "regions must be a non-empty list of region ids")
    if len(set(value)) != len(value):
        raise ApiError(400, "invalid_regions", "regions repeat")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise ApiError(400, "invalid_regions", f"unknown region(s): {', '.join(unknown[:5])}")
    return [{"id": i, "label": known[i]} for i, _ in DEFAULT_REGIONS if i in value]


#: the translatable petition fields and their length limits (as for the plain fields)
TRANSLATABLE = {"title": 300, "action": 2000}
TRANSLATION_LANGUAGES = ("kk", "ru", "en")


def _translations(value: object) -> str | None:
    """Validate ``{"title"|"action": {"kk"|"ru"|"en": text}}``; JSON to store, or None if empty.

    Display-only: a viewer sees the text in their language, else the plain field.  Blank
    texts are dropped; unknown fields or languages and over-long texts are a 400.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_translations", "translations must be an object")
    out: dict[str, dict[str, str]] = {}
    for key, entry in value.items():
        if key not in TRANSLATABLE:
            raise ApiError(400, "invalid_translations", f"translations: unknown field {key!r}")
        if not isinstance(entry, dict):
            raise ApiError(400, "invalid_translations", f"translations.{key} must be an object")
        for lang, text in entry.items():
            if lang not in TRANSLATION_LANGUAGES:
                raise ApiError(400, "invalid_translations", f"translations.{key}: unknown language {lang!r}")
            if not isinstance(text, str) or len(text) > TRANSLATABLE[key]:
                raise ApiError(400, "invalid_translations",
                               f"translations.{key}.{lang}: text of at most {TRANSLATABLE[key]} characters")
            if text.strip():
                out.setdefault(key, {})[lang] = text.strip()
    return json.dumps(out, ensure_ascii=False, sort_keys=True) if out else None


def create_draft(db: Session, user: User, data: dict[str, Any]) -> tuple[Petition, str]:
    """A new draft with fresh issuer and board keys; returns it and the sponsor share token."""
    require_citizen(db, user)
    title = _text(data, "title", 300, required=True)
    action = _text(data, "action", 2000, required=True)
    background = _text(data, "background", 5000, required=False) or ""
    details = _text(data, "details", 10_000, required=False) or ""
    regions = _regions(data.get("regions"))
    test_key = current_app.config.get("TEST_ISSUER_KEY")
    sk = test_key if isinstance(test_key, IssuerPrivateKey) else IssuerPrivateKey.generate(ISSUER_KEY_BITS)
    board = BoardSigningKey.generate()
    token, digest = new_token()
    p = Petition(
        title=title, action=action, background=background, details=details,
        regions_json=json.dumps(regions), state="draft", creator_id=user.id,
        translations_json=_translations(data.get("translations")),
        share_token_hash=digest, sponsors_required=int(setting("PETITION_SPONSORS_REQUIRED")),
        response_threshold=int(setting("PETITION_RESPONSE_THRESHOLD")),
        debate_threshold=int(setting("PETITION_DEBATE_THRESHOLD")),
        issuer_private_pem=sk.to_pem().decode("ascii"),
        issuer_public_json=json.dumps(sk.public_key().to_json()),
        board_seed_hex=board.to_seed_hex(), board_public_hex=board.public_key_bytes().hex(),
        board_size=0, insecure_test_keys=False,
    )
    db.add(p)
    db.flush()
    params_of(p)  # validates the region list against crypto.petition's rules
    return p, token


def update_draft(db: Session, p: Petition, user: User, data: dict[str, Any]) -> None:
    if user.id != p.creator_id:
        raise ApiError(403, "forbidden", "only the creator may edit a draft")
    if not lifecycle.editable(p.state):
        raise ApiError(409, "illegal_transition", f"a petition that is {p.state} cannot be edited")
    for key, max_len in (("title", 300), ("action", 2000), ("background", 5000), ("details", 10_000)):
        value = _text(data, key, max_len, required=False)
        if value is not None:
            if key in ("title", "action") and not value:
                raise ApiError(400, "invalid_body", f"field {key!r} must not be empty")
            setattr(p, key, value)
    if "regions" in data:
        p.regions_json = json.dumps(_regions(data["regions"]))
    if "translations" in data:
        p.translations_json = _translations(data["translations"])
    db.flush()


def submit(db: Session, p: Petition, user: User) -> None:
    """draft → collecting_sponsors (→ pending_moderation at once when no sponsors are needed)."""
    if user.id != p.creator_id:
        raise ApiError(403, "forbidden", "only the creator may submit a draft")
    _apply(p, "submit")
    p.submitted_at = utcnow()
    _maybe_sponsored(db, p)
    db.flush()


def sponsor_count(db: Session, petition_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(PetitionSponsor)
                         .where(PetitionSponsor.petition_id == petition_id)) or 0)


def _maybe_sponsored(db: Session, p: Petition) -> None:
    if p.state == "collecting_sponsors" and sponsor_count(db, p.id) >= p.sponsors_required:
        _apply(p, "sponsors_complete")


def check_share_token(p: Petition, token: object) -> None:
    if not isinstance(token, str) or len(token) > 100 or not hmac.compare_digest(
            token_hash(token), p.share_token_hash):
        raise ApiError(403, "invalid_share_token", "this sponsor link is not valid")


def add_sponsor(db: Session, p: Petition, user: User, token: object) -> None:
    check_share_token(p, token)
    require_citizen(db, user)
    if not lifecycle.accepts_sponsors(p.state):
        raise ApiError(409, "illegal_transition", f"a petition that is {p.state} takes no sponsors")
    if user.id == p.creator_id:
        raise ApiError(409, "own_petition", "you cannot sponsor your own petition")
    if db.scalars(select(PetitionSponsor.id).where(PetitionSponsor.petition_id == p.id,
                                                   PetitionSponsor.user_id == user.id)).first():
        raise ApiError(409, "already_sponsored", "you already sponsor this petition")
    db.add(PetitionSponsor(petition_id=p.id, user_id=user.id))
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise ApiError(409, "already_sponsored", "you already sponsor this petition") from exc
    _maybe_sponsored(db, p)
    db.flush()
