"""Interface languages (Flask-Babel): Kazakh, Russian and English.

The locale of a request is chosen, first match wins, from

1. ``?lang=kk|ru|en`` in the query string (that page only);
2. the ``saylau_lang`` cookie, set by ``POST /lang`` (a CSRF-protected form) or by
   ``GET /lang?lang=..&next=/path`` (a safe, same-site redirect);
3. the browser's ``Accept-Language`` header;
4. English.

Dates are shown per locale in the display time zone (``BABEL_DEFAULT_TIMEZONE``, by default
``Asia/Almaty``, UTC+5 for the whole country since March 2024) through the Jinja filters
``datetime_local`` (date and time, to the minute) and ``date_local`` (the date alone); they
accept an aware ``datetime`` or an ISO 8601 string and never show seconds or microseconds.
Counts go through ``number_local`` (the locale's digit grouping).

A logged-in person who switches the language also makes it the language of their e-mails
(``User.language``).

Catalogs live in ``app/translations/<locale>/LC_MESSAGES/messages.po`` (compiled to
``.mo`` with ``pybabel compile -d app/translations``; ``babel.cfg`` at the repository
root drives ``pybabel extract``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask import Blueprint, Flask, redirect, request, url_for
from flask_babel import Babel, get_locale, get_timezone
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.redirects import safe_next as _safe_next

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


def _as_datetime(value: dt.datetime | dt.date | str) -> dt.datetime | dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # the database stores UTC
    return value


def datetime_local(value: dt.datetime | dt.date | str | None, locale: str | None = None) -> str:
    """``value`` as the locale's long date and short time in the display time zone, e.g.
    «29 ноября 2026 г., 14:05», «2026 ж. 29 қараша, 14:05», "November 29, 2026, 2:05 PM"."""
    if value is None or value == "":
        return ""
    moment = _as_datetime(value)
    loc = Locale.parse(locale or current_locale())
    if not isinstance(moment, dt.datetime):
        return format_date(moment, "long", locale=loc)
    moment = moment.astimezone(get_timezone())
    pattern = str(loc.datetime_formats["long"]).replace("'", "")
    return (pattern.replace("{1}", format_date(moment, "long", locale=loc))
            .replace("{0}", format_time(moment, "short", locale=loc)))


def date_local(value: dt.datetime | dt.date | str | None, locale: str | None = None) -> str:
    """The date alone (a petition's deadline), in the display time zone."""
    if value is None or value == "":
        return ""
    moment = _as_datetime(value)
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(get_timezone()).date()
    return format_date(moment, "long", locale=Locale.parse(locale or current_locale()))


def number_local(value: int | float | None, locale: str | None = None) -> str:
    """A count with the locale's digit grouping: «10 000» (kk, ru), "10,000" (en)."""
    if value is None:
        return ""
    return str(format_decimal(value, locale=Locale.parse(locale or current_locale())))


def date_format_data(locale: str | None = None) -> dict[str, Any]:
    """For browsers whose Intl lacks the locale (Chromium builds without Kazakh data): the
    locale's month names (format context: «қараша», «ноября») and a template of
    :func:`datetime_local` with ``{y} {d} {MMMM} {HH} {mm}`` slots, read by
    ``static/js/page-api.js``."""
    loc = Locale.parse(locale or current_locale())
    months = [format_date(dt.date(2026, month, 1), "MMMM", locale=loc) for month in range(1, 13)]
    sample = dt.datetime(2026, 11, 29, 14, 5, tzinfo=get_timezone())
    template = datetime_local(sample, str(loc))
    for value, slot in ((months[10], "{MMMM}"), ("2026", "{y}"), ("29", "{d}"), ("14", "{HH}"),
                        ("05", "{mm}")):
        template = template.replace(value, slot, 1)
    return {"months": months, "template": template}


def safe_next(target: str | None) -> str:
    """Only same-site absolute paths; anything else goes to the home page."""
    return _safe_next(target, url_for("index"))


def _switch(lang: str | None, target: str | None) -> Response:
    response = redirect(safe_next(target), code=303)
    if _valid(lang):
        _remember_for_mail(str(lang))
        response.set_cookie(COOKIE, str(lang), max_age=COOKIE_MAX_AGE, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    return response


def _remember_for_mail(lang: str) -> None:
    """A logged-in person's choice becomes the language of their e-mails."""
    from app.db import get_session
    from app.security import current_user

    user = current_user()
    if user is not None and user.language != lang:
        user.language = lang
        get_session().commit()


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
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Almaty")
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.add_template_filter(datetime_local, "datetime_local")
    app.add_template_filter(date_local, "date_local")
    app.add_template_filter(number_local, "number_local")
    from app.content import election_title, petition_text

    app.add_template_filter(election_title, "election_title")
    app.add_template_filter(petition_text, "petition_text")

    @app.context_processor
    def _inject_i18n() -> dict[str, Any]:
        from app.error_messages import catalogue

        return {"lang": current_locale(), "text_dir": "ltr", "languages": LANGUAGE_NAMES,
                "error_messages": catalogue, "date_format_data": date_format_data}


__all__ = ["LOCALES", "LANGUAGE_NAMES", "init_app", "select_locale", "current_locale",
           "safe_next", "datetime_local", "date_local", "number_local", "_"]
