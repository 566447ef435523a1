"""Translated election content in the booth (kk, ru): the browser client accepts the
manifest's ``labels`` (its fingerprint check passes, eq. F1 with labels) and the voter
reads and reviews the questions and options in their language."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.db import new_session
from app.models import Election
from app.services import elections as election_service
from app.services import roll as roll_service
from app.services import users as user_service
from crypto.election import Manifest
from tests.app.helpers import VOTER_PASSWORD, manifest_json, threshold_public_json
from tests.browser.conftest import LiveServer

ELECTION = "ml"
LABELS = {
    "title": {"kk": "Көптілді сайлау", "ru": "Многоязычные выборы"},
    "mayor": {"kk": "Әкім", "ru": "Аким"},
    "mayor/b": {"kk": "Болат"},
    "ref": {"kk": "Референдум (қазақша)", "ru": "Референдум (по-русски)"},
    "ref/yes": {"kk": "Иә", "ru": "Да"},
}


def _setup(live_server: LiveServer) -> list[str]:
    app = live_server.app
    emails = [f"ml{i}@example.org" for i in (1, 2)]
    with app.app_context():
        db = new_session(app)
        try:
            if db.get(Election, ELECTION) is None:
                data = manifest_json(ELECTION)
                data["labels"] = LABELS
                election = election_service.create_election(
                    db, Manifest.from_json(data), credential_policy="any_time",
                    issuer_key=app.config["TEST_ISSUER_KEY"])
                election_service.set_election_key(db, election, threshold_public_json(),
                                                  allow_test_key=True)
                roll_service.import_roll(db, election, "email,name\n" + "".join(f"{e},V\n" for e in emails))
                for e in emails:
                    user_service.get_or_create_user(db, e, password=VOTER_PASSWORD)
                election_service.open_election(db, election)
                db.commit()
        finally:
            db.close()
    return emails


@pytest.mark.parametrize(("lang", "index", "title", "mayor", "bob", "yes"), [
    ("kk", 0, "Көптілді сайлау", "Әкім", "Болат", "Иә"),
    ("ru", 1, "Многоязычные выборы", "Аким", "Bob", "Да"),  # no ru text for Bob: the plain one
])
def test_booth_in_the_voters_language(page: Any, live_server: LiveServer, login: Any, shot: Any,
                                      lang: str, index: int, title: str, mayor: str, bob: str,
                                      yes: str) -> None:
    email = _setup(live_server)[index]
    booth = f"/elections/{ELECTION}/booth"
    login(page, email, booth)
    page.goto(f"{booth}?lang={lang}")
    page.wait_for_selector("#encrypt-button:not([disabled])")  # fingerprint with labels checked in JS
    assert page.get_by_role("heading", level=1).inner_text() == title
    page.get_by_role("group", name=re.compile(mayor)).get_by_label(bob).check()
    page.get_by_role("group", name=re.compile(re.escape(LABELS["ref"][lang]))).get_by_label(yes).check()
    shot(page, f"multilingual-booth-{lang}")
    page.click("#encrypt-button")
    page.wait_for_selector("#review:not([hidden])")
    review = page.locator("#review-choices").inner_text()
    assert f"{mayor}: {bob}" in review and f"{LABELS['ref'][lang]}: {yes}" in review
    shot(page, f"multilingual-review-{lang}")
