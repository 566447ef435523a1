"""Group commit for any board: one batched proof check, one transaction, one tree head.

Per process and per board, a :class:`GroupCommitter` owns a queue and a daemon worker
thread (started on demand, gone after :data:`IDLE_EXIT_S` idle seconds).  A request thread
runs the cheap checks itself (credential, signatures, shapes and Fiat–Shamir challenges of
the proofs: the caller's ``*_proof_items``), enqueues a :class:`Pending` and waits on its
future.  The worker takes up to ``<PREFIX>_MAX`` queued entries, or what arrived within
``<PREFIX>_WAIT_MS`` of the oldest one, then

1. verifies all their membership proofs together with :func:`crypto.batch.find_invalid`
   (one small-exponent batch equation, docs/protocol.md §1.7: one full exponentiation per
   batch; bisection names the failing ones, and each of those is re-checked alone with the
   entry kind's own check so that its client gets exactly the error of the unbatched path);
2. shuffles the valid ones (:class:`secrets.SystemRandom`): the board order inside a batch
   says nothing about arrival order;
3. hands them to the board's ``commit`` function, which appends them in ONE transaction
   with ONE signed tree head and resolves each future with its own receipt — only after
   the commit — or its own error.

If the commit function raises, every unresolved waiter of the batch gets the error:
nothing is half committed.  A waiter gives up after ``<PREFIX>_TIMEOUT_S`` with 503
``timeout``.  Settings: ``BALLOT_BATCH_*`` (casting), ``PETITION_BATCH_*`` (signing).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from app.config import DEFAULTS
from app.errors import ApiError
from crypto.batch import ProofItem, find_invalid
from crypto.paillier import PublicKey

log = logging.getLogger(__name__)

IDLE_EXIT_S = 5.0
_REGISTRY_LOCK = threading.Lock()
_SHUFFLE = secrets.SystemRandom()


@dataclass(eq=False)
class Pending:
    """One entry that passed the cheap checks, waiting for its batch."""

    key: str  # what the board de-duplicates on (token id, tracker)
    payload: Any  # the board's own data (entry, address, digests, ...)
    pk: PublicKey
    items: Sequence[ProofItem]
    check: Callable[[], None]  # the unbatched check: raises the entry's own ApiError
    future: Future[dict[str, Any]] = field(default_factory=Future)
    enqueued: float = field(default_factory=time.monotonic)


#: Appends the verified entries of a batch in one transaction and resolves every future.
CommitFn = Callable[[list[Pending]], None]


def setting(app: Flask, prefix: str, name: str) -> Any:
    """``app.config[f"{prefix}_{name}"]`` or its default (:class:`app.config.Settings`)."""
    key = f"{prefix}_{name}"
    return app.config.get(key, DEFAULTS[key])


def enabled(app: Flask, prefix: str) -> bool:
    return bool(setting(app, prefix, "ENABLED"))


class GroupCommitter:
    """The queue and worker of one board in this process."""

    def __init__(self, app: Flask, board_key: Hashable, commit: CommitFn, *, max_items: int,
                 wait_s: float, name: str = "board") -> None:
        self.app = app
        self.board_key = board_key
        self.commit = commit
        self.max_items = max(1, max_items)
        self.wait_s = max(0.0, wait_s)
        self.name = name
        self.pid = os.getpid()
        self.batches = 0  # batches processed (for tests and benchmarks)
        self._cond = threading.Condition()
        self._queue: deque[Pending] = deque()
        self._worker: threading.Thread | None = None

    def submit(self, pending: Pending) -> Future[dict[str, Any]]:
        with self._cond:
            self._queue.append(pending)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, daemon=True,
                                                name=f"{self.name}-committer-{self.board_key}")
                self._worker.start()
            self._cond.notify()
        return pending.future

    def _next_batch(self) -> list[Pending] | None:
        """Block until a batch is due; ``None`` when idle for :data:`IDLE_EXIT_S` (exit)."""
        with self._cond:
            while not self._queue:
                if not self._cond.wait(IDLE_EXIT_S) and not self._queue:
                    self._worker = None
                    return None
            deadline = self._queue[0].enqueued + self.wait_s
            while len(self._queue) < self.max_items:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            taken = [self._queue.popleft() for _ in range(min(self.max_items, len(self._queue)))]
        # a waiter that timed out and cancelled its future is dropped here, never appended
        return [p for p in taken if p.future.set_running_or_notify_cancel()]

    def _run(self) -> None:
        try:
            while True:
                batch = self._next_batch()
                if batch is None:
                    return
                if batch:
                    self._run_batch(batch)
        except BaseException:
            with self._cond:  # let the next submit start a fresh worker
                self._worker = None
            raise

    def _run_batch(self, batch: list[Pending]) -> None:
        try:
            with self.app.app_context():
                valid = verify(batch)
                _SHUFFLE.shuffle(valid)
                if valid:
                    self.commit(valid)
        except Exception as exc:  # never leave a waiter hanging
            log.exception("%s %s: batch failed", self.name, self.board_key)
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(exc)
        finally:
            self.batches += 1
            for p in batch:  # every future is resolved by now; this is a safety net
                if not p.future.done():
                    p.future.set_exception(RuntimeError("entry left unresolved"))


def verify(batch: Sequence[Pending]) -> list[Pending]:
    """Batch test of all proofs; the failing ones get their own error (unbatched check)."""
    bad: set[object] = set()
    by_key: dict[int, list[int]] = {}
    for i, p in enumerate(batch):
        by_key.setdefault(p.pk.n, []).append(i)
    for indexes in by_key.values():
        pk = batch[indexes[0]].pk
        bad.update(find_invalid(pk, [(i, list(batch[i].items)) for i in indexes]))
    valid = []
    for i, p in enumerate(batch):
        if i in bad:
            try:
                p.check()
            except ApiError as exc:
                p.future.set_exception(exc)
                continue
        valid.append(p)
    return valid


def committer_for(app: Flask, extension: str, board_id: Hashable, commit: CommitFn,
                  prefix: str, name: str) -> GroupCommitter:
    """This process's committer of the board (a new one after a fork)."""
    with _REGISTRY_LOCK:
        registry: dict[Hashable, GroupCommitter] = app.extensions.setdefault(extension, {})
        c = registry.get(board_id)
        if c is None or c.pid != os.getpid():
            c = GroupCommitter(app, board_id, commit,
                               max_items=int(setting(app, prefix, "MAX")),
                               wait_s=float(setting(app, prefix, "WAIT_MS")) / 1000, name=name)
            registry[board_id] = c
        return c


def wait(app: Flask, prefix: str, future: Future[dict[str, Any]], *, not_recorded: str,
         maybe_recorded: str) -> dict[str, Any]:
    """Wait for this entry's own receipt (after commit) or its own error."""
    try:
        return future.result(timeout=float(setting(app, prefix, "TIMEOUT_S")))
    except TimeoutError as exc:
        if future.cancel():
            raise ApiError(503, "timeout", not_recorded) from exc
        raise ApiError(503, "timeout", maybe_recorded) from exc
    except ApiError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    except Exception as exc:
        raise ApiError(503, "busy", "the board could not record this batch; retry") from exc
