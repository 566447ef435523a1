"""Accessibility audit with axe-core in headless Chromium: no serious or critical violation.

axe-core (``vendor/axe.min.js``, MPL-2.0, Deque Systems; see ``vendor/README.md``) is
injected with ``page.add_script_tag``; the app's strict CSP (``script-src 'self'``)
would refuse it, so these contexts alone use Playwright's ``bypass_csp=True``.  Every
main page is audited in English and in Kazakh, signed in as the role that sees it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
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
    VOTER_PASSWORD,
    setup_election,
    voter,
)
from tests.app.petitions_helpers import PASSWORD, citizen, make_user, moderator
from tests.browser.conftest import LiveServer
from tests.browser.test_petitions_browser import petition_config

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
LANGS = ("en", "kk")
BLOCKING = {"serious", "critical"} if not os.environ.get("SAYLAU_AXE_ALL") else {"serious", "critical", "moderate", "minor"}
CLOSED, TALLIED = "ax1", "ax2"
TRUSTEE = "axe-trustee@example.org"
CITIZEN = "axe-citizen@example.org"


def _official_token(api: Any) -> dict[str, str]:
    r = api.post("/api/v1/auth/login", json={"email": OFFICIAL_EMAIL, "password": OFFICIAL_PASSWORD})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _closed_election(app: Any, election_id: str, choices: list[tuple[str, str]]) -> Any:
    emails = setup_election(app, election_id, voters=len(choices))
    for email, (mayor, ref) in zip(emails, choices, strict=True):
        vc = voter(app.test_client(), email)
        election = vc.get_election(election_id)
        vc.cast(election, vc.obtain_credential(election), {"mayor": [mayor], "ref": [ref]})
    api = app.test_client()
    assert api.post(f"/api/v1/elections/{election_id}/close",
                    headers=_official_token(api)).status_code == 200
    return api


@pytest.fixture(scope="module")
def urls(live_server: LiveServer) -> dict[str, str]:
    """The audited pages; the data behind them is created here."""
    app = live_server.app
    client = app.test_client()
    # a receipt page: a ballot cast in e2 by the Python voter client
    vc = voter(client, live_server.voter("e2"))
    election = vc.get_election("e2")
    receipt = vc.cast(election, vc.obtain_credential(election), {"mayor": ["b"], "ref": ["yes"]})
    tracker = receipt["tracker"]
    # a closed election (the trustee's upload form) and a tallied one (results with chart)
    _closed_election(app, CLOSED, [("a", "yes")])
    api = _closed_election(app, TALLIED, [("a", "yes"), ("b", "no"), ("a", "no")])
    tally = EncryptedTally.from_json(api.get(f"/api/v1/elections/{TALLIED}/encrypted-tally").get_json())
    fingerprint = bytes.fromhex(api.get(f"/api/v1/elections/{TALLIED}").get_json()["fingerprint"])
    shares = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())["shares"]
    with app.app_context():
        db = new_session(app)
        try:
            for share in shares[:3]:
                partials = trustee_decrypt(KeyShare.from_json(share), tally, fingerprint=fingerprint)
                tally_service.accept_partials(db, TALLIED, partials.to_json())
                db.commit()
        finally:
            db.close()
    make_user(app, TRUSTEE, ("trustee",))
    # an open petition
    with petition_config(app):
        mod = moderator(app, client, "axe-mod@example.org")
        creator = citizen(app, client, "axe-creator@example.org")
        r = client.post("/api/v1/petitions", headers=creator, json={
            "title": "Accessible petition pages for everyone", "action": "Audit them with axe.",
            "background": "Screen readers and keyboards."})
        assert r.status_code == 201, r.get_json()
        pid, token = r.get_json()["id"], r.get_json()["share_token"]
        assert client.post(f"/api/v1/petitions/{pid}/submit", headers=creator).status_code == 200
        for i in range(2):
            s = citizen(app, client, f"axe-sponsor{i}@example.org")
            assert client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token},
                               headers=s).status_code == 201
        r = client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"},
                        headers=mod)
        assert r.status_code == 200 and r.get_json()["state"] == "open", r.get_json()
    citizen(app, client, CITIZEN)
    # issue 14's pages: a petition with its region map, an audited ballot's check page
    map_pid = _petition_with_map(app, client, mod)
    vc = voter(client, live_server.voter("e1"))
    e1 = vc.get_election("e1")
    audited = vc.audit_ballot(e1, vc.obtain_credential(e1), {"mayor": ["a"], "ref": ["no"]})["board"]["tracker"]
    return {
        "petition-map": f"/petitions/{map_pid}", "check-page": f"/board/e1/t/{audited}",
        "petition-trustee": "/petitions/trustee", "api-docs": "/api/v1/docs",
        "results-closed": f"/elections/{CLOSED}/results", "booth-closed": f"/elections/{CLOSED}/booth",
        "home": "/", "login": "/auth/login", "booth": "/elections/e1/booth",
        "receipt": f"/elections/e2/receipt/{tracker}", "check-receipt": "/receipt",
        "board": "/board/e1", "results": f"/elections/{TALLIED}/results",
        "petitions": "/petitions", "petition": f"/petitions/{pid}", "sign": f"/petitions/{pid}/sign",
        "admin-election": "/admin/elections/e1", "trustee": f"/trustee/elections/{CLOSED}",
    }


def _petition_with_map(app: Any, client: Any, mod: dict[str, str]) -> int:
    """An open petition with three signatures and a decrypted region tally (the map shows)."""
    from tally.petition import EncryptedRegionTally, trustee_decrypt_regions
    from tests.app.petitions_helpers import sign, trustee_shares

    with petition_config(app):
        creator = citizen(app, client, "axe-map-creator@example.org")
        r = client.post("/api/v1/petitions", headers=creator, json={
            "title": "A map of signatures for every region", "action": "Show it.", "background": "Maps."})
        pid, token = r.get_json()["id"], r.get_json()["share_token"]
        assert client.post(f"/api/v1/petitions/{pid}/submit", headers=creator).status_code == 200
        for i in range(2):
            s = citizen(app, client, f"axe-map-sponsor{i}@example.org")
            assert client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token},
                               headers=s).status_code == 201
        assert client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"},
                           headers=mod).get_json()["state"] == "open"
    for i, region in enumerate(["abai", "astana", "shymkent"]):
        sign(client, citizen(app, client, f"axe-map-signer{i}@example.org"), pid, region)
    tally = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod).get_json()
    fp = bytes.fromhex(client.get(f"/api/v1/petitions/{pid}").get_json()["fingerprint"])
    et = EncryptedRegionTally.from_json(tally["encrypted"])
    for share in trustee_shares()[:3]:
        headers = citizen(app, client, f"axe-map-trustee{share.index}@example.org", ("trustee",))
        r = client.post(f"/api/v1/petitions/{pid}/tallies/{tally['id']}/partials",
                        json={"partial": trustee_decrypt_regions(share, et, fingerprint=fp).to_json()},
                        headers=headers)
        assert r.status_code == 201
    return int(pid)


#: who sees each page: (e-mail, password); None = anonymous
def _who(live_server: LiveServer, name: str) -> tuple[str, str] | None:
    return {
        "booth": (live_server.voter("e1"), VOTER_PASSWORD),
        "sign": (CITIZEN, PASSWORD),
        "admin-election": (OFFICIAL_EMAIL, OFFICIAL_PASSWORD),
        "trustee": (TRUSTEE, PASSWORD),
        "petition-trustee": (TRUSTEE, PASSWORD),
        "booth-closed": (live_server.voter("e1"), VOTER_PASSWORD),
    }.get(name)


#: what to wait for before auditing (pages that finish their work in JavaScript)
READY = {"booth": "#encrypt-button:not([disabled])", "sign": "#sign-button:not([disabled])",
         "api-docs": "#swagger-ui .opblock"}


@pytest.fixture()
def axe_page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="en-US", bypass_csp=True,
                                  viewport={"width": 1024, "height": 900})
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def audit(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the current page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                        summary: n.failureSummary}))}));
    }""")
    return [v for v in result if v["impact"] in BLOCKING]


