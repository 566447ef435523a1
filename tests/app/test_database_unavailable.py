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

import psycopg
import pytest
from sqlalchemy import event

from app.db import get_engine
from tests.app.helpers import board_state, cast_payload, setup_election, voter
from tests.conftest import PG_BASE_URL, make_test_app

pytestmark = pytest.mark.postgres

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


def test_a_cast_the_database_cannot_take_gets_503_and_its_retry_a_receipt(pg_app, caplog):
    client = pg_app.test_client()
    emails = setup_election(pg_app, "e1", voters=2)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    payload = cast_payload(vc, election, vc.obtain_credential(election),
                           {"mayor": ["a"], "ref": ["no"]})
    before = board_state(pg_app)
    with caplog.at_level(logging.WARNING), _Refusing(get_engine(pg_app)):
        response = client.post(URL, json=payload)
        page = client.get("/board/e1")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "1"
    assert page.status_code == 503 and "text/html" in page.headers["Content-Type"]
    assert "Traceback" not in page.get_data(as_text=True)
    logged = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert logged and all("too many clients" in m for m in logged)
    assert not any(payload["signature"] in r.getMessage() for r in caplog.records)
    assert board_state(pg_app) == before
    retry = client.post(URL, json=payload)
    assert retry.status_code == 201, retry.get_data(as_text=True)
    again = client.post(URL, json=payload)
    assert again.status_code == 201 and again.get_json() == retry.get_json()
    assert board_state(pg_app)["BoardEntry"] == before["BoardEntry"] + 1
