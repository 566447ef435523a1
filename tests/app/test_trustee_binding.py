"""Issue 10 attack 6: a trustee account uploads only its own trustee index's partials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.db import get_engine, new_session
from app.services import users as user_service
from crypto.threshold import KeyShare
from tally.aggregate import EncryptedTally
from tally.decrypt import trustee_decrypt
from tests.app.helpers import FIXTURES, OFFICIAL_EMAIL, OFFICIAL_PASSWORD, setup_election, voter
from tests.conftest import make_test_app


@pytest.fixture()
def bapp(tmp_path: Path, issuer_test_key: Any) -> Any:
    application = make_test_app(f"sqlite:///{tmp_path / 'b.db'}", tmp_path, issuer_test_key,
                                TRUSTEE_BINDING_REQUIRED=True)
    yield application
    get_engine(application).dispose()


def _trustee(app: Any, email: str, index: int | None) -> dict[str, str]:
    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, email, "T", ("trustee",), password="trustee pw 12345",
                                        trustee_index=index)
        db.commit()
        db.close()
    r = app.test_client().post("/api/v1/auth/login", json={"email": email,
                                                           "password": "trustee pw 12345"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_trustee_uploads_only_its_own_index(bapp: Any) -> None:
    app = bapp
    client = app.test_client()
    setup_election(app, "e1", voters=1)
    vc = voter(client, "voter1@example.org")
    election = vc.get_election("e1")
    vc.cast(election, vc.obtain_credential(election), {"mayor": ["a"], "ref": ["no"]})
    login = client.post("/api/v1/auth/login", json={"email": OFFICIAL_EMAIL,
                                                    "password": OFFICIAL_PASSWORD})
    official = {"Authorization": f"Bearer {login.get_json()['token']}"}
    assert client.post("/api/v1/elections/e1/close", headers=official).status_code == 200
    doc = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
    shares = [KeyShare.from_json(s) for s in doc["shares"]]
    tally = EncryptedTally.from_json(client.get("/api/v1/elections/e1/encrypted-tally").get_json())
    fp = bytes.fromhex(client.get("/api/v1/elections/e1").get_json()["fingerprint"])
    second = trustee_decrypt(shares[1], tally, fingerprint=fp).to_json()
    url = "/api/v1/elections/e1/partial-decryptions"
    # trustee 1 uploading trustee 2's partials: refused
    r = client.post(url, json=second, headers=_trustee(app, "t1@example.org", 1))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "wrong_trustee"
    # an account bound to no index: refused
    r = client.post(url, json=second, headers=_trustee(app, "tx@example.org", None))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "trustee_unbound"
    # trustee 2 itself: accepted
    r = client.post(url, json=second, headers=_trustee(app, "t2@example.org", 2))
    assert r.status_code == 201, r.get_json()