def test_axe_vendored_file() -> None:
    text = AXE.read_text(encoding="utf-8")
    assert text.startswith("/*! axe v4.") and "Mozilla Public" in text[:600]  # MPL-2.0 header kept
    assert len(text) < 1_000_000


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ["home", "login", "booth", "receipt", "check-receipt", "board",
                                  "results", "petitions", "petition", "sign", "admin-election",
                                  "trustee", "petition-map", "check-page", "petition-trustee",
                                  "api-docs", "results-closed"])
def test_no_serious_axe_violations(axe_page: Any, live_server: LiveServer, urls: dict[str, str],
                                   name: str, lang: str) -> None:
    page = axe_page
    who = _who(live_server, name)
    if who is not None:
        page.goto(f"/auth/login?lang={lang}")
        page.fill("input[name=email]", who[0])
        page.fill("input[name=password]", who[1])
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
    sep = "&" if "?" in urls[name] else "?"
    response = page.goto(f"{urls[name]}{sep}lang={lang}")
    assert response is not None and response.status == 200, (name, response and response.status)
    assert page.get_attribute("html", "lang") == lang
    if name in READY:
        page.wait_for_selector(READY[name])
    page.wait_for_load_state("networkidle")
    violations = audit(page)
    assert not violations, f"{name} ({lang}):\n" + json.dumps(violations, indent=1, ensure_ascii=False)


