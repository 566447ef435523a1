"""A group-commit batch with duplicates inside it (issue #13: one query per table per batch,
duplicates found in Python) has exactly the outcomes of the same ballots cast one by one:
the first wins, the later ones get the same 409 codes, a retry gets the original receipt,
revotes keep their chain.  On SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.db import get_engine, new_session
from app.errors import ApiError
from app.services import casting
from tests.app.helpers import cast_payload, setup_election, voter
from tests.conftest import PG_BASE_URL, make_test_app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bapp(request: Any, tmp_path: Path, issuer_test_key: Any) -> Iterator[Any]:
    if request.param == "sqlite":
        application = make_test_app(f"sqlite:///{tmp_path / 'b.db'}", tmp_path,
                                    issuer_test_key, BALLOT_BATCH_ENABLED=False)
    else:
        schema = request.getfixturevalue("pg_schema")
        application = make_test_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=schema,
                                    BALLOT_BATCH_ENABLED=False)
    yield application
    get_engine(application).dispose()


def _items(app: Any, election_id: str, monkeypatch: Any) -> list[casting.BallotAppend]:
    """Verified items, in order: A, A again (a retry), B, C sharing a ciphertext of B,
    D and D' (one credential twice), E; then F (E's credential once more)."""
    client = app.test_client()
    payloads = []
    for i in range(1, 6):
        vc = voter(client, f"voter{i}@example.org")
        election = vc.get_election(election_id)
        wallet = vc.obtain_credential(election)
        choice = {"mayor": ["abc"[i % 3]], "ref": ["yes" if i % 2 else "no"]}
        payloads.append(cast_payload(vc, election, wallet, choice))
        if i in (4, 5):
            payloads.append(cast_payload(vc, election, wallet, {"mayor": ["a"], "ref": ["no"]}))
    captured: list[casting.BallotAppend] = []

    def capture(db: Any, eid: str, items: list[casting.BallotAppend]) -> list[dict[str, Any]]:
        captured.extend(items)
        return [{}]

    with monkeypatch.context() as m:
        m.setattr(casting, "append_ballots", capture)
        with app.app_context():
            for p in payloads:
                casting.cast_ballot(app, election_id, p)
    a, b, c, d1, d2, e, f = captured
    c = dataclasses.replace(c, digests=(b.digests[0], *c.digests[1:]))
    return [a, a, b, c, d1, d2, e, f]


def _outcome(result: dict[str, Any] | ApiError) -> tuple[Any, ...]:
    if isinstance(result, ApiError):
        return (result.status, result.code)
    return (201, result["index"])


def _append(app: Any, election_id: str, items: list[casting.BallotAppend]
            ) -> list[dict[str, Any] | ApiError]:
    with app.app_context():
        db = new_session(app)
        try:
            return casting.append_ballots(db, election_id, items)
        finally:
            db.close()


def _board(app: Any, election_id: str) -> list[tuple[Any, ...]]:
    data = app.test_client().get(f"/api/v1/elections/{election_id}/board").get_json()
    return [(e["index"], e["superseded"], e["superseded_by"], e["entry"]["replaces"])
            for e in data["entries"]]


@pytest.mark.parametrize("policy", ["no-revote", "last-counts"])
def test_batch_with_duplicates_equals_sequential_casts(bapp, policy, monkeypatch):
    setup_election(bapp, "e1", voters=5, revote_policy=policy)
    setup_election(bapp, "e2", voters=5, revote_policy=policy)
    batch_items = _items(bapp, "e1", monkeypatch)
    one_by_one = _items(bapp, "e2", monkeypatch)

    statements: list[str] = []
    engine = get_engine(bapp)

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        batched = _append(bapp, "e1", batch_items[:7])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    sequential = [_append(bapp, "e2", [item])[0] for item in one_by_one[:7]]

    assert [_outcome(r) for r in batched] == [_outcome(r) for r in sequential]
    if policy == "no-revote":
        expected = [(201, 0), (201, 0), (201, 1), (409, "ciphertext_reused"), (201, 2),
                    (409, "already_voted"), (201, 3)]
    else:
        expected = [(201, 0), (201, 0), (201, 1), (409, "ciphertext_reused"), (201, 2),
                    (201, 3), (201, 4)]
    assert [_outcome(r) for r in batched] == expected
    assert batched[0] == batched[1]  # the same ballot twice: one entry, one receipt
    assert _board(bapp, "e1") == _board(bapp, "e2")
    # a constant number of statements: no SELECT or INSERT per ballot
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(selects) <= 8, [s[:70].replace("\n", " ") for s in selects]
    assert len(inserts) <= 4, [s[:40] for s in inserts]

    # later batches: a retry of E gets its original receipt; F (E's credential again)
    later = _append(bapp, "e1", [batch_items[6], batch_items[7]])
    later_seq = [_append(bapp, "e2", [item])[0] for item in one_by_one[6:8]]
    assert later[0] == batched[6]
    assert later_seq[0] == sequential[6]
    assert [_outcome(r) for r in later] == [_outcome(r) for r in later_seq]
    if policy == "no-revote":
        assert _outcome(later[1]) == (409, "already_voted")
    else:
        assert _outcome(later[1]) == (201, len(_board(bapp, "e1")) - 1)
    assert _board(bapp, "e1") == _board(bapp, "e2")
    if policy == "last-counts":
        board = _board(bapp, "e1")
        assert [b for b in board if b[1]] == [(2, True, 3, None), (4, True, 5, None)]
        assert [b[3] for b in board] == [None, None, None, 2, None, 4]
