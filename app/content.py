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


def current_language() -> str:
    if not has_request_context():
        return "en"
    loc = get_locale()
    return loc.language if loc is not None else "en"


def label_in(labels: Mapping[str, Any] | None, key: str, fallback: str, lang: str | None = None) -> str:
    """``labels[key][lang]`` (``lang`` defaults to the reader's language), else ``fallback``.

    The fallback is the manifest's plain text (the official's default language), so a reader
    whose language has no translation sees the text every verifier hashes, never a third one.
    """
    if not isinstance(labels, Mapping):
        return fallback
    entry = labels.get(key)
    if not isinstance(entry, Mapping):
        return fallback
    text = entry.get(lang or current_language())
    return text if isinstance(text, str) and text else fallback


def localized_manifest(manifest: Mapping[str, Any], lang: str | None = None) -> dict[str, Any]:
    """A copy of a manifest JSON with ``title``/``label`` texts in the reader's language.

    For display only (booth, results): ids, counts and order are untouched, ``labels`` is
    dropped; the fingerprint is always computed over the stored manifest, never this copy.
    """
    labels = manifest.get("labels")
    out = {k: v for k, v in manifest.items() if k != "labels"}
    out["title"] = label_in(labels, "title", str(manifest.get("title", "")), lang)
    questions = []
    for q in manifest.get("questions", []):
        nq = dict(q)
        nq["title"] = label_in(labels, str(q.get("id")), str(q.get("title", "")), lang)
        nq["options"] = [{**o, "label": label_in(labels, f"{q.get('id')}/{o.get('id')}",
                                                 str(o.get("label", "")), lang)}
                         for o in q.get("options", [])]
        questions.append(nq)
    out["questions"] = questions
    return out


def election_title(election: Any) -> str:
    """Template filter: an election's title in the reader's language (``labels["title"]``)."""
    import json

    try:
        labels = json.loads(election.manifest_json).get("labels")
    except (AttributeError, TypeError, ValueError):
        labels = None
    return label_in(labels, "title", str(getattr(election, "title", "")))


def petition_text(petition: Mapping[str, Any], key: str) -> str:
    """Template filter: a petition's ``title`` or ``action`` in the reader's language.

    Petition translations are display-only (not in the petition parameters or fingerprint,
    docs/protocol.md §7.2); the plain field is the fallback.
    """
    return label_in(petition.get("translations"), key, str(petition.get(key, "")))
