"""Multilingual election content: officials enter translations, voters see their language.

The translations travel in the manifest's ``labels`` (docs/protocol.md §1.4) and so are
covered by the fingerprint; pages fall back to the plain text where one is missing.
"""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

from tests.app.helpers import VOTER_PASSWORD, setup_election
from tests.app.test_web import csrf_token, login_official

QUESTIONS = "council | Council | 1 | 2 | x=Xenia; y=Yerlan\nbudget | Approve the budget? | yesno"


def _create(client: Any, token: str, **extra: str) -> Any:
    return client.post("/admin/elections/new", data={
        "csrf_token": token, "id": "city-2026", "title": "City vote", "questions": QUESTIONS,
        "revote_policy": "no-revote", "credential_policy": "any_time", "opens_at": "", "closes_at": "",
        **extra})


def test_official_enters_translations_and_booth_shows_them(app: Any, client: Any,
                                                           threshold_test_key_json: Any) -> None:
    setup_election(app)  # the official and the voters
    login_official(client)
    token = csrf_token(client, "/admin/elections/new")
    assert 'name="labels_kk"' in client.get("/admin/elections/new").get_data(as_text=True)
    response = _create(client, token, title_kk="Қала дауыс беруі", title_ru="Городское голосование",
                       labels_kk="budget = Бюджетті бекітесіз бе?\nbudget/yes = Иә\nbudget/no = Жоқ",
                       labels_ru="budget = Утвердить бюджет?\ncouncil/x = Ксения", labels_en="")
    assert response.status_code == 302, response.get_data(as_text=True)
    key = json.dumps(threshold_test_key_json["public_key"]).encode()
    assert client.post("/admin/elections/city-2026/key", data={
        "csrf_token": token, "key_file": (io.BytesIO(key), "election-public-key.json")},
        content_type="multipart/form-data").status_code == 302
    assert client.post("/admin/elections/city-2026/roll", data={
        "csrf_token": token, "roll_csv": "email,name\nvoter1@example.org,Voter 1\n"}).status_code == 302
    assert client.post("/admin/elections/city-2026/open", data={"csrf_token": token}).status_code == 302
    info = client.get("/api/v1/elections/city-2026").get_json()
    assert info["manifest"]["labels"] == {
        "title": {"kk": "Қала дауыс беруі", "ru": "Городское голосование"},
        "budget": {"kk": "Бюджетті бекітесіз бе?", "ru": "Утвердить бюджет?"},
        "budget/yes": {"kk": "Иә"}, "budget/no": {"kk": "Жоқ"}, "council/x": {"ru": "Ксения"}}

    client.post("/auth/logout", data={"csrf_token": token})
    login = csrf_token(client, "/auth/login")
    assert client.post("/auth/login", data={"email": "voter1@example.org", "password": VOTER_PASSWORD,
                                            "csrf_token": login}).status_code == 302
    kk = html.unescape(client.get("/elections/city-2026/booth?lang=kk").get_data(as_text=True))
    assert "<h1>Қала дауыс беруі</h1>" in kk
    assert re.search(r"<legend>Бюджетті бекітесіз бе\?", kk)
    assert 'data-label="Иә"' in kk and ">Жоқ</label>" in kk
    assert ">Xenia</label>" in kk  # no kk text for this option: the plain text
    ru = html.unescape(client.get("/elections/city-2026/booth?lang=ru").get_data(as_text=True))
    assert re.search(r"<legend>Утвердить бюджет\?", ru) and ">Ксения</label>" in ru
    assert 'data-label="Yes"' in ru  # fallback to the manifest's own text, not Kazakh
    vote = html.unescape(client.get("/vote/city-2026?lang=kk").get_data(as_text=True))
    assert "Қала дауыс беруі" in vote and "Бюджетті бекітесіз бе?" in vote
    results = html.unescape(client.get("/elections/city-2026/results?lang=ru").get_data(as_text=True))
    assert "Городское голосование" in results
    board = html.unescape(client.get("/board/city-2026?lang=kk").get_data(as_text=True))
    assert "Қала дауыс беруі" in board
    en = html.unescape(client.get("/elections/city-2026/booth?lang=en").get_data(as_text=True))
    assert "<h1>City vote</h1>" in en and re.search(r"<legend>Approve the budget\?", en)


def test_bad_translation_is_a_form_error_not_a_500(app: Any, client: Any) -> None:
    setup_election(app)
    login_official(client)
    token = csrf_token(client, "/admin/elections/new")
    response = _create(client, token, labels_kk="nosuch = Жоқ сұрақ")
    assert response.status_code == 400
    assert "unknown key" in html.unescape(response.get_data(as_text=True))
    response = _create(client, token, labels_ru="budget Утвердить")
    assert response.status_code == 400
    assert client.get("/api/v1/elections/city-2026").status_code == 404


def test_api_create_with_labels_and_bad_language(app: Any, client: Any) -> None:
    setup_election(app)
    login_official(client)
    token = csrf_token(client, "/admin/elections/new")
    body = {"id": "api-2026", "title": "Vote", "questions": [
        {"id": "q1", "title": "Q", "min_selections": 1, "max_selections": 1,
         "options": [{"id": "a", "label": "A"}]}], "labels": {"q1": {"de": "Frage"}}}
    headers = {"X-CSRFToken": token}
    response = client.post("/api/v1/elections", json=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_manifest"
    body["labels"] = {"q1": {"kk": "Сұрақ"}}
    response = client.post("/api/v1/elections", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["manifest"]["labels"] == {"q1": {"kk": "Сұрақ"}}
