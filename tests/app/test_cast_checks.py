"""What the cast endpoint refuses: every refusal is 4xx JSON and changes nothing."""

from __future__ import annotations

import copy
import json

import pytest

from crypto.credentials import sign_payload
from crypto.encoding import canonical_json
from tests.app.helpers import board_state, cast_payload, setup_election, voter

CHOICES = {"mayor": ["a"], "ref": ["no"]}
URL = "/api/v1/elections/e1/ballots"


@pytest.fixture()
def ready(app, client):
    emails = setup_election(app, "e1", voters=3)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    return vc, election, wallet, cast_payload(vc, election, wallet, CHOICES)


def _refused(app, client, body, status, code=None, *, raw=None, content_type="application/json"):
    before = board_state(app)
    data = raw if raw is not None else json.dumps(body)
    response = client.post(URL, data=data, content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message"}
    if code:
        assert error["code"] == code
    assert board_state(app) == before
    return error


def test_valid_payload_accepted(app, client, ready):
    _, _, _, payload = ready
    response = client.post(URL, json=payload)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"tracker", "index", "leaf_hash", "inclusion_proof", "tree_head"}


def test_malformed_json(app, client, ready):
    _refused(app, client, None, 400, "malformed_json", raw=b"{not json")


def test_wrong_content_type(app, client, ready):
    _refused(app, client, None, 415, raw=b"credential=1", content_type="text/plain")


@pytest.mark.parametrize("body", [[], "x", 1, None, {"credential": "x", "ballot": {}, "signature": "00"},
                                  {"credential": {}, "ballot": [], "signature": "00"}])
def test_wrong_types(app, client, ready, body):
    _refused(app, client, body, 400)


def test_wrong_signature_type(app, client, ready):
    payload = dict(ready[3], signature=12)
    _refused(app, client, payload, 400, "invalid_body")


def test_oversized_body(app, client, ready):
    big = b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    _refused(app, client, None, 413, "too_large", raw=big)


def test_unknown_election(app, client, ready):
    response = client.post("/api/v1/elections/nope/ballots", json=ready[3])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_forged_credential(app, client, ready):
    payload = copy.deepcopy(ready[3])
    sig = bytearray(bytes.fromhex(payload["credential"]["signature"]))
    sig[-1] ^= 1
    payload["credential"]["signature"] = sig.hex()
    _refused(app, client, payload, 403, "invalid_credential")


def test_self_made_credential(app, client, ready):
    """A credential signed by another RSA key (not the election's issuer) is refused."""
    from crypto.blind_rsa import IssuerPrivateKey
    from crypto.credentials import begin_credential, finish_credential, issue_blind_signature

    vc, election, wallet, _ = ready
    rogue = IssuerPrivateKey.generate(2048)
    blinded, state = begin_credential(rogue.public_key(), "e1", wallet.credential.ballot_public_key)
    cred = finish_credential(rogue.public_key(), state, issue_blind_signature(rogue, blinded))
    from saylau.voter_client import Wallet

    payload = cast_payload(vc, election, Wallet(cred, wallet.ballot_key), CHOICES)
    _refused(app, client, payload, 403, "invalid_credential")


def test_bad_ballot_signature(app, client, ready):
    payload = copy.deepcopy(ready[3])
    payload["signature"] = "00" * 64
    _refused(app, client, payload, 403, "invalid_signature")


def test_invalid_proof(app, client, ready):
    _, _, wallet, payload = ready
    payload = copy.deepcopy(payload)
    proof = payload["ballot"]["contests"][0]["selections"][0]["proof"]
    key = next(k for k, v in proof.items() if isinstance(v, list))
    item = proof[key][0]
    if isinstance(item, str):
        proof[key][0] = format(int(item, 16) + 1, "x")
    else:
        sub = next(k for k, v in item.items() if isinstance(v, str))
        item[sub] = format(int(item[sub], 16) + 1, "x")
    payload["signature"] = sign_payload(wallet.ballot_key, canonical_json(payload["ballot"])).hex()
    _refused(app, client, payload, 400)


def test_wrong_choice_count_cannot_be_proven(app, client, ready):
    """A ballot whose token id is not the credential's is refused."""
    _, _, wallet, payload = ready
    payload = copy.deepcopy(payload)
    payload["ballot"]["token_id"] = "11" * 32
    payload["signature"] = sign_payload(wallet.ballot_key, canonical_json(payload["ballot"])).hex()
    _refused(app, client, payload, 400, "token_mismatch")


