"""Petition title and request in kk/ru/en: display-only, outside the fingerprint.

The petition parameters (hence the fingerprint, docs/protocol.md §7.2) hold the plain
title only; translations are stored beside them and shown in the reader's language.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from app.db import get_engine
from crypto.petition import PetitionParameters, petition_fingerprint
from tests.app.petitions_helpers import (
    PASSWORD,
    citizen,
    info,
    moderator,
    open_petition,
    petition_app,
)

KK = {"title": {"kk": "Қалаларға көбірек ағаш отырғызайық"},
      "action": {"kk": "2030 жылға дейін миллион ағаш отырғызу.", "ru": "Посадить миллион деревьев к 2030 году."}}


@pytest.fixture()
def papp(tmp_path: Path, issuer_test_key: Any) -> Any:
    application = petition_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, issuer_test_key)
    yield application
    get_engine(application).dispose()


def test_translations_shown_in_the_readers_language_and_not_fingerprinted(papp: Any) -> None:
    client = papp.test_client()
    mod = moderator(papp, client)
    pid, _ = open_petition(papp, client, mod, translations=KK)
    data = info(client, pid)
    assert data["translations"] == KK
    assert "translations" not in data["parameters"]
    assert data["parameters"]["title"] == "Plant more trees in cities"
    # the fingerprint is eq. 7.2 over the parameters (plain title) and the keys, nothing else
    params = PetitionParameters.from_json(data["parameters"])
    assert petition_fingerprint(params, data["election_public_key"], data["issuer_public_key"],
                                bytes.fromhex(data["board_public_key"])).hex() == data["fingerprint"]
    draft = pid
    kk = html.unescape(client.get(f"/petitions/{draft}?lang=kk").get_data(as_text=True))
    assert "<h1>Қалаларға көбірек ағаш отырғызайық</h1>" in kk
    assert "2030 жылға дейін миллион ағаш отырғызу." in kk
    ru = html.unescape(client.get(f"/petitions/{draft}?lang=ru").get_data(as_text=True))
    assert "<h1>Plant more trees in cities</h1>" in ru  # no ru title: the plain one
    assert "Посадить миллион деревьев к 2030 году." in ru


@pytest.mark.parametrize(("translations", "match"), [
    ({"details": {"kk": "x"}}, "unknown field"),
    ({"title": {"de": "Bäume"}}, "unknown language"),
    ({"title": {"kk": "x" * 301}}, "at most 300"),
    ({"title": "Ағаш"}, "must be an object"),
    (["kk"], "must be an object"),
])
def test_bad_translations_are_400(papp: Any, translations: Any, match: str) -> None:
    client = papp.test_client()
    creator = citizen(papp, client, "writer@example.org")
    r = client.post("/api/v1/petitions", json={"title": "T", "action": "A", "translations": translations},
                    headers=creator)
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "invalid_translations"
    assert re.search(match, r.get_json()["error"]["message"])


def test_creator_enters_translations_in_the_form(papp: Any) -> None:
    client = papp.test_client()
    citizen(papp, client, "former@example.org")
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post("/auth/login", data={"email": "former@example.org", "password": PASSWORD,
                                            "csrf_token": token}).status_code == 302
    page = client.get("/petitions/new").get_data(as_text=True)
    assert 'name="action_ru"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post("/petitions/new", data={
        "csrf_token": token, "title": "Clean rivers", "action": "Fund river clean-ups.",
        "title_kk": "Таза өзендер", "action_ru": "Финансировать очистку рек.", "title_en": " "})
    assert r.status_code == 302, r.get_data(as_text=True)
    pid = int(re.search(r"/petitions/(\d+)/edit", r.headers["Location"]).group(1))  # type: ignore[union-attr]
    assert info(client, pid)["translations"] == {"title": {"kk": "Таза өзендер"},
                                                 "action": {"ru": "Финансировать очистку рек."}}
    edit = html.unescape(client.get(f"/petitions/{pid}/edit").get_data(as_text=True))
    assert 'name="title_kk" lang="kk" value="Таза өзендер"' in edit
