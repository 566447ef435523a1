"""tally.board_batch.find_invalid_parallel: which entries it names, the progress it reports,
and which path (this process, worker processes, a Dask cluster) checks the chunks.

Written against the mutation run of 2026-11-29 (docs/testing.md "Mutation testing"): the
tests before only reached the in-process path through small petition boards.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Hashable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import distributed  # a dependency (dask[distributed]): never skipped
import pytest

import tally.board_batch as board_batch
from crypto.batch import ProofItem
from crypto.paillier import PublicKey, encrypt
from crypto.proofs import MembershipProof, prove_membership
from crypto.threshold import ThresholdPublicKey
from tally.board_batch import find_invalid_parallel

FIXTURES = Path(__file__).parents[1] / "fixtures"
PK: PublicKey = ThresholdPublicKey.from_json(
    json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())["public_key"]).public
ALLOWED = (0, 1)


@functools.cache
def _good(i: int) -> ProofItem:
    c, r = encrypt(PK, i % 2)
    proof = prove_membership(PK, c, r, i % 2, ALLOWED, domain="saylau/test/board-batch",
                             fingerprint=bytes(32), context=(("entry", str(i)),))
    return ProofItem(c, ALLOWED, proof)


def _bad(i: int) -> ProofItem:
    """A proof whose response is off by one: the Fiat–Shamir sum still holds, the
    exponentiation does not (the batch equation fails)."""
    item = _good(i)
    z = list(item.proof.z)
    z[0] = z[0] + 1
    return ProofItem(item.c, item.allowed, MembershipProof(item.proof.a, item.proof.e, tuple(z)))


def _board(size: int, bad: set[int], empty: Sequence[int] = ()) -> list[tuple[Hashable, list[ProofItem]]]:
    """``size`` entries keyed ``e<i>``; those in ``bad`` fail; those in ``empty`` have no proofs."""
    return [(f"e{i}", [] if i in empty else [_bad(i) if i in bad else _good(i)])
            for i in range(size)]


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.seen.append((stage, done, total))


class SyncPool:
    """Stands in for ProcessPoolExecutor: runs each submitted chunk at once, records the pool."""

    made: list[SyncPool] = []

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self.submitted = 0
        SyncPool.made.append(self)

    def __enter__(self) -> SyncPool:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        self.submitted += 1
        future: Future[Any] = Future()
        future.set_result(fn(*args))
        return future


@pytest.fixture()
def pool(monkeypatch: pytest.MonkeyPatch) -> type[SyncPool]:
    SyncPool.made = []
    monkeypatch.setattr(board_batch, "ProcessPoolExecutor", SyncPool)
    monkeypatch.setattr(board_batch.os, "cpu_count", lambda: 2)
    return SyncPool


class NoCluster:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a Dask client was made: {args} {kwargs}")


@pytest.fixture()
def no_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "Client", NoCluster)


# ------------------------------------------------------------------ in this process


def test_in_process_names_the_bad_entries_and_reports_each_chunk(no_dask: None, pool: Any) -> None:
    calls = Calls()
    bad = find_invalid_parallel(PK, _board(7, {0, 4, 6}), progress=calls, workers=1,
                                stage="region proofs", chunk=3)
    assert bad == {"e0", "e4", "e6"}
    assert calls.seen == [("region proofs", 0, 7), ("region proofs", 3, 7),
                          ("region proofs", 6, 7), ("region proofs", 7, 7)]
    assert pool.made == []


def test_entries_without_proofs_are_left_out(no_dask: None) -> None:
    calls = Calls()
    bad = find_invalid_parallel(PK, _board(6, {5}, empty=(0, 2)), progress=calls, workers=1,
                                chunk=2)
    assert bad == {"e5"}
    assert calls.seen == [("ballot proofs", 0, 4), ("ballot proofs", 2, 4),
                          ("ballot proofs", 4, 4)]


def test_default_stage_and_chunk(no_dask: None) -> None:
    assert board_batch.CHUNK == 32
    calls = Calls()
    bad = find_invalid_parallel(PK, _board(33, {32}), progress=calls, workers=1)
    assert bad == {"e32"}
    assert calls.seen == [("ballot proofs", 0, 33), ("ballot proofs", 32, 33),
                          ("ballot proofs", 33, 33)]


def test_no_progress_callback_and_nothing_to_check(no_dask: None) -> None:
    assert find_invalid_parallel(PK, _board(3, {1}), workers=1, chunk=2) == {"e1"}
    assert find_invalid_parallel(PK, _board(3, {2}), workers=1, chunk=5) == {"e2"}
    calls = Calls()
    assert find_invalid_parallel(PK, [], progress=calls, workers=1) == set()
    assert calls.seen == [("ballot proofs", 0, 0)]


# ------------------------------------------------------------------ worker processes


def test_large_board_uses_worker_processes(no_dask: None, pool: Any) -> None:
    size = board_batch.PARALLEL_THRESHOLD + 1
    calls = Calls()
    bad = find_invalid_parallel(PK, _board(size, {0, 40, size - 1}), progress=calls,
                                stage="ballot proofs", chunk=32)
    assert bad == {"e0", "e40", f"e{size - 1}"}
    assert [(p.max_workers, p.submitted) for p in pool.made] == [(board_batch.WORKERS, 3)]
    assert calls.seen == [("ballot proofs", 0, size), ("ballot proofs", 32, size),
                          ("ballot proofs", 64, size), ("ballot proofs", size, size)]


def test_worker_count_is_passed_to_the_pool(no_dask: None, pool: Any) -> None:
    size = board_batch.PARALLEL_THRESHOLD + 1
    assert find_invalid_parallel(PK, _board(size, {3}), workers=3) == {"e3"}
    assert find_invalid_parallel(PK, _board(size, {3}), progress=None, workers=2) == {"e3"}
    assert [p.max_workers for p in pool.made] == [3, 2]


def test_threshold_board_one_worker_or_one_cpu_stay_in_process(
        no_dask: None, pool: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    size = board_batch.PARALLEL_THRESHOLD
    calls = Calls()
    assert find_invalid_parallel(PK, _board(size, {1}), progress=calls) == {"e1"}
    assert calls.seen[-1] == ("ballot proofs", size, size)
    big = _board(size + 1, {2})
    assert find_invalid_parallel(PK, big, workers=1) == {"e2"}
    monkeypatch.setattr(board_batch.os, "cpu_count", lambda: 1)
    assert find_invalid_parallel(PK, big, workers=2) == {"e2"}
    monkeypatch.setattr(board_batch.os, "cpu_count", lambda: None)  # unknown: one CPU
    assert find_invalid_parallel(PK, big, workers=2) == {"e2"}
    assert pool.made == []


def test_real_worker_processes_agree(no_dask: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_batch.os, "cpu_count", lambda: 2)
    size = board_batch.PARALLEL_THRESHOLD + 1
    assert ProcessPoolExecutor is board_batch.ProcessPoolExecutor
    assert find_invalid_parallel(PK, _board(size, {7, 64}), workers=2) == {"e7", "e64"}


# ------------------------------------------------------------------ a Dask cluster


class SpyClient(distributed.Client):
    """A real client to the test cluster that records how it was used."""

    log: list[tuple[str, Any]] = []

    def __init__(self, address: str, **kwargs: Any) -> None:
        SpyClient.log.append(("client", (address, kwargs)))
        super().__init__(address, **kwargs)

    def scatter(self, data: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        SpyClient.log.append(("scatter", kwargs))
        return super().scatter(data, **kwargs)

    def map(self, func: Any, *iterables: Any, **kwargs: Any) -> Any:
        SpyClient.log.append(("map", (func, [len(list(i)) for i in iterables], kwargs)))
        return super().map(func, *iterables, **kwargs)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.fixture()
def spy(monkeypatch: pytest.MonkeyPatch) -> type[SpyClient]:
    SpyClient.log = []
    monkeypatch.setattr(distributed, "Client", SpyClient)
    return SpyClient


def test_dask_cluster_checks_every_chunk(scheduler: str, spy: Any, pool: Any) -> None:
    calls = Calls()
    bad = find_invalid_parallel(PK, _board(5, {0, 3}, empty=(1,)), progress=calls, workers=1,
                                stage="count proofs", chunk=2, scheduler=scheduler)
    assert bad == {"e0", "e3"}
    assert calls.seen == [("count proofs", 0, 4), ("count proofs", 2, 4),
                          ("count proofs", 4, 4)]
    assert pool.made == []
    assert spy.log[0] == ("client", (scheduler, {"set_as_default": False}))
    assert spy.log[1] == ("scatter", {"broadcast": True})  # the key once to every worker
    assert spy.log[2] == ("map", (board_batch.check_chunk, [2, 2], {"pure": False}))
    assert len(spy.log) == 3


def test_dask_without_progress_and_with_nothing_to_check(scheduler: str, spy: Any) -> None:
    assert find_invalid_parallel(PK, _board(3, {2}), chunk=2, scheduler=scheduler) == {"e2"}
    assert [kind for kind, _ in spy.log] == ["client", "scatter", "map"]
    spy.log.clear()
    calls = Calls()
    assert find_invalid_parallel(PK, _board(2, set(), empty=(0, 1)), progress=calls,
                                 scheduler=scheduler) == set()
    assert spy.log == []  # no cluster is contacted for a board without proofs
    assert calls.seen == [("ballot proofs", 0, 0)]
