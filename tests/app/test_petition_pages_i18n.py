"""The petition pages in Kazakh and Russian, and the draft page's similar petitions.

One small site (module-scoped, SQLite) holds an open petition, a rejected one, one
collecting sponsors, one in moderation and a draft whose title resembles the open one.
Every petition page is rendered in kk and ru: the translated headings and buttons are
there and the English originals of distinctive strings are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from app import regions
from app.db import get_engine
from app.i18n import LOCALES
from app.petitions import labels
from tests.app.petitions_helpers import PASSWORD, citizen, moderator, open_petition, petition_app

OPEN_TITLE = "Plant more trees in cities"
DRAFT_TITLE = "Plant trees across cities"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"


@dataclass
class Site:
    app: Any
    open_id: int
    rejected_id: int
    sponsoring_id: int
    sponsor_token: str
    pending_id: int
    draft_id: int
    creator_email: str
    mod_email: str


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _web_login(client: Any, email: str) -> None:
    token = _csrf(client.get("/auth/login").get_data(as_text=True))
    r = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]


def _draft(client: Any, headers: dict[str, str], title: str) -> tuple[int, str]:
    r = client.post("/api/v1/petitions", headers=headers, json={
        "title": title, "action": "Plant a million trees by 2030.", "background": "Shade."})
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"]), str(r.get_json()["share_token"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, issuer_test_key: Any) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("petition-i18n")
    app = petition_app(f"sqlite:///{tmp / 'p.db'}", tmp, issuer_test_key)
    client = app.test_client()
    mod = moderator(app, client, "i18n-mod@example.org")
    open_id, _ = open_petition(app, client, mod, title=OPEN_TITLE, creator_email="i18n-open@example.org")
    creator = citizen(app, client, "i18n-creator@example.org")

    rejected_id, token = _draft(client, creator, "Ban the winter weather")
    assert client.post(f"/api/v1/petitions/{rejected_id}/submit", headers=creator).status_code == 200
    pending_id, pending_token = _draft(client, creator, "Longer library opening hours")
    assert client.post(f"/api/v1/petitions/{pending_id}/submit", headers=creator).status_code == 200
    for i in range(2):
        s = citizen(app, client, f"i18n-sponsor{i}@example.org")
        for pid, tok in ((rejected_id, token), (pending_id, pending_token)):
            r = client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": tok}, headers=s)
            assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/petitions/{rejected_id}/moderation", headers=mod, json={
        "decision": "reject", "reason_code": "not_responsibility", "note": "Weather."})
    assert r.get_json()["state"] == "rejected"

    sponsoring_id, sponsor_token = _draft(client, creator, "Free water fountains in parks")
    assert client.post(f"/api/v1/petitions/{sponsoring_id}/submit", headers=creator).status_code == 200
    draft_id, _ = _draft(client, creator, DRAFT_TITLE)
    yield Site(app, open_id, rejected_id, sponsoring_id, sponsor_token, pending_id, draft_id,
               "i18n-creator@example.org", "i18n-mod@example.org")
    get_engine(app).dispose()


def _page(client: Any, path: str, lang: str) -> str:
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}lang={lang}")
    assert r.status_code == 200, (path, r.status_code)
    html: str = r.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html
    return html


def _check(html: str, present: tuple[str, ...], absent: tuple[str, ...]) -> None:
    for text in present:
        assert text in html, f"missing {text!r}"
    for text in absent:
        assert text not in html, f"English left over: {text!r}"


# English originals that must not survive on any translated petition page
ENGLISH = {
    "list": ("Start a petition", "most signatures", ">Apply<", "signature(s)", "petition(s)",
             ">Search ", ">Sort"),
    "show": ("We ask<", "Sign this petition", "Government response at", "Debate at",
             "Status:", "signature(s)", "signed tree head", "Parliamentary debate",
             "Share this petition", "signatures needed"),
    "rejected": ("Rejected<", "Reason:", "not responsibility"),
    "new": ("Start a petition", "Save draft", "What do you want the government to do?",
            "Regions (signers choose one", ">Title ", " Akmola<", " East Kazakhstan<"),
    "edit": ("Edit draft", "Save draft", "Similar petitions", "consider signing", "View and submit"),
    "sponsor": ("Sponsor this petition", "I sponsor this petition", "Sponsors need",
                "collecting sponsors"),
    "confirm": ("Confirm your e-mail address", "Confirm my address"),
    "moderation": ("Moderation queue", ">Approve<", ">Reject<", "Flags (not public)",
                   "No open flags."),
    "creator-show": ("Edit draft", "Submit and collect"),
    "sign": (">Almaty Region<", ">East Kazakhstan<"),
}

BAD_LINK = {"kk": 'role="alert">Бұл растау сілтемесі жарамсыз',
            "ru": 'role="alert">Эта ссылка для подтверждения недействительна'}

EXPECTED = {
    "kk": {
        "list": ("<h1>Петициялар</h1>", "Петиция бастау", "ең көп қол жинағандар", "Қолдану",
                 "ашық, 0 қол", "2 петиция."),
        "show": ("Күйі: <strong>ашық</strong>", "Біз сұраймыз", "Осы петицияға қол қою",
                 ">0 қол<", "Үкімет жауабы", "Парламенттегі талқылау", "Петицияны бөлісу"),
        "rejected": ("<h2>Қабылданбады</h2>", "үкіметтің құзыретіне жатпайды"),
        "new": ("<h1>Петиция бастау</h1>", "Жобаны сақтау", "Ақмола облысы", "Шығыс Қазақстан облысы",
                'value="akmola"', 'value="east-kazakhstan"'),
        "edit": ("<h1>Жобаны өңдеу</h1>", "Ұқсас петициялар", "Ұқсас 1 петиция бұрыннан бар"),
        "sponsor": ("<h1>Осы петицияның қосалқы бастамашысы болу</h1>",
                    "Мен осы петицияның қосалқы бастамашысымын", "Қосалқы бастамашылар: 0 / 2",
                    "қосалқы бастамашылар жиналуда"),
        "confirm": ("<h1>Электрондық пошта мекенжайыңызды растаңыз</h1>", "Мекенжайымды растау"),
        "moderation": ("<h1>Модерация кезегі</h1>", "Мақұлдау", "Қабылдамау", "Ашық белгілер жоқ.",
                       "үкіметтің құзыретіне жатпайды"),
        "creator-show": ("Жобаны өңдеу", "Жіберу және қосалқы бастамашыларды жинау (қажеті: 2)", "Күйі: <strong>жоба</strong>"),
        "sign": (">Алматы облысы<", ">Шығыс Қазақстан облысы<", ">Алматы қаласы<", 'value="almaty-region"'),
    },
    "ru": {
        "list": ("<h1>Петиции</h1>", "Создать петицию", "больше всего подписей", "Применить",
                 "открыта, 0 подписей", "2 петиции."),
        "show": ("Статус: <strong>открыта</strong>", "Мы просим", "Подписать эту петицию",
                 ">0 подписей<", "Ответ правительства", "Обсуждение в парламенте", "Поделиться петицией"),
        "rejected": ("<h2>Отклонена</h2>", "не в компетенции правительства"),
        "new": ("<h1>Создать петицию</h1>", "Сохранить черновик", "Акмолинская область",
                "Восточно-Казахстанская область", 'value="akmola"', 'value="east-kazakhstan"'),
        "edit": ("<h1>Редактировать черновик</h1>", "Похожие петиции", "Уже есть 1 похожая петиция"),
        "sponsor": ("<h1>Стать соинициатором этой петиции</h1>", "Я — соинициатор этой петиции",
                    "Соинициаторы: 0 из 2", "сбор соинициаторов"),
        "confirm": ("<h1>Подтвердите адрес электронной почты</h1>", "Подтвердить мой адрес"),
        "moderation": ("<h1>Очередь модерации</h1>", "Одобрить", "Отклонить", "Открытых отметок нет.",
                       "не в компетенции правительства"),
        "creator-show": ("Редактировать черновик", "Отправить и собрать соинициаторов (нужно: 2)",
                         "Статус: <strong>черновик</strong>"),
        "sign": (">Алматинская область<", ">Восточно-Казахстанская область<", ">город Алматы<", 'value="almaty-region"'),
    },
}


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_public_petition_pages_are_translated(site: Site, lang: str) -> None:
    client = site.app.test_client()
    want = EXPECTED[lang]
    _check(_page(client, "/petitions/", lang), want["list"], ENGLISH["list"])
    _check(_page(client, f"/petitions/{site.open_id}", lang), want["show"], ENGLISH["show"])
    _check(_page(client, f"/petitions/{site.rejected_id}", lang), want["rejected"], ENGLISH["rejected"])
    _check(_page(client, f"/petitions/{site.sponsoring_id}/sponsor/{site.sponsor_token}", lang),
           want["sponsor"], ENGLISH["sponsor"])
    bad = client.get(f"/petitions/confirm/not-a-real-token?lang={lang}")
    assert bad.status_code == 400  # a bad link says so at once, translated, as an alert
    _check(bad.get_data(as_text=True), (want["confirm"][0], BAD_LINK[lang]),
           ENGLISH["confirm"] + ("This confirmation link is not valid", "invalid or expired"))


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_creator_pages_are_translated(site: Site, lang: str) -> None:
    client = site.app.test_client()
    _web_login(client, site.creator_email)
    want = EXPECTED[lang]
    _check(_page(client, "/petitions/new", lang), want["new"], ENGLISH["new"])
    _check(_page(client, f"/petitions/{site.draft_id}/edit", lang), want["edit"], ENGLISH["edit"])
    _check(_page(client, f"/petitions/{site.draft_id}", lang), want["creator-show"], ENGLISH["creator-show"])
    # the sign page keeps its own strings; only the region names are translated labels
    _check(_page(client, f"/petitions/{site.open_id}/sign", lang), want["sign"], ENGLISH["sign"])


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_moderation_page_is_translated(site: Site, lang: str) -> None:
    client = site.app.test_client()
    _web_login(client, site.mod_email)
    html = _page(client, "/petitions/moderation", lang)
    _check(html, EXPECTED[lang]["moderation"], ENGLISH["moderation"])
    assert "Longer library opening hours" in html
    assert 'value="not_responsibility"' in html and 'value="approve"' in html  # ids unchanged


def test_english_pages_keep_their_wording(site: Site) -> None:
    client = site.app.test_client()
    _check(_page(client, f"/petitions/{site.open_id}", "en"),
           ("Status: <strong>open</strong>", ">0 signatures<", "Sign this petition",
            "Government response", "Parliamentary debate", "0 of 2 signatures needed", "0 of 3 signatures needed"), ())
    _check(_page(client, f"/petitions/{site.rejected_id}", "en"), ("not responsibility",), ())


def test_edit_page_lists_similar_petitions_server_side(site: Site) -> None:
    client = site.app.test_client()
    _web_login(client, site.creator_email)
    html = _page(client, f"/petitions/{site.draft_id}/edit", "en")
    region = html.split('id="similar-petitions"', 1)[1].split("</section>", 1)[0]
    assert f'href="/petitions/{site.open_id}"' in region and OPEN_TITLE in region
    assert "1 similar petition already exists" in region
    assert f'href="/petitions/{site.draft_id}"' not in region  # never the draft itself
    tag = re.search(r'<section id="similar-petitions"[^>]*>', html)
    assert tag and 'aria-live="polite"' in tag.group(0)
    # the script is external (strict CSP): no inline script, no style attribute
    assert '<script src="/static/js/petition-similar.js"' in html
    assert all("src=" in t for t in re.findall(r"<script[^>]*>", html))
    assert " style=" not in html
    # a new draft page (nothing saved yet) lists nothing but has the live region
    new_html = _page(client, "/petitions/new", "en")
    assert 'id="similar-petitions"' in new_html and "<li><a href=\"/petitions/" not in new_html


def test_similar_api_and_the_draft_itself(site: Site) -> None:
    """The API the script calls finds the open petition for a title being typed."""
    client = site.app.test_client()
    found = client.get("/api/v1/petitions/similar", query_string={"q": "trees cities"}).get_json()
    assert site.open_id in [s["id"] for s in found["similar"]]
    assert site.draft_id not in [s["id"] for s in found["similar"]]


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_petition_labels_are_translated_in_the_catalogue(locale: str) -> None:
    """Every petition label (with its msgctxt) and every plural form has a translation."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    for message in catalogue:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        assert forms and all(forms) and not message.fuzzy, (message.context, message.id)
    contexts = {(m.context, m.id) for m in catalogue if m.context}
    assert ("petition state", "open") in contexts and ("rejection reason", "not responsibility") in contexts


@pytest.mark.parametrize("lang", LOCALES)
def test_label_helpers(site: Site, lang: str) -> None:
    from app.petitions.common import DEFAULT_REGIONS

    with site.app.test_request_context(f"/?lang={lang}"):
        names = [labels.region_label(rid) for rid, _ in DEFAULT_REGIONS]
        assert len(set(names)) == len(DEFAULT_REGIONS)
        assert labels.region_label("no-such-region", "Fallback") == "Fallback"
        assert labels.state_label("some_new_state") == "some new state"
        if lang == "en":
            assert names == [regions.BY_CODE[rid].en for rid, _ in DEFAULT_REGIONS]
        else:
            english = {label for _, label in DEFAULT_REGIONS} - {"Almaty", "Astana", "Shymkent"}
            assert not english & set(names)
            assert all(re.search("[А-Яа-яӘәҒғҚқҢңӨөҰұҮүІі]", n) for n in names)
