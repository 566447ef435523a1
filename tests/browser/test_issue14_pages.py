"""What voters, citizens and officials see (issue 14), walked by accessible names in Chromium.

One page load per page and language: the petition map (img + legend + table), labelled
thresholds and share links; the board's tracker search and its translated "not found";
the Benaloh check page (choices in words, QR); results with turnout; the API reference
under the strict CSP; the petition's region list in columns on a phone.  Desktop and a
390×844 phone; screenshots under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tally.petition import EncryptedRegionTally, trustee_decrypt_regions
from tests.app.helpers import voter
from tests.app.petitions_helpers import citizen, moderator, sign, trustee_shares
from tests.browser.conftest import LiveServer
from tests.browser.test_petitions_browser import browser_login, petition_config

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

#: accessible names, as translated in app/translations (kk, ru, en)
NAMES: dict[str, dict[str, str]] = {
    "map": {"en": "Map of Kazakhstan: signatures by region", "kk": "Қазақстан картасы: өңірлер бойынша қолдар",
            "ru": "Карта Казахстана: подписи по регионам"},
    "table": {"en": "Signatures by region (table)", "kk": "Өңірлер бойынша қолдар (кесте)",
              "ru": "Подписи по регионам (таблица)"},
    "legend": {"en": "Legend", "kk": "Шартты белгілер", "ru": "Условные обозначения"},
    "response": {"en": "Government response", "kk": "Үкімет жауабы", "ru": "Ответ правительства"},
    "debate": {"en": "Parliamentary debate", "kk": "Парламенттегі талқылау", "ru": "Обсуждение в парламенте"},
    "telegram": {"en": "Share on Telegram", "kk": "Telegram-да бөлісу", "ru": "Поделиться в Telegram"},
    "tracker": {"en": "Tracker (or its first 8 characters)", "kk": "Трекер (немесе оның алғашқы 8 таңбасы)",
                "ru": "Трекер (или его первые 8 символов)"},
    "find": {"en": "Find", "kk": "Табу", "ru": "Найти"},
    "no-such": {"en": "No such tracker", "kk": "Мұндай трекер жоқ", "ru": "Такого трекера нет"},
    "check": {"en": "Encryption check (Benaloh)", "kk": "Шифрлауды тексеру (Бенало)",
              "ru": "Проверка шифрования (Бенало)"},
    "qr": {"en": "QR code of this check page's address", "kk": "Осы тексеру бетінің мекенжайының QR коды",
           "ru": "QR-код адреса этой страницы проверки"},
    "api": {"en": "HTTP API reference", "kk": "HTTP API анықтамалығы", "ru": "Справочник HTTP API"},
}
LANGS = ("kk", "ru", "en")


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> dict[str, Any]:
    """A petition with a decrypted region tally, and an audited ballot in e1."""
    app = live_server.app
    client = app.test_client()
    with petition_config(app):
        mod = moderator(app, client, "i14-mod@example.org")
        creator = citizen(app, client, "i14-creator@example.org")
        r = client.post("/api/v1/petitions", headers=creator, json={
            "title": "Shade trees on every school yard", "action": "Plant them by 2028.",
            "background": "Summer heat."})
        pid, token = r.get_json()["id"], r.get_json()["share_token"]
        assert client.post(f"/api/v1/petitions/{pid}/submit", headers=creator).status_code == 200
        for i in range(2):
            s = citizen(app, client, f"i14-sponsor{i}@example.org")
            assert client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token},
                               headers=s).status_code == 201
        assert client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"},
                           headers=mod).get_json()["state"] == "open"
    for i, region in enumerate(["abai", "astana", "astana", "turkistan"]):
        sign(client, citizen(app, client, f"i14-signer{i}@example.org"), pid, region)
    tally = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod).get_json()
    fp = bytes.fromhex(client.get(f"/api/v1/petitions/{pid}").get_json()["fingerprint"])
    et = EncryptedRegionTally.from_json(tally["encrypted"])
    for share in trustee_shares()[:3]:
        headers = citizen(app, client, f"i14-trustee{share.index}@example.org", ("trustee",))
        partial = trustee_decrypt_regions(share, et, fingerprint=fp)
        assert client.post(f"/api/v1/petitions/{pid}/tallies/{tally['id']}/partials",
                           json={"partial": partial.to_json()}, headers=headers).status_code == 201
    vc = voter(client, live_server.voter("e1"))
    election = vc.get_election("e1")
    audited = vc.audit_ballot(election, vc.obtain_credential(election), {"mayor": ["c"], "ref": ["no"]})
    citizen(app, client, "i14-viewer@example.org")
    return {"pid": pid, "audited": audited["board"]["tracker"]}


@pytest.fixture(params=list(VIEWPORTS))
def device(request: pytest.FixtureRequest, browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[request.param])
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.device = request.param  # type: ignore[attr-defined]
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        yield pg
    finally:
        context.close()
    assert not errors, errors


def test_petition_map_thresholds_and_share_links(device: Any, site: dict[str, Any], shot: Any) -> None:
    page = device
    for lang in LANGS:
        page.goto(f"/petitions/{site['pid']}?lang={lang}")
        n = NAMES
        assert page.get_by_role("img", name=re.compile(re.escape(n["map"][lang]))).count() == 1
        table = page.get_by_role("table", name=n["table"][lang])
        assert table.get_by_role("row").count() == 1 + 20  # header + every region
        assert page.get_by_role("list", name=n["legend"][lang]).get_by_role("listitem").count() >= 2
        assert page.get_by_role("progressbar", name=n["response"][lang]).count() == 1
        assert page.get_by_role("progressbar", name=n["debate"][lang]).count() == 1
        link = page.get_by_role("link", name=n["telegram"][lang])
        assert link.get_attribute("href").startswith("https://t.me/share/url?url=")
        assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", page.content())  # no raw ISO timestamps
        shot(page, f"i14-petition-map-{lang}-{page.device}")
    if page.device == "phone":  # the page does not scroll sideways; the map fits the width
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        box = page.locator("svg.region-map").bounding_box()
        assert box is not None and box["width"] <= 390


def test_board_search_not_found_and_benaloh_check_page(device: Any, site: dict[str, Any], shot: Any) -> None:
    page = device
    for lang in LANGS:
        page.goto(f"/board/e1?lang={lang}")
        page.get_by_label(NAMES["tracker"][lang]).first.fill("0123abcd" * 2)
        page.get_by_role("button", name=NAMES["find"][lang]).first.click()
        assert page.get_by_role("heading", name=NAMES["no-such"][lang]).count() == 1
        assert page.get_by_role("alert").count() >= 1
        shot(page, f"i14-tracker-not-found-{lang}-{page.device}")
        page.get_by_label(NAMES["tracker"][lang]).first.fill(site["audited"][:10])
        page.get_by_role("button", name=NAMES["find"][lang]).first.click()
        section = page.get_by_role("region", name=NAMES["check"][lang])
        text = section.inner_text()
        assert "Carol" in text and "No" in text  # the revealed choices, in words
        assert section.get_by_role("img", name=NAMES["qr"][lang]).count() == 1
        assert "saylau verify-audit" in text
        shot(page, f"i14-benaloh-check-{lang}-{page.device}")


def test_api_reference_under_strict_csp(device: Any, live_server: LiveServer, shot: Any) -> None:
    page = device
    for lang in LANGS:
        page.goto(f"/api/v1/docs?lang={lang}")
        assert page.get_by_role("heading", name=NAMES["api"][lang], level=1).count() == 1
    page.wait_for_selector("#swagger-ui .opblock", timeout=30_000)  # Swagger UI rendered the spec
    shot(page, f"i14-api-docs-{page.device}")


def test_region_list_in_columns_on_a_phone(browser: Any, live_server: LiveServer, site: dict[str, Any],
                                          shot: Any) -> None:
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS["phone"])
    try:
        page = context.new_page()
        browser_login(page, "i14-viewer@example.org", f"/petitions/{site['pid']}/sign")
        page.goto(f"/petitions/{site['pid']}/sign?lang=ru")
        columns = page.evaluate(
            "getComputedStyle(document.getElementById('region-group')).gridTemplateColumns.split(' ').length")
        assert columns >= 2
        shot(page, "i14-sign-regions-phone-ru")
    finally:
        context.close()
