"""Races against a real server (werkzeug, threaded): SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.serving import make_server

from saylau.voter_client import ServerError, VoterClient
from tests.app.helpers import (
    VOTER_PASSWORD,
    board_state,
    cast_payload,
    roll_key,
    setup_election,
)
from tests.conftest import PG_BASE_URL, make_test_app


def _serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _race(app, base_url, *, same_payload: bool):
    vc = VoterClient(base_url, roll_key=roll_key("voter1@example.org"))
    vc.login("voter1@example.org", VOTER_PASSWORD)
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    payloads = [cast_payload(vc, election, wallet, {"mayor": ["a"], "ref": ["yes"]})]
    payloads.append(payloads[0] if same_payload else
                    cast_payload(vc, election, wallet, {"mayor": ["b"], "ref": ["no"]}))
    barrier = threading.Barrier(2)

    def post(payload):
        client = VoterClient(base_url)
        barrier.wait()
        try:
            return 201, client._request("POST", "/api/v1/elections/e1/ballots", payload)
        except ServerError as exc:
            return exc.status, None

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(post, payloads))
    if same_payload:  # the same ballot twice (a retry racing the original): one entry, one receipt
        assert [s for s, _ in outcomes] == [201, 201]
        assert outcomes[0][1] == outcomes[1][1]
    else:
        assert sorted(s for s, _ in outcomes) == [201, 409]
    state = board_state(app)
    assert state["BoardEntry"] == 1 and state["UsedToken"] == 1
    # parallel credential requests by one voter: exactly one is issued
    vc2 = VoterClient(base_url, roll_key=roll_key("voter2@example.org"))
    vc2.login("voter2@example.org", VOTER_PASSWORD)

    def issue(_):
        barrier.wait()
        try:
            vc2.obtain_credential(election)
            return 201
        except ServerError as exc:
            return exc.status

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(issue, range(2))) == [201, 409]
    assert board_state(app)["CredentialIssuance"] == 2


def _dense_appends(app, base_url):
    """Several voters cast at once: indexes stay dense, every receipt verifies."""
    clients = []
    for i in (3, 4, 5):
        vc = VoterClient(base_url, roll_key=roll_key(f"voter{i}@example.org"))
        vc.login(f"voter{i}@example.org", VOTER_PASSWORD)
        election = vc.get_election("e1")
        clients.append((vc, election, vc.obtain_credential(election)))
    barrier = threading.Barrier(len(clients))

    def cast(item):
        vc, election, wallet = item
        ballot = vc.encrypt(election, wallet, {"mayor": ["c"], "ref": ["yes"]})
        barrier.wait()
        return vc.cast(election, wallet, ballot=ballot)

    with ThreadPoolExecutor(len(clients)) as pool:
        receipts = list(pool.map(cast, clients))
    assert sorted(r["index"] for r in receipts) == [1, 2, 3]
    for (vc, _, _), receipt in zip(clients, receipts, strict=True):
        assert vc.check_receipt(receipt).tree_size == 4


def test_races_sqlite(app):
    setup_election(app, voters=5)
    server, url = _serve(app)
    try:
        _race(app, url, same_payload=True)
        _dense_appends(app, url)
    finally:
        server.shutdown()


@pytest.mark.postgres
def test_races_postgres(tmp_path, issuer_test_key, pg_schema):
    app = make_test_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=pg_schema)
    setup_election(app, voters=5)
    server, url = _serve(app)
    try:
        _race(app, url, same_payload=False)
        _dense_appends(app, url)
    finally:
        server.shutdown()
        from app.db import get_engine

        get_engine(app).dispose()


@pytest.mark.postgres
def test_full_flow_postgres(tmp_path, issuer_test_key, pg_schema):
    from tests.app.helpers import voter

    app = make_test_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=pg_schema)
    try:
        setup_election(app, revote_policy="last-counts")
        client = app.test_client()
        vc = voter(client, "voter1@example.org")
        election = vc.get_election("e1")
        wallet = vc.obtain_credential(election)
        first = vc.cast(election, wallet, {"mayor": ["a"], "ref": ["yes"]})
        vc.cast(election, wallet, {"mayor": ["b"], "ref": ["no"]})
        assert vc.check_receipt(first).tree_size == 2
        response = client.post("/api/v1/elections/e1/ballots", data=b"{", content_type="application/json")
        assert response.status_code == 400
        from app.db import new_session
        from app.services import record

        with app.app_context():
            db = new_session(app)
            data = record.record_data(db, "e1")
            assert len(data["board"]) == 2 and data["issuance"]["count"] == 1
            assert len(record.counted_entries(db, "e1")) == 1
            db.close()
    finally:
        from app.db import get_engine

        get_engine(app).dispose()
