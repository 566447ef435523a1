"""Batched proof checking of board entries, shared by the election and petition verifiers.

Each entry contributes a group of membership proofs whose Fiat–Shamir challenges were
already checked (cheap); :func:`find_invalid_parallel` checks their exponentiations with
the small-exponent batch equation (:func:`crypto.batch.find_invalid`, docs/protocol.md
§1.7 V1: one full exponentiation per chunk plus 64-bit ones; bisection names the failing
entries), in chunks of :data:`CHUNK` entries, in :data:`WORKERS` processes (both cores)
when the board has more than :data:`PARALLEL_THRESHOLD` entries with proofs — or, given a
Dask ``scheduler`` address (``tcp://host:port``), on the workers of that Dask distributed
cluster (every chunk a task; the key is scattered once to every worker).
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from concurrent.futures import ProcessPoolExecutor

from crypto.batch import ProofItem, find_invalid
from crypto.paillier import PublicKey
from tally.progress import ProgressFn

#: Boards with more entries than this are batch-checked in worker processes.
PARALLEL_THRESHOLD = 64
WORKERS = 2
#: Entries per batch-verification chunk (a progress step).
CHUNK = 32

Keyed = Sequence[tuple[Hashable, Sequence[ProofItem]]]


def check_chunk(pk: PublicKey, keyed: Keyed) -> list[Hashable]:
    """Worker: keys of the groups whose proofs fail (batch test + bisection)."""
    return find_invalid(pk, keyed)


def find_invalid_parallel(pk: PublicKey, keyed: Keyed, *, progress: ProgressFn | None = None,
                          workers: int | None = None, stage: str = "ballot proofs",
                          chunk: int = CHUNK, scheduler: str | None = None) -> set[Hashable]:
    """Keys of the entries whose proofs fail; ``workers`` = 1 checks in this process;
    ``scheduler`` = a Dask distributed scheduler's address: the chunks run there."""
    keyed = [(k, items) for k, items in keyed if items]
    chunks = [keyed[i:i + chunk] for i in range(0, len(keyed), chunk)]
    bad: set[Hashable] = set()
    total = len(keyed)
    done = 0
    if progress is not None:
        progress(stage, 0, total)
    n_workers = WORKERS if workers is None else workers
    if scheduler is not None and chunks:
        from distributed import Client  # imported lazily: only this path needs Dask

        with Client(scheduler, set_as_default=False) as client:
            key = client.scatter(pk, broadcast=True)
            futures = client.map(check_chunk, [key] * len(chunks), chunks, pure=False)
            for part, future in zip(chunks, futures, strict=True):
                bad.update(future.result())
                done += len(part)
                if progress is not None:
                    progress(stage, done, total)
    elif len(keyed) > PARALLEL_THRESHOLD and n_workers > 1 and (os.cpu_count() or 1) > 1:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(check_chunk, pk, part) for part in chunks]
            for part, future in zip(chunks, futures, strict=True):
                bad.update(future.result())
                done += len(part)
                if progress is not None:
                    progress(stage, done, total)
    else:
        for part in chunks:
            bad.update(check_chunk(pk, part))
            done += len(part)
            if progress is not None:
                progress(stage, done, total)
    return bad
