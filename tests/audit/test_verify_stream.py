"""``saylau verify`` streams the board (issue #13): board.json is read and checked in chunks
(audit/board_pass.py, tally.verify_board.BoardStream), from a directory or a ``.zip``.

tests/audit/conftest.py verifies every record the audit tests verify from a path twice,
streamed and whole-file, and asserts the full reports are equal (so every tampered record
of tests/audit/test_tampering.py and its friends is compared); this module checks that the
comparison ran, that chunking and zipping do not change the report, the one-pass result
against the in-memory verifier, and peak memory on a 1,000,000-entry board.
"""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from audit.board_pass import stream_board
from audit.election_verifier import verify_election_record
from audit.record import BOARD, read_record
from audit.verifier import verify_record
from saylau.cli import main
from tally.verify_board import MAX_PROBLEMS, verify_board
from tests.audit import conftest
from tests.recordgen import GeneratedElection, generate

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _base() -> GeneratedElection:
    return generate(4)


def _tampered(tmp_path: Path) -> Path:
    """A record whose board has a copied ciphertext and a broken revote chain (re-signed)."""
    gen = copy.deepcopy(_base())
    gen.board[3]["replaces"] = 0
    gen.rebuild(resign_heads=True)
    return gen.write(tmp_path / "tampered")