def test_axe_catches_a_broken_page(axe_page: Any, live_server: LiveServer) -> None:
    """The harness works: an unlabelled button and an image without alt are caught."""
    page = axe_page
    page.goto("/?lang=en")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<button id="axe-probe"></button><img id="axe-img" src="/x.png">');
    }""")
    found = {v["id"] for v in audit(page)}
    assert {"button-name", "image-alt"} <= found, found


@pytest.mark.parametrize("lang", LANGS)
def test_no_serious_axe_violations_in_page_states(axe_page: Any, live_server: LiveServer,
                                                  lang: str) -> None:
    """Error messages, the booth's review and receipt steps, a failed receipt check, 360px."""
    page, states = axe_page, {}
    page.goto(f"/auth/login?lang={lang}")
    page.fill("input[name=email]", "nobody@example.org")
    page.fill("input[name=password]", "wrong password")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    states["login-error"] = audit(page)
    page.goto(f"/receipt?lang={lang}")
    page.fill("#receipt-json", '{"election_id": "e1", "tracker": "00"}')
    page.click("#paste-form button[type=submit]")
    page.wait_for_selector("#check-result[data-result]")
    states["receipt-check-failed"] = audit(page)
    email = live_server.voter("e1")
    page.goto(f"/auth/login?lang={lang}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", VOTER_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"/elections/e1/booth?lang={lang}")
    page.wait_for_selector("#encrypt-button:not([disabled])")
    page.wait_for_selector("#card-status[data-card=none]")
    page.wait_for_selector("#roll-key-status[data-roll=none]")
    states["booth-no-card"] = audit(page)
    # enrolled-key mode: this browser has no roll key; the voter loads their roll key card
    import json
    import tempfile

    from tests.browser.conftest import roll_card

    with tempfile.TemporaryDirectory() as tmp:
        card = f"{tmp}/roll-key.json"
        with open(card, "w", encoding="utf-8") as fh:
            json.dump(roll_card(live_server.app, "e1", email), fh)
        page.set_input_files("#roll-key-file", card)
        page.wait_for_selector("#roll-key-status[data-roll=held], #roll-key-status[data-roll=error]")
    assert page.get_attribute("#roll-key-status", "data-roll") == "held", \
        page.inner_text("#roll-key-status")
    states["booth-roll-key-loaded"] = audit(page)
    page.goto(f"/vote/e1/roll-key?lang={lang}")
    page.click("#roll-check-button")
    page.wait_for_selector("#roll-check-result[data-result=ok]")
    states["roll-key-check"] = audit(page)
    page.goto(f"/elections/e1/booth?lang={lang}")
    page.wait_for_selector("#encrypt-button:not([disabled])")
    page.wait_for_selector("#roll-key-status[data-roll=held]")
    page.click("#get-card-button")
    page.wait_for_selector("#card-status[data-card=held]")
    states["booth-card"] = audit(page)
    page.click("#encrypt-button")  # nothing chosen: the form error
    states["booth-form-error"] = audit(page)
    page.check("#opt-mayor-a")
    page.check("#opt-ref-no")
    page.click("#encrypt-button")
    page.wait_for_selector("#review:not([hidden])")
    states["booth-review"] = audit(page)
    page.click("#cast-button")
    page.wait_for_selector("#done:not([hidden])")
    states["booth-done"] = audit(page)
    page.set_viewport_size({"width": 360, "height": 740})
    for name in ("/", "/elections/e1/booth", "/board/e1", "/petitions"):
        page.goto(f"{name}?lang={lang}")
        page.wait_for_load_state("networkidle")
        states[f"360px {name}"] = audit(page)
    bad = {k: v for k, v in states.items() if v}
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("lang", ("en", "kk", "ru"))
def test_no_serious_axe_violations_on_error_pages(axe_page: Any, live_server: LiveServer,
                                                  urls: dict[str, str], lang: str) -> None:
    """The translated error and empty states: unknown tracker, bad confirmation link, 404, 405."""
    page, found = axe_page, {}
    for path, status in ((f"/board/e1/t/{'ab' * 32}", 404), ("/petitions/confirm/not-a-real-token", 400),
                         ("/no/such/page", 404), ("/auth/logout", 405)):
        response = page.goto(f"{path}?lang={lang}")
        assert response is not None and response.status == status, path
        assert page.get_attribute("html", "lang") == lang
        found[path] = audit(page)
    bad = {k: v for k, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)
