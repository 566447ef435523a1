"""Issue 10 attacks on the election board: what the server accepts, the verifier accepts."""

from __future__ import annotations

import copy

from crypto.ballot import encrypt_ballot
from tests.app.helpers import setup_election, voter

CHOICES = {"mayor": ["a"], "ref": ["no"]}


def _audited_body(client):
    vc = voter(client, "voter1@example.org")
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    ballot, secrets_ = encrypt_ballot(election.election_key.public, election.manifest,
                                      election.fingerprint, wallet.credential.token_id, CHOICES)
    return {"ballot": ballot.to_json(), "secrets": secrets_.to_json()}


def test_audited_secrets_with_an_extra_question_are_refused(app, client):
    """Attack 1: secrets covering an extra question were accepted, then blocked the tally."""
    setup_election(app, "e1", voters=1)
    body = _audited_body(client)
    bad = copy.deepcopy(body)
    bad["secrets"]["zzz-extra"] = copy.deepcopy(bad["secrets"]["ref"])
    response = client.post("/api/v1/elections/e1/audited-ballots", json=bad)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "invalid_audit"
    assert "exactly the manifest" in response.get_json()["error"]["message"]
    board = client.get("/api/v1/elections/e1/board").get_json()
    assert board["entries"] == []
    # the honest audited ballot is still accepted
    assert client.post("/api/v1/elections/e1/audited-ballots", json=body).status_code == 201


def test_audited_secrets_missing_an_option_are_refused(app, client):
    setup_election(app, "e1", voters=1)
    bad = _audited_body(client)
    del bad["secrets"]["mayor"]["c"]
    response = client.post("/api/v1/elections/e1/audited-ballots", json=bad)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_audit"
