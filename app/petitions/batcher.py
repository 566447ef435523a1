"""Group commit of petition signatures: one batched proof check, one transaction, one tree head.

Per process and per petition, a :class:`SignatureBatcher` owns a queue and a daemon worker
thread (started on demand, gone after :data:`IDLE_EXIT_S` idle seconds).  A request thread
runs the cheap checks itself (:func:`app.petitions.signing.prepare_signature`, the proof's
shape and Fiat–Shamir challenges), enqueues a :class:`PendingSignature` and waits on its
future.  The worker takes up to ``PETITION_BATCH_MAX`` queued signatures, or what arrived
within ``PETITION_BATCH_WAIT_MS`` of the oldest one, then

1. verifies all their region proofs together with :func:`crypto.batch.find_invalid` (one
   full exponentiation per batch; bisection names the failing ones, and each of those is
   re-checked alone with :func:`crypto.petition.check_signature` so that its client gets
   exactly the error of the unbatched path);
2. keeps the first valid signature per token id (a later one in the batch: 409
   ``already_signed``);
3. appends the rest with ONE :func:`app.petitions.signing.append_signatures` call (one
   transaction, one signed tree head); a conflict with a token already on the board
   (``UNIQUE(petition_id, token_id)``, e.g. from another process) drops the conflicting
   entries with 409 and retries the others;
4. resolves each future with its own receipt — only after the commit — or its own error.

If the append fails otherwise, the transaction is rolled back and every waiter of the
batch gets the error: nothing is half committed.  A waiter gives up after
``PETITION_BATCH_TIMEOUT_S`` with 503 ``timeout``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import DEFAULTS
from app.db import new_session
from app.errors import ApiError
from app.petitions.models import PetitionBoardEntry
from crypto.batch import ProofItem, find_invalid
from crypto.paillier import PublicKey
from tally.petition import region_digest

log = logging.getLogger(__name__)

IDLE_EXIT_S = 5.0
_EXTENSION = "saylau_petition_batchers"
#: ``app.extensions`` key of the :data:`AppendFn` the app factory injects
#: (:func:`app.petitions.signing.append_signatures`; the batcher never imports it).
APPEND_EXTENSION = "saylau_petition_append"
_REGISTRY_LOCK = threading.Lock()


def _already_signed() -> ApiError:
    return ApiError(409, "already_signed", "this credential has already signed")


#: ``append(db, petition_id, entries, addrs=...) -> receipts``: ONE transaction that appends
#: already verified entries (raises :class:`ApiError` ``already_signed`` on a conflict).
AppendFn = Callable[..., list[dict[str, Any]]]


@dataclass(eq=False)
class PendingSignature:
    """One signature that passed the cheap checks, waiting for its batch."""

    token_hex: str
    entry: dict[str, Any]
    addr: str | None
    pk: PublicKey
    item: ProofItem
    check: Callable[[], None]  # the unbatched check: raises the signature's own ApiError
    future: Future[dict[str, Any]] = field(default_factory=Future)
    enqueued: float = field(default_factory=time.monotonic)


class SignatureBatcher:
    """The queue and worker of one petition in this process."""

    def __init__(self, app: Flask, petition_id: int, *, append: AppendFn, max_items: int,
                 wait_s: float) -> None:
        self.app = app
        self.append = append
        self.petition_id = petition_id
        self.max_items = max(1, max_items)
        self.wait_s = max(0.0, wait_s)
        self.pid = os.getpid()
        self.batches = 0  # batches processed (for tests and benchmarks)
        self._cond = threading.Condition()
        self._queue: deque[PendingSignature] = deque()
        self._worker: threading.Thread | None = None

    def submit(self, pending: PendingSignature) -> Future[dict[str, Any]]:
        with self._cond:
            self._queue.append(pending)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, daemon=True,
                                                name=f"petition-batcher-{self.petition_id}")
                self._worker.start()
            self._cond.notify()
        return pending.future

    def _next_batch(self) -> list[PendingSignature] | None:
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

    def _run_batch(self, batch: list[PendingSignature]) -> None:
        try:
            with self.app.app_context():
                self._process(batch)
        except Exception as exc:  # never leave a waiter hanging
            log.exception("petition %s: signature batch failed", self.petition_id)
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(exc)
        finally:
            self.batches += 1
            for p in batch:  # every future is resolved by now; this is a safety net
                if not p.future.done():
                    p.future.set_exception(RuntimeError("signature left unresolved"))

    def _process(self, batch: list[PendingSignature]) -> None:
        valid = _verify(batch)
        seen: set[str] = set()
        unique = []
        digests: set[str] = set()
        for p in valid:
            digest = _digest(p)
            if p.token_hex in seen:
                p.future.set_exception(_already_signed())
            elif digest in digests:
                p.future.set_exception(ApiError(409, "ciphertext_reused", "this region "
                                                "ciphertext is already on the petition's board"))
            else:
                seen.add(p.token_hex)
                digests.add(digest)
                unique.append(p)
        self._append(unique)

    def _append(self, pending: list[PendingSignature]) -> None:
        while pending:
            db = new_session(self.app)
            try:
                receipts = self.append(db, self.petition_id, [p.entry for p in pending],
                                             addrs=[p.addr for p in pending])
            except ApiError as exc:
                if exc.code not in ("already_signed", "ciphertext_reused") or len(pending) == 1:
                    for p in pending:
                        p.future.set_exception(exc)
                    return
                # a token reached the board meanwhile (another process): drop it, retry the rest
                taken = _on_board(db, self.petition_id, [p.token_hex for p in pending])
            else:
                for p, r in zip(pending, receipts, strict=True):
                    p.future.set_result(r)
                return
            finally:
                db.close()
            if not taken:  # the conflict is not visible: settle them one by one
                for p in pending:
                    self._append([p])
                return
            for p in pending:
                if p.token_hex in taken:
                    p.future.set_exception(_already_signed())
            pending = [p for p in pending if p.token_hex not in taken]


def _digest(p: PendingSignature) -> str:
    return region_digest(p.pk.n, p.entry)


def _verify(batch: Sequence[PendingSignature]) -> list[PendingSignature]:
    """Batch test of all region proofs; the failing ones get their own error (unbatched check)."""
    bad: set[object] = set()
    by_key: dict[int, list[int]] = {}
    for i, p in enumerate(batch):
        by_key.setdefault(p.pk.n, []).append(i)
    for indexes in by_key.values():
        pk = batch[indexes[0]].pk
        bad.update(find_invalid(pk, [(i, [batch[i].item]) for i in indexes]))
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


def _on_board(db: Session, petition_id: int, tokens: Sequence[str]) -> set[str]:
    db.rollback()
    try:
        return {t for t in db.scalars(select(PetitionBoardEntry.token_id).where(
            PetitionBoardEntry.petition_id == petition_id,
            PetitionBoardEntry.token_id.in_(list(tokens)))).all() if t is not None}
    finally:
        db.rollback()


def setting(app: Flask, name: str) -> Any:
    return app.config.get(name, DEFAULTS[name])


def batcher_for(app: Flask, petition_id: int, append: AppendFn | None = None) -> SignatureBatcher:
    """This process's batcher of the petition (a new one after a fork).

    ``append`` defaults to the one the app factory put in ``app.extensions``."""
    with _REGISTRY_LOCK:
        registry: dict[int, SignatureBatcher] = app.extensions.setdefault(_EXTENSION, {})
        b = registry.get(petition_id)
        if b is None or b.pid != os.getpid():
            b = SignatureBatcher(app, petition_id, append=append or app.extensions[APPEND_EXTENSION],
                                 max_items=int(setting(app, "PETITION_BATCH_MAX")),
                                 wait_s=float(setting(app, "PETITION_BATCH_WAIT_MS")) / 1000)
            registry[petition_id] = b
        return b


def submit_and_wait(app: Flask, petition_id: int, pending: PendingSignature,
                    append: AppendFn | None = None) -> dict[str, Any]:
    """Enqueue and wait for this signature's own receipt (after commit) or its own error."""
    future = batcher_for(app, petition_id, append).submit(pending)
    try:
        return future.result(timeout=float(setting(app, "PETITION_BATCH_TIMEOUT_S")))
    except TimeoutError as exc:
        if future.cancel():
            raise ApiError(503, "timeout", "the server is busy and did not record the signature; "
                           "retry") from exc
        raise ApiError(503, "timeout", "the server is busy; the signature may still be recorded: "
                       "retry (409 already_signed means it was)") from exc
    except ApiError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    except Exception as exc:
        raise ApiError(503, "busy", "the board could not record this batch of signatures; "
                       "retry") from exc
