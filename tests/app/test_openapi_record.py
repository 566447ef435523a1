"""The OpenAPI document covers every API route; closing freezes the board; record data."""

from __future__ import annotations

import re

from tests.app.helpers import setup_election, voter


def test_openapi_covers_every_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    documented = set()
    for path, item in doc["paths"].items():
        for method in item:
            documented.add((method.upper(), "/api/v1" + path))
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((method, path))
    assert routes <= documented
    assert {p for p in documented if not p[1].startswith("/api/v1/petitions")} <= routes


def test_close_freezes_board_and_record(app, client):
    setup_election(app)
    vc = voter(client, "voter1@example.org")
    election = vc.get_election("e1")
    receipt = vc.cast(election, vc.obtain_credential(election), {"mayor": ["a"], "ref": ["yes"]})
    from app.db import new_session
    from app.models import Election
    from app.services import elections as election_service
    from app.services import record

    with app.app_context():
        db = new_session(app)
        election_service.close_election(db, db.get(Election, "e1"))
        db.commit()
        data = record.record_data(db, "e1")
        db.close()
    assert data["state"] == "closed"
    assert [h["tree_size"] for h in data["tree_heads"]] == [0, 1, 1]
    assert data["board"][0]["tracker"] == receipt["tracker"]
    assert data["fingerprint"] == election.fingerprint.hex()
    assert data["issuance"]["count"] == 1
    assert vc.check_receipt(receipt).tree_size == 1
    assert client.get("/api/v1/elections/e1/record").status_code == 200
    with app.app_context():
        db = new_session(app)
        record.store_partial_decryption(db, "e1", 1, {"x": "1"})
        record.store_result(db, "e1", {"mayor": {"a": 1}})
        db.commit()
        assert record.record_data(db, "e1")["results"] == {"mayor": {"a": 1}}
        db.close()
    assert client.get("/api/v1/elections/e1").get_json()["state"] == "tallied"
