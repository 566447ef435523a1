"""The PKI-mode enrollment page ``GET /elections/<id>/enroll-certificate`` (issue 11, §6.9).

Signed in only; a draft election is shown only to a voter on its roll (else 404, as for
an unknown election); the form appears only for a PKI-mode draft.
"""

from __future__ import annotations

import re
from typing import Any

from app.db import new_session
from app.services import elections as election_service
from app.services import roll as roll_service
from app.services import users as user_service
from crypto.election import Manifest
from tests.app.helpers import VOTER_PASSWORD, manifest_json, setup_election, threshold_public_json


def _pki_draft(app: Any, election_id: str = "p1") -> None:
    with app.app_context():
        db = new_session(app)
        election = election_service.create_election(
            db, Manifest.from_json(manifest_json(election_id)),
            issuer_key=app.config["TEST_ISSUER_KEY"], credential_mode="pki")
        election_service.set_election_key(db, election, threshold_public_json(),
                                          allow_test_key=True)
        roll_service.import_roll(db, election, "email,name,iin\nin@example.org,In,900101300011\n")
        for email in ("in@example.org", "out@example.org"):
            user_service.get_or_create_user(db, email, password=VOTER_PASSWORD)
        db.commit()
        db.close()


def _login(client: Any, email: str) -> None:
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    r = client.post("/auth/login", data={"email": email, "password": VOTER_PASSWORD,
                                         "csrf_token": token.group(1)})
    assert r.status_code == 302


def test_enroll_page_for_a_voter_on_the_roll(app: Any, client: Any) -> None:
    _pki_draft(app)
    r = client.get("/elections/p1/enroll-certificate")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    _login(client, "in@example.org")
    html = client.get("/elections/p1/enroll-certificate").get_data(as_text=True)
    assert 'id="pki-enroll-form"' in html and 'id="pki-file"' in html
    assert 'type="password"' in html and "js/pki-card.js" in html
    assert 'data-msg-gost-out-of-scope="' in html
    assert "<script>" not in html  # the strict CSP: no inline script
    with app.app_context():
        db = new_session(app)
        election_service.open_election(db, election_service.get_election(db, "p1"))
        db.commit()
        db.close()
    html = client.get("/elections/p1/enroll-certificate").get_data(as_text=True)
    assert 'id="pki-enroll-form"' not in html and "Enrollment closed" in html


def test_enroll_page_hides_drafts_and_refuses_other_modes(app: Any, client: Any) -> None:
    _pki_draft(app)
    setup_election(app, "e1", voters=1)  # enrolled mode, open
    _login(client, "out@example.org")
    assert client.get("/elections/p1/enroll-certificate").status_code == 404  # a draft, not on its roll
    assert client.get("/elections/nope/enroll-certificate").status_code == 404
    html = client.get("/elections/e1/enroll-certificate").get_data(as_text=True)
    assert 'id="pki-enroll-form"' not in html
    assert "does not use certificates of the national PKI" in html


def test_invitation_of_a_pki_draft_links_to_the_enrollment_page(app: Any) -> None:
    from sqlalchemy import select

    from app.models import OutboxMessage

    _pki_draft(app)
    setup_election(app, "e1", voters=1, open_it=False)  # enrolled mode: the booth link
    with app.app_context():
        db = new_session(app)
        for election_id in ("p1", "e1"):
            roll_service.send_invitations(db, election_service.get_election(db, election_id),
                                          "https://saylau.example", 3600)
        db.commit()
        bodies = {m.to_addr: m.body for m in db.scalars(select(OutboxMessage)).all()}
        db.close()
    assert "next=/elections/p1/enroll-certificate" in bodies["in@example.org"]
    assert "next=/elections/e1/booth" in bodies["voter1@example.org"]
