"""The glossary's words and localized dates in the browser, in Kazakh and Russian.

The booth (fingerprint, an audited check, the cast receipt with its board time), the receipt
page, the trustee page and the petition pages (deadline, official region names sorted in
each language, co-initiators), rendered by the real app in headless Chromium; and the two
e-mails — the invitation an official sends from the admin page and the confirmation a
citizen asks for on the sign page — read back from the outbox in the recipient's language.
See docs/glossary.md.
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

import pytest

from app.db import new_session
from app.services import elections as election_service
from app.services import users as user_service
from crypto.election import Manifest
from tests.app.helpers import OFFICIAL_EMAIL, OFFICIAL_PASSWORD, VOTER_PASSWORD, manifest_json
from tests.app.petitions_helpers import PASSWORD, citizen, make_user, moderator
from tests.browser.test_petitions_browser import browser_login, petition_config

BOOTH = "/elections/e1/booth"
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T?\d{0,2}")
KK_MONTHS = ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз",
             "қыркүйек", "қазан", "қараша", "желтоқсан")
RU_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
             "сентября", "октября", "ноября", "декабря")
#: words the glossary replaced; none may come back on a page
WRONG = ("сенім білдірілген", "доверенн", "демеуші", "спонсор", "цифрлық із", "мандат",
         "учётн", "проверочн")


def _kk_date(text: str) -> bool:
    return any(m in text for m in KK_MONTHS) and "ж." in text


def _ru_date(text: str) -> bool:
    return any(m in text for m in RU_MONTHS) and "г." in text


def _clean(text: str) -> None:
    lowered = text.lower()
    assert not [w for w in WRONG if w in lowered], text[:2000]


def _switch(page: Any, lang: str, path: str) -> None:
    page.goto(f"/lang?lang={lang}&next={path}")
    page.wait_for_selector(f"html[lang={lang}]")


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_booth_and_receipt_use_the_glossary(page: Any, live_server: Any, login: Any,
                                            shot: Any, lang: str) -> None:
    login(page, live_server.voter("e1"), "/")
    _switch(page, lang, BOOTH)
    page.wait_for_selector("#encrypt-button:not([disabled])")
    page.wait_for_selector("#card-status[data-card]")
    if page.get_attribute("#card-status", "data-card") != "held":  # the separate card step
        page.click("#get-card-button")
        page.wait_for_selector("#card-status[data-card=held]")
    main = page.inner_text("main")
    if lang == "kk":
        assert "бақылау таңбасы тексерілді" in page.inner_text("#status")
        assert "Сайлаудың бақылау таңбасы" in main
    else:
        assert "Отпечаток выборов проверен" in page.inner_text("#status")
        assert "Отпечаток выборов" in main
    _clean(main)
    page.check("#opt-mayor-a")
    page.check("#opt-ref-yes")
    page.click("#encrypt-button")
    page.wait_for_selector("#review:not([hidden])")
    _clean(page.inner_text("#review"))
    # check the encryption: the audited ballot is «ашылған» / «раскрытый», not "checked"
    page.click("#challenge-button")
    page.wait_for_selector("#audit-result[data-audit=ok]")
    page.wait_for_selector("#audit-receipt-link")
    audit = page.inner_text("#audit-board")
    assert ("ашылған бюллетень ретінде" in audit) if lang == "kk" else ("как раскрытый" in audit)
    _clean(audit)
    page.click("#continue-button")
    page.wait_for_selector("#review:not([hidden])")
    page.click("#cast-button")
    page.wait_for_selector("#done:not([hidden])")
    done = page.inner_text("#done")
    assert ("Түбіртегіңіз" in done) if lang == "kk" else ("Ваша квитанция" in done)
    when = page.inner_text("#receipt-time")
    assert (_kk_date(when) if lang == "kk" else _ru_date(when)), when
    assert not ISO.search(when) and page.get_attribute("#receipt-time", "datetime")
    assert re.fullmatch(r"[\d\u00a0\u202f ]+", page.inner_text("#receipt-size"))  # Intl.NumberFormat
    shot(page, f"glossary-booth-receipt-{lang}")
    # the receipt page (server-rendered)
    page.click("#receipt-link")
    page.wait_for_selector("#receipt-page")
    text = page.inner_text("main")
    if lang == "kk":
        assert "Түбіртек" in text and "Трекер" in text and "Тақтадағы орны" in text
    else:
        assert "Квитанция" in text and "Трекер" in text and "Позиция на доске" in text
    _clean(text)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_trustee_page_says_key_holder(page: Any, live_server: Any, lang: str) -> None:
    app = live_server.app
    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, f"keyholder-{lang}@example.org", "Key holder",
                                        ("trustee",), password=VOTER_PASSWORD)
        db.commit()
        db.close()
    page.goto("/auth/login?next=/trustee/")
    page.fill("input[name=email]", f"keyholder-{lang}@example.org")
    page.fill("input[name=password]", VOTER_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    _switch(page, lang, "/trustee/")
    text = page.inner_text("body")
    if lang == "kk":
        assert "Кілт ұстаушылар" in text
    else:
        assert "Хранители ключей" in text
    _clean(text)


@pytest.fixture(scope="module")
def open_petition(live_server: Any) -> int:
    app = live_server.app
    client = app.test_client()
    with petition_config(app):
        mod = moderator(app, client, "glossary-mod@example.org")
        creator = citizen(app, client, "glossary-creator@example.org")
        r = client.post("/api/v1/petitions", headers=creator, json={
            "title": "Clean rivers in every region", "action": "Fund river clean-ups.",
            "background": "Rivers.", "regions": None})
        assert r.status_code == 201, r.get_json()
        pid, token = r.get_json()["id"], r.get_json()["share_token"]
        assert client.post(f"/api/v1/petitions/{pid}/submit", headers=creator).status_code == 200
        for i in range(2):
            s = citizen(app, client, f"glossary-sponsor{i}@example.org")
            r = client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token}, headers=s)
            assert r.status_code == 201, r.get_json()
        r = client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"},
                        headers=mod)
        assert r.status_code == 200, r.get_json()
    return int(pid)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_petition_pages_use_the_glossary(page: Any, live_server: Any, open_petition: int,
                                         shot: Any, lang: str) -> None:
    page.goto(f"/petitions/{open_petition}?lang={lang}")
    state = page.inner_text("p.state")
    if lang == "kk":
        assert "қол жинау мерзімі: " in state and _kk_date(state), state
        main = page.inner_text("main")  # threshold rows: a label, then "Label: N" counts
        assert "Үкімет жауабы" in main and "Жиналған қол: " in main, main
    else:
        assert "открыта до " in state and _ru_date(state), state
        main = page.inner_text("main")
        assert "Ответ правительства" in main and "Собрано подписей: " in main, main
    assert not ISO.search(state)
    _clean(page.inner_text("main"))
    # the sign page (a confirmed citizen): official region names, sorted in the page's language
    citizen(live_server.app, live_server.app.test_client(), f"glossary-signer-{lang}@example.org")
    browser_login(page, f"glossary-signer-{lang}@example.org", "/")
    page.goto(f"/petitions/{open_petition}/sign?lang={lang}")
    page.wait_for_selector("#region-group")
    labels = page.locator("#region-group label").all_inner_texts()
    assert len(labels) == 20
    if lang == "kk":
        assert labels[:3] == ["Абай облысы", "Ақмола облысы", "Ақтөбе облысы"]
        assert "Жетісу облысы" in labels and "Астана қаласы" in labels
        assert labels.index("Ұлытау облысы") < labels.index("Шымкент қаласы")
    else:
        assert labels[:3] == ["область Абай", "Акмолинская область", "Актюбинская область"]
        assert "область Жетісу" in labels and "область Ұлытау" in labels
        assert "город Астана" in labels
    shot(page, f"glossary-sign-{lang}")


def _outbox(live_server: Any, to: str) -> email.message.EmailMessage:
    outbox = Path(live_server.app.config["OUTBOX_DIR"])
    for path in sorted(outbox.glob("*.eml"), reverse=True):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if msg["To"] == to:
            return msg  # type: ignore[return-value]
    raise AssertionError(f"no mail to {to}")


def _text(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\u202f", " ").replace("\u00a0", " ")


def test_invitations_from_the_admin_page_in_each_voters_language(page: Any, live_server: Any,
                                                                  shot: Any) -> None:
    app = live_server.app
    with app.app_context():
        db = new_session(app)
        election_service.create_election(db, Manifest.from_json(manifest_json("g1")),
                                         revote_policy="no-revote",
                                         issuer_key=app.config["TEST_ISSUER_KEY"])
        db.commit()
        db.close()
    page.goto("/auth/login?next=/admin/elections/g1")
    page.fill("input[name=email]", OFFICIAL_EMAIL)
    page.fill("input[name=password]", OFFICIAL_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    _switch(page, "kk", "/admin/elections/g1")
    page.fill("textarea[name=roll_csv]", "email,name,language\n"
                                         "g1-ru@example.org,Ольга,ru\n"
                                         "g1-any@example.org,Ерлан,\n")
    page.click("form[action$='/roll'] button[type=submit]")
    page.wait_for_load_state()
    page.click("form[action$='/invite'] button[type=submit]")
    page.wait_for_load_state()
    ru = _outbox(live_server, "g1-ru@example.org")
    assert ru["Subject"] == "Приглашение к голосованию: Test election g1"
    body = _text(ru)
    assert "Здравствуйте, Ольга!" in body and "список избирателей" in body and _ru_date(body)
    kk = _outbox(live_server, "g1-any@example.org")  # no language: the official's page (kk)
    assert kk["Subject"] == "Дауыс беруге шақыру: Test election g1"
    body = _text(kk)
    assert "Құрметті Ерлан!" in body and _kk_date(body) and not ISO.search(body)


def test_confirmation_mail_from_the_sign_page_in_russian(page: Any, live_server: Any,
                                                         open_petition: int) -> None:
    make_user(live_server.app, "glossary-unconfirmed@example.org")
    browser_login(page, "glossary-unconfirmed@example.org", "/")
    assert PASSWORD
    _switch(page, "ru", f"/petitions/{open_petition}/sign")
    page.click("form:has(#confirm-needed) button[type=submit]")
    page.wait_for_load_state()
    msg = _outbox(live_server, "glossary-unconfirmed@example.org")
    assert msg["Subject"] == "Подтвердите адрес электронной почты для петиций"
    body = _text(msg)
    assert "соинициатором" in body and "/petitions/confirm/" in body and _ru_date(body)
    _clean(body)


@pytest.mark.parametrize(("lang", "expected"), [
    ("kk", "Бұл мекенжай бойынша ештеңе табылмады."),
    ("ru", "По этому адресу ничего не найдено."),
])
def test_api_errors_are_shown_in_the_pages_language(page: Any, live_server: Any, login: Any,
                                                    lang: str, expected: str) -> None:
    """The browser maps the JSON error's code to the page's sentence (no English detail)."""
    login(page, live_server.voter("e1"), "/")
    _switch(page, lang, BOOTH)
    page.wait_for_selector("#encrypt-button:not([disabled])")
    result = page.evaluate("""async () => {
      const { api } = await import('/static/js/page-api.js');
      try { await api('/api/v1/elections/no-such-election'); return null; }
      catch (e) { return { message: e.message, code: e.code, detail: e.detail }; }
    }""")
    assert result is not None and result["code"] == "not_found"
    assert result["message"] == expected
    assert "not found" in result["detail"].lower() or "404" in result["detail"]
