"""The batch proof equation alone, by batch size: ``python -m bench.bench_batch --bits 3072``.

Encrypts ``max(sizes)`` 5-option ballots (one question, one choice), takes their proof items
(:func:`crypto.ballot.ballot_proof_items`) and times ONE :func:`crypto.batch.combined_check`
per batch size in CPU seconds of this process, printed as floor exponentiations
``powmod(r, n, n²)`` per ballot (the floor measured in the same run, also in CPU seconds, so
the ratio holds on a loaded machine).
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from typing import Any

import gmpy2

from bench.bench_cast import OPTIONS, manifest_json
from bench.bench_crypto import generate_key
from crypto.ballot import ballot_proof_items, encrypt_ballot
from crypto.batch import combined_check
from crypto.election import Manifest


def run(bits: int, sizes: list[int]) -> dict[str, Any]:
    pk = generate_key(bits)
    manifest = Manifest.from_json(manifest_json())  # one 5-option question
    fingerprint = secrets.token_bytes(32)
    groups = []
    for i in range(max(sizes)):
        token = secrets.token_bytes(32)
        ballot, _ = encrypt_ballot(pk, manifest, fingerprint, token, {"q": [f"o{i % OPTIONS}"]})
        groups.append(ballot_proof_items(pk, manifest, fingerprint, ballot, token))
    r = gmpy2.mpz(secrets.randbelow(pk.nsquare))
    start = time.process_time()
    for _ in range(20):
        gmpy2.powmod(r, pk.n, pk.nsquare)
    floor = (time.process_time() - start) / 20
    out: dict[str, Any] = {"bits": bits, "floor_ms": round(floor * 1000, 2), "sizes": {}}
    for size in sizes:
        items = [item for group in groups[:size] for item in group]
        reps = max(1, 64 // size)
        start = time.process_time()
        for _ in range(reps):
            combined_check(pk, items)
        per_ballot = (time.process_time() - start) / reps / size
        out["sizes"][str(size)] = round(per_ballot / floor, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=3072)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64, 256])
    args = parser.parse_args()
    print(json.dumps(run(args.bits, args.sizes), indent=2))


if __name__ == "__main__":
    main()
