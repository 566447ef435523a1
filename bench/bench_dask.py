"""``python -m bench.bench_dask [--bits 2048] [--ballots 64]``: batched proof checking of a
board's ballots on a Dask distributed ``LocalCluster`` with 1 and then 2 worker processes
(one thread each), next to the raw ``powmod`` floor of the same run.

The ballots are 5-option ballots encrypted beforehand (not timed); the timed part is
:func:`tally.board_batch.find_invalid_parallel` with ``scheduler=`` the cluster's address.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from typing import Any

from bench.bench_crypto import floor_rate, generate_key
from bench.bench_verify import make_board, manifest
from crypto.ballot import ballot_proof_items
from tally.board_batch import find_invalid_parallel


def run(bits: int, ballots: int) -> dict[str, Any]:
    from distributed import LocalCluster

    pk = generate_key(bits)
    m = manifest()
    fp = secrets.token_bytes(32)
    board = make_board(pk, m, fp, ballots)
    keyed = [(i, ballot_proof_items(pk, m, fp, b, t)) for i, (b, t) in enumerate(board)]
    floor = floor_rate(pk, 1.0)
    out: dict[str, Any] = {"bits": bits, "ballots": ballots, "floor_ops_per_s": round(floor, 1)}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            find_invalid_parallel(pk, keyed[:4], scheduler=cluster.scheduler_address, chunk=2)
            start = time.perf_counter()
            bad = find_invalid_parallel(pk, keyed, scheduler=cluster.scheduler_address, chunk=8)
            elapsed = time.perf_counter() - start
        assert not bad
        out[f"workers_{workers}_ballots_per_s"] = round(ballots / elapsed, 2)
        out[f"workers_{workers}_floor_per_ballot"] = round(floor * elapsed / ballots, 3)
    out["speedup_1_to_2"] = round(out["workers_2_ballots_per_s"] / out["workers_1_ballots_per_s"], 2)
    out["load_1min"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--ballots", type=int, default=64)
    args = parser.parse_args()
    print(json.dumps(run(args.bits, args.ballots), indent=2))


if __name__ == "__main__":
    main()
