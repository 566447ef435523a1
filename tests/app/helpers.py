"""Helpers for the web-app tests: a ready election and an in-process voter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.db import new_session
from app.services import elections as election_service
from app.services import roll as roll_service
from app.services import users as user_service
from crypto.election import Manifest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VOTER_PASSWORD = "correct horse battery staple"
OFFICIAL_EMAIL = "official@example.org"
OFFICIAL_PASSWORD = "official password 123"


def manifest_json(election_id: str) -> dict[str, Any]:
    return {
        "election_id": election_id,
        "title": f"Test election {election_id}",
        "questions": [
            {"id": "mayor", "title": "Mayor", "min_selections": 1, "max_selections": 1,
             "options": [{"id": "a", "label": "Alice"}, {"id": "b", "label": "Bob"},
                         {"id": "c", "label": "Carol"}]},
            {"id": "ref", "title": "Referendum", "min_selections": 1, "max_selections": 1,
             "options": [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}]},
        ],
    }


def threshold_public_json() -> dict[str, Any]:
    doc = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
    return doc["public_key"]


#: each test voter's enrolled Ed25519 roll key (one per e-mail, enrolled in every election)
ROLL_KEYS: dict[str, Any] = {}


def roll_key(email: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return ROLL_KEYS.setdefault(email, Ed25519PrivateKey.generate())


def setup_election(app: Any, election_id: str = "e1", voters: int = 3, *,
                   revote_policy: str = "no-revote", open_it: bool = True,
                   credential_policy: str = "any_time", mode: str = "enrolled",
                   enroll: bool = True) -> list[str]:
    """Create an official, an election with the test keys, a roll of voters; returns emails.

    ``mode`` "enrolled" (default): each voter's key from :func:`roll_key` is enrolled
    before opening (unless ``enroll`` is False); "login": the legacy mode without a roll.
    """
    emails = [f"voter{i}@example.org" for i in range(1, voters + 1)]
    with app.app_context():
        db = new_session(app)
        try:
            user_service.get_or_create_user(db, OFFICIAL_EMAIL, "Official", ("official",),
                                            password=OFFICIAL_PASSWORD)
            election = election_service.create_election(
                db, Manifest.from_json(manifest_json(election_id)), revote_policy=revote_policy,
                credential_policy=credential_policy,
                issuer_key=app.config["TEST_ISSUER_KEY"], credential_mode=mode,
                legacy_login=mode == "login")
            election_service.set_election_key(db, election, threshold_public_json(),
                                              allow_test_key=True)
            csv = "email,name\n" + "".join(f"{e},Voter {i}\n" for i, e in enumerate(emails, 1))
            roll_service.import_roll(db, election, csv)
            for e in emails:
                user = user_service.get_or_create_user(db, e, password=VOTER_PASSWORD)
                if mode == "enrolled" and enroll:
                    from crypto.credentials import ballot_public_key_bytes

                    roll_service.enroll_key(db, election, user,
                                            ballot_public_key_bytes(roll_key(e)))
            if open_it:
                election_service.open_election(db, election)
            db.commit()
        finally:
            db.close()
    return emails


def flask_transport(client: Any) -> Any:
    """A :data:`saylau.voter_client.Transport` over Flask's test client."""

    def send(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        response = client.open(path, method=method, data=body, headers=headers)
        return response.status_code, response.get_data()

    return send


def voter(client: Any, email: str) -> Any:
    from saylau.voter_client import VoterClient

    vc = VoterClient("http://localhost", transport=flask_transport(client),
                     roll_key=roll_key(email))
    vc.login(email, VOTER_PASSWORD)
    return vc


def cast_payload(vc: Any, election: Any, wallet: Any, choices: Any) -> dict[str, Any]:
    """The JSON body of ``POST /ballots`` built as the voter client does."""
    from crypto.credentials import sign_payload
    from crypto.encoding import canonical_json

    ballot = vc.encrypt(election, wallet, choices).to_json()
    return {"credential": wallet.credential.to_json(), "ballot": ballot,
            "signature": sign_payload(wallet.ballot_key, canonical_json(ballot)).hex()}


def board_state(app: Any, election_id: str = "e1") -> dict[str, int]:
    """Row counts that must not change when a request is refused."""
    from sqlalchemy import func, select

    from app.models import BoardEntry, CiphertextRegistry, CredentialIssuance, TreeHead, UsedToken

    with app.app_context():
        db = new_session(app)
        try:
            return {m.__name__: int(db.scalar(select(func.count()).select_from(m).where(
                m.election_id == election_id)) or 0)
                for m in (BoardEntry, CiphertextRegistry, CredentialIssuance, TreeHead, UsedToken)}
        finally:
            db.close()
