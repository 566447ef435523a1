"""When PostgreSQL refuses a connection ("too many clients", a restart), a request gets 503
with ``Retry-After`` — JSON under /api/, a page elsewhere — never a 500; nothing is recorded,
and the same cast sent again once the database is back gets its receipt.

A 10-minute benchmark run (docs/performance.md §1, "Ten minutes at 100 casts/s") had one 500
among 60,016 casts, with pools that together could ask PostgreSQL for more connections than
its ``max_connections``.  The refusal is made here the way PostgreSQL makes it: the driver's
connect raises psycopg's ``OperationalError`` with the server's message.
"""

from __future__ import annotations

import logging
import sqlite3

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.db import get_engine
from app.errors import database_unavailable
from app.services import cast_context
from tests.app.helpers import board_state, cast_payload, setup_election, voter
from tests.conftest import PG_BASE_URL, make_test_app

URL = "/api/v1/elections/e1/ballots"
REFUSAL = "connection failed: FATAL:  sorry, too many clients already"


@pytest.fixture()
def pg_app(tmp_path, issuer_test_key, pg_schema):
    application = make_test_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=pg_schema)
    yield application
    get_engine(application).dispose()


class _Refusing:
    """PostgreSQL at its connection limit: every new connection is refused."""

    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        self.engine.dispose()  # no pooled connection left: the next request must connect
        event.listen(self.engine, "do_connect", self._refuse)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "do_connect", self._refuse)

    @staticmethod
    def _refuse(*args, **kwargs):
        raise psycopg.OperationalError(REFUSAL)


@pytest.mark.postgres
def test_a_cast_the_database_cannot_take_gets_503_and_its_retry_a_receipt(pg_app, caplog):
    client = pg_app.test_client()
    emails = setup_election(pg_app, "e1", voters=2)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    payload = cast_payload(vc, election, vc.obtain_credential(election),
                           {"mayor": ["a"], "ref": ["no"]})
    before = board_state(pg_app)
    browser = pg_app.test_client()
    with browser.session_transaction() as cookie:  # a signed-in browser: its header asks the db
        cookie["user_id"], cookie["sid"] = 1, "a-session-id"
    with caplog.at_level(logging.WARNING), _Refusing(get_engine(pg_app)):
        response = client.post(URL, json=payload)
        page = client.get("/board/e1")
        signed_in_page = browser.get("/board/e1")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "1"
    assert page.status_code == 503 and "text/html" in page.headers["Content-Type"]
    assert "Traceback" not in page.get_data(as_text=True)
    assert signed_in_page.status_code == 503 and signed_in_page.headers["Retry-After"] == "1"
    logged = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert logged and all("too many clients" in m for m in logged)
    assert not any(payload["signature"] in r.getMessage() for r in caplog.records)
    assert board_state(pg_app) == before
    retry = client.post(URL, json=payload)
    assert retry.status_code == 201, retry.get_data(as_text=True)
    again = client.post(URL, json=payload)
    assert again.status_code == 201 and again.get_json() == retry.get_json()
    assert board_state(pg_app)["BoardEntry"] == before["BoardEntry"] + 1


def _wrapped(driver_error: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, driver_error)


class _Stateful(psycopg.OperationalError):
    def __init__(self, message: str, sqlstate: str) -> None:
        self._state = sqlstate  # before psycopg's own __init__, which reads it
        super().__init__(message)

    @property
    def sqlstate(self) -> str:  # type: ignore[override]
        return self._state


@pytest.mark.parametrize(("error", "retry"), [
    (PoolTimeout("QueuePool limit of size 5 overflow 0 reached"), True),
    (_wrapped(psycopg.OperationalError(REFUSAL)), True),
    (_wrapped(_Stateful("terminating connection due to administrator command", "57P01")), True),
    (_wrapped(_Stateful("sorry, too many clients already", "53300")), True),
    (_wrapped(_Stateful("deadlock detected", "40P01")), True),
    (_wrapped(sqlite3.OperationalError("database is locked")), True),
    (_wrapped(_Stateful("canceling statement due to statement timeout", "57014")), False),
    (_wrapped(_Stateful("could not extend file: No space left on device", "53100")), False),
    (_wrapped(sqlite3.OperationalError("no such table: elections")), False),
    (ValueError("not a database error"), False),
])
def test_only_a_database_that_cannot_take_the_request_now_is_503(error, retry):
    assert database_unavailable(error) is retry


def test_a_locked_sqlite_database_is_503_and_a_missing_table_a_500(app, client, monkeypatch,
                                                                    caplog):
    """On the embedded SQLite: its busy timeout is "retry in a moment"; a schema fault is a
    500 whose traceback reaches the log (a retry would meet it again)."""
    errors = iter([sqlite3.OperationalError("database is locked"),
                   sqlite3.OperationalError("no such table: elections")])

    def read_state(db, election_id):
        raise _wrapped(next(errors))

    monkeypatch.setattr(cast_context, "read_state", read_state)
    with caplog.at_level(logging.WARNING):
        busy = client.post(URL, json={"credential": {}, "ballot": {}, "signature": "00" * 64})
        broken = client.post(URL, json={"credential": {}, "ballot": {}, "signature": "00" * 64})
    assert busy.status_code == 503 and busy.get_json()["error"]["code"] == "unavailable"
    assert broken.status_code == 500 and broken.get_json()["error"]["code"] == "internal"
    assert "Retry-After" not in broken.headers
    assert any(r.exc_info and "no such table" in str(r.exc_info[1]) for r in caplog.records)
