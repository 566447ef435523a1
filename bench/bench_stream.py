"""``python -m bench.bench_stream [--entries 1000000]``: peak memory of the streaming board
reader on a large synthetic board.

Writes a ``board.json`` of ``--entries`` audited-kind entries with one 5-option contest
whose numbers are 64 hex digits (the proofs are not valid: memory is what this measures),
then, in a fresh process, streams it with :func:`audit.record_stream.board_chunks`,
computing every leaf hash and the structure check of every entry, and prints the entries,
the file size, the peak RSS before and after, and the time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
import resource, sys, time
from audit.record_stream import board_chunks
from crypto.merkle import entry_leaf_hash
from tally.entry_shape import board_entry_errors
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
count = errors = 0
leaves = bytearray()
for chunk in board_chunks(sys.argv[1], chunk=256):
    for entry in chunk:
        leaves += entry_leaf_hash(entry)
        errors += bool(board_entry_errors(entry))
        count += 1
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, errors, base, peak, time.perf_counter() - start)
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        board = Path(tmp) / "board.json"
        subprocess.run([sys.executable, "-c", _MAKE, str(args.entries), str(board)], check=True)
        size = board.stat().st_size
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _READ, tmp], check=True, cwd=root,
                             capture_output=True, text=True).stdout.split()
        count, errors, base, peak, seconds = int(out[0]), int(out[1]), int(out[2]), int(out[3]), float(out[4])
        print(json.dumps({"entries": count, "structure_errors": errors,
                          "board_mb": round(size / 2**20), "rss_before_mb": round(base / 1024),
                          "rss_peak_mb": round(peak / 1024), "stream_s": round(seconds, 1),
                          "wall_s": round(time.perf_counter() - start, 1)}, indent=2))


if __name__ == "__main__":
    main()
