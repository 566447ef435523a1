"""The per-process cache of an open election's frozen context (issue #13,
app/services/cast_context.py): after the first cast the request thread reads only the
election's mutable columns (no JSON column, nothing parsed); a close — through the API or
straight in the database by another node — refuses the next cast; a cached context never
serves another election.  On SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from app.db import get_engine, new_session
from app.errors import ApiError
from app.services import cast_context
from app.services import elections as election_service
from tests.app.helpers import (
    OFFICIAL_EMAIL,
    OFFICIAL_PASSWORD,
    board_state,
    cast_payload,
    setup_election,
    voter,
)
from tests.conftest import PG_BASE_URL, make_test_app

CHOICES = {"mayor": ["a"], "ref": ["no"]}
#: the frozen JSON columns: read to build a context, never per cast after that
JSON_COLUMNS = ("manifest_json", "election_key_json", "issuer_public_json", "rules_json")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def node(request: Any, tmp_path: Path, issuer_test_key: Any) -> Iterator[Callable[[], Any]]:
    """A factory of app nodes on ONE database (each app has its own context cache)."""
    if request.param == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'c.db'}", None
    else:
        url, schema = PG_BASE_URL, request.getfixturevalue("pg_schema")
    made: list[Any] = []

    def make() -> Any:
        made.append(make_test_app(url, tmp_path, issuer_test_key, schema=schema))
        return made[-1]

    yield make
    for application in made:
        get_engine(application).dispose()


def _payloads(app: Any, election_id: str, count: int) -> list[dict[str, Any]]:
    client = app.test_client()
    out = []
    for i in range(1, count + 1):
        vc = voter(client, f"voter{i}@example.org")
        election = vc.get_election(election_id)
        out.append(cast_payload(vc, election, vc.obtain_credential(election), CHOICES))
    return out


def _post(app: Any, election_id: str, payload: dict[str, Any]) -> tuple[int, Any]:
    response = app.test_client().post(f"/api/v1/elections/{election_id}/ballots", json=payload)
    body = response.get_json()
    return response.status_code, body["error"]["code"] if response.status_code >= 400 else body


def _official_token(app: Any) -> str:
    login = app.test_client().post("/api/v1/auth/login", json={"email": OFFICIAL_EMAIL,
                                                                "password": OFFICIAL_PASSWORD})
    return str(login.get_json()["token"])


def test_after_the_first_cast_no_election_row_or_json_per_cast(node, monkeypatch):
    app = node()
    setup_election(app, "e1", voters=4)
    payloads = _payloads(app, "e1", 4)
    parsed: list[str] = []
    for name in ("threshold_key", "manifest_of", "issuer_public", "rules_of"):
        real = getattr(election_service, name)

        def spy(election: Any, _real: Any = real, _name: str = name) -> Any:
            parsed.append(_name)
            return _real(election)
        monkeypatch.setattr(election_service, name, spy)
    request_thread = threading.get_ident()
    per_cast: list[list[str]] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == request_thread:  # not the group committer's batch
            per_cast[-1].append(" ".join(statement.split()))

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        parsed_per_cast = []
        for p in payloads:
            per_cast.append([])
            status, receipt = _post(app, "e1", p)
            assert status == 201, receipt
            parsed_per_cast.append(len(parsed))
    finally:
        event.remove(engine, "before_cursor_execute", count)

    # the first cast parses each frozen part once; later casts parse nothing
    assert parsed_per_cast == [4, 4, 4, 4]
    assert sorted(parsed) == ["issuer_public", "manifest_of", "rules_of", "threshold_key"]

    def election_reads(statements: list[str]) -> list[str]:
        return [s for s in statements if s.upper().startswith("SELECT") and "FROM elections" in s]

    first, *later = per_cast
    assert len(election_reads(first)) == 2  # the mutable columns, then the row to build from
    assert any(c in election_reads(first)[1] for c in JSON_COLUMNS)
    for statements in later:
        reads = election_reads(statements)
        assert len(reads) == 1, reads  # the mutable columns only
        assert not any(c in reads[0] for c in JSON_COLUMNS), reads[0]
        assert re.search(r"\bstate\b", reads[0]) and re.search(r"\bcloses_at\b", reads[0])
        # that read and the copy check: nothing else in the request thread
        selects = [s for s in statements if s.upper().startswith("SELECT")]
        assert len(selects) == 2, selects
        assert not [s for s in statements if s.upper().startswith(("INSERT", "UPDATE"))]
    assert len(per_cast[1]) == len(per_cast[2]) == len(per_cast[3])


def test_closing_through_the_api_refuses_the_next_cast(node):
    app = node()
    setup_election(app, "e1", voters=2)
    first, second = _payloads(app, "e1", 2)
    assert _post(app, "e1", first)[0] == 201  # the context is cached now
    closed = app.test_client().post("/api/v1/elections/e1/close",
                                    headers={"Authorization": f"Bearer {_official_token(app)}"})
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    before = board_state(app)
    assert _post(app, "e1", second) == (409, "not_open")
    assert _post(app, "e1", first) == (409, "not_open")  # a retry too: the board is frozen
    assert board_state(app) == before


def test_closing_on_another_node_refuses_the_next_cast(node):
    """The operator closes the election on node B (its own app, process cache and session):
    node A, whose cache holds the open election's context, refuses its next cast."""
    node_a = node()
    setup_election(node_a, "e1", voters=3)
    payloads = _payloads(node_a, "e1", 3)
    assert _post(node_a, "e1", payloads[0])[0] == 201
    node_b = node()
    with node_b.app_context():
        db = new_session(node_b)
        try:
            election_service.close_election(db, election_service.get_election(db, "e1"))
            db.commit()
        finally:
            db.close()
    before = board_state(node_a)
    assert _post(node_a, "e1", payloads[1]) == (409, "not_open")
    assert board_state(node_a) == before