def test_non_canonical_ballot(app, client, ready):
    _, _, wallet, payload = ready
    payload = copy.deepcopy(payload)
    payload["ballot"]["extra"] = 1
    payload["signature"] = sign_payload(wallet.ballot_key, canonical_json(payload["ballot"])).hex()
    _refused(app, client, payload, 400, "non_canonical")
    malformed = copy.deepcopy(ready[3])
    malformed["ballot"]["contests"] = "none"
    malformed["signature"] = sign_payload(wallet.ballot_key,
                                          canonical_json(malformed["ballot"])).hex()
    _refused(app, client, malformed, 400, "invalid_encoding")


def test_out_of_window(app, client, ready):
    import datetime as dt

    from app.db import new_session
    from app.models import Election

    with app.app_context():
        db = new_session(app)
        e = db.get(Election, "e1")
        e.closes_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db.commit()
        db.close()
    _refused(app, client, ready[3], 409, "window_closed")


def test_closed_election(app, client, ready):
    from app.db import new_session
    from app.models import Election
    from app.services import elections as election_service

    with app.app_context():
        db = new_session(app)
        election_service.close_election(db, db.get(Election, "e1"))
        db.commit()
        db.close()
    _refused(app, client, ready[3], 409, "not_open")


def test_copied_ballot_refused(app, client, ready):
    """Cortier–Smyth: a ballot copied from the board under another credential is refused."""
    vc, election, _, payload = ready
    assert client.post(URL, json=payload).status_code == 201
    other = voter(client, "voter2@example.org")
    wallet2 = other.obtain_credential(other.get_election("e1"))
    copied = {"credential": wallet2.credential.to_json(), "ballot": payload["ballot"],
              "signature": sign_payload(wallet2.ballot_key, canonical_json(payload["ballot"])).hex()}
    _refused(app, client, copied, 400, "token_mismatch")
    # the same ciphertexts with the token id replaced: proofs are bound to the token
    moved = copy.deepcopy(payload["ballot"])
    moved["token_id"] = wallet2.credential.token_id.hex()
    copied = {"credential": wallet2.credential.to_json(), "ballot": moved,
              "signature": sign_payload(wallet2.ballot_key, canonical_json(moved)).hex()}
    error = _refused(app, client, copied, 409)
    assert error["code"] == "ciphertext_reused"


def test_credential_of_other_election_refused(app, client, ready):
    setup_election(app, "e2", voters=3)
    vc, _, wallet, _ = ready
    e2 = vc.get_election("e2")
    payload = cast_payload(vc, e2, wallet, CHOICES)  # a credential scoped to e1
    before = board_state(app, "e2")
    response = client.post("/api/v1/elections/e2/ballots", json=payload)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "invalid_credential"
    assert board_state(app, "e2") == before


def test_revote_last_counts(app, client):
    setup_election(app, "rv", voters=2, revote_policy="last-counts")
    vc = voter(client, "voter1@example.org")
    election = vc.get_election("rv")
    wallet = vc.obtain_credential(election)
    first = vc.cast(election, wallet, CHOICES)
    second = vc.cast(election, wallet, {"mayor": ["c"], "ref": ["yes"]})
    assert (first["index"], second["index"]) == (0, 1)
    board = client.get("/api/v1/elections/rv/board").get_json()
    assert board["entries"][0]["superseded"] is True
    assert board["entries"][0]["superseded_by"] == 1
    assert board["entries"][1]["entry"]["replaces"] == 0
    vc.check_receipt(first)  # an old receipt still proves inclusion in the append-only log


