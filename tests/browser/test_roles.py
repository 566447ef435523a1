"""Results and trustee pages in headless Chromium: the chart, no console errors, strict CSP.

A third election ``r1`` on the shared live server is driven to *tallied*: three voters
cast with the Python voter client, the official closes it through the API and three
trustees' partial decryptions (1024-bit TEST shares) are accepted by the tally service.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from app.db import new_session
from app.services import tally as tally_service
from crypto.threshold import KeyShare
from tally.aggregate import EncryptedTally
from tally.decrypt import trustee_decrypt
from tests.app.helpers import (
    FIXTURES,
    OFFICIAL_EMAIL,
    OFFICIAL_PASSWORD,
    setup_election,
    voter,
)

ELECTION = "r1"
CHOICES = [("a", "yes"), ("a", "no"), ("c", "yes")]

#: records CSP violations (init scripts run before the page's own, whatever its CSP)
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


@pytest.fixture(scope="module")
def tallied(live_server: Any) -> str:
    app = live_server.app
    emails = setup_election(app, ELECTION, voters=len(CHOICES))
    for email, (mayor, ref) in zip(emails, CHOICES, strict=True):
        vc = voter(app.test_client(), email)
        election = vc.get_election(ELECTION)
        vc.cast(election, vc.obtain_credential(election), {"mayor": [mayor], "ref": [ref]})
    api = app.test_client()
    token = api.post("/api/v1/auth/login", json={"email": OFFICIAL_EMAIL,
                                                 "password": OFFICIAL_PASSWORD}).get_json()["token"]
    closed = api.post(f"/api/v1/elections/{ELECTION}/close",
                      headers={"Authorization": f"Bearer {token}"})
    assert closed.status_code == 200
    tally = EncryptedTally.from_json(
        api.get(f"/api/v1/elections/{ELECTION}/encrypted-tally").get_json())
    fingerprint = bytes.fromhex(api.get(f"/api/v1/elections/{ELECTION}").get_json()["fingerprint"])
    doc = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
    with app.app_context():
        db = new_session(app)
        try:
            for share in doc["shares"][:3]:
                partials = trustee_decrypt(KeyShare.from_json(share), tally, fingerprint=fingerprint)
                tally_service.accept_partials(db, ELECTION, partials.to_json())
                db.commit()
        finally:
            db.close()
    return ELECTION


def _watch(page: Any) -> list[str]:
    """Collect console errors (CSP refusals are logged there too)."""
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        where = str(msg.location.get("url", ""))
        if msg.type == "error" and not where.endswith("/favicon.ico"):  # no favicon: not ours
            errors.append(f"{msg.text} ({where})")

    page.on("console", on_console)
    page.add_init_script(CSP_PROBE)
    return errors


def _assert_clean(page: Any, errors: list[str]) -> None:
    assert not errors, f"console errors: {errors}"
    assert page.evaluate("window.__csp") == []
    inline = page.evaluate("""() => [...document.querySelectorAll('script:not([src])')]
        .filter((s) => s.type !== 'application/json').length""")
    assert inline == 0
    html = page.content()
    assert " style=" not in html.split("<body", 1)[1].replace('style=""', "")  # style-src 'self'


def test_results_page_chart(page: Any, tallied: str, shot: Callable[[Any, str], Any]) -> None:
    errors = _watch(page)
    response = page.goto(f"/elections/{tallied}/results")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    assert page.text_content("#chart-1-title") == "Mayor"
    assert "Alice: 2 votes (66.7%)" in page.text_content("#chart-1-desc")
    bars = page.locator("#chart-1 rect.bar-fill")
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(bars.count())]
    assert widths[0] > widths[2] > 0 and widths[1] == 0  # Alice 2, Bob 0, Carol 1
    assert charts.first.bounding_box()["width"] > 300
    assert page.inner_text("#ballots-counted") == "3"
    assert "saylau verify r1-record.zip --receipt my-receipt.json" in page.inner_text(".verify")
    assert page.get_attribute("#record-download", "href") == f"/api/v1/elections/{tallied}/record.zip"
    shot(page, "20-results-chart")
    _assert_clean(page, errors)


def test_results_page_kazakh(page: Any, tallied: str, shot: Callable[[Any, str], Any]) -> None:
    errors = _watch(page)
    page.goto(f"/elections/{tallied}/results?lang=kk")
    assert page.get_attribute("html", "lang") == "kk"
    assert page.inner_text("#verify-h") == "Мұны өзіңіз қалай тексеруге болады"
    shot(page, "21-results-kk")
    _assert_clean(page, errors)


def test_open_election_results_and_voter_links(page: Any, live_server: Any, login: Any,
                                               shot: Callable[[Any, str], Any]) -> None:
    errors = _watch(page)
    page.goto("/elections/e2/results?lang=ru")
    assert "Выборы открыты" in page.inner_text("#tally-status")
    login(page, live_server.voter("e2"), "/vote/e2")
    page.click("#booth-link")
    page.wait_for_url("**/elections/e2/booth")
    page.goto("/vote/e2")
    page.click("#check-receipt-link")
    page.wait_for_url("**/receipt")
    shot(page, "22-receipt-check-from-election")
    _assert_clean(page, errors)
