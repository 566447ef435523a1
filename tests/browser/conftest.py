"""Browser tests: the real app on a local port, driven by headless Chromium (Playwright).

* ``live_server`` (session): the app on ``127.0.0.1:<free port>`` (werkzeug
  ``make_server``, threaded, in a daemon thread) with a temporary SQLite database and
  two open elections using the published 1024-bit TEST threshold key:
  ``e1`` (revote policy ``last-counts``) and ``e2`` (``no-revote``), 12 voters each.
* ``browser`` (session): Chromium at ``/usr/bin/chromium`` (never downloaded), skipped
  with a reason when it or the ``playwright`` package is missing.
* ``page``: a fresh context (empty cookies, localStorage and IndexedDB) per test.
* ``login(page, email)``: log in through the real form.  The elections run in enrolled-key
  mode (docs/protocol.md §2.7): every test voter's roll key (``tests.app.helpers.roll_key``)
  was enrolled before opening, and ``login`` first puts that key into the browser's IndexedDB
  (as the enrollment page would have), from its roll key card, for every election whose
  roll holds it; ``login(..., roll_keys=False)`` leaves the browser without it.
* ``roll_card(election_id, email)``: the voter's roll key card (``saylau-roll-key/1``).
* ``shot(page, name)``: a screenshot into ``test-artifacts/screenshots/`` (git-ignored).

Every test using ``browser`` or ``page`` is marked ``browser`` (``pytest -m "not browser"``
leaves them out).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.app.helpers import VOTER_PASSWORD, setup_election
from tests.conftest import make_test_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VOTERS = 32  # more than the voter() calls of one worker: no voter is reused


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium through Playwright")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if {"browser", "page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    url: str
    app: Any
    emails: dict[str, list[str]]
    _counter: Iterator[int]

    def voter(self, election_id: str = "e1") -> str:
        """A voter of ``election_id`` no other test has used."""
        return self.emails[election_id][next(self._counter) % VOTERS]


@pytest.fixture(scope="session")
def live_server(issuer_test_key: Any) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    from app.db import get_engine

    tmp = Path(tempfile.mkdtemp(prefix="saylau-browser-"))
    app = make_test_app(f"sqlite:///{tmp / 'browser.db'}", tmp, issuer_test_key)
    emails = {
        # enrolled-key mode: each voter's roll key is enrolled before opening
        "e1": setup_election(app, "e1", VOTERS, revote_policy="last-counts"),
        "e2": setup_election(app, "e2", VOTERS, revote_policy="no-revote"),
        # the default credential policy: a credential period before voting opens
        "e3": setup_election(app, "e3", VOTERS, revote_policy="last-counts",
                             credential_policy="period"),
    }
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, emails, itertools.count())
    finally:
        server.shutdown()
        thread.join(timeout=5)
        get_engine(app).dispose()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="en-US",
                                  viewport={"width": 1024, "height": 900})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def roll_card(app: Any, election_id: str, email: str) -> dict[str, Any] | None:
    """The roll key card of ``email``'s enrolled test key in ``election_id`` (None if that
    key is not on the election's roll)."""
    from sqlalchemy import select

    from app.db import new_session
    from app.models import RollEntry, RollKey
    from crypto.credentials import ballot_public_key_bytes
    from saylau.voter_client import roll_key_card
    from tests.app.helpers import roll_key

    key = roll_key(email)
    with app.app_context():
        db = new_session(app)
        try:
            row = db.execute(select(RollKey).join(RollEntry, RollEntry.id == RollKey.roll_entry_id)
                             .where(RollKey.election_id == election_id,
                                    RollEntry.email == email)).scalars().first()
        finally:
            db.close()
    if row is None or row.public_key_hex != ballot_public_key_bytes(key).hex():
        return None
    return roll_key_card(election_id, key, row.roll_index)


def roll_cards(app: Any, email: str) -> list[dict[str, Any]]:
    """``email``'s roll key cards, one per election whose roll holds its test key."""
    from sqlalchemy import select

    from app.db import new_session
    from app.models import RollEntry

    with app.app_context():
        db = new_session(app)
        try:
            ids = db.scalars(select(RollEntry.election_id).where(RollEntry.email == email)).all()
        finally:
            db.close()
    return [c for c in (roll_card(app, eid, email) for eid in sorted(set(ids))) if c]


STORE_CARDS_JS = """async (cards) => {
  const rk = await import('/static/js/crypto/roll-key.js');
  const store = await import('/static/js/roll-key-store.js');
  for (const card of cards) {
    const s = await rk.rollSignerFromCard(card);
    await store.storeRollKey(card.election_id, {privateKey: s.privateKey, publicKeyHex: s.publicKeyHex, rollIndex: s.rollIndex});
  }
}"""


@pytest.fixture()
def login(live_server: LiveServer) -> Callable[..., None]:
    def do(pg: Any, email: str, next_path: str = "/", *, roll_keys: bool = True) -> None:
        pg.goto(f"/auth/login?next={next_path}")
        if roll_keys:  # the voter enrolled in this browser before voting opened
            pg.evaluate(STORE_CARDS_JS, roll_cards(live_server.app, email))
        pg.fill("input[name=email]", email)
        pg.fill("input[name=password]", VOTER_PASSWORD)
        pg.click("main form button[type=submit]")
        pg.wait_for_load_state()

    return do


@pytest.fixture()
def shot() -> Callable[[Any, str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def do(pg: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return do
