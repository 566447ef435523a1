"""Passwords (argon2id), hashed tokens, the current user, and security headers."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_app_context,
    redirect,
    request,
    session,
    url_for,
)
from sqlalchemy import delete, select

from app.db import get_session
from app.models import ApiToken, User, UserSession, utcnow

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) defaults
#: tests only (TESTING and FAST_PASSWORD_HASH): cheap parameters, never in production
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_dummy_hashes: dict[int, str] = {}

F = TypeVar("F", bound=Callable[..., Any])

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; worker-src 'self'; "
    "form-action 'self'"
)


def _password_hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("TESTING") and \
            current_app.config.get("FAST_PASSWORD_HASH"):
        return _fast_hasher
    return _hasher


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random password: verifying against it keeps failed logins constant-time."""
    if id(hasher) not in _dummy_hashes:
        _dummy_hashes[id(hasher)] = hasher.hash(secrets.token_hex(16))
    return _dummy_hashes[id(hasher)]


def check_password(user: User | None, password: str) -> bool:
    """argon2id verification; runs a dummy verification when there is no user."""
    hasher = _password_hasher()
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash(hasher)
    try:
        ok = hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and user is not None and user.password_hash is not None


def new_token() -> tuple[str, str]:
    """A fresh URL-safe token and the SHA-256 hex stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes: treat them as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def login_user(user: User) -> None:
    """Start a server-side session: a fresh random id in the cookie, its hash in the DB."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    db = get_session()
    db.add(UserSession(user_id=user.id, sid_hash=token_hash(sid)))
    db.commit()
    session["user_id"] = user.id
    session["sid"] = sid
    session.permanent = True


def end_sessions(db: Any, user_id: int) -> None:
    """End every browser session of the user (logout, password change); caller commits."""
    db.execute(delete(UserSession).where(UserSession.user_id == user_id))


def logout_user() -> None:
    """Logout ends every session of the user, not only this browser's."""
    user_id = session.get("user_id")
    if isinstance(user_id, int) and _session_valid(user_id):
        db = get_session()
        end_sessions(db, user_id)
        db.commit()
    session.clear()


def _session_valid(user_id: int) -> bool:
    sid = session.get("sid")
    if not isinstance(sid, str):
        return False
    row = get_session().scalars(select(UserSession).where(
        UserSession.sid_hash == token_hash(sid))).first()
    if row is None or row.user_id != user_id:
        return False
    created = aware(row.created_at)
    lifetime = dt.timedelta(seconds=int(current_app.config.get("PERMANENT_SESSION_LIFETIME",
                                                               8 * 3600)))
    return created is not None and created + lifetime > utcnow()


def current_user() -> User | None:
    if "current_user" not in g:
        user = None
        user_id = session.get("user_id")
        if isinstance(user_id, int) and _session_valid(user_id):
            user = get_session().get(User, user_id)
        g.current_user = user
    result: User | None = g.current_user
    return result


def bearer_user() -> User | None:
    """The user behind an ``Authorization: Bearer`` token, or None."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    digest = token_hash(header[len("Bearer "):].strip())
    row = get_session().scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    expires = aware(row.expires_at)
    if expires is None or expires < utcnow():
        return None
    return get_session().get(User, row.user_id)


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def role_required(role: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.path))
            if not user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def register(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.path.startswith("/api/") or session.get("user_id"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {"current_user": current_user()}
