"""``saylau bench verify``: ballots per second for a simulated board of 5-option ballots,
and ``saylau verify`` end to end on a generated record (:mod:`bench.verify_e2e`).

Individual verification (:func:`crypto.ballot.verify_ballot`, two full exponentiations
per branch) against batch verification (:func:`crypto.ballot.ballot_proof_items` +
:func:`crypto.batch.combined_check`, one full exponentiation plus 64-bit ones), at
2048 and 3072 bits, with the raw ``powmod(r, n, n²)`` floor of the same run.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from bench.bench_crypto import floor_rate, generate_key
from bench.verify_e2e import bench_e2e
from crypto.ballot import EncryptedBallot, ballot_proof_items, encrypt_ballot, verify_ballot
from crypto.batch import combined_check
from crypto.election import Manifest
from crypto.paillier import PublicKey

DEFAULT_BITS = (2048, 3072)
QUICK_BITS = (1024,)
OPTIONS = 5


def manifest() -> Manifest:
    return Manifest.from_json({
        "election_id": "bench", "title": "Benchmark",
        "questions": [{"id": "q", "title": "Choose one", "min_selections": 1,
                       "max_selections": 1,
                       "options": [{"id": f"o{i}", "label": f"Option {i}"}
                                   for i in range(OPTIONS)]}],
    })


def make_board(pk: PublicKey, m: Manifest, fingerprint: bytes, count: int
               ) -> list[tuple[EncryptedBallot, bytes]]:
    board = []
    for i in range(count):
        token = secrets.token_bytes(32)
        ballot, _ = encrypt_ballot(pk, m, fingerprint, token, {"q": [f"o{i % OPTIONS}"]})
        board.append((ballot, token))
    return board


def bench_bits(bits: int, count: int) -> dict[str, Any]:
    pk = generate_key(bits)
    m = manifest()
    fingerprint = secrets.token_bytes(32)
    floor = floor_rate(pk, 0.3)
    board = make_board(pk, m, fingerprint, count)

    start = time.perf_counter()
    for ballot, token in board:
        verify_ballot(pk, m, fingerprint, ballot, token)
    individual = count / (time.perf_counter() - start)

    start = time.perf_counter()
    items = [item for ballot, token in board
             for item in ballot_proof_items(pk, m, fingerprint, ballot, token)]
    combined_check(pk, items)
    batch = count / (time.perf_counter() - start)
    return {
        "bits": bits,
        "ballots": count,
        "options": OPTIONS,
        "floor_ops_per_s": round(floor, 1),
        "individual_ballots_per_s": round(individual, 2),
        "batch_ballots_per_s": round(batch, 2),
        "individual_cost_in_full_exponentiations": round(floor / individual, 1),
        "batch_cost_in_full_exponentiations": round(floor / batch, 2),
        "speedup": round(batch / individual, 2),
    }


def run(*, quick: bool = False, bits: tuple[int, ...] | None = None, ballots: int | None = None,
        out: Callable[[str], None] = print, e2e: bool = True) -> list[dict[str, Any]]:
    """Proof checking alone (individual vs batch) and, with ``e2e``, ``saylau verify`` end
    to end on a generated record of ``ballots`` ballots (:mod:`bench.verify_e2e`)."""
    sizes = bits or (QUICK_BITS if quick else DEFAULT_BITS)
    count = ballots or (3 if quick else 8)
    e2e_count = ballots or (8 if quick else 64)
    results = []
    for b in sizes:
        out(f"{b}-bit n: {count} ballots of {OPTIONS} options (key via phe, board encryption) …")
        res = bench_bits(b, count)
        results.append(res)
        out(f"  floor powmod(r, n, n^2): {res['floor_ops_per_s']} /s")
        out(f"  individual: {res['individual_ballots_per_s']:>8} ballots/s "
            f"({res['individual_cost_in_full_exponentiations']} × floor per ballot)")
        out(f"  batch:      {res['batch_ballots_per_s']:>8} ballots/s "
            f"({res['batch_cost_in_full_exponentiations']} × floor per ballot), "
            f"speedup {res['speedup']}×")
        if e2e:
            out(f"  end to end: generating a tallied record of {e2e_count} ballots, then "
                "python -m saylau verify RECORD --json …")
            end = bench_e2e(b, e2e_count)
            res["end_to_end"] = end
            out(f"  saylau verify: exit {end['verify_exit']} (valid {end['verify_valid']}), "
                f"{end['verify_wall_s']} s wall, {end['verify_cpu_s']} CPU-s "
                f"({end['cores_used']} cores busy): {end['ballots_per_s_wall']} ballots/s; "
                f"{end['cpu_ms_per_ballot']} CPU-ms = {end['floor_exps_per_ballot']} × floor "
                f"per ballot; {end['projected_ballots_per_s_on_2_free_cores']} ballots/s on "
                "2 free cores")
    return results
