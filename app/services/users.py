"""Accounts, password and one-time-link login, API bearer tokens."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.i18n import LOCALES
from app.models import ROLES, ApiToken, LoginToken, User, utcnow
from app.security import aware, check_password, hash_password, new_token, token_hash

EMAIL_RE = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def valid_email(email: str) -> bool:
    return bool(EMAIL_RE.fullmatch(email)) and len(email) <= 254


def find_user(db: Session, email: str) -> User | None:
    return db.scalars(select(User).where(User.email == normalise_email(email))).first()


def get_or_create_user(
    db: Session, email: str, name: str = "", roles: tuple[str, ...] = ("voter",),
    password: str | None = None, language: str | None = None,
    trustee_index: int | None = None,
) -> User:
    """Find the account for ``email`` or create it; adds ``roles`` to an existing one.

    ``language`` (``kk``/``ru``/``en``), chosen at registration or on a roll import, is the
    language of the person's e-mails; it fills in an account that has none yet.
    """
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
    if language is not None and language not in LOCALES:
        raise ValueError(f"unknown language {language!r}")
    user = find_user(db, email)
    if user is None:
        user = User(email=normalise_email(email), name=name, roles=" ".join(roles))
        db.add(user)
    else:
        current = user.role_list
        user.roles = " ".join(current + [r for r in roles if r not in current])
        if name and not user.name:
            user.name = name
    if language is not None and user.language is None:
        user.language = language
    if trustee_index is not None:
        user.trustee_index = trustee_index
    if password is not None:
        if user.id is not None:
            set_password(db, user, password)
        else:
            user.password_hash = hash_password(password)
    db.flush()
    return user


def check_trustee_index(user: User, index: int) -> None:
    """A trustee account uploads partial decryptions for its own trustee index only.

    Bound account (``users.trustee_index``): another index is 403 ``wrong_trustee``.  Unbound
    account: 403 ``trustee_unbound`` when ``TRUSTEE_BINDING_REQUIRED`` (the default).
    """
    from app.config import setting
    from app.errors import ApiError

    if user.trustee_index is None:
        if setting("TRUSTEE_BINDING_REQUIRED"):
            raise ApiError(403, "trustee_unbound", "this trustee account is not bound to a "
                           "trustee index (saylau user bind-trustee)")
        return
    if user.trustee_index != index:
        raise ApiError(403, "wrong_trustee", f"this account is trustee {user.trustee_index}, "
                       f"not trustee {index}")


def set_password(db: Session, user: User, password: str) -> None:
    """Change the password and end every session and API token of the user (caller commits)."""
    from app.models import ApiToken
    from app.security import end_sessions

    user.password_hash = hash_password(password)
    end_sessions(db, user.id)
    db.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def authenticate(db: Session, email: str, password: str) -> User | None:
    user = find_user(db, email) if valid_email(normalise_email(email)) else None
    return user if check_password(user, password) else None


def create_login_token(db: Session, user: User, ttl_s: int) -> str:
    """A one-time login token (returned once; only its SHA-256 is stored)."""
    token, digest = new_token()
    db.add(LoginToken(user_id=user.id, token_hash=digest,
                      expires_at=utcnow() + dt.timedelta(seconds=ttl_s)))
    db.flush()
    return token


def peek_login_token(db: Session, token: str) -> LoginToken | None:
    """The unused, unexpired token row (GET shows a confirm form; nothing is consumed)."""
    row = db.scalars(select(LoginToken).where(LoginToken.token_hash == token_hash(token))).first()
    if row is None or row.used_at is not None:
        return None
    expires = aware(row.expires_at)
    if expires is None or expires < utcnow():
        return None
    return row


def consume_login_token(db: Session, token: str) -> User | None:
    """POST confirm: mark the token used and return its user (or None)."""
    row = peek_login_token(db, token)
    if row is None:
        return None
    row.used_at = utcnow()
    db.flush()
    return db.get(User, row.user_id)


def create_api_token(db: Session, user: User, ttl_s: int) -> tuple[str, dt.datetime]:
    token, digest = new_token()
    expires = utcnow() + dt.timedelta(seconds=ttl_s)
    db.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=expires))
    db.flush()
    return token, expires


def require_email(value: object) -> str:
    if not isinstance(value, str) or not valid_email(normalise_email(value)):
        raise ApiError(400, "invalid_email", "a valid e-mail address is required")
    return normalise_email(value)