def test_audited_ballot(app, client, ready):
    vc, election, wallet, _ = ready
    from crypto.ballot import encrypt_ballot

    ballot, secrets_ = encrypt_ballot(election.election_key.public, election.manifest,
                                      election.fingerprint, wallet.credential.token_id, CHOICES)
    body = {"ballot": ballot.to_json(), "secrets": secrets_.to_json()}
    response = client.post("/api/v1/elections/e1/audited-ballots", json=body)
    assert response.status_code == 201, response.get_json()
    entry = client.get(f"/api/v1/elections/e1/board/{response.get_json()['tracker']}").get_json()
    assert entry["kind"] == "audited"
    # an audited ballot can never be cast afterwards
    cast = {"credential": wallet.credential.to_json(), "ballot": ballot.to_json(),
            "signature": sign_payload(wallet.ballot_key, canonical_json(ballot.to_json())).hex()}
    _refused(app, client, cast, 409, "ciphertext_reused")
    # wrong secrets are refused
    bad = secrets_.to_json()
    q = next(iter(bad))
    o = next(iter(bad[q]))
    bad[q][o]["m"] = 1 - bad[q][o]["m"]
    ballot2, _ = encrypt_ballot(election.election_key.public, election.manifest,
                                election.fingerprint, wallet.credential.token_id, CHOICES)
    response = client.post("/api/v1/elections/e1/audited-ballots",
                           json={"ballot": ballot2.to_json(), "secrets": bad})
    assert response.status_code == 400


@pytest.mark.parametrize("path", [("ballot", "x"), ("ballot", "contests", 0, "question_id"),
                                  ("ballot", "election_id"), ("signature",),
                                  ("ballot", "contests", 0, "selections", 0, "option_id")])
def test_lone_surrogate_is_refused_with_4xx(app, client, ready, path):
    """``"\\ud800"`` is valid JSON text but not Unicode: a cast carrying one is refused (4xx
    JSON, nothing written), never a 500 from encoding it for a hash or a signature."""
    payload = copy.deepcopy(ready[3])
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "\ud800"
    raw = json.dumps(payload).encode()  # ensure_ascii: the surrogate travels as \ud800
    assert b"\\ud800" in raw
    before = board_state(app)
    response = client.post(URL, data=raw, content_type="application/json")
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert set(response.get_json()["error"]) == {"code", "message"}
    assert board_state(app) == before


@pytest.mark.parametrize("batched", [False, True])
def test_a_cast_runs_each_check_once(app, client, ready, monkeypatch, batched):
    """The verifier's entry check is the ballot box's, run once: before, a cast verified the
    credential's RSA signature, the Ed25519 signature and parsed the ballot twice."""
    from tally import entry_checks

    app.config["BALLOT_BATCH_ENABLED"] = batched
    calls: dict[str, int] = {}

    def counted(name):
        real = getattr(entry_checks, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return real(*args, **kwargs)
        monkeypatch.setattr(entry_checks, name, wrapper)

    for name in ("verify_credential", "verify_payload_signature", "ballot_proof_items"):
        counted(name)
    import app.services.casting as casting

    for name in ("verify_credential", "verify_payload_signature"):
        assert not hasattr(casting, name), name  # no check of its own in the ballot box
    response = client.post(URL, json=ready[3])
    assert response.status_code == 201, response.get_json()
    assert calls == {"verify_credential": 1, "verify_payload_signature": 1,
                     "ballot_proof_items": 1}


@pytest.mark.parametrize("batched", [False, True])
def test_a_commitment_that_is_not_a_unit_is_named(app, client, ready, batched):
    """A commitment ``a = n`` (``gcd(a, n) = n``) with challenges that match the transcript:
    the entry check leaves the unit tests to the batch equation (``units=False``); the batch
    finds the ballot and its own check names the commitment, batched or not."""
    from crypto.ballot import DOMAIN_OPTION, OPTION_VALUES, option_context
    from crypto.proofs import membership_challenge
    from crypto.transcript import CHALLENGE_BITS

    _, election, wallet, payload = ready
    app.config["BALLOT_BATCH_ENABLED"] = batched
    payload = copy.deepcopy(payload)
    pk = election.election_key.public
    contest = payload["ballot"]["contests"][0]
    selection = contest["selections"][0]
    proof = selection["proof"]
    a = [int(x, 16) for x in proof["a"]]
    a[0] = pk.n
    challenge = membership_challenge(
        pk, DOMAIN_OPTION, election.fingerprint,
        option_context("e1", contest["question_id"], selection["option_id"],
                       wallet.credential.token_id),
        (int(selection["ciphertext"], 16),), int(selection["ciphertext"], 16), OPTION_VALUES, a)
    e0 = int(proof["e"][0], 16)
    proof["a"] = [format(x, "x") for x in a]
    proof["e"][1] = format((challenge - e0) % (1 << CHALLENGE_BITS), "x")
    payload["signature"] = sign_payload(wallet.ballot_key, canonical_json(payload["ballot"])).hex()
    error = _refused(app, client, payload, 400)
    assert "commitment not in Z*_{n^2}" in error["message"], error
