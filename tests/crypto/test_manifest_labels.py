"""Translations in the election manifest (``labels``, docs/protocol.md §1.4).

Strict validation with typed errors; a manifest without labels hashes exactly as before
(the field is omitted); the labels are hashed into the fingerprint (eq. F1); and the
browser client's ``normalizeManifest`` / fingerprint agree with Python byte for byte.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from crypto.election import MAX_LABEL_CHARS, Manifest, election_fingerprint
from crypto.encoding import canonical_json
from crypto.errors import InvalidEncoding
from tests import js_vectors
from tests.manifests import demo_manifest

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")

LABELS = {
    "title": {"kk": "Сынақ сайлауы", "ru": "Тестовые выборы"},
    "mayor": {"kk": "Әкім (біреуін таңдаңыз)", "ru": "Аким (выберите одного)", "en": "Mayor"},
    "mayor/aigerim": {"kk": "Әйгерім"},
    "budget/yes": {"ru": "Да"},
}


def _with(labels: object) -> dict[str, Any]:
    data = demo_manifest().to_json()
    data["labels"] = labels
    return data


def test_labels_round_trip_and_lookup() -> None:
    m = Manifest.from_json(_with(LABELS))
    assert m.to_json()["labels"] == LABELS
    assert Manifest.from_json(m.to_json()) == m
    assert m.label("mayor", "kk", "x") == "Әкім (біреуін таңдаңыз)"
    assert m.label("mayor/aigerim", "ru", "Aigerim") == "Aigerim"  # falls back to the plain text


def test_no_labels_keeps_the_manifest_and_fingerprint() -> None:
    plain = demo_manifest()
    assert "labels" not in plain.to_json()
    keys = (js_vectors.load_threshold_public_json(), js_vectors.load_issuer_public_json(), bytes(32))
    before = election_fingerprint(plain, *keys)
    # the pre-labels definition of F1's manifest input, written out
    legacy = {"election_id": plain.election_id, "title": plain.title,
              "questions": [q.to_json() for q in plain.questions]}
    assert canonical_json(plain.to_json()) == canonical_json(legacy)
    labelled = Manifest.from_json(_with(LABELS))
    assert election_fingerprint(labelled, *keys) != before  # translations are bound by F1
    changed = copy.deepcopy(LABELS)
    changed["mayor"]["kk"] = "Басқа сұрақ"
    assert election_fingerprint(Manifest.from_json(_with(changed)), *keys) != election_fingerprint(labelled, *keys)


BAD: list[tuple[object, str]] = [
    ({"nosuch": {"kk": "x"}}, "unknown key 'nosuch'"),
    ({"mayor/zz": {"kk": "x"}}, "unknown key 'mayor/zz'"),
    ({"council/yes": {"kk": "x"}}, "unknown key 'council/yes'"),
    ({"title": {"de": "Wahl"}}, "unknown language 'de'"),
    ({"title": {"kk": ""}}, r"text must be 1\.\.1000 characters"),
    ({"title": {"kk": "x" * (MAX_LABEL_CHARS + 1)}}, r"text must be 1\.\.1000 characters"),
    ({"title": {"kk": 5}}, r"text must be 1\.\.1000 characters"),
    ({"title": {}}, "must be a non-empty object"),
    ({"title": "Сайлау"}, "must be a non-empty object"),
    ({}, "must not be empty"),
    ([], "must be an object"),
]


@pytest.mark.parametrize(("labels", "match"), BAD)
def test_bad_labels_are_refused(labels: object, match: str) -> None:
    with pytest.raises(InvalidEncoding, match=match):
        Manifest.from_json(_with(labels))


def test_question_id_title_is_reserved_with_labels() -> None:
    data = demo_manifest().to_json()
    data["questions"][0]["id"] = "title"
    Manifest.from_json(data)  # fine without labels
    data["labels"] = {"title": {"kk": "Сайлау"}}
    with pytest.raises(InvalidEncoding, match="'title' is reserved"):
        Manifest.from_json(data)


def test_label_length_counts_code_points() -> None:
    astral = "\U0001F5F3" * MAX_LABEL_CHARS  # 1000 code points, 2000 UTF-16 units
    Manifest.from_json(_with({"title": {"kk": astral}}))


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_js_normalize_and_fingerprint_agree_with_python() -> None:
    election_key = js_vectors.load_threshold_public_json()
    issuer_key = js_vectors.load_issuer_public_json()
    board_key = bytes(range(32))
    manifests: list[object] = [demo_manifest().to_json(), _with(LABELS),
                               _with({"title": {"kk": "\U0001F5F3" * MAX_LABEL_CHARS}})]
    title_q = demo_manifest().to_json()
    title_q["questions"][0]["id"] = "title"
    title_q["labels"] = {"title": {"kk": "x"}}
    manifests += [_with(labels) for labels, _ in BAD] + [title_q]
    cases = [{"manifest": m, "election_key": election_key, "issuer_key": issuer_key,
              "board_key": board_key.hex()} for m in manifests]
    assert NODE is not None
    proc = subprocess.run([NODE, str(ROOT / "tests" / "js" / "manifest-runner.mjs")],
                          input=json.dumps(cases), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    for manifest_json, js in zip(manifests, results, strict=True):
        try:
            m = Manifest.from_json(manifest_json)
        except InvalidEncoding as exc:
            assert js == {"error": str(exc)}
            continue
        assert "error" not in js, js
        assert canonical_json(js["normalized"]) == canonical_json(m.to_json())
        assert js["fingerprint"] == election_fingerprint(m, election_key, issuer_key, board_key).hex()
