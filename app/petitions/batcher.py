"""Group commit of petition signatures on the board core (:mod:`app.services.group_commit`).

A request thread runs the cheap checks (:func:`app.petitions.signing.prepare_signature`,
the proof's shape and Fiat–Shamir challenges), enqueues a :class:`~app.services.group_commit.Pending`
(key = token id) and waits.  The petition's committer verifies the batch's region proofs
together, shuffles them, and :func:`_commit`

1. keeps the first valid signature per token id (a later one in the batch: 409
   ``already_signed``);
2. appends the rest with ONE :func:`app.petitions.signing.append_signatures` call (one
   transaction, one signed tree head); a conflict with a token already on the board
   (``UNIQUE(petition_id, token_id)``, e.g. from another process) drops the conflicting
   entries with 409 and retries the others;
3. resolves each future with its own receipt — only after the commit — or its own error.

Settings: ``PETITION_BATCH_ENABLED``, ``_MAX``, ``_WAIT_MS``, ``_TIMEOUT_S``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_session
from app.errors import ApiError
from app.petitions.models import PetitionBoardEntry
from app.services import group_commit
from app.services.group_commit import GroupCommitter, Pending
from crypto.batch import ProofItem
from crypto.paillier import PublicKey
from tally.petition import region_digest

PREFIX = "PETITION_BATCH"
_EXTENSION = "saylau_petition_batchers"
#: ``app.extensions`` key of the :data:`AppendFn` the app factory injects
#: (:func:`app.petitions.signing.append_signatures`; the batcher never imports it).
APPEND_EXTENSION = "saylau_petition_append"

#: ``append(db, petition_id, entries) -> receipts``: ONE transaction that appends
#: already verified entries (raises :class:`ApiError` ``already_signed`` on a conflict).
AppendFn = Callable[..., list[dict[str, Any]]]

#: The committer of one petition in this process (kept for the tests' vocabulary).
SignatureBatcher = GroupCommitter


def _already_signed() -> ApiError:
    return ApiError(409, "already_signed", "this credential has already signed")


def PendingSignature(*, token_hex: str, entry: dict[str, Any],  # noqa: N802
                     pk: PublicKey, item: ProofItem, check: Callable[[], None]) -> Pending:
    """One signature that passed the cheap checks (payload = ``(entry,)``; anonymous: no
    address or account travels with it)."""
    return Pending(key=token_hex, payload=(entry,), pk=pk, items=[item], check=check)


def _digest(p: Pending) -> str:
    """The registry key of a pending signature's region ciphertext (the copy check, P6)."""
    return region_digest(p.pk.n, p.payload[0])


def _commit(app: Flask, petition_id: int, append: AppendFn, batch: list[Pending]) -> None:
    seen: set[str] = set()
    digests: set[str] = set()
    unique = []
    for p in batch:
        digest = _digest(p)
        if p.key in seen:
            p.future.set_exception(_already_signed())
        elif digest in digests:
            p.future.set_exception(ApiError(409, "ciphertext_reused", "this region "
                                            "ciphertext is already on the petition's board"))
        else:
            seen.add(p.key)
            digests.add(digest)
            unique.append(p)
    _append(app, petition_id, append, unique)


def _append(app: Flask, petition_id: int, append: AppendFn, pending: list[Pending]) -> None:
    while pending:
        db = new_session(app)
        try:
            receipts = append(db, petition_id, [p.payload[0] for p in pending])
        except ApiError as exc:
            if exc.code not in ("already_signed", "ciphertext_reused") or len(pending) == 1:
                for p in pending:
                    p.future.set_exception(exc)
                return
            # a token reached the board meanwhile (another process): drop it, retry the rest
            taken = _on_board(db, petition_id, [p.key for p in pending])
        else:
            for p, r in zip(pending, receipts, strict=True):
                p.future.set_result(r)
            return
        finally:
            db.close()
        if not taken:  # the conflict is not visible: settle them one by one
            for p in pending:
                _append(app, petition_id, append, [p])
            return
        for p in pending:
            if p.key in taken:
                p.future.set_exception(_already_signed())
        pending = [p for p in pending if p.key not in taken]


def _on_board(db: Session, petition_id: int, tokens: Sequence[str]) -> set[str]:
    db.rollback()
    try:
        return {t for t in db.scalars(select(PetitionBoardEntry.token_id).where(
            PetitionBoardEntry.petition_id == petition_id,
            PetitionBoardEntry.token_id.in_(list(tokens)))).all() if t is not None}
    finally:
        db.rollback()


def batcher_for(app: Flask, petition_id: int, append: AppendFn | None = None) -> GroupCommitter:
    """This process's committer of the petition (a new one after a fork).

    ``append`` defaults to the one the app factory put in ``app.extensions``."""
    commit = functools.partial(_commit, app, petition_id,
                               append or app.extensions[APPEND_EXTENSION])
    return group_commit.committer_for(app, _EXTENSION, petition_id, commit, PREFIX, "petition")


def submit_and_wait(app: Flask, petition_id: int, pending: Pending,
                    append: AppendFn | None = None) -> dict[str, Any]:
    """Enqueue and wait for this signature's own receipt (after commit) or its own error."""
    future = batcher_for(app, petition_id, append).submit(pending)
    return group_commit.wait(
        app, PREFIX, future,
        not_recorded="the server is busy and did not record the signature; retry",
        maybe_recorded="the server is busy; the signature may still be recorded: retry "
                       "(409 already_signed means it was)")
