"""eq. F1's ``rules`` field: revote policy, voting window and time granularity (§1.4 "Rules")."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from crypto.election import ElectionRules, election_fingerprint
from crypto.errors import InvalidEncoding
from tests import js_vectors
from tests.manifests import demo_manifest

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000
ROLL = {"mode": "enrolled", "size": 3, "root": "ab" * 32}


def _rules(**change: Any) -> dict[str, Any]:
    out: dict[str, Any] = ElectionRules("no-revote", T0 + HOUR // 2, T0 + 10 * HOUR, 3600).to_json()
    for key, value in change.items():
        if key in ("opens_at", "closes_at"):
            out["voting_window"][key] = value
        else:
            out[key] = value
    return out


def _fp(rules: dict[str, Any] | None, roll: dict[str, Any] | None = ROLL) -> bytes:
    return election_fingerprint(demo_manifest(), js_vectors.load_threshold_public_json(),
                                js_vectors.load_issuer_public_json(), bytes(range(32)), roll, rules)


def test_rules_json_round_trip_and_floor() -> None:
    rules = ElectionRules.from_json(_rules())
    assert rules.to_json() == _rules()
    # cast_at is floored to whole hours: a ballot cast 10 minutes after a 00:30 opening
    # carries cast_at 00:00, which the verifier must accept
    assert rules.earliest_cast_at_ms == T0
    assert ElectionRules("last-counts", T0, None, 60).earliest_cast_at_ms == T0


@pytest.mark.parametrize(("change", "match"), [
    ({"revote_policy": "many"}, "revote_policy"),
    ({"opens_at": -1}, "opens_at"),
    ({"opens_at": "2026-01-01T00:00:00Z"}, "opens_at"),
    ({"opens_at": True}, "opens_at"),
    ({"closes_at": T0}, "closes_at must be after opens_at"),
    ({"closes_at": 1.5e12}, "closes_at"),
    ({"time_granularity_s": 0}, "time_granularity_s"),
    ({"time_granularity_s": 86_401}, "time_granularity_s"),
    ({"extra": 1}, "expected exactly"),
])
def test_bad_rules_are_refused(change: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidEncoding, match=match):
        ElectionRules.from_json(_rules(**change))
    with pytest.raises(InvalidEncoding, match=match):
        _fp(_rules(**change))


def test_window_field_missing_is_refused() -> None:
    bad = _rules()
    del bad["voting_window"]["closes_at"]
    with pytest.raises(InvalidEncoding, match="expected exactly opens_at, closes_at"):
        ElectionRules.from_json(bad)


@pytest.mark.parametrize("change", [
    {"revote_policy": "last-counts"},      # the policy changed after voting
    {"closes_at": T0 + 11 * HOUR},         # the window extended
    {"closes_at": None},                   # the scheduled close dropped
    {"opens_at": T0},                      # the window opened earlier
    {"time_granularity_s": 60},
])
def test_every_rule_changes_the_fingerprint(change: dict[str, Any]) -> None:
    assert _fp(_rules(**change)) != _fp(_rules())


def test_rules_are_a_separate_field() -> None:
    """Without rules (and roll) F1 is the four-field hash of before; with them it differs."""
    assert _fp(None, None) == election_fingerprint(
        demo_manifest(), js_vectors.load_threshold_public_json(),
        js_vectors.load_issuer_public_json(), bytes(range(32)))
    assert _fp(_rules(), None) != _fp(None, None)
    assert _fp(_rules()) != _fp(_rules(), None)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_browser_fingerprint_with_roll_and_rules_is_byte_identical() -> None:
    """app/static/js/crypto/election.js computes the same F1 with roll and rules."""
    variants: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        (ROLL, _rules()), (None, _rules(closes_at=None)), (ROLL, None), (None, None),
        (ROLL, _rules(revote_policy="last-counts", time_granularity_s=1)),
        (ROLL, _rules(closes_at=T0)),  # refused by both
    ]
    cases = [{"manifest": demo_manifest().to_json(),
              "election_key": js_vectors.load_threshold_public_json(),
              "issuer_key": js_vectors.load_issuer_public_json(),
              "board_key": bytes(range(32)).hex(), "roll": roll, "rules": rules}
             for roll, rules in variants]
    assert NODE is not None
    proc = subprocess.run([NODE, str(ROOT / "tests" / "js" / "manifest-runner.mjs")],
                          input=json.dumps(cases), capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    for (roll, rules), js in zip(variants, results, strict=True):
        try:
            expected = _fp(rules, roll).hex()
        except InvalidEncoding:
            assert "error" in js and "closes_at must be after opens_at" in js["error"]
            continue
        assert js.get("fingerprint") == expected, js
