"""Translated display labels for the petition pages (states, filters, reasons, regions).

The ids (``open``, ``not_responsibility``, ``almaty-region``…) stay as they are in the
database, the API and every form value; only what a person reads is translated, at
render time, in the request's locale (Flask-Babel).  Petition states carry the message
context ``petition state`` (Russian: *петиция* is feminine, unlike *выборы*, so "open"
is «открыта» here and «открыты» on the election pages).  An unknown id falls back to the
id with underscores as spaces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask_babel import format_date, format_decimal, format_time, pgettext
from flask_babel import gettext as _

from app import regions
from app.i18n import current_locale


def _fallback(value: str) -> str:
    return value.replace("_", " ")


def state_label(state: str) -> str:
    """A petition's state (``lifecycle.STATES``) for display."""
    labels = {
        "draft": pgettext("petition state", "draft"),
        "collecting_sponsors": pgettext("petition state", "collecting sponsors"),
        "pending_moderation": pgettext("petition state", "pending moderation"),
        "open": pgettext("petition state", "open"),
        "rejected": pgettext("petition state", "rejected"),
        "closed": pgettext("petition state", "closed"),
    }
    return labels.get(state, _fallback(state))


def filter_label(name: str) -> str:
    """A public list filter (``lifecycle.PUBLIC_FILTERS``) for the list page's select."""
    labels = {
        "open": pgettext("petition filter", "open"),
        "awaiting_response": pgettext("petition filter", "awaiting response"),
        "responded": pgettext("petition filter", "responded"),
        "debated": pgettext("petition filter", "debated"),
        "closed": pgettext("petition filter", "closed"),
        "rejected": pgettext("petition filter", "rejected"),
    }
    return labels.get(name, _fallback(name))


def reason_label(code: str) -> str:
    """A moderator's rejection reason (``lifecycle.REJECTION_CODES``)."""
    labels = {
        "duplicate": pgettext("rejection reason", "duplicate"),
        "not_responsibility": pgettext("rejection reason", "not responsibility"),
        "offensive": pgettext("rejection reason", "offensive"),
        "unclear": pgettext("rejection reason", "unclear"),
        "already_exists": pgettext("rejection reason", "already exists"),
        "other": pgettext("rejection reason", "other"),
    }
    return labels.get(code, _fallback(code))


def flag_label(kind: str) -> str:
    """A moderation flag's kind (flags are shown to moderators only)."""
    labels = {
        "credential_burst": _("many credentials from one address"),
        "signature_burst": _("many signatures from one address"),
    }
    return labels.get(kind, _fallback(kind))


def region_label(region_id: str, fallback: str | None = None) -> str:
    """A region's full official name (``app.regions``) in the current language.

    «Акмолинская область», «Ақмола облысы», "Akmola Region"; cities «город Астана»,
    «Астана қаласы», "Astana City".  The id is never translated; an unknown id shows
    ``fallback`` (the label stored with the petition) or the id.
    """
    return regions.name(region_id, current_locale(), fallback)


def region_options(rows: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(id, label)`` pairs with translated labels, sorted by name in the current language
    (the draft form's checkboxes)."""
    rows = list(rows)
    stored = dict(rows)
    order = regions.display_order([rid for rid, _ in rows], current_locale())
    return [(rid, region_label(rid, stored[rid])) for rid in order]


def translate_region_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``{"id", "label", …}`` rows with the label translated, sorted by name in the
    current language (the chart, the sign page).  Only the display is sorted: a petition's
    packing order stays in its parameters, and the browser encodes a region by its id."""
    by_id = {str(row["id"]): row for row in rows}
    order = regions.display_order(list(by_id), current_locale())
    return [{**by_id[rid], "label": region_label(rid, str(by_id[rid].get("label", rid)))}
            for rid in order]


def _parse(iso: str | None) -> dt.datetime | None:
    if not iso:
        return None
    try:
        value = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def when_date(iso: str | None) -> str:
    """An ISO timestamp of the API as a date in the reader's language («29 мамыр 2027 ж.»)."""
    value = _parse(iso)
    return format_date(value, "long") if value is not None else ""


def when(iso: str | None) -> str:
    """An ISO timestamp as date and minutes in the reader's language (no seconds, no microseconds)."""
    value = _parse(iso)
    if value is None:
        return ""
    return f"{format_date(value, 'long')}, {format_time(value, 'short')}"


def number(value: int) -> str:
    """A count with the locale's digit grouping (10 000 / 10,000)."""
    return format_decimal(value)


#: For ``Blueprint.context_processor``: the label helpers as template globals.
TEMPLATE_HELPERS: dict[str, Any] = {
    "state_label": state_label, "filter_label": filter_label, "reason_label": reason_label,
    "flag_label": flag_label, "region_label": region_label,
    "when": when, "when_date": when_date, "number": number,
}
