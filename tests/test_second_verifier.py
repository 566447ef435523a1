"""The second, independent verifier (tools/second-verifier/verify.mjs, Node) against records.

A valid record must pass it with the same tally as ``saylau verify``; tampered copies
(operator re-signing the index, or not) must fail it, naming the failing check.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from audit.record import PARTIALS, RESULTS, write_record
from crypto.encoding import hex_to_int, int_to_hex
from saylau.cli import main
from tests.recordgen import GeneratedElection, generate

ROOT = Path(__file__).resolve().parent.parent
VERIFIER = ROOT / "tools" / "second-verifier" / "verify.mjs"


def _node() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    try:
        major = int(out.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        return None
    return node if major >= 20 else None


NODE = _node()
pytestmark = pytest.mark.skipif(NODE is None, reason="node >= 20 is not installed: "
                                "the second verifier is a Node script")


def _start(*args: str) -> subprocess.Popen[str]:
    assert NODE is not None
    return subprocess.Popen([NODE, str(VERIFIER), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), err
    return proc.returncode, json.loads(out)


def _failed(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["message"] + " | " + " | ".join(c["details"])
            for c in report["checks"] if not c["ok"]}


@functools.cache
def _base() -> GeneratedElection:
    return generate(2)


def _gen() -> GeneratedElection:
    return copy.deepcopy(_base())


def test_self_test_vectors() -> None:
    """Transcript, fingerprint, proof, ballot, credential, RFC 9474 and RFC 6962 vectors."""
    code, report = _finish(_start("--self-test", "--json"))
    assert code == 0, _failed(report)


def test_usage_errors(tmp_path: Path) -> None:
    assert NODE is not None
    for args in ([], [str(tmp_path / "missing")], [str(tmp_path), "extra"]):
        proc = subprocess.run([NODE, str(VERIFIER), *args], capture_output=True, check=False)
        assert proc.returncode == 2


def test_valid_record_and_tampered_copies(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """One valid record and four tampered copies, verified in parallel."""
    valid = _gen().write(tmp_path / "valid")

    # 1. altered ciphertext (adds one vote), board, tree heads, tally and index re-signed
    g = _gen()
    n = g.tpk.n
    sel = g.board[3]["ballot"]["contests"][0]["selections"][1]
    sel["ciphertext"] = int_to_hex(hex_to_int(sel["ciphertext"]) * (1 + n) % (n * n))
    g.rebuild(resign_heads=True)
    altered = write_record(tmp_path / "altered", g.files, g.board_key)

    # 2. changed result, index re-signed
    g = _gen()
    question = next(iter(g.files[RESULTS]))
    option = next(iter(g.files[RESULTS][question]))
    g.files[RESULTS][question][option] += 1
    result = write_record(tmp_path / "result", g.files, g.board_key)

    # 3. wrong partial decryption (trustee 2's c_i squared), index re-signed
    g = _gen()
    part = g.files[PARTIALS][1]["partials"][0]["partial"]
    c_i = hex_to_int(part["c_i"])
    part["c_i"] = int_to_hex(c_i * c_i % (n * n))
    partial = write_record(tmp_path / "partial", g.files, g.board_key)

    # 4. one flipped hex digit in board.json, not re-signed
    flipped = _gen().write(tmp_path / "flipped")
    raw = bytearray((flipped / "board.json").read_bytes())
    pos = raw.rfind(b'"ciphertext":"') + len(b'"ciphertext":"') + 5
    raw[pos] = ord("1") if raw[pos] != ord("1") else ord("2")
    (flipped / "board.json").write_bytes(bytes(raw))

    procs = {name: _start(str(path), "--json") for name, path in
             [("valid", valid), ("altered", altered), ("result", result),
              ("partial", partial), ("flipped", flipped)]}
    reports = {name: _finish(proc) for name, proc in procs.items()}

    code, report = reports["valid"]
    assert code == 0, _failed(report)
    assert report["valid"] is True
    assert main(["verify", str(valid), "--json", "--workers", "1"]) == 0
    python = json.loads(capsys.readouterr().out)
    assert python["valid"] is True
    assert report["tally"] == python["tally"] == _base().expected_results()

    code, report = reports["altered"]
    failed = _failed(report)
    assert code == 1 and report["valid"] is False and report["tally"] is None
    assert "entry 3" in failed["ballot-proofs"]
    assert "entry 3" in failed["ballot-signatures"]
    assert "encrypted-tally" in failed
    assert "record-index" not in failed  # the operator re-signed it

    code, report = reports["result"]
    failed = _failed(report)
    assert code == 1
    assert set(failed) == {"results"}
    assert f"question {question} option {option}" in failed["results"]

    code, report = reports["partial"]
    failed = _failed(report)
    assert code == 1
    assert "trustee 2" in failed["partial-decryptions"]
    assert "record-index" not in failed

    code, report = reports["flipped"]
    failed = _failed(report)
    assert code == 1
    assert "board.json" in failed["record-index"]