@pytest.mark.parametrize(("sql", "code"), [
    ("UPDATE elections SET state = 'closed' WHERE id = 'e1'", "not_open"),
    ("UPDATE elections SET state = 'tallied' WHERE id = 'e1'", "not_open"),
    ("UPDATE elections SET closes_at = :past WHERE id = 'e1'", "window_closed"),
])
def test_a_change_straight_in_the_database_refuses_the_next_cast(node, sql, code):
    """Another node's session writes the row directly: the next cast on this node sees it."""
    import datetime as dt

    app = node()
    setup_election(app, "e1", voters=2)
    first, second = _payloads(app, "e1", 2)
    assert _post(app, "e1", first)[0] == 201
    other = node()
    with get_engine(other).begin() as conn:
        conn.execute(text(sql), {"past": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    before = board_state(app)
    assert _post(app, "e1", second) == (409, code)
    assert board_state(app) == before


def test_voting_started_on_another_node_is_seen_at_once(node):
    """``opens_at`` is mutable (start_voting): read per cast, never from the cache."""
    app = node()
    setup_election(app, "e1", voters=1, credential_policy="period")
    (payload,) = _payloads(app, "e1", 1)
    assert _post(app, "e1", payload) == (409, "not_open")  # the credential period
    other = node()
    started = other.test_client().post(
        "/api/v1/elections/e1/start-voting",
        headers={"Authorization": f"Bearer {_official_token(other)}"})
    assert started.status_code == 200, started.get_data(as_text=True)
    status, receipt = _post(app, "e1", payload)
    assert status == 201, receipt


def _state(app: Any, election_id: str) -> cast_context.ElectionState:
    with app.app_context():
        db = new_session(app)
        try:
            return cast_context.read_state(db, election_id)
        finally:
            db.close()


def _context(app: Any, state: cast_context.ElectionState) -> cast_context.CastContext:
    with app.app_context():
        db = new_session(app)
        try:
            return cast_context.context_for(app, db, state)
        finally:
            db.close()


def test_a_cached_context_never_serves_another_election(node):
    app = node()
    setup_election(app, "e1", voters=2)
    setup_election(app, "e2", voters=2)  # the same election key and issuer key as e1
    (p1,) = _payloads(app, "e1", 1)
    assert _post(app, "e1", p1)[0] == 201
    e1, e2 = _state(app, "e1"), _state(app, "e2")
    c1 = _context(app, e1)
    assert c1 is _context(app, e1)  # cached
    c2 = _context(app, e2)
    assert c2 is not c1
    assert (c2.election_id, c2.entry.election_id) == ("e2", "e2")
    assert c2.fingerprint.hex() == e2.fingerprint_hex != e1.fingerprint_hex
    # e1's context planted under e2's id is not served for e2
    cache = app.extensions["saylau_cast_contexts"]
    cache["e2"] = c1
    served = _context(app, e2)
    assert served.election_id == "e2" and served.fingerprint == c2.fingerprint
    assert cache["e2"] is served
    # nor e1's context relabelled with e2's key (its own manifest names e1)
    cache["e2"] = dataclasses.replace(c1, key=e2.key)
    assert _context(app, e2).entry.election_id == "e2"
    # an e1 credential cast into e2 while e1's context is cached: refused as before
    assert _post(app, "e2", p1) == (403, "invalid_credential")


def test_a_context_is_rebuilt_when_the_state_or_fingerprint_differs(node):
    app = node()
    setup_election(app, "e1", voters=1)
    state = _state(app, "e1")
    cached = _context(app, state)
    assert cached.key == ("e1", "open", state.fingerprint_hex)
    # the same election under another fingerprint (recreated): a miss, built from the row
    other = dataclasses.replace(state, fingerprint_hex="00" * 32)
    rebuilt = _context(app, other)
    assert rebuilt is not cached and rebuilt.key == state.key
    # another state: a miss too
    closed = dataclasses.replace(state, state="closed")
    assert _context(app, closed) is not _context(app, state)
    assert app.extensions["saylau_cast_contexts"]["e1"].key == state.key


def test_unknown_election_and_no_fingerprint(node):
    app = node()
    setup_election(app, "draft", voters=1, open_it=False)
    with app.app_context():
        db = new_session(app)
        try:
            for bad in ("nope", 7, "x" * 65):
                with pytest.raises(ApiError, match=r"^unknown election$") as info:
                    cast_context.read_state(db, bad)
                assert (info.value.status, info.value.code) == (404, "not_found")
            draft = cast_context.read_state(db, "draft")
            assert draft.state == "draft" and draft.fingerprint_hex is None
            with pytest.raises(ApiError, match=r"^the election is not open$") as info:
                cast_context.context_for(app, db, draft)
            assert (info.value.status, info.value.code) == (409, "not_open")
        finally:
            db.close()
    assert "draft" not in app.extensions.get("saylau_cast_contexts", {})
