"""The election manifest and the election fingerprint.

The manifest says what is asked; the fingerprint binds every proof to one election
(docs/protocol.md §1.4)::

    fingerprint = SHA-256 transcript("saylau/v1/election-fingerprint",
                    manifest     = canonical_json(manifest),
                    election_key = canonical_json(threshold public key),
                    issuer_key   = canonical_json(RFC 9474 issuer public key),
                    board_key    = Ed25519 public key bytes,
                    [roll        = canonical_json(roll commitment)],
                    [rules       = canonical_json(revote policy, voting window, granularity)])
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crypto.encoding import canonical_json, require
from crypto.errors import InvalidEncoding
from crypto.transcript import tagged_hash

FINGERPRINT_DOMAIN = "saylau/v1/election-fingerprint"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_QUESTIONS = 64
MAX_OPTIONS = 64
#: languages a manifest's ``labels`` may carry (docs/protocol.md §1.4, "Translations")
LABEL_LANGUAGES = ("kk", "ru", "en")
#: most Unicode code points in one translated text
MAX_LABEL_CHARS = 1000
#: the ``labels`` key of the election title (a question may not use this id when labels exist)
TITLE_KEY = "title"


def _check_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidEncoding(f"{where}: identifiers are 1-64 characters of A-Z a-z 0-9 _ . : -")
    return value


@dataclass(frozen=True)
class Option:
    id: str
    label: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label}

    @classmethod
    def from_json(cls, obj: object, where: str = "option") -> Option:
        return cls(_check_id(require(obj, "id", str, where), where + ".id"),
                   require(obj, "label", str, where))


@dataclass(frozen=True)
class Question:
    """A question: choose between ``min_selections`` and ``max_selections`` options."""

    id: str
    title: str
    options: tuple[Option, ...]
    min_selections: int
    max_selections: int

    def __post_init__(self) -> None:
        if not self.options or len(self.options) > MAX_OPTIONS:
            raise InvalidEncoding(f"question {self.id}: 1..{MAX_OPTIONS} options required")
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise InvalidEncoding(f"question {self.id}: option ids must be unique")
        if not 0 <= self.min_selections <= self.max_selections <= len(self.options):
            raise InvalidEncoding(
                f"question {self.id}: need 0 <= min <= max <= number of options")
        if self.max_selections < 1:
            raise InvalidEncoding(f"question {self.id}: max selections must be at least 1")

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)

    @property
    def allowed_counts(self) -> tuple[int, ...]:
        return tuple(range(self.min_selections, self.max_selections + 1))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "options": [o.to_json() for o in self.options],
            "min_selections": self.min_selections,
            "max_selections": self.max_selections,
        }

    @classmethod
    def from_json(cls, obj: object, where: str = "question") -> Question:
        options = require(obj, "options", list, where)
        return cls(
            id=_check_id(require(obj, "id", str, where), where + ".id"),
            title=require(obj, "title", str, where),
            options=tuple(Option.from_json(o, f"{where}.options[{i}]") for i, o in enumerate(options)),
            min_selections=require(obj, "min_selections", int, where),
            max_selections=require(obj, "max_selections", int, where),
        )


Labels = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


def _check_labels(obj: object, questions: tuple[Question, ...]) -> Labels:
    """Validate a ``labels`` map ``{key: {lang: text}}`` and return it sorted, as tuples.

    Keys: ``"title"``, a question id, or ``"<question id>/<option id>"`` of this manifest;
    languages: ``kk``, ``ru``, ``en``; texts: 1..``MAX_LABEL_CHARS`` code points.  The map
    and every entry must be non-empty (an absent map is written by omitting the field).
    """
    if not isinstance(obj, dict):
        raise InvalidEncoding("manifest.labels: must be an object")
    if not obj:
        raise InvalidEncoding("manifest.labels: must not be empty (omit the field instead)")
    known = {TITLE_KEY}
    for q in questions:
        if q.id == TITLE_KEY:
            raise InvalidEncoding("manifest.labels: question id 'title' is reserved when labels are given")
        known.add(q.id)
        known.update(f"{q.id}/{o.id}" for o in q.options)
    out = []
    for key in sorted(obj):
        if key not in known:
            raise InvalidEncoding(f"manifest.labels: unknown key {key!r}")
        entry = obj[key]
        if not isinstance(entry, dict) or not entry:
            raise InvalidEncoding(f"manifest.labels[{key!r}]: must be a non-empty object")
        texts = []
        for lang in sorted(entry):
            if lang not in LABEL_LANGUAGES:
                raise InvalidEncoding(f"manifest.labels[{key!r}]: unknown language {lang!r}")
            text = entry[lang]
            if not isinstance(text, str) or not 1 <= len(text) <= MAX_LABEL_CHARS:
                raise InvalidEncoding(
                    f"manifest.labels[{key!r}][{lang!r}]: text must be 1..{MAX_LABEL_CHARS} characters")
            texts.append((lang, text))
        out.append((key, tuple(texts)))
    return tuple(out)


@dataclass(frozen=True)
class Manifest:
    """What an election asks.  ``election_id`` is also the credential scope.

    ``labels`` holds optional translations (``{key: {lang: text}}`` as sorted tuples); it is
    part of the manifest JSON, hence of the fingerprint (eq. F1), and omitted when empty.
    """

    election_id: str
    title: str
    questions: tuple[Question, ...]
    labels: Labels = ()

    def __post_init__(self) -> None:
        _check_id(self.election_id, "manifest.election_id")
        if not self.questions or len(self.questions) > MAX_QUESTIONS:
            raise InvalidEncoding(f"manifest: 1..{MAX_QUESTIONS} questions required")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise InvalidEncoding("manifest: question ids must be unique")
        if self.labels:
            _check_labels(self.labels_json(), self.questions)

    def labels_json(self) -> dict[str, dict[str, str]]:
        """``labels`` as the JSON object ``{key: {lang: text}}``."""
        return {key: dict(texts) for key, texts in self.labels}

    def label(self, key: str, lang: str, fallback: str) -> str:
        """The text of ``key`` in ``lang``, else ``fallback`` (the plain manifest text)."""
        return self.labels_json().get(key, {}).get(lang, fallback)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "election_id": self.election_id,
            "title": self.title,
            "questions": [q.to_json() for q in self.questions],
        }
        if self.labels:  # omitted when empty: manifests without translations hash as before
            out["labels"] = self.labels_json()
        return out

    @classmethod
    def from_json(cls, obj: object) -> Manifest:
        questions_json = require(obj, "questions", list, "manifest")
        questions = tuple(Question.from_json(q, f"manifest.questions[{i}]")
                          for i, q in enumerate(questions_json))
        labels: Labels = ()
        if isinstance(obj, dict) and "labels" in obj:
            labels = _check_labels(obj["labels"], questions)
        return cls(
            election_id=_check_id(require(obj, "election_id", str, "manifest"), "manifest.election_id"),
            title=require(obj, "title", str, "manifest"),
            questions=questions,
            labels=labels,
        )


def election_fingerprint(manifest: Manifest, election_key_json: dict[str, Any],
                         issuer_key_json: dict[str, Any], board_public_key: bytes,
                         roll: dict[str, Any] | None = None,
                         rules: dict[str, Any] | None = None) -> bytes:
    """The 32-byte election fingerprint (eq. F1 in docs/protocol.md).

    ``roll``: the roll commitment ``{"mode", "size", "root"}`` (:mod:`crypto.roll`), appended
    as a fifth field ``("roll", canonical_json(roll))``; ``None`` only for an election
    without a roll (legacy login mode, which ``saylau verify`` fails).
    ``rules``: :meth:`ElectionRules.to_json` (revote policy, voting window, time
    granularity), appended last as ``("rules", canonical_json(rules))``; ``None`` only for
    records made before the rules were bound (``saylau verify`` fails them).
    """
    if len(board_public_key) != 32:
        raise InvalidEncoding("board public key must be 32 bytes (Ed25519)")
    parts = [
        ("manifest", canonical_json(manifest.to_json())),
        ("election_key", canonical_json(election_key_json)),
        ("issuer_key", canonical_json(issuer_key_json)),
        ("board_key", board_public_key),
    ]
    if roll is not None:
        parts.append(("roll", canonical_json(roll)))
    if rules is not None:
        parts.append(("rules", canonical_json(ElectionRules.from_json(rules).to_json())))
    return tagged_hash(FINGERPRINT_DOMAIN, *parts)


#: revote policies (docs/protocol.md §5.3); ``tally.entry_checks.REVOTE_POLICIES`` is the same
RULE_REVOTE_POLICIES = ("last-counts", "no-revote")
#: the largest ms time accepted in the rules (year 9999)
_MAX_MS = 253_402_300_799_999


@dataclass(frozen=True)
class ElectionRules:
    """The counting rules bound into the fingerprint (eq. F1's ``rules`` field, §1.4).

    ``revote_policy``; the voting window ``opens_at_ms`` ≤ t < ``closes_at_ms`` (Unix ms,
    UTC; ``closes_at_ms`` None = until an official closes the election, i.e. the final
    tree head); ``time_granularity_s``: board ``cast_at`` times are floored to this many
    seconds, so a verifier accepts ``floor_G(opens_at_ms) ≤ cast_at < closes_at_ms``.
    """

    revote_policy: str
    opens_at_ms: int
    closes_at_ms: int | None
    time_granularity_s: int

    def __post_init__(self) -> None:
        if self.revote_policy not in RULE_REVOTE_POLICIES:
            raise InvalidEncoding(f"rules.revote_policy must be one of {RULE_REVOTE_POLICIES}")
        for name, value in (("opens_at", self.opens_at_ms), ("closes_at", self.closes_at_ms),
                            ("time_granularity_s", self.time_granularity_s)):
            if value is None and name == "closes_at":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_MS:
                raise InvalidEncoding(f"rules: {name} must be a non-negative integer")
        if not 1 <= self.time_granularity_s <= 86_400:
            raise InvalidEncoding("rules.time_granularity_s must be 1..86400")
        if self.closes_at_ms is not None and self.closes_at_ms <= self.opens_at_ms:
            raise InvalidEncoding("rules.voting_window: closes_at must be after opens_at")

    @property
    def earliest_cast_at_ms(self) -> int:
        """``floor_G(opens_at)``: the earliest board ``cast_at`` an honest ballot can carry."""
        g = self.time_granularity_s * 1000
        return self.opens_at_ms - self.opens_at_ms % g

    def to_json(self) -> dict[str, Any]:
        return {
            "revote_policy": self.revote_policy,
            "time_granularity_s": self.time_granularity_s,
            "voting_window": {"opens_at": self.opens_at_ms, "closes_at": self.closes_at_ms},
        }

    @classmethod
    def from_json(cls, obj: object, where: str = "rules") -> ElectionRules:
        if not isinstance(obj, dict) or set(obj) != {"revote_policy", "time_granularity_s",
                                                     "voting_window"}:
            raise InvalidEncoding(f"{where}: expected exactly revote_policy, "
                                  "time_granularity_s, voting_window")
        window = obj["voting_window"]
        if not isinstance(window, dict) or set(window) != {"opens_at", "closes_at"}:
            raise InvalidEncoding(f"{where}.voting_window: expected exactly opens_at, closes_at")
        return cls(obj["revote_policy"], window["opens_at"], window["closes_at"],
                   obj["time_granularity_s"])
