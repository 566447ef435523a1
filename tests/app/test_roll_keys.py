"""Issue 11 on the server: enrollment, the frozen roll, voter-signed credential requests.

The whole flow with the Python voter client in enrolled-key and PKI mode (SQLite here,
PostgreSQL in :func:`test_enrolled_and_pki_flow_on_postgres`); bad input is a 4xx JSON error
and issues nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.db import new_session
from app.models import CredentialIssuance
from app.services import elections as election_service
from crypto.credentials import ballot_public_key_bytes, begin_credential, generate_ballot_key
from crypto.roll import CredentialRequest, RollEntry, SignedRequest, sign_request, verify_request
from saylau.voter_client import ServerError, VoterClient, load_pkcs12
from tests.app.helpers import (
    VOTER_PASSWORD,
    flask_transport,
    roll_key,
    setup_election,
    voter,
)
from tests.conftest import make_test_app
from tests.pki import make_ca, pkcs12_bytes


def _open(app: Any, election_id: str = "e1") -> None:
    with app.app_context():
        db = new_session(app)
        election = election_service.get_election(db, election_id)
        election_service.open_election(db, election)
        db.commit()
        db.close()


def _issued(app: Any, election_id: str = "e1") -> int:
    with app.app_context():
        db = new_session(app)
        try:
            return len(db.query(CredentialIssuance).filter_by(election_id=election_id).all())
        finally:
            db.close()


def _choices(vc: VoterClient, election: Any) -> dict[str, list[str]]:
    return {q.id: list(q.option_ids[:q.min_selections]) for q in election.manifest.questions}


def _signed_body(vc: VoterClient, election: Any, *, key: Any = None, period: str = "2026-11-29",
                 index: int | None = None) -> tuple[dict[str, Any], bytes]:
    bpk = ballot_public_key_bytes(generate_ballot_key())
    blinded, _ = begin_credential(election.issuer_key, election.election_id, bpk)
    roll_index = vc.check_roll(election) if index is None else index
    request = CredentialRequest(election.election_id, roll_index, blinded, period)
    signed = sign_request(key or vc.roll_key, request)
    return {"signed_request": signed.to_json()}, blinded


def _post(client: Any, vc: VoterClient, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers={"Authorization": f"Bearer {vc.token}"})


def test_enrolled_flow_with_the_python_client(app: Any, client: Any) -> None:
    emails = setup_election(app, open_it=False, enroll=False)
    clients = []
    for email in emails:
        vc = VoterClient("http://localhost", transport=flask_transport(client),
                         roll_key=Ed25519PrivateKey.generate())
        vc.login(email, VOTER_PASSWORD)
        assert vc.enroll("e1")["kind"] == "ed25519"
        clients.append(vc)
    _open(app)
    roll = client.get("/api/v1/elections/e1/roll").get_json()
    assert roll["commitment"]["size"] == 3 and len(roll["entries"]) == 3
    assert all("email" not in e and "name" not in e for e in roll["entries"])
    vc = clients[0]
    election = vc.get_election("e1")  # recomputes F1 with the roll commitment
    index = vc.check_roll(election)
    wallet = vc.obtain_credential(election)
    receipt = vc.cast(election, wallet, _choices(vc, election))
    assert receipt["index"] == 0
    register = client.get("/api/v1/elections/e1/issuance").get_json()
    assert register["count"] == 1 and len(register["requests"]) == 1
    signed = SignedRequest.from_json(register["requests"][0])
    assert signed.request.roll_index == index
    verify_request(RollEntry.from_json(roll["entries"][index]), signed)
    # the lookup: my key, my index
    me = client.get("/api/v1/elections/e1/roll/me",
                    headers={"Authorization": f"Bearer {vc.token}"}).get_json()
    assert me["roll_index"] == index


def test_same_signed_request_again_returns_the_stored_answer(app: Any, client: Any) -> None:
    """A lost response: the same signed request gets the same blind signature (200), a
    different one from the same key is refused (409); one issuance in all."""
    emails = setup_election(app)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    body, _ = _signed_body(vc, election)
    first = _post(client, vc, "/api/v1/elections/e1/credential", body)
    again = _post(client, vc, "/api/v1/elections/e1/credential", body)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json() == again.get_json()
    other, _ = _signed_body(vc, election)
    refused = _post(client, vc, "/api/v1/elections/e1/credential", other)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "already_issued"
    assert _issued(app) == 1


@pytest.mark.parametrize(("mutate", "status", "code"), [
    (lambda b: {"blinded_message": b["signed_request"]["request"]["blinded_message"]}, 400,
     "unsigned_request"),
    (lambda b: {"signed_request": {**b["signed_request"], "extra": 1}}, 400, "invalid_request"),
    (lambda b: {"signed_request": {"request": {**b["signed_request"]["request"],
                                               "period": "2026-11-29T10:31:07Z"},
                                   "signature": b["signed_request"]["signature"]}}, 400,
     "invalid_request"),
    (lambda b: {"signed_request": {"request": b["signed_request"]["request"],
                                   "signature": "zz"}}, 400, "invalid_request"),
    (lambda b: {"signed_request": "not an object"}, 400, "invalid_request"),
    (lambda b: {"signed_request": {"request": {**b["signed_request"]["request"],
                                               "roll_index": 2},
                                   "signature": b["signed_request"]["signature"]}}, 403,
     "wrong_roll_index"),
])
def test_malformed_or_foreign_requests_issue_nothing(app: Any, client: Any, mutate: Any,
                                                     status: int, code: str) -> None:
    emails = setup_election(app)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    body, _ = _signed_body(vc, election)
    if code == "wrong_roll_index":
        mine = body["signed_request"]["request"]["roll_index"]
        body["signed_request"]["request"]["roll_index"] = (mine + 1) % 3
        answer = _post(client, vc, "/api/v1/elections/e1/credential", body)
    else:
        answer = _post(client, vc, "/api/v1/elections/e1/credential", mutate(body))
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["code"] == code
    assert _issued(app) == 0


def test_request_signed_by_a_key_not_on_the_roll(app: Any, client: Any) -> None:
    emails = setup_election(app)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    body, _ = _signed_body(vc, election, key=Ed25519PrivateKey.generate())
    answer = _post(client, vc, "/api/v1/elections/e1/credential", body)
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "bad_request_signature"
    assert _issued(app) == 0


def test_unenrolled_voter_gets_nothing(app: Any, client: Any) -> None:
    emails = setup_election(app, enroll=False)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    assert election.raw["roll"]["size"] == 0
    body, _ = _signed_body(vc, election, index=0)
    answer = _post(client, vc, "/api/v1/elections/e1/credential", body)
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "not_enrolled"
    assert _issued(app) == 0


def test_roll_frozen_at_opening(app: Any, client: Any) -> None:
    """No enrollment and no roll import after opening; the fingerprint binds the roll."""
    emails = setup_election(app)
    vc = voter(client, emails[0])
    with pytest.raises(ServerError, match="enrollment closed"):
        vc.enroll("e1")
    with app.app_context():
        db = new_session(app)
        from app.errors import ApiError
        from app.services import roll as roll_service

        election = election_service.get_election(db, "e1")
        with pytest.raises(ApiError, match="the roll is frozen"):
            roll_service.import_roll(db, election, "email,name\nlate@example.org,Late\n")
        db.close()


def test_a_key_on_the_roll_twice_is_refused(app: Any, client: Any) -> None:
    emails = setup_election(app, open_it=False, enroll=False)
    shared = Ed25519PrivateKey.generate()
    first = VoterClient("http://localhost", transport=flask_transport(client), roll_key=shared)
    first.login(emails[0], VOTER_PASSWORD)
    first.enroll("e1")
    second = VoterClient("http://localhost", transport=flask_transport(client), roll_key=shared)
    second.login(emails[1], VOTER_PASSWORD)
    with pytest.raises(ServerError, match="already on the roll") as err:
        second.enroll("e1")
    assert err.value.status == 409
    bad = _post(client, second, "/api/v1/elections/e1/enroll", {"public_key": "00" * 31})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_key"


# --------------------------------------------------------------------------- PKI mode


@pytest.fixture()
def pki(tmp_path: Path) -> dict[str, Any]:
    """A TEST CA (stand-in for the national CA), its CRL revoking one voter, a foreign CA."""
    ca, foreign = make_ca(), make_ca("Some other CA")
    voters = {f"voter{i}@example.org": f"9001013000{i:02d}" for i in (1, 2, 3)}
    certs = {email: ca.issue(iin) for email, iin in voters.items()}
    expired = ca.issue(voters["voter1@example.org"],
                       not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=30), days=10)
    revoked = ca.issue(voters["voter1@example.org"])
    wrong_ca = foreign.issue(voters["voter1@example.org"])
    (tmp_path / "ca.pem").write_bytes(ca.pem())
    (tmp_path / "crl.pem").write_bytes(
        ca.crl((revoked[1].serial_number,)).public_bytes(serialization.Encoding.PEM))
    return {"ca": ca, "voters": voters, "certs": certs, "expired": expired,
            "revoked": revoked, "wrong_ca": wrong_ca,
            "config": {"PKI_CA_FILE": str(tmp_path / "ca.pem"),
                       "PKI_CRL_FILE": str(tmp_path / "crl.pem")}}


def _pki_election(app: Any, voters: dict[str, str]) -> None:
    from app.services import roll as roll_service
    from app.services import users as user_service
    from crypto.election import Manifest
    from tests.app.helpers import (
        OFFICIAL_EMAIL,
        OFFICIAL_PASSWORD,
        manifest_json,
        threshold_public_json,
    )

    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, OFFICIAL_EMAIL, "Official", ("official",),
                                        password=OFFICIAL_PASSWORD)
        election = election_service.create_election(
            db, Manifest.from_json(manifest_json("e1")), issuer_key=app.config["TEST_ISSUER_KEY"],
            credential_mode="pki", credential_policy="any_time")
        election_service.set_election_key(db, election, threshold_public_json(),
                                          allow_test_key=True)
        roll_service.import_roll(db, election, "email,name,iin\n" + "".join(
            f"{e},Voter,{iin}\n" for e, iin in voters.items()))
        for e in voters:
            user_service.get_or_create_user(db, e, password=VOTER_PASSWORD)
        db.commit()
        db.close()


def _pki_client(client: Any, email: str, key: Any, cert: Any) -> VoterClient:
    vc = VoterClient("http://localhost", transport=flask_transport(client), roll_key=key,
                     certificate=cert.public_bytes(serialization.Encoding.DER))
    vc.login(email, VOTER_PASSWORD)
    return vc


def _pki_flow(app: Any, pki: dict[str, Any]) -> None:
    client = app.test_client()
    _pki_election(app, pki["voters"])
    # voter 1 enrolls from a PKCS#12 file, as `saylau vote --pkcs12` does
    email = "voter1@example.org"
    key, cert = pki["certs"][email]
    key2, der = load_pkcs12(pkcs12_bytes(key, cert, b"pw"), b"pw")
    vc = VoterClient("http://localhost", transport=flask_transport(client), roll_key=key2,
                     certificate=der)
    vc.login(email, VOTER_PASSWORD)
    assert vc.enroll("e1")["kind"] == "x509"
    other = _pki_client(client, "voter2@example.org", *pki["certs"]["voter2@example.org"])
    other.enroll("e1")
    _open(app)
    roll = client.get("/api/v1/elections/e1/roll").get_json()
    assert roll["mode"] == "pki" and len(roll["entries"]) == 2
    assert all(e["id_hash"] and "9001013" not in json.dumps(e) for e in roll["entries"])
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    receipt = vc.cast(election, wallet, _choices(vc, election))
    assert receipt["index"] == 0
    assert len(client.get("/api/v1/elections/e1/issuance").get_json()["requests"]) == 1


def test_pki_flow_with_pkcs12(tmp_path: Path, issuer_test_key: Any, pki: dict[str, Any]) -> None:
    app = make_test_app(f"sqlite:///{tmp_path / 'pki.db'}", tmp_path, issuer_test_key,
                        **pki["config"])
    _pki_flow(app, pki)


@pytest.mark.parametrize(("which", "status", "code"), [
    ("expired", 400, "certificate_expired"),
    ("revoked", 400, "certificate_revoked"),
    ("wrong_ca", 400, "untrusted_certificate"),
    ("other_iin", 403, "national_id_mismatch"),
])
def test_pki_bad_certificates(tmp_path: Path, issuer_test_key: Any, pki: dict[str, Any],
                              which: str, status: int, code: str) -> None:
    app = make_test_app(f"sqlite:///{tmp_path / 'pki.db'}", tmp_path, issuer_test_key,
                        **pki["config"])
    client = app.test_client()
    _pki_election(app, pki["voters"])
    key, cert = (pki["certs"]["voter2@example.org"] if which == "other_iin" else pki[which])
    vc = _pki_client(client, "voter1@example.org", key, cert)
    with pytest.raises(ServerError) as err:
        vc.enroll("e1")
    assert (err.value.status, err.value.code) == (status, code)
    _open(app)
    assert client.get("/api/v1/elections/e1/roll").get_json()["entries"] == []


def test_pki_enrollment_needs_configuration(app: Any, client: Any, pki: dict[str, Any]) -> None:
    _pki_election(app, pki["voters"])
    vc = _pki_client(client, "voter1@example.org", *pki["certs"]["voter1@example.org"])
    with pytest.raises(ServerError, match="PKI_CA_FILE") as err:
        vc.enroll("e1")
    assert err.value.status == 409
    garbage = _post(client, vc, "/api/v1/elections/e1/enroll", {"certificate": "@@@"})
    assert garbage.status_code == 400


@pytest.mark.postgres
def test_enrolled_and_pki_flow_on_postgres(tmp_path: Path, issuer_test_key: Any,
                                           pg_schema: str, pki: dict[str, Any]) -> None:
    from tests.conftest import PG_BASE_URL

    app = make_test_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=pg_schema,
                        **pki["config"])
    _pki_flow(app, pki)
    client = app.test_client()
    emails = setup_election(app, "e2")
    vc = voter(client, emails[0])
    election = vc.get_election("e2")
    wallet = vc.obtain_credential(election)
    vc.cast(election, wallet, _choices(vc, election))
    assert roll_key(emails[0]) is vc.roll_key


def test_new_elections_cannot_use_login_mode(app: Any, client: Any) -> None:
    """Login mode (no roll: the operator alone could issue every credential) is refused for
    new elections through the API, the admin form and the service; enrolled is the default."""
    import html

    from app.errors import ApiError
    from crypto.election import Manifest
    from tests.app.helpers import manifest_json
    from tests.app.test_web import csrf_token, login_official

    setup_election(app)
    login_official(client)
    token = csrf_token(client, "/admin/elections/new")
    body = {"id": "legacy-2026", "title": "Vote", "credential_mode": "login", "questions": [
        {"id": "q1", "title": "Q", "min_selections": 1, "max_selections": 1,
         "options": [{"id": "a", "label": "A"}]}]}
    response = client.post("/api/v1/elections", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "login_mode_retired"
    assert client.get("/api/v1/elections/legacy-2026").status_code == 404
    response = client.post("/admin/elections/new", data={
        "csrf_token": token, "id": "legacy-form", "title": "City vote",
        "questions": "budget | Budget | yesno", "revote_policy": "last-counts",
        "credential_mode": "login"})
    assert response.status_code == 400
    assert "no longer accepted" in html.unescape(response.get_data(as_text=True))
    assert client.get("/api/v1/elections/legacy-form").status_code == 404
    del body["credential_mode"]
    response = client.post("/api/v1/elections", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert response.get_json()["credential_mode"] == "enrolled"
    with app.app_context():
        db = new_session(app)
        try:
            with pytest.raises(ApiError, match="no longer accepted"):
                election_service.create_election(
                    db, Manifest.from_json(manifest_json("legacy-svc")), credential_mode="login")
            # old login-mode rows are still read (compatibility)
            old = election_service.create_election(
                db, Manifest.from_json(manifest_json("legacy-old")), credential_mode="login",
                legacy_login=True)
            assert old.credential_mode == "login"
        finally:
            db.rollback()
            db.close()


def test_roll_key_card_is_shared_by_browser_and_cli(tmp_path: Path) -> None:
    """The CLI writes and reads the browser's roll key card (saylau-roll-key/1); bad cards
    are refused with the reason; PEM files of older versions still load."""
    from saylau.voter_client import (
        VoterClientError,
        load_roll_key,
        roll_key_card,
        roll_key_from_card,
        save_roll_key,
    )

    key = Ed25519PrivateKey.generate()
    path = tmp_path / "card.json"
    save_roll_key(path, key, "e1", 4)
    card = json.loads(path.read_text())
    assert card["format"] == "saylau-roll-key/1" and card["roll_index"] == 4
    assert card["public_key"] == ballot_public_key_bytes(key).hex() and "SECRET" in card["warning"]
    assert path.stat().st_mode & 0o777 == 0o600
    assert ballot_public_key_bytes(load_roll_key(path, "e1")) == ballot_public_key_bytes(key)
    with pytest.raises(VoterClientError, match="for election 'e1', not 'e2'"):
        load_roll_key(path, "e2")
    other = roll_key_card("e1", Ed25519PrivateKey.generate())
    with pytest.raises(VoterClientError, match="does not match"):
        roll_key_from_card({**card, "public_key": other["public_key"]})
    with pytest.raises(VoterClientError, match="format"):
        roll_key_from_card({**card, "format": "saylau-voting-card/1"})
    with pytest.raises(VoterClientError, match="PKCS#8"):
        roll_key_from_card({**card, "private_key_pkcs8": "abcd"})
    with pytest.raises(VoterClientError, match="JSON"):
        roll_key_from_card("{not json")
    pem = tmp_path / "old.pem"
    save_roll_key(pem, key)
    assert ballot_public_key_bytes(load_roll_key(pem)) == ballot_public_key_bytes(key)


def test_roll_key_page(app: Any, client: Any) -> None:
    """/vote/<id>/roll-key: login needed; a draft is shown only to voters on its roll (with
    the enroll button), an open election offers the roll check instead."""
    from app.models import Election
    from app.services import users as user_service
    from tests.app.test_web import csrf_token

    setup_election(app, open_it=False, enroll=False)
    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, "stranger@example.org", password=VOTER_PASSWORD)
        db.commit()
        db.close()
    assert client.get("/vote/e1/roll-key").status_code in (302, 401)

    def login_as(email: str) -> None:
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/login")})
        token = csrf_token(client, "/auth/login")
        response = client.post("/auth/login", data={"email": email, "password": VOTER_PASSWORD,
                                                     "csrf_token": token})
        assert response.status_code == 302

    login_as("stranger@example.org")
    assert client.get("/vote/e1/roll-key").status_code == 404  # a draft: voters on its roll only
    assert client.get("/vote/none/roll-key").status_code == 404
    login_as("voter1@example.org")
    page = client.get("/vote/e1/roll-key").get_data(as_text=True)
    assert 'id="enroll-button"' in page and 'id="roll-check-button"' not in page
    assert "/vote/e1/roll-key" in client.get("/").get_data(as_text=True)  # the home page links it
    _open(app)
    page = client.get("/vote/e1/roll-key").get_data(as_text=True)
    assert 'id="enroll-button"' not in page and 'id="roll-check-button"' in page
    with app.app_context():
        db = new_session(app)
        assert db.get(Election, "e1").state == "open"
        db.close()
