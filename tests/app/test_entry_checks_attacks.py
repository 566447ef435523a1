"""Issue 10 attacks on the election board: what the server accepts, the verifier accepts."""

from __future__ import annotations

import copy

from crypto.ballot import encrypt_ballot, tracker_of
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


def _inject(app, entry):
    """Append an entry as a faulty (older) server did: no entry check, board re-signed."""
    from app.db import new_session
    from app.models import Election
    from app.services import board as board_service

    with app.app_context():
        db = new_session(app)
        try:
            index = board_service.lock_election(db, "e1")
            election = db.get(Election, "e1")
            db.refresh(election)
            entry = dict(entry, index=index, replaces=None)
            _, log = board_service.append_entry(db, election, index, entry, kind=entry["kind"],
                                                token_id=None,
                                                tracker=tracker_of(entry["ballot"]))
            board_service.sign_head(db, election, final=False, log=log)
            db.commit()
        finally:
            db.close()


def test_an_entry_accepted_by_a_faulty_server_never_blocks_the_tally(app, client):
    """Attack 1, consequence: the tally of the valid entries is still computed (not 409)."""
    from app.db import new_session
    from app.models import Election
    from app.services import elections as election_service
    from tally.aggregate import EncryptedTally

    setup_election(app, "e1", voters=2)
    vc = voter(client, "voter2@example.org")
    election = vc.get_election("e1")
    vc.cast(election, vc.obtain_credential(election), CHOICES)
    bad = _audited_body(client)
    bad["secrets"]["zzz-extra"] = copy.deepcopy(bad["secrets"]["ref"])
    _inject(app, {"kind": "audited", "election_id": "e1", "credential": None,
                  "ballot": bad["ballot"], "signature": None, "secrets": bad["secrets"],
                  "cast_at": 1})
    with app.app_context():
        db = new_session(app)
        election_service.close_election(db, db.get(Election, "e1"))
        db.commit()
        db.close()
    response = client.get("/api/v1/elections/e1/encrypted-tally")
    assert response.status_code == 200, response.get_json()
    tally = EncryptedTally.from_json(response.get_json())
    assert len(tally.counted) == 1
