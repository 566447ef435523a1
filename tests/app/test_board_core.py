"""The board core for ballots (app/services/board_core.py, group_commit.py, casting.py):
group commit keeps one receipt per ballot, racing casts, idempotent retries, coarse times,
shuffled batches."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.db import get_engine
from app.errors import ApiError
from app.services import casting, group_commit
from crypto.ballot import tracker_of as compute_tracker
from crypto.encoding import hex_to_int, int_to_hex
from crypto.merkle import InclusionProof
from crypto.tree_head import SignedTreeHead, verify_receipt_inclusion
from tests.app.helpers import board_state, cast_payload, setup_election, voter
from tests.conftest import make_test_app

HOUR_MS = 3_600_000


@pytest.fixture()
def gapp(tmp_path: Path, issuer_test_key: Any) -> Iterator[Any]:
    application = make_test_app(f"sqlite:///{tmp_path / 'g.db'}", tmp_path, issuer_test_key,
                                BALLOT_BATCH_WAIT_MS=300, BALLOT_BATCH_MAX=32)
    yield application
    get_engine(application).dispose()


def _payloads(app: Any, voters: int, *, revote_policy: str = "no-revote",
              extra_for_first: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One ballot per voter (and ``extra_for_first`` more ballots of voter 1's credential)."""
    setup_election(app, voters=voters, revote_policy=revote_policy)
    client = app.test_client()
    payloads, extra = [], []
    for i in range(1, voters + 1):
        vc = voter(client, f"voter{i}@example.org")
        election = vc.get_election("e1")
        wallet = vc.obtain_credential(election)
        choice = {"mayor": ["abc"[i % 3]], "ref": ["yes" if i % 2 else "no"]}
        payloads.append(cast_payload(vc, election, wallet, choice))
        if i == 1:
            extra = [cast_payload(vc, election, wallet, {"mayor": ["b"], "ref": ["no"]})
                     for _ in range(extra_for_first)]
    return payloads, extra


def _cast(app: Any, payload: dict[str, Any]) -> Callable[[], tuple[int, Any]]:
    def call() -> tuple[int, Any]:
        try:
            with app.app_context():
                return 201, casting.cast_ballot(app, "e1", payload)
        except ApiError as exc:
            return exc.status, exc.code
    return call


def _concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _board_key(app: Any) -> bytes:
    return bytes.fromhex(app.test_client().get("/api/v1/elections/e1").get_json()
                         ["board_public_key"])


def _verify_receipt(key: bytes, receipt: dict[str, Any]) -> SignedTreeHead:
    sth = SignedTreeHead.from_json(receipt["tree_head"])
    verify_receipt_inclusion(key, sth, bytes.fromhex(receipt["leaf_hash"]),
                             InclusionProof.from_json(receipt["inclusion_proof"]))
    return sth


def test_group_commit_one_receipt_per_ballot(gapp):
    payloads, _ = _payloads(gapp, 8)
    heads_before = board_state(gapp)["TreeHead"]
    results = _concurrently([_cast(gapp, p) for p in payloads])
    assert [s for s, _ in results] == [201] * 8, results
    receipts = [r for _, r in results]
    assert sorted(r["index"] for r in receipts) == list(range(8))  # distinct and dense
    key = _board_key(gapp)
    for payload, receipt in zip(payloads, receipts, strict=True):
        assert receipt["tracker"] == compute_tracker(payload["ballot"])  # its own receipt
        assert receipt["index"] < _verify_receipt(key, receipt).tree_size
    state = board_state(gapp)
    assert state["BoardEntry"] == 8 and state["UsedToken"] == 8
    heads = state["TreeHead"] - heads_before
    assert 1 <= heads < 8  # batched: fewer signed heads than ballots
    assert len({r["tree_head"]["tree_size"] for r in receipts}) == heads
    board = gapp.test_client().get("/api/v1/elections/e1/board?limit=100").get_json()["entries"]
    assert [e["index"] for e in board] == list(range(8))
    assert all(e["entry"]["cast_at"] % HOUR_MS == 0 for e in board)  # coarse times
    assert all(r["tree_head"]["timestamp"] % HOUR_MS == 0 for r in receipts)


def test_racing_casts_of_one_credential_and_a_tampered_ballot(gapp):
    payloads, extra = _payloads(gapp, 3, extra_for_first=1)
    tampered = copy.deepcopy(payloads[2])
    z = tampered["ballot"]["contests"][0]["selections"][0]["proof"]["z"]
    z[0] = int_to_hex(hex_to_int(z[0]) + 1)  # challenges still sum up; the equation fails
    results = _concurrently([_cast(gapp, p) for p in [payloads[0], extra[0], payloads[1],
                                                      tampered]])
    assert sorted(s for s, _ in results[:2]) == [201, 409], results
    assert next(c for s, c in results[:2] if s == 409) == "already_voted"
    assert results[2][0] == 201
    assert results[3][0] in (400, 403), results[3]  # the re-signed body no longer matches
    state = board_state(gapp)
    assert state["BoardEntry"] == 2 and state["UsedToken"] == 2


