"""Exact messages, boundaries and helpers of crypto/election.py.

Written to kill the survivors of ``tools/mutate … 'crypto/election.py'`` (docs/testing.md,
"Mutation testing", lists the mutants that remain and why they are equivalent).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from crypto.election import (
    _MAX_MS,
    FINGERPRINT_DOMAIN,
    MAX_LABEL_CHARS,
    ElectionRules,
    Manifest,
    Option,
    Question,
    election_fingerprint,
)
from crypto.encoding import canonical_json
from crypto.errors import InvalidEncoding
from crypto.transcript import tagged_hash
from tests.manifests import demo_manifest

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
ID_RULE = "identifiers are 1-64 characters of A-Z a-z 0-9 _ . : -"


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _options(k: int) -> tuple[Option, ...]:
    return tuple(Option(f"o{i}", f"Option {i}") for i in range(k))


def _question(qid: str = "q", k: int = 3, lo: int = 1, hi: int = 1) -> Question:
    return Question(qid, "Question", _options(k), lo, hi)


# --- identifiers, options, questions ----------------------------------------------------


def test_identifier_rule_and_its_boundaries() -> None:
    assert Option.from_json({"id": "a" * 64, "label": "x"}).id == "a" * 64
    assert Option.from_json({"id": "A9_.:-", "label": "x"}).id == "A9_.:-"
    for bad in ("a" * 65, "", "_a", "a b", "ä"):
        with pytest.raises(InvalidEncoding, match=_exact(f"option.id: {ID_RULE}")):
            Option.from_json({"id": bad, "label": "x"})
    with pytest.raises(InvalidEncoding, match=_exact(f"manifest.election_id: {ID_RULE}")):
        Manifest("bad id", "t", (_question(),))


def test_option_and_question_json_field_errors_name_the_place() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("option: missing field 'label'")):
        Option.from_json({"id": "a"})
    with pytest.raises(InvalidEncoding, match=_exact("option: missing field 'id'")):
        Option.from_json({"label": "a"})
    q = _question().to_json()
    with pytest.raises(InvalidEncoding, match=_exact(f"question.id: {ID_RULE}")):
        Question.from_json({**q, "id": "-"})
    with pytest.raises(InvalidEncoding, match=_exact("question: missing field 'id'")):
        Question.from_json({k: v for k, v in q.items() if k != "id"})
    with pytest.raises(InvalidEncoding, match=_exact("manifest.questions[0]: missing field 'id'")):
        Question.from_json({k: v for k, v in q.items() if k != "id"}, "manifest.questions[0]")
    with pytest.raises(InvalidEncoding, match=_exact("question: missing field 'options'")):
        Question.from_json({k: v for k, v in q.items() if k != "options"})
    with pytest.raises(InvalidEncoding, match=_exact("question: missing field 'title'")):
        Question.from_json({k: v for k, v in q.items() if k != "title"})
    with pytest.raises(InvalidEncoding, match=_exact("question.min_selections: expected integer")):
        Question.from_json({**q, "min_selections": True})
    with pytest.raises(InvalidEncoding, match=_exact("question.max_selections: expected int")):
        Question.from_json({**q, "max_selections": "1"})
    with pytest.raises(InvalidEncoding, match=_exact(f"question.options[1].id: {ID_RULE}")):
        Question.from_json({**q, "options": [{"id": "a", "label": "A"}, {"id": "", "label": "B"}]})
    with pytest.raises(InvalidEncoding, match=_exact("question.options[0]: missing field 'label'")):
        Question.from_json({**q, "options": [{"id": "a"}]})
    assert Question.from_json(q) == _question()


def test_question_option_count_bounds() -> None:
    assert len(_question(k=64).options) == 64
    for k in (0, 65):
        with pytest.raises(InvalidEncoding, match=_exact("question q: 1..64 options required")):
            _question(k=k, lo=0, hi=0 if k == 0 else 1)


def test_question_selection_bounds() -> None:
    dup = (Option("a", "A"), Option("a", "B"))
    with pytest.raises(InvalidEncoding, match=_exact("question q: option ids must be unique")):
        Question("q", "t", dup, 1, 1)
    need = _exact("question q: need 0 <= min <= max <= number of options")
    for lo, hi in ((-1, 1), (2, 1), (1, 4)):
        with pytest.raises(InvalidEncoding, match=need):
            _question(lo=lo, hi=hi)
    with pytest.raises(InvalidEncoding, match=_exact("question q: max selections must be at least 1")):
        _question(lo=0, hi=0)
    assert _question(lo=0, hi=3).allowed_counts == (0, 1, 2, 3)
    assert _question(lo=3, hi=3).allowed_counts == (3,)
    assert _question(lo=1, hi=1).allowed_counts == (1,)


# --- manifest ----------------------------------------------------------------------------


def test_manifest_question_count_and_uniqueness() -> None:
    assert len(Manifest("e", "t", tuple(_question(f"q{i}") for i in range(64))).questions) == 64
    for qs in ((), tuple(_question(f"q{i}") for i in range(65))):
        with pytest.raises(InvalidEncoding, match=_exact("manifest: 1..64 questions required")):
            Manifest("e", "t", qs)
    with pytest.raises(InvalidEncoding, match=_exact("manifest: question ids must be unique")):
        Manifest("e", "t", (_question("q"), _question("q")))


def test_manifest_json_field_errors_name_the_place() -> None:
    data = demo_manifest().to_json()
    with pytest.raises(InvalidEncoding, match=_exact("manifest: missing field 'questions'")):
        Manifest.from_json({k: v for k, v in data.items() if k != "questions"})
    with pytest.raises(InvalidEncoding, match=_exact("manifest: missing field 'election_id'")):
        Manifest.from_json({k: v for k, v in data.items() if k != "election_id"})
    with pytest.raises(InvalidEncoding, match=_exact("manifest: missing field 'title'")):
        Manifest.from_json({k: v for k, v in data.items() if k != "title"})
    with pytest.raises(InvalidEncoding, match=_exact(f"manifest.election_id: {ID_RULE}")):
        Manifest.from_json({**data, "election_id": "x y"})
    bad_q = {**data["questions"][1], "id": "?"}
    with pytest.raises(InvalidEncoding, match=_exact(f"manifest.questions[1].id: {ID_RULE}")):
        Manifest.from_json({**data, "questions": [data["questions"][0], bad_q]})
    bad_o = {**data["questions"][2], "options": [{"id": "yes"}]}
    with pytest.raises(InvalidEncoding,
                       match=_exact("manifest.questions[0].options[0]: missing field 'label'")):
        Manifest.from_json({**data, "questions": [bad_o]})


def test_manifest_without_labels() -> None:
    plain = demo_manifest()
    assert plain == Manifest(plain.election_id, plain.title, plain.questions)
    assert plain.labels == ()
    assert plain.labels_json() == {}
    assert plain.label("mayor", "kk", "Mayor") == "Mayor"


def test_manifest_lookups() -> None:
    m = Manifest.from_json({**demo_manifest().to_json(), "labels": {"mayor": {"kk": "Әкім"}}})
    assert m.label("mayor", "kk", "Mayor") == "Әкім"
    assert m.label("mayor", "en", "Mayor") == "Mayor"
    assert m.label("council", "kk", "Council") == "Council"  # key without labels: the fallback
    assert m.question("council").id == "council"
    with pytest.raises(KeyError, match="^'nosuch'$"):
        m.question("nosuch")
    assert m.labels == (("mayor", (("kk", "Әкім"),)),)
    assert m.to_json() == {**demo_manifest().to_json(), "labels": {"mayor": {"kk": "Әкім"}}}
    assert Manifest.from_json(m.to_json()) == m


def _labelled(labels: object) -> dict[str, Any]:
    return {**demo_manifest().to_json(), "labels": labels}


@pytest.mark.parametrize(("labels", "message"), [
    ([], "manifest.labels: must be an object"),
    ({}, "manifest.labels: must not be empty (omit the field instead)"),
    ({"nosuch": {"kk": "x"}}, "manifest.labels: unknown key 'nosuch'"),
    ({"title": {}}, "manifest.labels['title']: must be a non-empty object"),
    ({"title": "x"}, "manifest.labels['title']: must be a non-empty object"),
    ({"title": {"de": "x"}}, "manifest.labels['title']: unknown language 'de'"),
    ({"title": {"kk": ""}}, "manifest.labels['title']['kk']: text must be 1..1000 characters"),
    ({"mayor/bolat": {"ru": "x" * (MAX_LABEL_CHARS + 1)}},
     "manifest.labels['mayor/bolat']['ru']: text must be 1..1000 characters"),
])
def test_label_messages(labels: object, message: str) -> None:
    with pytest.raises(InvalidEncoding, match=_exact(message)):
        Manifest.from_json(_labelled(labels))


def test_label_text_boundaries_and_sorting() -> None:
    m = Manifest.from_json(_labelled({"title": {"ru": "Б", "kk": "x" * MAX_LABEL_CHARS},
                                      "budget/yes": {"en": "Y"}}))
    assert m.labels == (("budget/yes", (("en", "Y"),)),
                        ("title", (("kk", "x" * MAX_LABEL_CHARS), ("ru", "Б"))))


def test_reserved_title_question_message() -> None:
    data = demo_manifest().to_json()
    data["questions"][0]["id"] = "title"
    data["labels"] = {"title": {"kk": "x"}}
    with pytest.raises(InvalidEncoding, match=_exact(
            "manifest.labels: question id 'title' is reserved when labels are given")):
        Manifest.from_json(data)


def test_labels_are_checked_on_direct_construction() -> None:
    q = (_question(),)
    with pytest.raises(InvalidEncoding, match=_exact("manifest.labels: unknown key 'zz'")):
        Manifest("e", "t", q, (("zz", (("kk", "x"),)),))
    assert Manifest("e", "t", q, (("q/o1", (("en", "x"),)),)).label("q/o1", "en", "-") == "x"


# --- fingerprint -------------------------------------------------------------------------


def test_fingerprint_is_eq_f1() -> None:
    m = demo_manifest()
    ek, ik, bk = {"n": "0f"}, {"n": "ff", "e": "10001"}, bytes(range(32))
    roll = {"mode": "enrolled", "size": 1, "root": "00" * 32}
    rules = ElectionRules("no-revote", T0, None, 60).to_json()
    head = [("manifest", canonical_json(m.to_json())), ("election_key", canonical_json(ek)),
            ("issuer_key", canonical_json(ik)), ("board_key", bk)]
    assert FINGERPRINT_DOMAIN == "saylau/v1/election-fingerprint"
    assert election_fingerprint(m, ek, ik, bk) == tagged_hash(FINGERPRINT_DOMAIN, *head)
    assert election_fingerprint(m, ek, ik, bk, roll, rules) == tagged_hash(
        FINGERPRINT_DOMAIN, *head, ("roll", canonical_json(roll)), ("rules", canonical_json(rules)))
    assert election_fingerprint(m, ek, ik, bk, None, rules) == tagged_hash(
        FINGERPRINT_DOMAIN, *head, ("rules", canonical_json(rules)))
    for size in (31, 33):
        with pytest.raises(InvalidEncoding, match=_exact("board public key must be 32 bytes (Ed25519)")):
            election_fingerprint(m, ek, ik, bytes(size))


# --- rules -------------------------------------------------------------------------------


def test_rules_type_checks_apply_to_every_field() -> None:
    def msg(name: str) -> str:
        return _exact(f"rules: {name} must be a non-negative integer")

    with pytest.raises(InvalidEncoding, match=msg("opens_at")):
        ElectionRules("no-revote", None, None, 60)  # type: ignore[arg-type]
    with pytest.raises(InvalidEncoding, match=msg("opens_at")):
        ElectionRules("no-revote", -1, None, 60)
    with pytest.raises(InvalidEncoding, match=msg("closes_at")):
        ElectionRules("no-revote", T0, 1.9e12, 60)  # type: ignore[arg-type]
    with pytest.raises(InvalidEncoding, match=msg("closes_at")):
        ElectionRules("no-revote", T0, True, 60)
    # after a window without a scheduled close the granularity is still type-checked
    with pytest.raises(InvalidEncoding, match=msg("time_granularity_s")):
        ElectionRules("no-revote", T0, None, True)
    with pytest.raises(InvalidEncoding, match=msg("time_granularity_s")):
        ElectionRules("no-revote", T0, None, "60")  # type: ignore[arg-type]
    with pytest.raises(InvalidEncoding, match=msg("time_granularity_s")):
        ElectionRules("no-revote", T0, T0 + 1, _MAX_MS + 1)


def test_rules_boundaries() -> None:
    ElectionRules("last-counts", 0, _MAX_MS, 86_400)
    ElectionRules("last-counts", 0, 1, 1)
    assert ElectionRules("last-counts", 0, None, 1).earliest_cast_at_ms == 0
    with pytest.raises(InvalidEncoding, match=_exact("rules: closes_at must be a non-negative integer")):
        ElectionRules("last-counts", 0, _MAX_MS + 1, 60)
    for g in (0, 86_401):
        with pytest.raises(InvalidEncoding, match=_exact("rules.time_granularity_s must be 1..86400")):
            ElectionRules("last-counts", 0, None, g)
    with pytest.raises(InvalidEncoding,
                       match=_exact("rules.voting_window: closes_at must be after opens_at")):
        ElectionRules("last-counts", T0, T0, 60)
    with pytest.raises(InvalidEncoding, match=_exact(
            "rules.revote_policy must be one of ('last-counts', 'no-revote')")):
        ElectionRules("Last-counts", T0, None, 60)


def test_earliest_cast_at_floors_to_the_granularity() -> None:
    assert ElectionRules("no-revote", T0 + 59_999, None, 60).earliest_cast_at_ms == T0
    assert ElectionRules("no-revote", T0 + 60_000, None, 60).earliest_cast_at_ms == T0 + 60_000
    assert ElectionRules("no-revote", T0 + 1, None, 1).earliest_cast_at_ms == T0


def test_rules_json_messages() -> None:
    good = ElectionRules("no-revote", T0, None, 60).to_json()
    assert good == {"revote_policy": "no-revote", "time_granularity_s": 60,
                    "voting_window": {"opens_at": T0, "closes_at": None}}
    top = "expected exactly revote_policy, time_granularity_s, voting_window"
    with pytest.raises(InvalidEncoding, match=_exact(f"rules: {top}")):
        ElectionRules.from_json([good])
    with pytest.raises(InvalidEncoding, match=_exact(f"rules: {top}")):
        ElectionRules.from_json({k: v for k, v in good.items() if k != "revote_policy"})
    with pytest.raises(InvalidEncoding, match=_exact(f"election.rules: {top}")):
        ElectionRules.from_json({**good, "x": 1}, "election.rules")
    window = "expected exactly opens_at, closes_at"
    with pytest.raises(InvalidEncoding, match=_exact(f"rules.voting_window: {window}")):
        ElectionRules.from_json({**good, "voting_window": [T0, None]})
    with pytest.raises(InvalidEncoding, match=_exact(f"r.voting_window: {window}")):
        ElectionRules.from_json({**good, "voting_window": {"opens_at": T0}}, "r")
    assert ElectionRules.from_json(good) == ElectionRules("no-revote", T0, None, 60)
