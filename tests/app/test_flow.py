"""The whole voter flow through the HTTP API (Flask test client, SQLite)."""

from __future__ import annotations

import pytest

from saylau.voter_client import ServerError, VoterClientError
from tests.app.helpers import setup_election, voter

CHOICES = {"mayor": ["b"], "ref": ["yes"]}


def test_full_flow_and_receipt(app, client):
    emails = setup_election(app)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    receipt = vc.cast(election, wallet, CHOICES)
    assert receipt["index"] == 0
    info = client.get("/api/v1/elections/e1").get_json()
    assert info["credentials_issued"] == 1 and info["board_size"] == 1
    # another voter casts; the first receipt still holds against the later tree head
    vc2 = voter(client, emails[1])
    e2 = vc2.get_election("e1")
    r2 = vc2.cast(e2, vc2.obtain_credential(e2), {"mayor": ["a"], "ref": ["no"]})
    assert r2["index"] == 1
    head = vc.check_receipt(receipt)
    assert head.tree_size == 2


def test_second_credential_refused(app, client):
    emails = setup_election(app)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    vc.obtain_credential(election)
    with pytest.raises(ServerError) as info:
        vc.obtain_credential(election)
    assert info.value.status == 409


def test_double_cast_refused(app, client):
    emails = setup_election(app)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    vc.cast(election, wallet, CHOICES)
    with pytest.raises(ServerError) as info:
        vc.cast(election, wallet, {"mayor": ["a"], "ref": ["no"]})
    assert info.value.status == 409
    assert client.get("/api/v1/elections/e1").get_json()["board_size"] == 1


def test_fingerprint_mismatch_detected(app, client, monkeypatch):
    emails = setup_election(app)
    vc = voter(client, emails[0])
    import saylau.voter_client as mod

    monkeypatch.setattr(mod, "election_fingerprint", lambda *a: b"\x00" * 32)
    with pytest.raises(VoterClientError, match="fingerprint"):
        vc.get_election("e1")
