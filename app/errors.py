"""Error handling: JSON errors under /api/, plain pages elsewhere, never a traceback."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from crypto.errors import (
    CryptoError,
    InvalidBallot,
    InvalidCiphertext,
    InvalidProof,
    InvalidSignature,
)


class ApiError(Exception):
    """A 4xx error with a machine-readable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def crypto_error(exc: CryptoError, *, ballot_code: str = "invalid_ballot") -> ApiError:
    """The 4xx answer to a failed cryptographic check (the typed error names what failed)."""
    if isinstance(exc, InvalidProof):
        return ApiError(400, "invalid_proof", str(exc))
    if isinstance(exc, InvalidCiphertext):
        return ApiError(400, "invalid_ciphertext", str(exc))
    if isinstance(exc, InvalidBallot):
        return ApiError(400, ballot_code, str(exc))
    if isinstance(exc, InvalidSignature):
        return ApiError(403, "invalid_signature", str(exc))
    return ApiError(400, "invalid_encoding", str(exc))


def json_error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), status


def _wants_json() -> bool:
    return request.path.startswith("/api/")


_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited",
}


def _page_message(code: str | None, status: int, detail: str) -> str:
    """An HTML error page's note.  English pages show the English detail; kk/ru pages show
    the code's translated sentence (``app.error_messages``), or nothing when the code has
    none (the page's heading already says what the status means, translated)."""
    from app.error_messages import message_for
    from app.i18n import current_locale

    if current_locale() == "en":
        return detail
    known = message_for(code, status) if code else None
    return known or ""


#: SQLSTATE classes and codes of a database that cannot take the request now but may in a
#: moment: connection exceptions (08), too many connections (53300), shutdown or start-up
#: (57P01–57P03), serialization failure and deadlock (40001, 40P01), lock not available (55P03)
_RETRYABLE_SQLSTATES = ("08", "53300", "57P01", "57P02", "57P03", "40001", "40P01", "55P03")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not take the request *now* (retry), not that
    the request or the schema is wrong: the pool had no free connection; the connection was
    refused, lost or invalidated; a retryable SQLSTATE; SQLite's lock timeout."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_RETRYABLE_SQLSTATES)
    text = str(orig).lower()
    # psycopg before a connection exists (no SQLSTATE yet), and SQLite's busy timeout
    return text.startswith(("connection failed", "the connection is lost",
                            "server closed the connection")) \
        or "database is locked" in text or "database table is locked" in text


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Any:
        if _wants_json():
            return json_error(exc.status, exc.code, exc.message)
        # People read the code's sentence in their language, not the English detail.
        return render_template("error.html", status=exc.status,
                               message=_page_message(exc.code, exc.status, exc.message)), exc.status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        if _wants_json():
            return json_error(400, "csrf", exc.description or "CSRF token missing or invalid")
        return render_template("error.html", status=400, message=gettext(
            "The form expired or its security token is missing; go back, reload and try "
            "again.")), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        code = _CODES.get(status, "error")
        message = exc.description or exc.name
        if status == 413:
            message = "request body too large"
        if _wants_json():
            return json_error(status, code, message)
        return render_template("error.html", status=status,
                               message=_page_message(None, status, message)), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_EXCEPTIONS_IN_TESTS"):
            raise exc
        if _wants_json():
            return json_error(500, "internal", "internal error")
        return render_template("error.html", status=500, message=None), 500

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(exc: Exception) -> Any:
        """The database refused or dropped a connection, or the pool had none free
        (:func:`database_unavailable`): 503 and ``Retry-After``, not a 500.  The request did
        not complete; a cast sent again gets its receipt.  The log names the driver error's
        class and first line only, never the statement or its parameters.  Any other
        ``OperationalError`` (no such table, disk full, a statement cancelled) is a fault a
        retry would meet again: a 500 with its traceback in the log."""
        if not database_unavailable(exc):
            return _unexpected(exc)
        orig = getattr(exc, "orig", None) or exc
        first = (str(orig).splitlines() or [""])[0][:200]
        app.logger.warning("database unavailable on %s %s: %s: %s", request.method,
                           request.path, type(orig).__name__, first)
        message = "the service's database is busy or unreachable; retry in a moment"
        if _wants_json():
            response, status = json_error(503, "unavailable", message)
        else:
            if "current_user" not in g:  # the page's header must not ask the database again
                g.current_user = None
            try:
                page = render_template("error.html", status=503,
                                       message=_page_message(None, 503, message))
            except Exception:  # noqa: BLE001 - rendering met the database too: plain text
                page = message
            response, status = app.make_response((page, 503)), 503
        response.headers["Retry-After"] = "1"
        return response, status
