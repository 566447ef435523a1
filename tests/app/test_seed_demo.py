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

        db = new_session(app)
        try:
            election = db.get(Election, cmd_db.DEMO_ELECTION)
            assert election is not None and election.state == "open"
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
        # A second run leaves everything as it is.
        assert cmd_db.seed_demo(app, 1024) == 0
        again = capsys.readouterr().out
        assert "already exists" in again and "make clean-demo" in again
        for needle in ("official@example.org", "demo-trustee-2", "citizen@example.org",
                       "election 'demo-2026' is open, 0 board entries", "is open, 0 signatures"):
            assert needle in again  # accounts and state, every time
    finally:
        get_engine(app).dispose()
