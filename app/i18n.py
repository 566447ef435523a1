"""Interface languages (Flask-Babel): Kazakh, Russian and English.

The locale of a request is chosen, first match wins, from

1. ``?lang=kk|ru|en`` in the query string (that page only);
2. the ``saylau_lang`` cookie, set by ``POST /lang`` (a CSRF-protected form) or by
   ``GET /lang?lang=..&next=/path`` (a safe, same-site redirect);
3. the browser's ``Accept-Language`` header;
4. English.

Catalogs live in ``app/translations/<locale>/LC_MESSAGES/messages.po`` (compiled to
``.mo`` with ``pybabel compile -d app/translations``; ``babel.cfg`` at the repository
root drives ``pybabel extract``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, request, url_for
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

LOCALES: tuple[str, ...] = ("kk", "ru", "en")
DEFAULT_LOCALE = "en"
COOKIE = "saylau_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
#: Each language named in itself (the switcher shows these; they are never translated).
LANGUAGE_NAMES: dict[str, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

bp = Blueprint("i18n", __name__)
babel = Babel()


def _valid(value: str | None) -> str | None:
    return value if value in LOCALES else None


def select_locale() -> str:
    """Query string, then cookie, then Accept-Language, then English."""
    chosen = _valid(request.args.get("lang")) or _valid(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(LOCALES)
    return best or DEFAULT_LOCALE


def current_locale() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else DEFAULT_LOCALE


def safe_next(target: str | None) -> str:
    """Only same-site absolute paths; anything else goes to the home page."""
    from app.hardening import safe_next as _safe

    return _safe(target, url_for("index"))


def _switch(lang: str | None, target: str | None) -> Response:
    response = redirect(safe_next(target), code=303)
    if _valid(lang):
        response.set_cookie(COOKIE, str(lang), max_age=COOKIE_MAX_AGE, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    return response


@bp.post("/lang")
def set_language_post() -> Any:
    """The header's switcher: a form with ``csrf_token``, ``lang`` and ``next``."""
    return _switch(request.form.get("lang"), request.form.get("next"))


@bp.get("/lang")
def set_language_get() -> Any:
    """``/lang?lang=kk&next=/path``: a link-friendly switch (only a cookie; safe redirect)."""
    return _switch(request.args.get("lang"), request.args.get("next"))


def init_app(app: Flask) -> None:
    """Install Flask-Babel, the ``/lang`` routes and the template globals."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    @app.context_processor
    def _inject_i18n() -> dict[str, Any]:
        return {"lang": current_locale(), "text_dir": "ltr", "languages": LANGUAGE_NAMES}


__all__ = ["LOCALES", "LANGUAGE_NAMES", "init_app", "select_locale", "current_locale",
           "safe_next", "_"]