def _zip(path: Path) -> Path:
    target = path.with_suffix(".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for child in sorted(path.iterdir()):
            z.write(child, f"record/{child.name}")
    return target


def _json(report: Any) -> dict[str, Any]:
    out: dict[str, Any] = report.to_json()
    out.pop("source")
    return out


def test_the_cli_verifies_streamed_and_the_comparison_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _tampered(tmp_path)
    before = len(conftest.COMPARED)
    assert main(["verify", str(path), "--json", "--workers", "1"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["valid"]
    assert conftest.COMPARED[before:] == [(str(path), True)]
    record = read_record(path, strict=False, stream_board=True)
    assert record.board_source == path and BOARD not in record.raw and BOARD not in record.files


@pytest.mark.parametrize("tamper", ["none", "revote"])
def test_zip_and_directory_give_the_same_report(tmp_path: Path, tamper: str) -> None:
    path = _base().write(tmp_path / "rec") if tamper == "none" else _tampered(tmp_path)
    zipped = _zip(path)
    assert read_record(zipped, strict=False, stream_board=True).board_source == zipped
    streamed_dir = verify_record(path, workers=1)
    streamed_zip = verify_record(zipped, workers=2)
    whole = verify_election_record(read_record(zipped, strict=False), workers=1)
    assert _json(streamed_dir) == _json(streamed_zip) == _json(whole)
    assert streamed_dir.valid is (tamper == "none")


@pytest.mark.parametrize("chunk", [1, 2, 5, 64])
def test_chunk_size_does_not_change_the_board_result(tmp_path: Path, chunk: int) -> None:
    """Revotes (the tally re-read), an audited entry and a copy, in chunks of any size."""
    path = _tampered(tmp_path)
    record = read_record(path, strict=False)
    ctx = record.context()
    board = record.get(BOARD)
    whole = verify_board(ctx, board, credentials_issued=record.credentials_issued(), workers=1)
    one_pass = stream_board(path, ctx, credentials_issued=record.credentials_issued(),
                            workers=1, chunk=chunk)
    assert one_pass.result is not None
    assert one_pass.result.problems == whole.problems and whole.problems
    assert [(c.index, c.tracker, c.leaf_hash) for c in one_pass.result.counted] == [
        (c.index, c.tracker, c.leaf_hash) for c in whole.counted]
    assert one_pass.result.tally == whole.tally
    assert list(one_pass.leaves) == whole.leaf_hashes
    assert one_pass.shape_errors == []


def test_meanwhile_runs_once_after_the_board_is_handed_out(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """stream_board's ``meanwhile`` (the tree heads' and the roll's checks of
    ``saylau verify``) runs once, after the last chunk is fed and before ``finish``."""
    from tally.verify_board import BoardStream

    path = _tampered(tmp_path)
    record = read_record(path, strict=False)
    events: list[str] = []
    feed, finish = BoardStream.feed, BoardStream.finish

    def spy_feed(self: BoardStream, entries: Any) -> None:
        events.append("feed")
        feed(self, entries)

    def spy_finish(self: BoardStream, *args: Any) -> Any:
        events.append("finish")
        return finish(self, *args)

    monkeypatch.setattr(BoardStream, "feed", spy_feed)
    monkeypatch.setattr(BoardStream, "finish", spy_finish)
    stream_board(path, record.context(), workers=1, chunk=2,
                 meanwhile=lambda: events.append("meanwhile"))
    assert events.count("feed") >= 3
    assert events[-2:] == ["meanwhile", "finish"] and events.count("meanwhile") == 1
    events.clear()
    stream_board(path, None, chunk=2, meanwhile=lambda: events.append("meanwhile"))
    assert events == ["meanwhile"]  # unusable keys: after the structure pass


def test_unreadable_board_falls_back_to_the_whole_file_error(tmp_path: Path) -> None:
    path = _base().write(tmp_path / "rec")
    (path / BOARD).write_bytes((path / BOARD).read_bytes()[:-3])
    report = verify_record(path, workers=1)
    fmt = report.check("record-format")
    assert fmt is not None and not fmt.ok
    assert any(d.startswith("board.json: not valid JSON") for d in fmt.details)


def test_problems_beyond_the_cap_are_counted(tmp_path: Path) -> None:
    """A board of faulty entries lists MAX_PROBLEMS per check and counts the rest."""
    path = _base().write(tmp_path / "rec")
    n = MAX_PROBLEMS + 7
    (path / BOARD).write_text(json.dumps([{"index": i, "kind": "x"} for i in range(n)]))
    report = verify_record(path, workers=1)
    entries = report.check("board-entries")
    assert entries is not None and not entries.ok
    assert entries.message == f"{n} problem(s)"
    assert len(entries.details) == MAX_PROBLEMS + 1
    assert entries.details[-1] == (f"entries after entry {MAX_PROBLEMS - 1}: 7 more problem(s) "
                                   "of this check, not listed")
    fmt = report.check("record-format")
    assert fmt is not None and fmt.details[-1].endswith("more structure error(s), not listed")


_MAKE = r'''
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("[")
    for i in range(n):
        f.write(("," if i else "") + '{"index": %d, "kind": "ballot", "election_id": "%064x"}'
                % (i, i * 2654435761 % (1 << 256)))
    f.write("]\n")
'''

_MEASURE = r'''
import json, resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "saylau", "verify", sys.argv[1], "--json",
                       "--allow-test-keys"], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
print(json.dumps([proc.returncode, peak, checks["board-entries"]["message"],
                  len(checks["board-entries"]["details"])]))
sys.stderr.write(proc.stderr[-2000:])
'''


@pytest.mark.slow
def test_saylau_verify_memory_on_a_million_entry_board(tmp_path: Path) -> None:
    """``saylau verify`` end to end on a 1,000,000-entry board (entries invalid: memory is
    what this measures): the peak RSS of the verifier and its workers stays ≤ 500 MB."""
    path = _base().write(tmp_path / "rec")
    subprocess.run([sys.executable, "-c", _MAKE, "1000000", str(path / BOARD)], check=True)
    size_mb = (path / BOARD).stat().st_size / 2**20
    assert size_mb > 90
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    code, peak_kb, message, listed = json.loads(proc.stdout)
    assert code == 1, proc.stderr
    peak_mb = peak_kb / 1024
    print(f"saylau verify: peak RSS {peak_mb:.0f} MB on a {size_mb:.0f} MB board")
    assert peak_mb <= 500, f"saylau verify peaked at {peak_mb:.0f} MB on a {size_mb:.0f} MB board"
    # each entry fails two entry checks (election id, then credential): all counted
    assert (message, listed) == ("2000000 problem(s)", MAX_PROBLEMS + 1)
