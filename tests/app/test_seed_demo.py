"""``saylau db seed-demo`` (1024-bit key) into a temporary SQLite database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db import get_engine, new_session
from app.models import Election, User
from app.petitions.models import Petition, PetitionCitizen, PetitionSponsor
from crypto.errors import DecryptionError
from crypto.keyfile import load_share_file
from crypto.threshold import ThresholdPublicKey
from saylau import cmd_db
from saylau.voter_client import VoterClient, load_roll_key
from tests.app.helpers import flask_transport
from tests.conftest import make_test_app


def test_seed_demo(tmp_path: Path, issuer_test_key: Any, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_test_app(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path, issuer_test_key,
                        ALLOW_TEST_KEYS=False)
    app.instance_path = str(tmp_path / "instance")
    try:
        assert cmd_db.seed_demo(app, 1024) == 0
        out = capsys.readouterr().out
        for needle in ("official@example.org", "moderator@example.org", "trustee3@example.org",
                       "demo-trustee-2", "citizen@example.org", "petition #"):
            assert needle in out
        assert app.config["ALLOW_TEST_KEYS"] is False  # only enabled while seeding

        folder = tmp_path / "instance" / "demo-trustees"
        tpk = ThresholdPublicKey.from_json(json.loads((folder / "election-public-key.json").read_text()))
        assert (tpk.threshold, tpk.trustees) == (2, 3)
        for i in (1, 2, 3):
            text = (folder / f"trustee-{i}.share.json").read_text()
            assert json.loads(text)["format"] == "saylau-trustee-share/v1"
            share = load_share_file(text, f"demo-trustee-{i}")
            assert share.index == i and share.public.to_json() == tpk.to_json()
        with pytest.raises(DecryptionError):
            load_share_file((folder / "trustee-1.share.json").read_text(), "demo-trustee-2")
        assert not list((tmp_path / "instance").glob("*trustee-shares.json"))  # no plaintext shares

        # enrolled-key mode: the seed stood in for each voter's device (said so) and wrote
        # each voter's roll key card, the file the browser and `saylau vote --roll-key` load
        assert "stood in for each voter's device" in out and "demo-cards" in out
        cards = tmp_path / "instance" / cmd_db.DEMO_CARD_DIR
        roll_keys = {}
        for email in cmd_db.DEMO_VOTERS:
            card = json.loads((cards / f"{email}.json").read_text())
            assert card["format"] == "saylau-roll-key/1" and card["election_id"] == "demo-2026"
            assert (cards / f"{email}.json").stat().st_mode & 0o777 == 0o600
            roll_keys[email] = load_roll_key(cards / f"{email}.json", cmd_db.DEMO_ELECTION)
        db = new_session(app)
        try:
            election = db.get(Election, cmd_db.DEMO_ELECTION)
            assert election is not None and election.state == "open"
            assert election.credential_mode == "enrolled"
            assert json.loads(election.roll_commitment_json or "{}")["size"] == len(cmd_db.DEMO_VOTERS)
            draft = db.get(Election, cmd_db.DEMO_ENROLL_ELECTION)
            assert draft is not None and draft.state == "draft" and draft.credential_mode == "enrolled"
            roles = {u.email: u.roles.split() for u in db.scalars(select(User)).all()}
            assert "official" in roles["official@example.org"]
            assert roles["moderator@example.org"] == ["moderator"]
            for i in (1, 2, 3):
                assert "trustee" in roles[f"trustee{i}@example.org"]
            petition = db.scalars(select(Petition)).one()
            assert petition.state == "open" and petition.fingerprint_hex
            assert json.loads(petition.election_key_json or "null") == tpk.to_json()
            assert json.loads(election.election_key_json or "null") == tpk.to_json()
            creator = db.get(User, petition.creator_id)
            assert creator is not None and creator.email == "citizen@example.org"
            sponsors = db.scalars(select(PetitionSponsor).where(
                PetitionSponsor.petition_id == petition.id)).all()
            assert len(sponsors) >= petition.sponsors_required
            confirmed = db.scalars(select(PetitionCitizen).where(
                PetitionCitizen.confirmed_at.is_not(None))).all()
            assert len(confirmed) >= 1 + len(cmd_db.DEMO_VOTERS)
        finally:
            db.close()
        # a demo voter votes with their card; the board's roll and request checks pass
        _vote_and_verify(app, roll_keys, tmp_path)
        capsys.readouterr()
        # A second run leaves everything as it is.
        assert cmd_db.seed_demo(app, 1024) == 0
        again = capsys.readouterr().out
        assert "already exists" in again and "make clean-demo" in again
        for needle in ("official@example.org", "demo-trustee-2", "citizen@example.org",
                       "election 'demo-2026' is closed, 1 board entries", "is open, 0 signatures"):
            assert needle in again  # accounts and state, every time
    finally:
        get_engine(app).dispose()


def _vote_and_verify(app: Any, roll_keys: dict[str, Any], tmp_path: Path) -> None:
    from audit.election_verifier import REQUESTS_CHECK, ROLL_CHECK, verify_board_record
    from audit.record import read_record
    from crypto.election import Manifest

    email = cmd_db.DEMO_VOTERS[1]
    vc = VoterClient("http://localhost", transport=flask_transport(app.test_client()),
                     roll_key=roll_keys[email])
    vc.login(email, cmd_db.DEMO_VOTER_PASSWORD)
    election = vc.get_election(cmd_db.DEMO_ELECTION)
    wallet = vc.obtain_credential(election)
    manifest = Manifest.from_json(election.raw["manifest"])
    receipt = vc.cast(election, wallet, {q.id: [q.option_ids[0]]
                                         for q in manifest.questions})
    db = new_session(app)
    try:
        from app.services import elections as election_service

        election_service.close_election(db, db.get(Election, cmd_db.DEMO_ELECTION))
        db.commit()
    finally:
        db.close()
    zipped = tmp_path / "demo-record.zip"
    zipped.write_bytes(app.test_client().get(
        f"/api/v1/elections/{cmd_db.DEMO_ELECTION}/record.zip").get_data())
    report = verify_board_record(read_record(zipped), receipt).report
    for name in (ROLL_CHECK, REQUESTS_CHECK):
        check = report.check(name)
        assert check is not None and check.ok, (name, check)
    assert not report.failed(), [(c.name, c.message) for c in report.failed()]
