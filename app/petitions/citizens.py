"""Citizens: the e-mail confirmation a citizen needs before sponsoring or signing (POST only)."""

from __future__ import annotations

import datetime as dt

from flask import has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import setting
from app.errors import ApiError
from app.i18n import current_locale
from app.models import User, utcnow
from app.petitions.models import PetitionCitizen
from app.security import aware, new_token, token_hash


def is_confirmed(db: Session, user: User) -> bool:
    row = db.get(PetitionCitizen, user.id)
    return row is not None and row.confirmed_at is not None


def require_citizen(db: Session, user: User) -> None:
    if not (user.has_role("voter") or user.has_role("citizen")):
        raise ApiError(403, "forbidden", "a citizen account is required")
    if not is_confirmed(db, user):
        raise ApiError(403, "unconfirmed", "confirm your e-mail address first "
                       "(POST /api/v1/petitions/confirm-email)")


def request_confirmation(db: Session, user: User, link_base: str) -> str:
    """Create a one-time confirmation token and mail its link; returns the token (tests).

    The mail is in the citizen's language (their account's, else the page's they asked from,
    which then becomes the account's)."""
    from app.mail import mail_language, render_mail, send_mail

    token, digest = new_token()
    row = db.get(PetitionCitizen, user.id)
    if row is None:
        row = PetitionCitizen(user_id=user.id)
        db.add(row)
    row.token_hash = digest
    row.token_expires_at = utcnow() + dt.timedelta(seconds=int(setting("PETITION_CONFIRM_TTL_S")))
    db.flush()
    if user.language is None and has_request_context():
        user.language = current_locale()  # the language the citizen asked in
    subject, body = render_mail(
        "petition_confirmation", mail_language(user.language),
        link=f"{link_base.rstrip('/')}/petitions/confirm/{token}", expires=row.token_expires_at)
    send_mail(db, user.email, subject, body)
    return token


def confirm_token(db: Session, token: str) -> User:
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        raise ApiError(400, "invalid_token", "invalid or expired confirmation token")
    row = db.scalars(select(PetitionCitizen).where(
        PetitionCitizen.token_hash == token_hash(token))).first()
    expires = aware(row.token_expires_at) if row is not None else None
    if row is None or expires is None or expires < utcnow():
        raise ApiError(400, "invalid_token", "invalid or expired confirmation token")
    row.confirmed_at = row.confirmed_at or utcnow()
    row.token_hash = None
    row.token_expires_at = None
    db.flush()
    user = db.get(User, row.user_id)
    assert user is not None
    return user


def token_usable(db: Session, token: str) -> bool:
    """Whether a confirmation link's token is known and unexpired (read only: a GET never confirms)."""
    if not token or len(token) > 100:
        return False
    row = db.scalars(select(PetitionCitizen).where(
        PetitionCitizen.token_hash == token_hash(token))).first()
    expires = aware(row.token_expires_at) if row is not None else None
    return row is not None and expires is not None and expires >= utcnow()
