"""The draft page's "check for similar petitions" step in headless Chromium.

An open petition is set up through the JSON API; a citizen then starts a new petition in
the browser and types a similar title: petition-similar.js (debounced, at least three
characters) asks GET /api/v1/petitions/similar and lists the open petition as a link in
the aria-live region, in the page's language.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.petitions_helpers import citizen, moderator, open_petition
from tests.browser.conftest import LiveServer
from tests.browser.test_axe import audit, axe_page  # noqa: F401 - axe_page is a fixture
from tests.browser.test_petitions_browser import browser_login, petition_config

OPEN_TITLE = "Solar panels on every school roof"


@pytest.fixture(scope="module")
def open_pid(live_server: LiveServer) -> int:
    """An open petition, and two confirmed citizens who will draft new ones."""
    app = live_server.app
    client = app.test_client()
    with petition_config(app):
        mod = moderator(app, client, "similar-mod@example.org")
        pid, _ = open_petition(app, client, mod, title=OPEN_TITLE, creator_email="similar-open@example.org")
    citizen(app, client, "similar-drafter@example.org")
    citizen(app, client, "similar-drafter-ru@example.org")
    return pid


def test_typing_a_similar_title_lists_the_open_petition(page: Any, open_pid: int, shot: Any) -> None:
    pid = open_pid
    browser_login(page, "similar-drafter@example.org", "/petitions/new")
    assert page.url.endswith("/petitions/new")
    region = page.locator("#similar-petitions")
    assert region.get_attribute("aria-live") == "polite"
    assert page.locator("#similar-list li").count() == 0

    page.locator("#petition-title").press_sequentially("solar panels for school", delay=20)
    link = page.locator(f'#similar-list a[href="/petitions/{pid}"]')
    link.wait_for()
    assert link.inner_text() == OPEN_TITLE
    assert "similar petition" in page.inner_text("#similar-summary")
    assert "consider signing" in page.inner_text("#similar-summary")
    assert page.is_visible("#similar-h")
    shot(page, "petition-similar-01-typing")

    # fewer than three characters: the list is cleared
    page.fill("#petition-title", "so")
    page.wait_for_function("document.querySelectorAll('#similar-list li').length === 0")
    assert page.inner_text("#similar-summary").strip() == ""

    # the link leads to the petition
    page.fill("#petition-title", "")
    page.locator("#petition-title").press_sequentially("school roof solar", delay=20)
    link.wait_for()
    link.click()
    page.wait_for_url(f"**/petitions/{pid}")
    assert OPEN_TITLE in page.inner_text("h1")


def test_similar_list_in_russian(page: Any, open_pid: int, shot: Any) -> None:
    browser_login(page, "similar-drafter-ru@example.org", "/petitions/new?lang=ru")
    page.goto("/petitions/new?lang=ru")
    assert page.get_attribute("html", "lang") == "ru"
    page.locator("#petition-title").press_sequentially("Солнечные панели: solar school", delay=20)
    page.locator(f'#similar-list a[href="/petitions/{open_pid}"]').wait_for()
    summary = page.inner_text("#similar-summary")
    assert "похож" in summary and "similar" not in summary
    assert "Похожие петиции" in page.inner_text("#similar-h")
    assert "открыта" in page.inner_text("#similar-list")
    shot(page, "petition-similar-02-ru")


def test_draft_page_with_similar_list_has_no_serious_axe_violations(axe_page: Any,  # noqa: F811
                                                                     open_pid: int) -> None:
    page = axe_page
    browser_login(page, "similar-drafter@example.org", "/petitions/new?lang=kk")
    page.goto("/petitions/new?lang=kk")
    page.locator("#petition-title").press_sequentially("school solar panels", delay=20)
    page.locator(f'#similar-list a[href="/petitions/{open_pid}"]').wait_for()
    assert "Ұқсас" in page.inner_text("#similar-summary")
    assert not audit(page)
