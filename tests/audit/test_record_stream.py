"""Streaming board reader (audit/record_stream.py): same entries and digest as the whole-file
parser, strict JSON, and memory flat in the board size."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from audit.record import BOARD, parse_json, write_record
from audit.record_stream import board_chunks, board_digest, iter_json_array
from tests.recordgen import GeneratedElection, generate

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _gen() -> GeneratedElection:
    return generate(3)


@pytest.mark.parametrize("zipped", [False, True])
def test_same_entries_and_digest_as_the_whole_file(tmp_path: Path, zipped: bool) -> None:
    gen = _gen()
    path = write_record(tmp_path / "rec", gen.files, gen.board_key)
    raw = (path / BOARD).read_bytes()
    if zipped:
        target = tmp_path / "rec.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for child in path.iterdir():
                z.write(child, f"rec/{child.name}")
        path = target
    h = hashlib.sha256()
    chunks = list(board_chunks(path, chunk=2, hasher=h))
    assert [e for c in chunks for e in c] == parse_json(raw)
    assert all(len(c) <= 2 for c in chunks)
    assert h.hexdigest() == hashlib.sha256(raw).hexdigest() == board_digest(path)


@pytest.mark.parametrize("read_bytes", [1, 7, 4096])
def test_element_boundaries_across_reads(read_bytes: int) -> None:
    values = [{"a": [1, 22, 333]}, 4444, "x\u00e9y", [], {}, None, True, 55555]
    text = json.dumps(values, ensure_ascii=False).encode("utf-8")
    assert list(iter_json_array(io.BytesIO(text), read_bytes=read_bytes)) == values
    spaced = b" \n[ 1 ,\t2 ]\n"
    assert list(iter_json_array(io.BytesIO(spaced), read_bytes=read_bytes)) == [1, 2]


@pytest.mark.parametrize("blob", [b'{"a": 1}', b"[1, 2", b"[1 2]", b"[1] x", b'[{"a": 1, "a": 2}]',
                                  b"[1.5]", b"[NaN]", b"[\xff]", b"", b"[1,]"])
def test_malformed_arrays_are_refused(blob: bytes) -> None:
    with pytest.raises(ValueError):
        list(iter_json_array(io.BytesIO(blob), read_bytes=3))


_MAKE = r'''
import sys
n, path = int(sys.argv[1]), sys.argv[2]
sel = '{"ciphertext": "%s", "option_id": "o%d", "proof": {"a": ["%s", "%s"], "e": ["1", "2"], "z": ["%s", "%s"]}}'
with open(path, "w") as f:
    f.write("[")
    for i in range(n):
        h = format(i * 2654435761 % (1 << 256) | 1 << 255, "x")
        sels = ", ".join(sel % (h, j, h, h, h, h) for j in range(5))
        f.write(("," if i else "") + '{"ballot": {"contests": [{"count_proof": {"a": [], "e": [], "z": []}, '
                '"question_id": "q", "selections": [%s]}], "election_id": "e", "token_id": "%s"}, '
                '"cast_at": 0, "credential": null, "election_id": "e", "index": %d, "kind": "audited", '
                '"replaces": null, "secrets": {}, "signature": null}' % (sels, h[:64].rjust(64, "0"), i))
    f.write("]\n")
'''

_READ = r'''
import resource, sys
from audit.record_stream import board_chunks
from crypto.merkle import entry_leaf_hash
from tally.entry_shape import board_entry_errors
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = errors = 0
leaves = bytearray()
for chunk in board_chunks(sys.argv[1], chunk=256):
    for entry in chunk:
        leaves += entry_leaf_hash(entry)
        errors += bool(board_entry_errors(entry))
        count += 1
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, errors, base, peak)
'''


def test_memory_stays_flat_on_a_large_board(tmp_path: Path) -> None:
    """20,000 entries (~55 MB of JSON, proofs not valid): RSS grows by far less than the file."""
    (tmp_path / "board.json").touch()
    board = tmp_path / "rec" / "board.json"
    board.parent.mkdir()
    subprocess.run([sys.executable, "-c", _MAKE, "20000", str(board)], check=True)
    size_mb = board.stat().st_size / 2**20
    assert size_mb > 40
    out = subprocess.run([sys.executable, "-c", _READ, str(board.parent)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout.split()
    count, errors, base_kb, peak_kb = map(int, out)
    assert count == 20000 and errors == 0
    grown_mb = (peak_kb - base_kb) / 1024
    assert grown_mb < 20, f"RSS grew by {grown_mb:.1f} MB reading a {size_mb:.0f} MB board"
