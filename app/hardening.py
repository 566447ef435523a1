"""Edge hardening (issue 10): safe redirects, an input guard, the proxy, global limits.

* :func:`safe_next` — a ``next`` target is a same-site path: starts with one ``/``, no
  ``//`` or ``/\\`` (scheme-relative), no scheme, no backslash, no control character
  (``/%09/evil.example`` decodes to a TAB and browsers drop it: ``//evil.example``).
* :func:`_guard` (``before_request``) — rejects with 400 JSON/HTML, before any view or the
  database sees it: a NUL byte or another C0 control character (except TAB/CR/LF in
  bodies) in the path, a query or form value or key, or a JSON string or key; a query
  value that is an integer outside ``[-(2³¹−1), 2³¹−1]`` (``?start=2147483648``); JSON
  nesting deeper than :data:`MAX_JSON_DEPTH` or an integer outside ``±(2⁵³−1)``;
  query strings or form fields that are not UTF-8.
* ProxyFix with ``PROXY_HOPS`` trusted hops (``SAYLAU_PROXY_HOPS``, default 0 = no proxy):
  the client address, scheme, host and port come from ``X-Forwarded-*`` set by that
  many proxies, so rate limits key on the client and ``Strict-Transport-Security`` is sent
  behind a TLS-terminating proxy (:mod:`app.security` sends it when the request is secure).
* :data:`AUDITED_LIMIT` — a global (not per-address) limit on anonymous audited ballots,
  so the anonymous path keys on no address at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from app import jsontext
from app.errors import ApiError
from app.redirects import CONTROL_STRICT as _CONTROL_STRICT
from app.redirects import safe_next

MAX_JSON_DEPTH = 32
MAX_QUERY_INT = 2**31 - 1
MAX_JSON_INT = 2**53 - 1
#: Anonymous audited ballots: one shared bucket for the whole service (no address key).
AUDITED_LIMIT_DEFAULT = "600/minute;60/second"


def AUDITED_LIMIT() -> str:  # noqa: N802 - used like a constant in the route decorator
    """``AUDITED_BALLOT_LIMIT`` (default 600/minute;60/second), one bucket service-wide."""
    return str(current_app.config.get("AUDITED_BALLOT_LIMIT") or AUDITED_LIMIT_DEFAULT)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTEGER = re.compile(r"^[+-]?\d+$")


def account_key() -> str:
    """Rate-limit key of the account a login names: ``login-account:`` + SHA-256 of the
    normalised e-mail (form field or JSON ``email``), so guesses against one account from
    many addresses share one counter (in Redis when ``RATELIMIT_STORAGE_URI`` is Redis)."""
    email: object = request.form.get("email") if request.form else None
    if email is None and request.is_json:
        try:
            body = request.get_json(silent=True)
        except (RecursionError, ValueError, UnicodeDecodeError):
            body = None  # the view answers 400; the key is then the empty account
        email = body.get("email") if isinstance(body, dict) else None
    text = email.strip().lower() if isinstance(email, str) else ""
    return "login-account:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def account_limit() -> str:
    """``LOGIN_ACCOUNT_LIMIT`` (default 20 per 15 minutes), per account, on top of per address."""
    return str(current_app.config.get("LOGIN_ACCOUNT_LIMIT") or "20 per 15 minutes")


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_input", message)


def _check_text(value: str, where: str, *, strict: bool) -> None:
    if (_CONTROL_STRICT if strict else _CONTROL).search(value):
        raise _bad(f"{where} contains a control character")


def _check_query_int(value: str, where: str) -> None:
    if _INTEGER.match(value.strip()) and abs(int(value)) > MAX_QUERY_INT:
        raise _bad(f"{where} is out of range")


def _walk_json(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise _bad("JSON nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise _bad("JSON string contains a NUL byte")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > MAX_JSON_INT:
            raise _bad("JSON integer out of range")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise _bad("JSON key contains a NUL byte")
            _walk_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk_json(item, depth + 1)


def _pairs(multidict: Any) -> Iterable[tuple[str, str]]:
    for key, values in multidict.lists():
        for value in values:
            yield key, value


#: Endpoints that take a whole voter roll: their body limit is ROLL_MAX_BYTES.
ROLL_ENDPOINTS = frozenset({"api.import_roll", "admin.roll"})


def _guard() -> None:
    if request.endpoint in ROLL_ENDPOINTS:
        from app.services.roll import ROLL_MAX_BYTES

        request.max_content_length = ROLL_MAX_BYTES  # 100,000 rows; this route only
    _check_text(request.path, "the path", strict=True)
    try:
        str(request.environ.get("PATH_INFO", "")).encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError) as exc:
        raise _bad("the path is not UTF-8") from exc
    try:
        request.query_string.decode("utf-8")
        args = list(_pairs(request.args))
    except (UnicodeDecodeError, BadRequest) as exc:
        raise _bad("the query string is not UTF-8") from exc
    for key, value in args:
        _check_text(key, "a query parameter name", strict=True)
        _check_text(value, f"query parameter {key!r}", strict=True)
        _check_query_int(value, f"query parameter {key!r}")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                form = list(_pairs(request.form))
            except (UnicodeDecodeError, ValueError) as exc:
                raise _bad("the form is not UTF-8") from exc
            for key, value in form:
                _check_text(key, "a form field name", strict=True)
                _check_text(value, f"form field {key!r}", strict=False)
            for key, storage in request.files.items():
                if storage.filename and _CONTROL_STRICT.search(storage.filename):
                    raise _bad(f"file name of {key!r} contains a control character")
        elif request.is_json and request.content_length != 0:
            doc = parsed_json_body()
            if doc is not _MALFORMED:
                _walk_json(doc)


#: What :func:`parsed_json_body` returns for a body that is not JSON (the view answers 400).
_MALFORMED = object()


def parsed_json_body() -> Any:
    """The request body parsed once per request (:func:`app.jsontext.loads`), for the input
    guard and then the view (:func:`app.blueprints.api.json_body`); ``_MALFORMED`` when it is
    not JSON."""
    if "saylau_json_body" not in g:
        try:
            g.saylau_json_body = jsontext.loads(request.get_data(cache=True))
        except ValueError:  # UnicodeDecodeError is one; too deep is one (jsontext)
            g.saylau_json_body = _MALFORMED
    return g.saylau_json_body


def json_body_or_none() -> Any:
    """:func:`parsed_json_body`, ``None`` for a body that is not JSON."""
    doc = parsed_json_body()
    return None if doc is _MALFORMED else doc


def init_app(app: Flask) -> None:
    """Install ProxyFix (``PROXY_HOPS``) and the input guard."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops, x_port=hops, x_prefix=hops)
    app.before_request(_guard)


__all__ = ["AUDITED_LIMIT", "account_key", "account_limit", "MAX_JSON_DEPTH", "init_app", "safe_next"]
