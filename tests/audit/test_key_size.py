"""Issue 10 attack 5: keys below 2048 bits fail verification unless --allow-test-keys."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from audit.record import read_record
from audit.verifier import verify_record
from saylau.cli import main
from tests.recordgen import generate

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "second-verifier" / "verify.mjs"


@pytest.fixture()
def record(tmp_path: Path) -> Path:
    g = generate(1, revote=False, audited=False)
    return g.write(tmp_path / "rec")


def test_library_refuses_a_test_size_key_unless_allowed(record: Path) -> None:
    report = verify_record(read_record(record, strict=False), workers=1, allow_test_keys=False)
    assert not report.valid and report.verdict == "invalid"
    check = report.check("election-fingerprint")
    assert check is not None and not check.ok
    assert any("refused without --allow-test-keys" in d for d in check.details)
    allowed = verify_record(read_record(record, strict=False), workers=1, allow_test_keys=True)
    assert allowed.valid


def test_cli_needs_the_flag(record: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SAYLAU_VERIFY_ALLOW_TEST_KEYS", raising=False)
    assert main(["verify", str(record), "--json", "--workers", "1"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in doc["checks"] if not c["ok"]] == ["election-fingerprint"]
    assert main(["verify", str(record), "--json", "--workers", "1", "--allow-test-keys"]) == 0
    capsys.readouterr()
    node = shutil.which("node")
    assert node is not None, "node (tools/second-verifier) is required"
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([node, str(VERIFIER), str(record), "--json"], capture_output=True,
                         text=True, check=False, timeout=120, env=env)
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert [c["name"] for c in doc["checks"] if not c["ok"]] == ["election-fingerprint"]
    out = subprocess.run([node, str(VERIFIER), str(record), "--json", "--allow-test-keys"],
                         capture_output=True, text=True, check=False, timeout=120, env=env)
    assert out.returncode == 0, out.stdout[-2000:]
