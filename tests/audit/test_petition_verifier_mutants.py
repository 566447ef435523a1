"""Unit tests of audit/petition_verifier.py for mutation testing (issue #16), on small
in-memory records built from ``tests/audit/fixtures/petition-core.json`` (petition.json and
issuance.json of a generated test petition)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from audit.petition_verifier import verify_petition_record
from audit.record import Record

CORE: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "petition-core.json").read_text(encoding="utf-8"))


def _record(change: Any = None) -> Record:
    files = copy.deepcopy(CORE)
    files["board.json"] = []
    files["tree-heads.json"] = []
    if change is not None:
        change(files)
    return Record("mem", {name: b"" for name in files}, files)


@pytest.mark.parametrize("change", [
    lambda f: f["petition.json"]["election_key"].__setitem__("x", "\ud800"),
    lambda f: f["petition.json"]["issuer_key"].__setitem__("x", "\ud800"),
], ids=["election-key", "issuer-key"])
def test_a_fingerprint_canonical_json_refuses_is_reported(change: Any) -> None:
    # Defect fixed (#16): petition_fingerprint's canonical_json refused a lone surrogate
    # (JSON "\ud800") in a key, and the error escaped the verifier.
    report = verify_petition_record(_record(change), allow_test_keys=True)
    check = report.check("petition-fingerprint")
    assert check is not None
    assert (check.ok, check.message) == (False, "petition keys unusable: fingerprint: $: a "
                                                "string is not valid Unicode (lone surrogate)")
    assert report.checks[-1] is check
