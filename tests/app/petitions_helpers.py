"""Helpers for the petition web tests: app, accounts, an in-process signer, trustees."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.db import new_session
from app.models import OutboxMessage
from app.services import users as user_service
from crypto.blind_rsa import IssuerPublicKey
from crypto.credentials import ballot_public_key_bytes as bpk_bytes
from crypto.credentials import (
    begin_credential,
    finish_credential,
    generate_ballot_key,
    sign_payload,
)
from crypto.encoding import canonical_json
from crypto.petition import PetitionParameters, encrypt_signature, petition_fingerprint
from crypto.threshold import KeyShare, ThresholdPublicKey
from tests.conftest import make_test_app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "petition password 123"
KEY_DOC = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())


def petition_app(db_url: str, tmp_path: Path, issuer_key: Any, schema: str | None = None,
                 **extra: Any) -> Any:
    config = {
        "PETITION_ELECTION_KEY": KEY_DOC["public_key"],
        "PETITION_SPONSORS_REQUIRED": 2,
        "PETITION_RESPONSE_THRESHOLD": 2,
        "PETITION_DEBATE_THRESHOLD": 3,
        "PETITION_COUNT_MAX_AGE_S": 0,
        # small boards: rule D1 with K = 1 (only identical sets); the attack test sets K
        "PETITION_TALLY_MIN_DIFFERENCE": 1,
    }
    config.update(extra)
    return make_test_app(db_url, tmp_path, issuer_key, schema=schema, **config)


def make_user(app: Any, email: str, roles: tuple[str, ...] = ("voter",)) -> None:
    with app.app_context():
        db = new_session(app)
        try:
            user_service.get_or_create_user(db, email, email.split("@")[0], roles, password=PASSWORD)
            db.commit()
        finally:
            db.close()


def login(client: Any, email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def confirm(app: Any, client: Any, headers: dict[str, str], email: str) -> None:
    """Request the confirmation mail, read its link from the outbox, confirm by POST."""
    r = client.post("/api/v1/petitions/confirm-email", headers=headers)
    assert r.status_code == 202, r.get_json()
    with app.app_context():
        db = new_session(app)
        try:
            from sqlalchemy import select
            body = db.scalars(select(OutboxMessage.body).where(OutboxMessage.to_addr == email)
                              .order_by(OutboxMessage.id.desc())).first()
        finally:
            db.close()
    assert body is not None
    match = re.search(r"/petitions/confirm/([A-Za-z0-9_\-]+)", body)
    assert match
    page = client.get(f"/petitions/confirm/{match.group(1)}")  # GET consumes nothing
    assert page.status_code == 200
    r = client.post("/api/v1/petitions/confirm-email/confirm", json={"token": match.group(1)})
    assert r.status_code == 200, r.get_json()


def citizen(app: Any, client: Any, email: str, roles: tuple[str, ...] = ("voter",)) -> dict[str, str]:
    make_user(app, email, roles)
    headers = login(client, email)
    confirm(app, client, headers, email)
    return headers


def moderator(app: Any, client: Any, email: str = "mod@example.org") -> dict[str, str]:
    make_user(app, email, ("moderator",))
    return login(client, email)


@dataclass
class Wallet:
    credential: Any
    ballot_key: Any


def info(client: Any, pid: int) -> dict[str, Any]:
    r = client.get(f"/api/v1/petitions/{pid}")
    assert r.status_code == 200, r.get_json()
    data: dict[str, Any] = r.get_json()
    return data


def obtain_credential(client: Any, headers: dict[str, str], pid: int) -> tuple[int, Wallet | None, Any]:
    data = info(client, pid)
    ipk = IssuerPublicKey.from_json(data["issuer_public_key"])
    bsk = generate_ballot_key()
    blinded, state = begin_credential(ipk, data["scope_id"], bpk_bytes(bsk))
    r = client.post(f"/api/v1/petitions/{pid}/credential", headers=headers,
                    json={"blinded_message": blinded.hex()})
    if r.status_code != 201:
        return r.status_code, None, r.get_json()
    cred = finish_credential(ipk, state, bytes.fromhex(r.get_json()["blind_signature"]))
    return 201, Wallet(cred, bsk), r.get_json()


def build_signature(client: Any, pid: int, wallet: Wallet, region: str) -> dict[str, Any]:
    """The anonymous POST body; the client recomputes and checks the fingerprint."""
    data = info(client, pid)
    params = PetitionParameters.from_json(data["parameters"])
    tpk = ThresholdPublicKey.from_json(data["election_public_key"])
    fp = petition_fingerprint(params, data["election_public_key"], data["issuer_public_key"],
                              bytes.fromhex(data["board_public_key"]))
    assert fp.hex() == data["fingerprint"]
    sig, _ = encrypt_signature(tpk.public, params, fp, wallet.credential.token_id, region)
    sj = sig.to_json()
    return {"credential": wallet.credential.to_json(), "signature": sj,
            "ed25519_signature": sign_payload(wallet.ballot_key, canonical_json(sj)).hex()}


def sign(client: Any, headers: dict[str, str], pid: int, region: str) -> dict[str, Any]:
    status, wallet, body = obtain_credential(client, headers, pid)
    assert status == 201 and wallet is not None, body
    r = client.post(f"/api/v1/petitions/{pid}/signatures", json=build_signature(client, pid, wallet, region))
    assert r.status_code == 201, r.get_json()
    receipt: dict[str, Any] = r.get_json()
    return receipt


def trustee_shares() -> list[KeyShare]:
    return [KeyShare.from_json(s) for s in KEY_DOC["shares"]]


def open_petition(app: Any, client: Any, mod: dict[str, str], title: str = "Plant more trees in cities",
                  creator_email: str = "creator@example.org",
                  regions: list[str] | None = None, translations: dict[str, Any] | None = None,
                  ) -> tuple[int, dict[str, str]]:
    """A petition through draft → sponsors (2) → moderation → open."""
    creator = citizen(app, client, creator_email)
    body: dict[str, Any] = {"title": title, "action": "Plant a million trees by 2030.",
                            "background": "Shade and clean air."}
    if regions is not None:
        body["regions"] = regions
    if translations is not None:
        body["translations"] = translations
    r = client.post("/api/v1/petitions", json=body, headers=creator)
    assert r.status_code == 201, r.get_json()
    pid, token = r.get_json()["id"], r.get_json()["share_token"]
    assert client.post(f"/api/v1/petitions/{pid}/submit", headers=creator).status_code == 200
    for i in range(2):
        s = citizen(app, client, f"sponsor{i}.{pid}.{creator_email}")
        r = client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token}, headers=s)
        assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"}, headers=mod)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "open"
    return pid, creator
