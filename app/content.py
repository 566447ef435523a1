"""Multilingual election and petition content: pick the reader's language, with a fallback.

Officials may give titles, questions and options in Kazakh, Russian and English.  The
translations travel in a ``labels`` map ``{key: {lang: text}}`` (keys: ``"title"``,
``"<question id>"``, ``"<question id>/<option id>"``), which is part of the manifest and
hashed into the fingerprint like everything else (docs/sections, "Multilingual content").
The plain ``title``/``label`` fields stay the fallback text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import has_request_context
from flask_babel import get_locale

#: the order in which a missing language falls back
FALLBACK_ORDER = ("kk", "ru", "en")


def current_language() -> str:
    if not has_request_context():
        return "en"
    loc = get_locale()
    return loc.language if loc is not None else "en"


def label_in(labels: Mapping[str, Any] | None, key: str, fallback: str, lang: str | None = None) -> str:
    """``labels[key][lang]``, else the first of kk/ru/en present, else ``fallback``."""
    if not isinstance(labels, Mapping):
        return fallback
    entry = labels.get(key)
    if not isinstance(entry, Mapping):
        return fallback
    for code in (lang or current_language(), *FALLBACK_ORDER):
        text = entry.get(code)
        if isinstance(text, str) and text.strip():
            return text
    return fallback
