"""Petitions in headless Chromium: the lifecycle pages and signing in the browser.

The lifecycle (draft → sponsors → moderation → open) is driven through the JSON API in
the test setup; each stage's page is rendered in the browser.  A confirmed citizen then
signs with the real signing page (fingerprint check, precomputation in a Web Worker,
RFC 9474 credential, encryption and proof, anonymous POST), gets a verified receipt, sees
the count go up after the batch refresh, and is refused a second signature.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.db import new_session
from app.petitions import counts
from tests.app.petitions_helpers import KEY_DOC, PASSWORD, citizen, make_user, moderator
from tests.browser.conftest import LiveServer

SIGN = "/petitions/{}/sign"


@contextmanager
def petition_config(app: Any) -> Iterator[None]:
    """Two sponsors and the test election key while the petition is set up (then restored)."""
    keys = ("PETITION_SPONSORS_REQUIRED", "PETITION_ELECTION_KEY")
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(PETITION_SPONSORS_REQUIRED=2, PETITION_ELECTION_KEY=KEY_DOC["public_key"])
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                app.config.pop(k, None)
            else:
                app.config[k] = v


def browser_login(page: Any, email: str, next_path: str) -> None:
    page.goto(f"/auth/login?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def new_page(browser: Any, live_server: LiveServer) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="en-US",
                                  viewport={"width": 1024, "height": 900})
    context.set_default_timeout(30_000)
    return context.new_page()


def refresh_counts(live_server: LiveServer, pid: int) -> None:
    with live_server.app.app_context():
        db = new_session(live_server.app)
        try:
            counts.refresh_counts(db, pid)
        finally:
            db.close()


def test_petition_lifecycle_and_signing(page, browser, live_server, shot):
    app = live_server.app
    client = app.test_client()
    with petition_config(app):
        mod = moderator(app, client, "browser-mod@example.org")
        creator = citizen(app, client, "browser-creator@example.org")
        r = client.post("/api/v1/petitions", headers=creator, json={
            "title": "More shade trees in our cities", "action": "Plant a million trees by 2030.",
            "background": "Shade and clean air.", "regions": ["abai", "almaty", "astana", "shymkent"]})
        assert r.status_code == 201, r.get_json()
        pid, token = r.get_json()["id"], r.get_json()["share_token"]

        # draft: only the creator sees it
        creator_page = new_page(browser, live_server)
        try:
            browser_login(creator_page, "browser-creator@example.org", f"/petitions/{pid}")
            assert "draft" in creator_page.inner_text("p.state")
            assert creator_page.is_visible("text=Edit draft")
            shot(creator_page, "petition-01-draft")
        finally:
            creator_page.context.close()

        assert client.post(f"/api/v1/petitions/{pid}/submit", headers=creator).status_code == 200
        page.goto(f"/petitions/{pid}")
        assert "collecting sponsors" in page.inner_text("p.state")
        assert "Sponsors: 0 of 2" in page.inner_text("main")
        shot(page, "petition-02-sponsors")
        for i in range(2):
            s = citizen(app, client, f"browser-sponsor{i}@example.org")
            r = client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token}, headers=s)
            assert r.status_code == 201, r.get_json()

        mod_page = new_page(browser, live_server)
        try:
            browser_login(mod_page, "browser-mod@example.org", "/petitions/moderation")
            assert "More shade trees" in mod_page.inner_text("main")
            shot(mod_page, "petition-03-moderation")
        finally:
            mod_page.context.close()
        r = client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"}, headers=mod)
        assert r.status_code == 200 and r.get_json()["state"] == "open", r.get_json()

    page.goto(f"/petitions/{pid}")
    assert "open" in page.inner_text("p.state")
    shot(page, "petition-04-open")

    # A confirmed citizen signs in the browser.
    citizen(app, client, "browser-signer@example.org")
    browser_login(page, "browser-signer@example.org", SIGN.format(pid))
    assert page.url.endswith(SIGN.format(pid))
    page.wait_for_selector("#sign-button:not([disabled])")
    assert "fingerprint checked" in page.inner_text("#status")
    # The region choice is an accessible, labelled radio group.
    assert page.get_by_role("radio", name="Almaty").count() == 1
    page.click("#sign-button")  # nothing chosen yet
    assert "choose your region" in page.inner_text("#form-error")
    page.get_by_role("radio", name="Almaty").check()
    shot(page, "petition-05-sign")
    page.click("#sign-button")
    page.wait_for_selector("#done:not([hidden])")
    shot(page, "petition-06-receipt")
    assert "verifies" in page.inner_text("#done-status")
    receipts = json.loads(page.evaluate("localStorage.getItem('saylau.petition-receipts')"))
    receipt = receipts[-1]
    assert page.inner_text("#receipt-tracker") == receipt["leaf_hash"] == receipt["tracker"]
    assert receipt["petition_id"] == pid and receipt["index"] == 0
    board_link = page.get_attribute("#receipt-board", "href")
    assert board_link is not None and f"/api/v1/petitions/{pid}/board" in board_link

    # The board holds the anonymous signature; it carries no account.
    board = client.get(f"/api/v1/petitions/{pid}/board").get_json()
    assert board["size"] == 1 and board["entries"][0]["leaf_hash"] == receipt["leaf_hash"]
    assert "browser-signer" not in json.dumps(board)

    # The count goes up after the batch refresh.
    refresh_counts(live_server, pid)
    data = client.get(f"/api/v1/petitions/{pid}").get_json()
    assert data["signatures"] == 1 and data["credentials_issued"] == 1
    page.goto(f"/petitions/{pid}")
    assert "1 signature" in page.inner_text("section.counts h2")
    shot(page, "petition-07-counted")

    # Signing again is refused with a clear message.
    page.goto(SIGN.format(pid))
    page.wait_for_selector("#sign-button:not([disabled])")
    page.get_by_role("radio", name="Astana").check()
    page.click("#sign-button")
    page.wait_for_selector("#already:not([hidden])")
    assert "already signed" in page.inner_text("#already-text")
    shot(page, "petition-08-already-signed")
    assert client.get(f"/api/v1/petitions/{pid}/board").get_json()["size"] == 1


def test_sign_page_without_login_or_confirmation(page, live_server):
    app = live_server.app
    client = app.test_client()
    with petition_config(app):
        mod = moderator(app, client, "browser-mod2@example.org")
        creator = citizen(app, client, "browser-creator2@example.org")
        r = client.post("/api/v1/petitions", headers=creator, json={
            "title": "Bike lanes", "action": "Build bike lanes.", "regions": ["abai", "astana"]})
        pid = r.get_json()["id"]
        assert client.post(f"/api/v1/petitions/{pid}/submit", headers=creator).status_code == 200
        for i in range(2):
            s = citizen(app, client, f"browser-sponsor-b{i}@example.org")
            client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": r.get_json()["share_token"]},
                        headers=s)
        assert client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"},
                           headers=mod).status_code == 200
    page.goto(SIGN.format(pid))
    assert page.is_visible("#login-needed")
    assert page.query_selector("#sign-form") is None
    make_user(app, "browser-unconfirmed@example.org")
    browser_login(page, "browser-unconfirmed@example.org", SIGN.format(pid))
    assert page.is_visible("#confirm-needed")
    assert page.query_selector("#sign-form") is None
    page.goto(SIGN.format(pid) + "?lang=ru")  # the page is translated
    assert "подтверждённый адрес" in page.inner_text("#confirm-needed")
    assert "Отпечаток петиции" in page.inner_text("p.fingerprint")