def test_tampered_proof_fails_alone_with_the_unbatched_error(gapp):
    from crypto.credentials import sign_payload
    from crypto.encoding import canonical_json

    setup_election(gapp, voters=3)
    client = gapp.test_client()
    bodies = []
    for i in (1, 2, 3):
        vc = voter(client, f"voter{i}@example.org")
        election = vc.get_election("e1")
        wallet = vc.obtain_credential(election)
        ballot = vc.encrypt(election, wallet, {"mayor": ["a"], "ref": ["yes"]}).to_json()
        if i == 3:
            z = ballot["contests"][0]["selections"][0]["proof"]["z"]
            z[0] = int_to_hex(hex_to_int(z[0]) + 1)
        bodies.append({"credential": wallet.credential.to_json(), "ballot": ballot,
                       "signature": sign_payload(wallet.ballot_key, canonical_json(ballot)).hex()})
    results = _concurrently([_cast(gapp, b) for b in bodies])
    assert [s for s, _ in results[:2]] == [201, 201]
    assert results[2] == (400, "invalid_proof")
    gapp.config["BALLOT_BATCH_ENABLED"] = False  # the same refusal without batching
    assert _cast(gapp, bodies[2])() == (400, "invalid_proof")
    assert board_state(gapp)["BoardEntry"] == 2


@pytest.mark.parametrize("batched", [True, False])
def test_retry_returns_the_same_receipt(gapp, batched):
    gapp.config["BALLOT_BATCH_ENABLED"] = batched
    gapp.config["BALLOT_BATCH_WAIT_MS"] = 0
    payloads, extra = _payloads(gapp, 3, extra_for_first=1)
    status, first = _cast(gapp, payloads[0])()
    assert status == 201
    before = board_state(gapp)
    assert _cast(gapp, payloads[0])() == (201, first)  # the response was lost: retry
    assert board_state(gapp) == before  # nothing appended, no new head
    for p in payloads[1:]:
        assert _cast(gapp, p)()[0] == 201
    assert _cast(gapp, payloads[0])() == (201, first)  # still byte for byte the same
    # through HTTP too
    response = gapp.test_client().post("/api/v1/elections/e1/ballots", json=payloads[0])
    assert response.status_code == 201 and response.get_json() == first
    # another ballot of the same credential is still refused
    assert _cast(gapp, extra[0])() == (409, "already_voted")


def test_retry_racing_the_original_in_one_batch(gapp):
    payloads, _ = _payloads(gapp, 2)
    results = _concurrently([_cast(gapp, payloads[0]), _cast(gapp, payloads[0]),
                             _cast(gapp, payloads[1])])
    assert [s for s, _ in results] == [201, 201, 201], results
    assert results[0][1] == results[1][1]
    assert board_state(gapp)["BoardEntry"] == 2


def test_revotes_in_one_batch_keep_a_chain(gapp):
    payloads, extra = _payloads(gapp, 1, revote_policy="last-counts", extra_for_first=2)
    results = _concurrently([_cast(gapp, p) for p in [payloads[0], *extra]])
    assert [s for s, _ in results] == [201] * 3, results
    board = gapp.test_client().get("/api/v1/elections/e1/board").get_json()["entries"]
    assert [e["entry"]["replaces"] for e in board] == [None, 0, 1]
    assert [e["superseded"] for e in board] == [True, True, False]


def test_batch_order_is_shuffled_with_system_randomness(gapp, monkeypatch):
    assert isinstance(group_commit._SHUFFLE, type(__import__("secrets").SystemRandom()))
    seen: list[int] = []

    def reverse(items: list[Any]) -> None:
        seen.append(len(items))
        items.reverse()

    monkeypatch.setattr(group_commit._SHUFFLE, "shuffle", reverse)
    payloads, _ = _payloads(gapp, 3)
    results = _concurrently([_cast(gapp, p) for p in payloads])
    assert [s for s, _ in results] == [201] * 3
    assert sum(seen) == 3  # every batch went through the shuffle


def test_closing_fails_the_whole_batch(gapp, monkeypatch):
    payloads, _ = _payloads(gapp, 2)
    from app.services import elections as election_service

    real = election_service.accepting_ballots
    calls = {"n": 0}

    def closed_in_commit(election: Any) -> None:
        calls["n"] += 1
        if threading.current_thread().name.startswith("election-committer"):
            raise ApiError(409, "window_closed", "closed")
        real(election)

    monkeypatch.setattr(election_service, "accepting_ballots", closed_in_commit)
    results = _concurrently([_cast(gapp, p) for p in payloads])
    assert results == [(409, "window_closed")] * 2
    assert board_state(gapp)["BoardEntry"] == 0
