"""The petition JSON API's blueprint and request helpers (routes: :mod:`app.petitions.api`).

Authentication as in :mod:`app.blueprints.api` (bearer token, or session + ``X-CSRFToken``).
Every error is ``{"error": {"code", "message"}}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter.util import get_remote_address

from app.config import setting
from app.db import get_session
from app.errors import ApiError
from app.models import User
from app.petitions import (
    common,
    exports,
)
from app.petitions.models import Petition
from app.security import bearer_user, current_user

bp = Blueprint("petitions_api", __name__, url_prefix="/api/v1/petitions")


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _account_key() -> str:
    user = bearer_user() or current_user()
    return f"user:{user.id}" if user is not None else f"addr:{get_remote_address()}"


def _credential_limit() -> str:
    return str(setting("PETITION_CREDENTIAL_LIMIT"))


def _sign_limit() -> str:
    return str(setting("PETITION_SIGN_LIMIT"))


def _int_arg(name: str, default: int, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 10 or not minimum <= int(raw) <= maximum:
        raise ApiError(400, "invalid_parameter", f"query parameter {name!r} must be an integer "
                       f"in [{minimum}, {maximum}]")
    return int(raw)


def _optional_user() -> User | None:
    return bearer_user() or current_user()


def _petition(pid: int, *, public: bool = True) -> Petition:
    db = get_session()
    p = common.get_petition(db, pid)
    if public and not common.visible(p, _optional_user()):
        raise ApiError(404, "not_found", "unknown petition")
    return p


def _csv_response(rows: list[list[Any]], name: str) -> Response:
    return Response(exports.csv_text(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _wants_csv() -> bool:
    return request.args.get("format") == "csv" or request.path.endswith(".csv")


