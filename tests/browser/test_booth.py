"""The voter's browser experience end to end, in headless Chromium."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.conftest import LiveServer

BOOTH = "/elections/{}/booth"


def wait_ready(page: Any, *, card: bool = True) -> None:
    """The worker checked the fingerprint and the encrypt button is enabled; with ``card``,
    the voter also took the separate "Get my voting card" step if this device had none."""
    page.wait_for_selector("#encrypt-button:not([disabled])")
    page.wait_for_selector("#card-status[data-card]")
    if card and page.get_attribute("#card-status", "data-card") != "held":
        get_card(page)


def get_card(page: Any) -> None:
    page.click("#get-card-button")
    page.wait_for_selector("#card-status[data-card=held]")


def choose(page: Any, election_id: str, choices: dict[str, str]) -> None:
    for qid, oid in choices.items():
        page.check(f"#opt-{qid}-{oid}")


def encrypt(page: Any) -> str:
    page.click("#encrypt-button")
    page.wait_for_selector("#review:not([hidden])")
    tracker: str = page.inner_text("#review-tracker")
    assert len(tracker) == 64
    return tracker


def cast(page: Any) -> dict[str, Any]:
    page.click("#cast-button")
    page.wait_for_selector("#done:not([hidden])")
    receipts = json.loads(page.evaluate("localStorage.getItem('saylau.receipts')"))
    receipt: dict[str, Any] = receipts[-1]
    assert page.inner_text("#receipt-tracker") == receipt["tracker"]
    return receipt


def board_entry(live_server: LiveServer, election_id: str, tracker: str) -> dict[str, Any]:
    client = live_server.app.test_client()
    response = client.get(f"/api/v1/elections/{election_id}/board/{tracker}")
    assert response.status_code == 200, response.get_data(as_text=True)
    data: dict[str, Any] = response.get_json()
    return data


def test_vote_receipt_and_board(page, live_server, login, shot):
    email = live_server.voter("e2")
    login(page, email, BOOTH.format("e2"))
    assert page.url.endswith(BOOTH.format("e2"))
    wait_ready(page)
    shot(page, "01-booth")
    choose(page, "e2", {"mayor": "b", "ref": "yes"})
    tracker = encrypt(page)
    review = page.get_by_role("list", name="Your encrypted ballot contains:").inner_text()
    assert "Mayor: Bob" in review and "Referendum: Yes" in review  # the review before casting
    shot(page, "02-encrypted")
    receipt = cast(page)
    shot(page, "03-receipt")
    assert receipt["tracker"] == tracker and receipt["election_id"] == "e2"
    assert "verifies" in page.inner_text("#done-status")

    # the receipt page with its QR code
    page.click("#receipt-link")
    page.wait_for_selector("svg.qr")
    assert page.inner_text("#tracker") == tracker
    assert page.inner_text("#entry-status") == "recorded (counted when the election is tallied)"
    page.click("#check-stored")
    # (this button is `hidden` until receipt.js has wired it: before saylau.css let
    # [hidden] win over `button {display: inline-block}` it was visible at once, and a click
    # before the page's modules had loaded did nothing; a failed check is data-result="bad")
    page.wait_for_selector("#check-result[data-result]", timeout=45_000)
    assert page.get_attribute("#check-result", "data-result") == "ok", page.inner_text("#check-result")
    shot(page, "04-receipt-page")

    # the public board lists the tracker
    page.goto("/board/e2")
    row = page.locator("table.board tr", has_text=tracker)
    assert row.count() == 1 and "recorded" in row.inner_text()
    shot(page, "05-board")

    # "check my receipt" finds the stored receipt and verifies it against the board
    page.goto("/receipt")
    page.click("#check-0")
    page.wait_for_selector("#check-result[data-result]")
    assert page.get_attribute("#check-result", "data-result") == "ok", page.inner_text("#check-result")
    shot(page, "06-check-receipt")

    # a tampered receipt fails the check
    bad = dict(receipt, leaf_hash=("0" if receipt["leaf_hash"][0] != "0" else "1") + receipt["leaf_hash"][1:])
    page.fill("#receipt-json", json.dumps(bad))
    page.click("#paste-form button[type=submit]")
    page.wait_for_selector("#check-result[data-result=bad]")
    assert "FAILED" in page.inner_text("#check-result")

    # a board that never answers: after 30 s the page says so (data-result="timeout") and
    # the voter can press the button again, instead of reading "Checking…" for ever
    page.clock.install()
    page.goto("/receipt")
    page.route("**/api/v1/elections/e2/board/**", lambda route: None)  # never answered
    page.click("#check-0")
    page.clock.run_for(31_000)
    page.wait_for_selector("#check-result[data-result=timeout]")
    assert "did not finish in 30 seconds" in page.inner_text("#check-result")
    page.unroute_all(behavior="ignoreErrors")

    # no revote button under no-revote
    assert page.locator("#revote-button").count() == 0


def test_browser_ballot_verifies_in_python(page, live_server, login):
    from crypto.ballot import EncryptedBallot, verify_ballot
    from crypto.credentials import Credential
    from crypto.election import Manifest
    from crypto.threshold import ThresholdPublicKey

    login(page, live_server.voter("e1"), BOOTH.format("e1"))
    wait_ready(page)
    choose(page, "e1", {"mayor": "c", "ref": "no"})
    tracker = encrypt(page)
    cast(page)
    stored = board_entry(live_server, "e1", tracker)["entry"]
    info = live_server.app.test_client().get("/api/v1/elections/e1").get_json()
    tpk = ThresholdPublicKey.from_json(info["election_public_key"])
    ballot = EncryptedBallot.from_json(stored["ballot"])
    credential = Credential.from_json(stored["credential"])
    assert ballot.to_json() == stored["ballot"]  # canonical, byte for byte
    verify_ballot(tpk.public, Manifest.from_json(info["manifest"]), bytes.fromhex(info["fingerprint"]),
                  ballot, credential.token_id)  # raises on any bad proof


def test_benaloh_challenge_then_cast(page, live_server, login, shot):
    from crypto.ballot import BallotSecrets, EncryptedBallot, verify_audited_ballot
    from crypto.election import Manifest
    from crypto.threshold import ThresholdPublicKey

    login(page, live_server.voter("e1"), BOOTH.format("e1"))
    wait_ready(page)
    choose(page, "e1", {"mayor": "a", "ref": "yes"})
    audited_tracker = encrypt(page)
    page.click("#challenge-button")
    page.wait_for_selector("#audit-result[data-audit]")
    assert page.get_attribute("#audit-result", "data-audit") == "ok"
    choices = page.inner_text("#audit-choices")
    assert "Mayor: Alice" in choices and "Referendum: Yes" in choices
    page.wait_for_selector("#audit-receipt-link")
    shot(page, "07-challenge")
    check_url = page.get_attribute("#audit-receipt-link", "href")
    assert check_url == f"/board/e1/t/{audited_tracker}"

    # the audited ballot is on the board, marked audited, and opens correctly in Python
    entry = board_entry(live_server, "e1", audited_tracker)
    assert entry["kind"] == "audited"
    info = live_server.app.test_client().get("/api/v1/elections/e1").get_json()
    tpk = ThresholdPublicKey.from_json(info["election_public_key"])
    verify_audited_ballot(tpk.public, Manifest.from_json(info["manifest"]),
                          EncryptedBallot.from_json(entry["entry"]["ballot"]),
                          BallotSecrets.from_json(entry["entry"]["secrets"]))

    # a fresh encryption follows; it is cast
    page.click("#continue-button")
    page.wait_for_selector("#review:not([hidden])")
    new_tracker = page.inner_text("#review-tracker")
    assert new_tracker != audited_tracker
    receipt = cast(page)
    assert receipt["tracker"] == new_tracker
    assert board_entry(live_server, "e1", new_tracker)["kind"] == "ballot"

    # the check page, as a second device opens it: the server's Python checker states the choices
    page.goto(check_url)
    section = page.get_by_role("region", name="Encryption check (Benaloh)")
    assert "Mayor: Alice" in section.inner_text() and "Referendum: Yes" in section.inner_text()
    assert page.get_by_role("img", name="QR code of this check page's address").count() == 1
    shot(page, "07b-check-page")


def test_revote_supersedes(page, live_server, login, shot):
    login(page, live_server.voter("e1"), BOOTH.format("e1"))
    wait_ready(page)
    choose(page, "e1", {"mayor": "a", "ref": "no"})
    first = encrypt(page)
    cast(page)
    page.click("#revote-button")
    page.wait_for_selector("#ballot-form:not([hidden])")
    choose(page, "e1", {"mayor": "b", "ref": "yes"})
    second = encrypt(page)
    receipt = cast(page)
    assert receipt["tracker"] == second != first
    old = board_entry(live_server, "e1", first)
    assert old["superseded"] is True and old["superseded_by"] == receipt["index"]
    assert board_entry(live_server, "e1", second)["superseded"] is False
    page.goto("/board/e1")
    row = page.locator("table.board tr", has_text=first)
    assert f"superseded by #{receipt['index']}" in row.inner_text()
    page.goto(f"/elections/e1/receipt/{first}")
    assert "superseded" in page.inner_text("#entry-status")
    shot(page, "08-revote-superseded")


def issued(live_server: LiveServer, election_id: str = "e1") -> int:
    info = live_server.app.test_client().get(f"/api/v1/elections/{election_id}").get_json()
    count: int = info["credentials_issued"]
    return count


def test_voting_card_moves_to_a_fresh_browser(page, browser, live_server, login, shot, tmp_path):
    """Vote in one context, save the card; a fresh context without it is told so when the
    booth opens; it imports the card (file, then pasted text in a third) and revotes."""
    email = live_server.voter("e1")
    login(page, email, BOOTH.format("e1"))
    wait_ready(page)
    assert "Save it now" in page.inner_text("#card-status")
    with page.expect_download() as download:
        page.click("#card-download")
    card_path = tmp_path / "card.json"
    download.value.save_as(str(card_path))
    card = json.loads(card_path.read_text())
    assert card["format"] == "saylau-voting-card/1" and card["election_id"] == "e1"
    choose(page, "e1", {"mayor": "a", "ref": "yes"})
    encrypt(page)
    first = cast(page)

    for how in ("file", "paste"):
        context = browser.new_context(base_url=live_server.url, locale="en-US")
        fresh = context.new_page()
        errors: list[str] = []
        fresh.on("pageerror", lambda exc, sink=errors: sink.append(str(exc)))
        try:
            login(fresh, email, BOOTH.format("e1"))
            wait_ready(fresh, card=False)
            assert fresh.get_attribute("#card-status", "data-card") == "none"
            assert "no voting card" in fresh.inner_text("#card-status")
            shot(fresh, f"09-booth-no-card-{how}")
            # asking the server again is refused: one card per voter
            before = issued(live_server)
            fresh.click("#get-card-button")
            fresh.wait_for_selector("#card-status[data-card=error]")
            assert "cannot be replaced" in fresh.inner_text("#card-status")
            assert issued(live_server) == before
            if how == "file":
                fresh.set_input_files("#card-file", str(card_path))
            else:
                fresh.fill("#card-paste", card_path.read_text())
                fresh.click("#card-paste-form button[type=submit]")
            fresh.wait_for_selector("#card-status[data-card=held]")
            choose(fresh, "e1", {"mayor": "b", "ref": "no"})
            encrypt(fresh)
            again = cast(fresh)
            assert again["index"] > first["index"]
            old = board_entry(live_server, "e1", first["tracker"])
            assert old["superseded"] is True
            first = again
        finally:
            context.close()
        assert not errors, errors


def test_a_bad_card_is_refused(browser, live_server, login):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    try:
        login(page, live_server.voter("e1"), BOOTH.format("e1"))
        wait_ready(page, card=False)
        page.fill("#card-paste", '{"format": "saylau-voting-card/1", "election_id": "e1"}')
        page.click("#card-paste-form button[type=submit]")
        page.wait_for_selector("#card-status[data-card=error]")
        assert "not a valid voting card" in page.inner_text("#card-status")
    finally:
        context.close()


def test_check_this_encryption_never_consumes_a_credential(page, live_server, login):
    """Without a card: encrypt and check work, nothing is issued, casting is not offered."""
    login(page, live_server.voter("e1"), BOOTH.format("e1"))
    wait_ready(page, card=False)
    before = issued(live_server)
    choose(page, "e1", {"mayor": "a", "ref": "yes"})
    tracker = encrypt(page)
    assert page.is_disabled("#cast-button") and page.is_visible("#cast-needs-card")
    page.click("#challenge-button")
    page.wait_for_selector("#audit-result[data-audit=ok]")
    page.wait_for_selector("#audit-receipt-link")
    assert board_entry(live_server, "e1", tracker)["kind"] == "audited"
    page.click("#continue-button")
    page.wait_for_selector("#review:not([hidden])")
    assert issued(live_server) == before
    assert page.get_attribute("#card-status", "data-card") == "none"
    # with a card, checking still issues nothing more than the one card step
    get_card(page)
    assert issued(live_server) == before + 1
    page.click("#back-button")
    choose(page, "e1", {"mayor": "a", "ref": "yes"})
    encrypt(page)
    page.click("#challenge-button")
    page.wait_for_selector("#audit-result[data-audit=ok]")
    assert issued(live_server) == before + 1


def test_credential_period_then_voting_with_the_card(page, live_server, login, shot):
    """The default policy in the browser: the card in the credential period (no ballot yet),
    then, once voting opens, the same device votes with it; no new card is issued."""
    from app.db import new_session
    from app.models import Election
    from app.services import elections as election_service

    login(page, live_server.voter("e3"), BOOTH.format("e3"))
    page.wait_for_selector("#card-status[data-card=none]")
    assert "credential period" in page.inner_text("#credential-period")
    assert page.locator("#ballot-form").count() == 0
    get_card(page)
    shot(page, "10-credential-period-card")
    with live_server.app.app_context():
        db = new_session(live_server.app)
        try:
            election = db.get(Election, "e3")
            if election_service.phase(election) == "credentials":
                election_service.start_voting(db, election)
                db.commit()
        finally:
            db.close()
    before = issued(live_server, "e3")
    page.reload()
    wait_ready(page, card=False)
    assert page.get_attribute("#card-status", "data-card") == "held"
    assert page.locator("#get-card-button").count() == 0  # the period is over
    choose(page, "e3", {"mayor": "a", "ref": "yes"})
    encrypt(page)
    receipt = cast(page)
    assert board_entry(live_server, "e3", receipt["tracker"])["kind"] == "ballot"
    assert issued(live_server, "e3") == before
