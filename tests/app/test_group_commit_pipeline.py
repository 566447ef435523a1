"""Group commit checks the next batch while the previous one waits for the database.

Measured at 3,072 bits (docs/performance.md §1): a worker spent about a tenth of each batch
cycle waiting for its commit (board lock, inserts, fsync) with nothing else to do; the
verifier now runs one batch ahead of the commit thread, and batches still commit in order.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from app.services import group_commit
from app.services.group_commit import GroupCommitter, Pending
from tests.keys import paillier_test_key

PK = paillier_test_key().public


def _pending(key: str) -> Pending:
    def check() -> None:
        raise AssertionError("a valid entry is never re-checked alone")
    return Pending(key=key, payload=key, pk=PK, items=[], check=check)


def test_the_next_batch_is_verified_while_the_previous_one_commits(app: Any,
                                                                   monkeypatch: Any) -> None:
    committing = threading.Event()
    release = threading.Event()
    verified: list[list[str]] = []
    second_verified = threading.Event()
    committed: list[list[str]] = []

    def commit(batch: list[Pending]) -> None:
        committed.append([p.key for p in batch])
        if len(committed) == 1:
            committing.set()
            assert release.wait(10)
        for p in batch:
            p.future.set_result({"key": p.key})

    real_verify = group_commit.verify

    def spy(batch: list[Pending]) -> list[Pending]:
        verified.append([p.key for p in batch])
        if len(verified) == 2:
            second_verified.set()
        return real_verify(batch)

    monkeypatch.setattr(group_commit, "verify", spy)
    committer = GroupCommitter(app, "b", commit, max_items=1, wait_s=0.0, name="test")
    first = committer.submit(_pending("p1"))
    assert committing.wait(10)
    second = committer.submit(_pending("p2"))
    # the second batch is checked while the first is still in its commit
    assert second_verified.wait(10), "the next batch waited for the previous commit"
    assert committed == [["p1"]] and not first.done()
    release.set()
    assert first.result(10) == {"key": "p1"} and second.result(10) == {"key": "p2"}
    assert committed == [["p1"], ["p2"]]  # in the order taken
    assert verified == [["p1"], ["p2"]]


def test_a_failed_commit_fails_its_own_batch_only(app: Any) -> None:
    def commit(batch: list[Pending]) -> None:
        if batch[0].key == "bad":
            raise RuntimeError("database gone")
        for p in batch:
            p.future.set_result({"key": p.key})

    committer = GroupCommitter(app, "b", commit, max_items=1, wait_s=0.0, name="test")
    bad = committer.submit(_pending("bad"))
    good = committer.submit(_pending("good"))
    with pytest.raises(RuntimeError, match=r"^database gone$"):
        bad.result(10)
    assert good.result(10) == {"key": "good"}


def test_a_commit_that_resolves_nothing_leaves_no_waiter_hanging(app: Any) -> None:
    committer = GroupCommitter(app, "b", lambda batch: None, max_items=4, wait_s=0.0,
                               name="test")
    future = committer.submit(_pending("p"))
    with pytest.raises(RuntimeError, match=r"^entry left unresolved$"):
        future.result(10)
