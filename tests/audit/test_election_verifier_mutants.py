"""Unit tests of audit/election_verifier.py for mutation testing (issue #16), on small
in-memory records built from ``tests/audit/fixtures/record-core.json`` (no key generation,
no ballots)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from audit.election_verifier import verify_board_record
from audit.record import Record
from crypto.merkle import root_hash
from crypto.tree_head import sign_tree_head

CORE: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "record-core.json").read_text(encoding="utf-8"))


def _record(change: Any = None) -> Record:
    files = copy.deepcopy(CORE)
    files["board.json"] = []
    files["tree-heads.json"] = []
    if change is not None:
        change(files)
    return Record("mem", {name: b"" for name in files}, files)


@pytest.mark.parametrize("change", [
    lambda f: f["manifest.json"].__setitem__("title", "\ud800"),
    lambda f: f["election.json"].__setitem__("roll", {"mode": "\ud800"}),
    lambda f: f["election.json"]["election_key"].__setitem__("x", "\ud800"),
    lambda f: f["election.json"]["issuer_key"].__setitem__("x", "\ud800"),
], ids=["manifest-title", "roll", "election-key", "issuer-key"])
def test_a_fingerprint_canonical_json_refuses_is_reported(change: Any) -> None:
    # Defect fixed (#16): election_fingerprint's canonical_json refused a lone surrogate
    # (JSON "\ud800") in the manifest or the keys, and the error escaped the verifier
    # (UnicodeEncodeError before canonical_json was fixed, InvalidEncoding after).
    report = verify_board_record(_record(change), allow_test_keys=True).report
    check = report.check("election-fingerprint")
    assert check is not None
    assert (check.ok, check.message) == (False, "election keys unusable: fingerprint: $: a "
                                                "string is not valid Unicode (lone surrogate)")
    assert report.checks[-1] is check
