"""``saylau vote`` / ``saylau serve`` / ``saylau db`` on the command line: results and clean errors."""

from __future__ import annotations

import json

from saylau.cli import main
from saylau.voter_client import save_roll_key
from tests.app.helpers import VOTER_PASSWORD, roll_key, setup_election
from tests.app.test_concurrency import _serve


def test_vote_cli_cast_revote_check(app, tmp_path, capsys, monkeypatch):
    setup_election(app, revote_policy="last-counts")
    server, url = _serve(app)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pw").write_text(VOTER_PASSWORD + "\n")
    # the roll key card, the same file the browser's enrollment page downloads
    save_roll_key(tmp_path / "rk.json", roll_key("voter1@example.org"), "e1")
    base = ["vote", "--server", url, "--election", "e1", "--email", "voter1@example.org",
            "--password-file", "pw", "--roll-key", "rk.json", "--delay", "0"]
    try:
        assert main(base + ["--choice", "mayor=a", "--choice", "ref=yes"]) == 0
        receipt = json.loads((tmp_path / "receipt-e1.json").read_text())
        assert receipt["index"] == 0
        assert (tmp_path / "credential-e1.json").stat().st_mode & 0o077 == 0
        # a second cast without --revote is refused locally (credential file exists)
        assert main(base + ["--choice", "mayor=a", "--choice", "ref=yes"]) == 1
        assert main(base + ["--choice", "mayor=b", "--choice", "ref=no", "--revote",
                            "--receipt-out", "r2.json"]) == 0
        assert main(["vote", "check-receipt", "--server", url, "--receipt", "receipt-e1.json"]) == 0
        capsys.readouterr()
        assert main(base + ["--choice", "mayor=zzz", "--choice", "ref=no", "--revote"]) == 1
        err = capsys.readouterr().err
        assert "unknown option" in err and "Traceback" not in err
        (tmp_path / "bad.json").write_text("[1]")
        assert main(["vote", "check-receipt", "--server", url, "--receipt", "bad.json"]) == 1
        tampered = dict(receipt, leaf_hash="00" * 32)
        (tmp_path / "t.json").write_text(json.dumps(tampered))
        assert main(["vote", "check-receipt", "--server", url, "--receipt", "t.json"]) == 1
        assert "does not verify" in capsys.readouterr().err
        (tmp_path / "wrong").write_text("nope\n")
        assert main(["vote", "--server", url, "--election", "e1", "--email",
                     "voter2@example.org", "--password-file", "wrong", "--choice", "mayor=a",
                     "--choice", "ref=no", "--delay", "0", "--credential-file", "v2.json"]) == 1
        assert "401" in capsys.readouterr().err
    finally:
        server.shutdown()
    assert main(["vote", "--server", "http://127.0.0.1:9", "--election", "e1", "--email",
                 "a@example.org", "--password-file", "pw", "--choice", "mayor=a",
                 "--delay", "0", "--credential-file", "none.json"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def test_serve_refuses_without_secret(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("SAYLAU_SECRET_KEY", raising=False)
    monkeypatch.setenv("SAYLAU_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    assert main(["serve", "--port", "1"]) == 1
    assert "SAYLAU_SECRET_KEY" in capsys.readouterr().err


def test_db_upgrade(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SAYLAU_DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite")
    monkeypatch.setenv("SAYLAU_SECRET_KEY", "x" * 32)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0  # idempotent
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(tmp_path / "db.sqlite").execute(
        "select name from sqlite_master where type='table'")}
    assert {"users", "elections", "board_entries", "used_tokens", "alembic_version"} <= tables


def test_vote_cli_waits_a_random_delay_before_casting(app, tmp_path, capsys, monkeypatch):
    import saylau.voter_client as voter_client

    waits: list[float] = []
    monkeypatch.setattr(voter_client.time, "sleep", waits.append)
    setup_election(app)
    server, url = _serve(app)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pw").write_text(VOTER_PASSWORD + "\n")
    save_roll_key(tmp_path / "rk.pem", roll_key("voter1@example.org"))
    try:
        assert main(["vote", "--server", url, "--election", "e1", "--email", "voter1@example.org",
                     "--password-file", "pw", "--choice", "mayor=a", "--choice", "ref=yes",
                     "--delay", "30", "--roll-key", "rk.pem"]) == 0
    finally:
        server.shutdown()
    assert len(waits) == 1 and 0 <= waits[0] <= 30
    assert main(["vote", "--server", url, "--delay", "-1"]) == 2
    assert "--delay" in capsys.readouterr().err


def test_vote_cli_enroll_check_roll_cast(app, tmp_path, capsys, monkeypatch):
    """Issue 11: `saylau vote enroll` keeps the key under ~/.saylau, then check-roll, cast."""
    from app.db import new_session
    from app.services import elections as election_service

    setup_election(app, open_it=False, enroll=False)
    server, url = _serve(app)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "pw").write_text(VOTER_PASSWORD + "\n")
    who = ["--server", url, "--election", "e1", "--email", "voter1@example.org",
           "--password-file", "pw"]
    try:
        assert main(["vote", "enroll", *who]) == 0
        keys = list((tmp_path / "home" / ".saylau" / "roll-keys").iterdir())
        assert len(keys) == 1 and keys[0].stat().st_mode & 0o077 == 0
        assert json.loads(keys[0].read_text())["format"] == "saylau-roll-key/1"
        assert main(["vote", "check-roll", *who]) == 1  # not open: no published roll yet
        with app.app_context():
            db = new_session(app)
            election_service.open_election(db, election_service.get_election(db, "e1"))
            db.commit()
            db.close()
        capsys.readouterr()
        assert main(["vote", "check-roll", *who]) == 0
        assert "exactly once" in capsys.readouterr().out
        assert main(["vote", *who, "--choice", "mayor=a", "--choice", "ref=yes",
                     "--delay", "0"]) == 0
        # another voter without a key: a clear error, no traceback
        other = ["--server", url, "--election", "e1", "--email", "voter2@example.org",
                 "--password-file", "pw"]
        capsys.readouterr()
        assert main(["vote", *other, "--choice", "mayor=a", "--choice", "ref=yes",
                     "--delay", "0"]) == 1
        assert "Traceback" not in capsys.readouterr().err
    finally:
        server.shutdown()


def test_vote_cli_waits_by_default_after_a_fresh_credential(app, tmp_path, monkeypatch):
    """A credential obtained in the same run is never followed at once by the cast."""
    import saylau.voter_client as voter_client
    from saylau.cmd_vote import DEFAULT_DELAY_AFTER_ISSUANCE_S

    waits: list[float] = []
    monkeypatch.setattr(voter_client.time, "sleep", waits.append)
    monkeypatch.setattr("secrets.SystemRandom.uniform", lambda self, a, b: b)
    setup_election(app, revote_policy="last-counts")
    server, url = _serve(app)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pw").write_text(VOTER_PASSWORD + "\n")
    save_roll_key(tmp_path / "rk.pem", roll_key("voter1@example.org"))
    try:
        assert main(["vote", "--server", url, "--election", "e1", "--email", "voter1@example.org",
                     "--password-file", "pw", "--roll-key", "rk.pem", "--choice", "mayor=a",
                     "--choice", "ref=yes"]) == 0
        assert waits == [DEFAULT_DELAY_AFTER_ISSUANCE_S] and DEFAULT_DELAY_AFTER_ISSUANCE_S > 0
        # a revote with the saved card: no issuance in this run, no default wait
        assert main(["vote", "--server", url, "--election", "e1", "--card", "credential-e1.json",
                     "--choice", "mayor=b", "--choice", "ref=no", "--receipt-out", "r2.json"]) == 0
        assert waits == [DEFAULT_DELAY_AFTER_ISSUANCE_S]
    finally:
        server.shutdown()


def test_vote_cli_credential_period_card_export_import_and_cast(app, tmp_path, capsys, monkeypatch):
    """Default policy: the credential in the credential period, the card moved to another
    "device" (directory), the cast after voting opens with the card and no login."""
    from app.db import new_session
    from app.models import CredentialIssuance, Election
    from app.services import elections as election_service

    setup_election(app, credential_policy="period", revote_policy="last-counts")
    server, url = _serve(app)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pw").write_text(VOTER_PASSWORD + "\n")
    device2 = tmp_path / "device2"
    device2.mkdir()
    save_roll_key(tmp_path / "rk.pem", roll_key("voter1@example.org"))
    cred = ["--server", url, "--election", "e1", "--email", "voter1@example.org",
            "--password-file", "pw", "--roll-key", "rk.pem"]
    try:
        # casting is refused in the credential period, issuance is open
        assert main(["vote", *cred, "--choice", "mayor=a", "--choice", "ref=yes",
                     "--delay", "0"]) == 1
        assert "credential period" in capsys.readouterr().err
        assert not (tmp_path / "credential-e1.json").exists()
        assert main(["vote", "credential", *cred, "--qr", "card.svg"]) == 0
        out = capsys.readouterr().out
        assert "cannot be replaced" in out
        assert (tmp_path / "card.svg").read_text().lstrip().startswith("<?xml")
        assert main(["vote", "card", "export", "--credential-file", "credential-e1.json",
                     "--out", "card.json"]) == 0
        card = json.loads((tmp_path / "card.json").read_text())
        assert card["format"] == "saylau-voting-card/1" and card["election_id"] == "e1"
        assert (tmp_path / "card.json").stat().st_mode & 0o077 == 0
        assert main(["vote", "card", "import", "--card", "card.json", "--server", url,
                     "--credential-file", str(device2 / "credential-e1.json")]) == 0
        # a second credential is refused (one per voter; the card is the only copy)
        assert main(["vote", "credential", *cred, "--credential-file", "other.json"]) == 1
        assert "cannot" in capsys.readouterr().err
        with app.app_context():
            db = new_session(app)
            try:
                assert db.query(CredentialIssuance).one().issued_period == "credential-period"
                election_service.start_voting(db, db.get(Election, "e1"))
                db.commit()
            finally:
                db.close()
        # voting is open: no more credentials; cast from "device 2" with the card, no login
        assert main(["vote", "credential", *cred, "--credential-file", "third.json"]) == 1
        assert "credential period ended" in capsys.readouterr().err
        assert main(["vote", "--server", url, "--election", "e1",
                     "--card", str(device2 / "credential-e1.json"), "--choice", "mayor=a",
                     "--choice", "ref=yes", "--receipt-out", "r.json"]) == 0
        assert json.loads((tmp_path / "r.json").read_text())["index"] == 0
        # a tampered card is refused on import
        bad = dict(card, ballot_private_key="11" * 32)
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        assert main(["vote", "card", "import", "--card", "bad.json",
                     "--credential-file", "x.json"]) == 1
        assert "does not match" in capsys.readouterr().err
    finally:
        server.shutdown()
