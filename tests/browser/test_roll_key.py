"""Enrolled-key mode in the browser (docs/protocol.md §2.7, issue 11): the voter makes a roll
key with WebCrypto on /vote/<id>/roll-key and puts it on the roll before opening; the booth
signs the credential request with it (or with the roll key card loaded from a file); the
record then passes ``saylau verify``'s roll and credential-requests checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.db import new_session
from app.models import Election, RollEntry, RollKey
from app.services import elections as election_service
from tests.app.helpers import setup_election
from tests.browser.conftest import LiveServer, roll_card
from tests.browser.test_booth import cast, choose, encrypt, issued, wait_ready

ROLL_PAGE = "/vote/{}/roll-key"
BOOTH = "/elections/{}/booth"


def _open(live_server: LiveServer, election_id: str) -> None:
    with live_server.app.app_context():
        db = new_session(live_server.app)
        try:
            election_service.open_election(db, db.get(Election, election_id))
            db.commit()
        finally:
            db.close()


def _close(live_server: LiveServer, election_id: str) -> None:
    with live_server.app.app_context():
        db = new_session(live_server.app)
        try:
            election_service.close_election(db, db.get(Election, election_id))
            db.commit()
        finally:
            db.close()


def _server_key(live_server: LiveServer, election_id: str, email: str) -> RollKey | None:
    with live_server.app.app_context():
        db = new_session(live_server.app)
        try:
            return db.execute(select(RollKey).join(RollEntry, RollEntry.id == RollKey.roll_entry_id)
                              .where(RollKey.election_id == election_id,
                                     RollEntry.email == email)).scalars().first()
        finally:
            db.close()


def test_enroll_in_the_browser_then_vote_and_verify(page: Any, live_server: LiveServer,
                                                    login: Any, shot: Any, tmp_path: Path) -> None:
    from audit.election_verifier import REQUESTS_CHECK, ROLL_CHECK, verify_board_record
    from audit.record import read_record
    from crypto.roll import RollEntry as RollKeyEntry
    from crypto.roll import SignedRequest, verify_request
    from saylau.voter_client import roll_key_from_card

    eid = "enroll1"
    # a draft election in enrolled-key mode; voter 2's key is enrolled by the helper,
    # voter 1 enrolls in the browser
    emails = setup_election(live_server.app, eid, 2, revote_policy="last-counts", open_it=False,
                            enroll=False)
    email = emails[0]
    login(page, email, ROLL_PAGE.format(eid), roll_keys=False)
    page.wait_for_selector("#enroll-status[data-result=none]")
    page.click("#enroll-button")
    page.wait_for_selector("#roll-card-save:not([hidden])")
    assert page.get_attribute("#enroll-status", "data-result") == "here"
    assert "SECRET" in page.inner_text("#roll-card-save")
    shot(page, "roll-key-enrolled")
    with page.expect_download() as download:
        page.click("#roll-card-download")
    card_path = tmp_path / "roll-key.json"
    download.value.save_as(str(card_path))
    card = json.loads(card_path.read_text())
    assert card["format"] == "saylau-roll-key/1" and card["election_id"] == eid
    assert card["kind"] == "ed25519" and card["roll_index"] is None
    row = _server_key(live_server, eid, email)
    assert row is not None and row.public_key_hex == card["public_key"]
    # the card is the same file the command-line client reads
    key = roll_key_from_card(card, eid)
    assert key.public_key().public_bytes_raw().hex() == card["public_key"]
    # the key kept in this browser cannot be read back
    extractable = page.evaluate("""async (eid) => {
      const store = await import('/static/js/roll-key-store.js');
      const s = await store.loadRollSigner(eid);
      return [s.privateKey.extractable, s.publicKeyHex];
    }""", eid)
    assert extractable == [False, card["public_key"]]
    # the page says so on the next visit
    page.reload()
    page.wait_for_selector("#enroll-status[data-result=here]")

    # a second voter enrolls through the API; then the official opens: enrollment closes
    from app.services import roll as roll_service
    from app.services import users as user_service
    from crypto.credentials import ballot_public_key_bytes
    from tests.app.helpers import roll_key

    with live_server.app.app_context():
        db = new_session(live_server.app)
        try:
            user = user_service.get_or_create_user(db, emails[1])
            roll_service.enroll_key(db, db.get(Election, eid), user,
                                    ballot_public_key_bytes(roll_key(emails[1])))
            db.commit()
        finally:
            db.close()
    _open(live_server, eid)

    # the voter's check of the published roll
    page.goto(ROLL_PAGE.format(eid))
    assert page.locator("#enroll-button").count() == 0
    page.click("#roll-check-button")
    page.wait_for_selector("#roll-check-result[data-result=ok]")
    assert "exactly once" in page.inner_text("#roll-check-result")

    # the booth signs the credential request with the key kept in this browser
    page.goto(BOOTH.format(eid))
    wait_ready(page)
    assert page.get_attribute("#roll-key-status", "data-roll") == "held"
    choose(page, eid, {"mayor": "b", "ref": "yes"})
    encrypt(page)
    receipt = cast(page)
    assert receipt["election_id"] == eid

    register = live_server.app.test_client().get(f"/api/v1/elections/{eid}/issuance").get_json()
    roll = live_server.app.test_client().get(f"/api/v1/elections/{eid}/roll").get_json()
    assert register["count"] == 1 and len(register["requests"]) == 1
    signed = SignedRequest.from_json(register["requests"][0])
    mine = [e for e in roll["entries"] if e["public_key"] == card["public_key"]]
    assert len(mine) == 1 and signed.request.roll_index == mine[0]["index"]
    verify_request(RollKeyEntry.from_json(mine[0]), signed)

    _close(live_server, eid)
    zipped = tmp_path / "record.zip"
    response = live_server.app.test_client().get(f"/api/v1/elections/{eid}/record.zip")
    assert response.status_code == 200
    zipped.write_bytes(response.get_data())
    checked = verify_board_record(read_record(zipped), receipt)
    report = checked.report
    for name in (ROLL_CHECK, REQUESTS_CHECK):
        check = report.check(name)
        assert check is not None and check.ok, (name, check)
    assert not report.failed(), [(c.name, c.message, c.details) for c in report.failed()]


def test_booth_loads_the_roll_key_card(browser: Any, live_server: LiveServer, login: Any,
                                       tmp_path: Path) -> None:
    """A browser without the roll key: the booth asks for the card, refuses a bad one,
    refuses to get a voting card without one, and signs with the card once loaded."""
    email = live_server.voter("e1")
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page, email, BOOTH.format("e1"), roll_keys=False)
        wait_ready(page, card=False)
        page.wait_for_selector("#roll-key-status[data-roll=none]")
        assert page.is_visible("#roll-key-file")
        assert "no roll key" in page.inner_text("#roll-key-status")
        before = issued(live_server)
        page.click("#get-card-button")
        page.wait_for_selector("#card-status[data-card=error]")
        assert "no roll key" in page.inner_text("#card-status")
        # a card for another election, then a voting card, are refused
        other = tmp_path / "other.json"
        other.write_text(json.dumps(roll_card(live_server.app, "e2", live_server.emails["e2"][0])))
        page.set_input_files("#roll-key-file", str(other))
        page.wait_for_selector("#roll-key-status[data-roll=error]")
        assert "not a valid roll key card" in page.inner_text("#roll-key-status")
        path = tmp_path / "card.json"
        path.write_text(json.dumps(roll_card(live_server.app, "e1", email)))
        page.set_input_files("#roll-key-file", str(path))
        page.wait_for_selector("#roll-key-status[data-roll=held]")
        assert page.is_hidden("#roll-key-file")
        page.click("#get-card-button")
        page.wait_for_selector("#card-status[data-card=held]")
        assert issued(live_server) == before + 1
    finally:
        context.close()
    assert not errors, errors


def test_a_key_not_on_the_roll_gets_no_card(browser: Any, live_server: LiveServer, login: Any,
                                            tmp_path: Path) -> None:
    """A valid card whose key was never enrolled: the booth says the key is not on the roll."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from saylau.voter_client import roll_key_card

    email = live_server.voter("e1")
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        login(page, email, BOOTH.format("e1"), roll_keys=False)
        wait_ready(page, card=False)
        path = tmp_path / "stranger.json"
        path.write_text(json.dumps(roll_key_card("e1", Ed25519PrivateKey.generate())))
        page.set_input_files("#roll-key-file", str(path))
        page.wait_for_selector("#roll-key-status[data-roll=held]")
        before = issued(live_server)
        page.click("#get-card-button")
        page.wait_for_selector("#card-status[data-card=error]")
        assert "not on this election's published roll" in page.inner_text("#card-status")
        assert issued(live_server) == before
        # the voter can then load the right card, and gets the voting card with it
        assert page.is_visible("#roll-key-file")
        right = tmp_path / "right.json"
        right.write_text(json.dumps(roll_card(live_server.app, "e1", email)))
        page.set_input_files("#roll-key-file", str(right))
        page.wait_for_selector("#roll-key-file", state="hidden")  # loaded
        page.click("#get-card-button")
        page.wait_for_selector("#card-status[data-card=held]")
        assert issued(live_server) == before + 1
    finally:
        context.close()


def test_roll_key_page_in_kazakh(page: Any, live_server: LiveServer, login: Any) -> None:
    """The enrollment page speaks the voter's language (no English left on it)."""
    eid = "kzk1"
    emails = setup_election(live_server.app, eid, 1, open_it=False, enroll=False)
    login(page, emails[0], ROLL_PAGE.format(eid) + "?lang=kk", roll_keys=False)
    page.wait_for_selector("#enroll-status[data-result=none]")
    text = page.inner_text("main")
    assert "roll" not in text.lower().replace("saylau", ""), text
