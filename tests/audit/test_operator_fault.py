"""Operator faults: an entry no conforming server accepts never blocks the tally.

Both verifiers (``saylau verify`` and tools/second-verifier) name the entry, exclude it,
recompute, decrypt and check the tally of the valid entries, and give the verdict
``operator-fault`` (docs/election-record.md, "Verdicts").
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from audit.record import read_record
from audit.report import Report
from audit.verifier import verify_record
from saylau.cli import main
from tests.recordgen import CHOICES, T0, generate

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "second-verifier" / "verify.mjs"


def _faulty_record(tmp_path: Path) -> tuple[Path, dict[str, dict[str, int]]]:
    g = generate(2)
    ballot, secrets_ = g.encrypt(g.voters[0], CHOICES[2])
    secrets_json = secrets_.to_json()
    secrets_json["zzz-extra"] = copy.deepcopy(secrets_json["budget"])  # attack 1
    g.append({"kind": "audited", "index": len(g.board), "election_id": g.election_id,
              "credential": None, "ballot": ballot.to_json(), "signature": None,
              "secrets": secrets_json, "replaces": None, "cast_at": T0 + 1000 * len(g.board)})
    g.rebuild()
    return g.write(tmp_path / "faulty"), g.expected_results()


def test_python_verifier_names_the_operator_fault(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path, expected = _faulty_record(tmp_path)
    report = verify_record(read_record(path, strict=False), workers=1)
    assert not report.valid
    assert report.verdict == "operator-fault"
    assert [c.name for c in report.failed()] == ["audited-ballots"]
    assert report.operator_faults == ["audited-ballots: entry 4: "
                                      "audited ballot does not open: secrets do not cover exactly "
                                      "the manifest's questions and options"]
    assert report.tally is None and report.valid_entries_tally == expected
    assert "OPERATOR FAULT" in report.render_text()
    assert main(["verify", str(path), "--json", "--workers", "1"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "operator-fault" and doc["valid"] is False
    assert doc["valid_entries_tally"] == expected


def test_verdict_is_invalid_when_a_board_wide_check_fails() -> None:
    report = Report("x", operator_fault_checks=frozenset({"ballot-proofs"}))
    report.add("ballot-proofs", False, "1 problem", ["entry 2: bad"])
    report.add("results", True, "ok")
    assert report.verdict == "operator-fault"
    report.add("board-merkle", False, "root differs", ["board: root"])
    assert report.verdict == "invalid"
    other = Report("y", operator_fault_checks=frozenset({"ballot-proofs"}))
    other.add("ballot-proofs", False, "1 problem", ["entry 2: bad"])
    assert other.verdict == "invalid"  # the tally was not checked


def test_second_verifier_agrees_on_the_operator_fault(tmp_path: Path) -> None:
    path, expected = _faulty_record(tmp_path)
    node = shutil.which("node")
    assert node is not None, "node (tools/second-verifier) is required"
    out = subprocess.run([node, str(VERIFIER), str(path), "--json"], capture_output=True,
                         text=True, check=False, timeout=120)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["verdict"] == "operator-fault" and doc["valid"] is False
    assert [c["name"] for c in doc["checks"] if not c["ok"]] == ["audited-ballots"]
    assert doc["valid_entries_tally"] == expected
