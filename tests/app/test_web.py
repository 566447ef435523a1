"""Web security and official flows: CSRF, headers, secret key, login links, roll CSV."""

from __future__ import annotations

import re

import pytest

from tests.app.helpers import (
    OFFICIAL_EMAIL,
    OFFICIAL_PASSWORD,
    VOTER_PASSWORD,
    board_state,
    setup_election,
    voter,
)


def csrf_token(client, path):
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def login_official(client):
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", data={"email": OFFICIAL_EMAIL,
                                                "password": OFFICIAL_PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_security_headers(client):
    for path in ("/", "/auth/login", "/api/v1/openapi.json", "/api/v1/elections/none"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                          "base-uri 'none'", "frame-ancestors 'none'", "worker-src 'self'"):
            assert directive in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_no_inline_scripts(app):
    from pathlib import Path

    for template in Path(app.root_path, "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and " on" + "click=" not in text, template


def test_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    from app import create_app
    from app.config import ConfigError

    monkeypatch.delenv("SAYLAU_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SAYLAU_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    with pytest.raises(ConfigError):
        create_app({"SECRET_KEY": "short", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_csrf_required_on_forms(app, client):
    setup_election(app)
    response = client.post("/auth/login", data={"email": OFFICIAL_EMAIL,
                                                "password": OFFICIAL_PASSWORD})
    assert response.status_code == 400
    login_official(client)
    response = client.post("/admin/elections/e1/close", data={})
    assert response.status_code == 400
    token = csrf_token(client, "/admin/elections/e1")
    response = client.post("/admin/elections/e1/close", data={"csrf_token": token})
    assert response.status_code == 302  # not confirmed: still open
    assert client.get("/api/v1/elections/e1").get_json()["state"] == "open"
    page = client.get("/admin/elections/e1").get_data(as_text=True)
    assert "tick the box to confirm" in page
    response = client.post("/admin/elections/e1/close", data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 302
    assert client.get("/api/v1/elections/e1").get_json()["state"] == "closed"
    page = client.get("/admin/elections/e1").get_data(as_text=True)
    assert "Send invitations" not in page and "roll_csv" not in page  # closed: no roll, no invitations


def test_session_api_needs_csrf_header(app, client):
    setup_election(app)
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"email": "voter1@example.org", "password": VOTER_PASSWORD,
                                     "csrf_token": token})
    url = "/api/v1/elections/e1/credential"
    response = client.post(url, json={"blinded_message": "00" * 256})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf"
    token = csrf_token(client, "/")
    response = client.post(url, json={"blinded_message": "00" * 256},
                           headers={"X-CSRFToken": token})
    assert response.status_code in (201, 400)  # past the CSRF check
    assert response.get_json().get("error", {}).get("code") != "csrf"


def test_api_auth(app, client):
    setup_election(app)
    response = client.post("/api/v1/auth/login", json={"email": "voter1@example.org",
                                                       "password": "wrong"})
    assert response.status_code == 401
    response = client.post("/api/v1/elections/e1/credential", json={"blinded_message": "00"})
    assert response.status_code == 401
    response = client.post("/api/v1/auth/login", json={"email": 5, "password": []})
    assert response.status_code == 400


def test_credential_requires_roll(app, client):
    setup_election(app)
    from app.db import new_session
    from app.services import users as user_service

    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, "outsider@example.org", password=VOTER_PASSWORD)
        db.commit()
        db.close()
    from crypto.credentials import ballot_public_key_bytes, begin_credential, generate_ballot_key
    from crypto.roll import CredentialRequest, sign_request
    from saylau.voter_client import VoterClientError

    vc = voter(client, "outsider@example.org")
    election = vc.get_election("e1")
    with pytest.raises(VoterClientError, match="on the published roll 0 times"):
        vc.obtain_credential(election)
    blinded, _ = begin_credential(election.issuer_key, "e1",
                                  ballot_public_key_bytes(generate_ballot_key()))
    signed = sign_request(vc.roll_key, CredentialRequest("e1", 0, blinded, "2026-11-29"))
    response = client.post("/api/v1/elections/e1/credential",
                           json={"signed_request": signed.to_json()},
                           headers={"Authorization": f"Bearer {vc.token}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_on_roll"
    assert board_state(app)["CredentialIssuance"] == 0


def test_one_time_link_needs_post(app, client):
    setup_election(app)
    login_official(client)
    token = csrf_token(client, "/admin/elections/e1")
    response = client.post("/admin/elections/e1/invite", data={"csrf_token": token})
    assert response.status_code == 302
    from pathlib import Path

    mails = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(mails) == 3
    import email
    import email.policy

    body = email.message_from_string(mails[0].read_text(), policy=email.policy.default).get_content()
    link = re.search(r"http://localhost(/auth/link/\S+)", body).group(1)
    voter_client = app.test_client()
    for _ in range(3):  # mail scanners: GET never consumes
        page = voter_client.get(link)
        assert page.status_code == 200 and "Log in" in page.get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"',
                           page.get_data(as_text=True)).group(1)
    response = voter_client.post(link, data={"csrf_token": form_token})
    assert response.status_code == 302
    # the invitation leads to the booth, where the voting card is obtained (protocol §11.2)
    assert response.headers["Location"].endswith("/elections/e1/booth")
    assert "voter" in voter_client.get("/").get_data(as_text=True)
    again = app.test_client()
    page = again.get(link)
    assert "invalid, expired or already used" in page.get_data(as_text=True)


ROLL_BAD = "email,name\nok@example.org,Ok\nnot-an-email,Bad\nok@example.org,Dup\nthree@example.org,\n"


def test_roll_csv_errors(app):
    from app.services.roll import RollError, parse_roll_csv

    with pytest.raises(RollError) as info:
        parse_roll_csv(ROLL_BAD)
    lines = [line for line, _ in info.value.errors]
    assert lines == [3, 4, 5]
    with pytest.raises(RollError):
        parse_roll_csv("mail,name\na@b.org,A\n")
    with pytest.raises(RollError):
        parse_roll_csv("")
    assert len(parse_roll_csv("email,name\nA@Example.org,A\n\nb@example.org,B\n")) == 2


def test_roll_import_all_or_nothing(app, client):
    setup_election(app, open_it=False)
    login_official(client)
    token = csrf_token(client, "/admin/elections/e1")
    response = client.post("/admin/elections/e1/roll", data={"csrf_token": token,
                                                             "roll_csv": ROLL_BAD})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "line 3" in text and "line 4" in text and "line 5" in text
    assert client.get("/api/v1/elections/e1").get_json()["voters_on_roll"] == 3
    good = "email,name\nnew1@example.org,New One\nnew2@example.org,New Two\n"
    response = client.post("/admin/elections/e1/roll", data={"csrf_token": token, "roll_csv": good})
    assert response.status_code == 302
    assert client.get("/api/v1/elections/e1").get_json()["voters_on_roll"] == 5


def test_official_creates_election_via_forms(app, client, threshold_test_key_json):
    setup_election(app)  # creates the official account
    login_official(client)
    token = csrf_token(client, "/admin/elections/new")
    response = client.post("/admin/elections/new", data={
        "csrf_token": token, "id": "city-2026", "title": "City vote",
        "questions": "council | Council | 1 | 2 | x=X; y=Y; z=Z\nbudget | Budget | yesno",
        "revote_policy": "last-counts", "opens_at": "", "closes_at": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    import io
    import json

    key = json.dumps(threshold_test_key_json["public_key"]).encode()
    response = client.post("/admin/elections/city-2026/key", data={
        "csrf_token": token, "key_file": (io.BytesIO(key), "election-public-key.json")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    shares = json.dumps(threshold_test_key_json).encode()
    response = client.post("/admin/elections/city-2026/key", data={
        "csrf_token": token, "key_file": (io.BytesIO(shares), "k.json")},
        content_type="multipart/form-data")
    assert response.status_code == 400  # a file with shares is refused
    response = client.post("/admin/elections/city-2026/open", data={"csrf_token": token})
    assert response.status_code == 302
    info = client.get("/api/v1/elections/city-2026").get_json()
    assert info["state"] == "open" and len(info["fingerprint"]) == 64
    assert info["manifest"]["questions"][0]["max_selections"] == 2
    # the setup is frozen once open
    response = client.post("/admin/elections/city-2026/settings", data={
        "csrf_token": token, "revote_policy": "no-revote"})
    assert response.status_code == 409


def test_weak_key_refused_outside_tests(app, threshold_test_key_json):
    from app.db import new_session
    from app.errors import ApiError
    from app.models import Election
    from app.services import elections as election_service

    setup_election(app, open_it=False)
    with app.app_context():
        db = new_session(app)
        with pytest.raises(ApiError) as info:
            election_service.set_election_key(db, db.get(Election, "e1"),
                                              threshold_test_key_json["public_key"])
        assert info.value.code == "weak_key"
        db.close()


def test_board_pages_and_receipt_form(app, client):
    setup_election(app)
    vc = voter(client, "voter1@example.org")
    election = vc.get_election("e1")
    receipt = vc.cast(election, vc.obtain_credential(election), {"mayor": ["a"], "ref": ["yes"]})
    page = client.get("/board/e1").get_data(as_text=True)
    assert receipt["tracker"] in page
    assert client.get(f"/board/e1/t/{receipt['tracker']}").status_code == 200
    import json

    token = csrf_token(client, "/board/e1/check")
    response = client.post("/board/e1/check", data={"csrf_token": token,
                                                    "receipt": json.dumps(receipt)})
    assert "Your receipt holds" in response.get_data(as_text=True)
    receipt["leaf_hash"] = "00" * 32
    response = client.post("/board/e1/check", data={"csrf_token": token,
                                                    "receipt": json.dumps(receipt)})
    assert "does not verify" in response.get_data(as_text=True)


def test_board_api_bad_parameters(app, client):
    setup_election(app)
    for path in ("/api/v1/elections/e1/inclusion/5", "/api/v1/elections/e1/consistency?old=x",
                 "/api/v1/elections/e1/consistency?old=9", "/api/v1/elections/e1/board?start=-1",
                 "/api/v1/elections/e1/consistency"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "error" in response.get_json()
    assert client.get("/api/v1/elections/e1/board/ff").status_code == 404
    assert client.get("/api/v1/nothing").get_json()["error"]["code"] == "not_found"
    assert client.delete("/api/v1/elections/e1").status_code == 405
    issuance = client.get("/api/v1/elections/e1/issuance").get_json()
    assert issuance == {"election_id": "e1", "count": 0, "receipts": [], "requests": []}
