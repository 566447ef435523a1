"""Board pages: search by tracker, a translated "not found", the Benaloh check page (checked
by the server's Python code, choices in words, QR), receipt check by file, and the receipt
status "recorded" until the tally."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from app.db import new_session
from app.models import BoardEntry, Election
from tests.app.helpers import setup_election, voter


@pytest.fixture()
def voted(app: Any) -> dict[str, Any]:
    setup_election(app, revote_policy="last-counts")
    client = app.test_client()
    vc = voter(client, "voter1@example.org")
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    audited = vc.audit_ballot(election, wallet, {"mayor": ["b"], "ref": ["no"]})
    receipt = vc.cast(election, wallet, {"mayor": ["a"], "ref": ["yes"]})
    return {"receipt": receipt, "audited": audited["board"]}


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m.group(1)


@pytest.mark.parametrize(("lang", "text"), [("en", "No such tracker"), ("ru", "Такого трекера нет"),
                                            ("kk", "Мұндай трекер жоқ")])
def test_unknown_tracker_is_a_translated_404(app: Any, voted: dict[str, Any], lang: str, text: str) -> None:
    client = app.test_client()
    r = client.get(f"/board/e1/t/{'ab' * 32}?lang={lang}")
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    assert text in html and 'role="search"' in html and f'<html lang="{lang}"' in html
    r = client.get(f"/board/e1/search?tracker=abc&lang={lang}")
    assert r.status_code == 400  # fewer than 8 hex digits
    r = client.get(f"/board/e1/search?tracker={'0' * 8}zz&lang={lang}")
    assert r.status_code == 400


def test_search_by_tracker_prefix(app: Any, voted: dict[str, Any]) -> None:
    client = app.test_client()
    tracker = voted["receipt"]["tracker"]
    r = client.get(f"/board/e1/search?tracker={tracker[:10].upper()}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/board/e1/t/{tracker}")
    missing = "f" * 16 if not tracker.startswith("f" * 16) else "0" * 16
    assert client.get(f"/board/e1/search?tracker={missing}").status_code == 404


def test_audited_ballot_check_page_states_the_choices(app: Any, voted: dict[str, Any]) -> None:
    client = app.test_client()
    tracker = voted["audited"]["tracker"]
    html = client.get(f"/board/e1/t/{tracker}?lang=en").get_data(as_text=True)
    assert "Python checker" in html
    assert "<strong>Mayor:</strong> Bob" in html and "<strong>Referendum:</strong> No" in html
    assert '<svg class="qr" role="img"' in html
    assert f"saylau verify-audit --election record.zip --audited audited-{tracker[:12]}.json" in html
    r = client.get(f"/board/e1/t/{tracker}.json")
    assert r.status_code == 200 and json.loads(r.get_data())["kind"] == "audited"
    # tamper with the published secrets: the page says it does not open, as an alert
    with app.app_context():
        db = new_session(app)
        row = db.query(BoardEntry).filter_by(tracker=tracker).one()
        entry = json.loads(row.entry_json)
        sel = entry["secrets"]["mayor"]["a"]
        sel["r"] = format(int(sel["r"], 16) + 1, "x")  # not the randomness used
        row.entry_json = json.dumps(entry)
        db.commit()
        db.close()
    html = client.get(f"/board/e1/t/{tracker}?lang=ru").get_data(as_text=True)
    assert 'role="alert">Раскрытие этого бюллетеня НЕ проходит проверку' in html


def test_receipt_check_by_file_and_status_recorded_until_tallied(app: Any, voted: dict[str, Any]) -> None:
    client = app.test_client()
    page = client.get("/board/e1/check?lang=en").get_data(as_text=True)
    data = {"csrf_token": _csrf(page),
            "receipt_file": (io.BytesIO(json.dumps(voted["receipt"]).encode()), "saylau-receipt.json")}
    html = client.post("/board/e1/check?lang=en", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Your receipt holds" in html
    page = client.get("/board/e1/check?lang=kk").get_data(as_text=True)
    data = {"csrf_token": _csrf(page), "receipt_file": (io.BytesIO(b"{}"), "x.json")}
    html = client.post("/board/e1/check?lang=kk", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "бұл Saylau түбіртегі емес" in html and 'role="alert"' in html

    tracker = voted["receipt"]["tracker"]
    html = client.get(f"/elections/e1/receipt/{tracker}?lang=en").get_data(as_text=True)
    assert "recorded (counted when the election is tallied)" in html
    assert ">counted<" not in html
    with app.app_context():
        db = new_session(app)
        db.get(Election, "e1").state = "tallied"
        db.commit()
        db.close()
    html = client.get(f"/elections/e1/receipt/{tracker}?lang=en").get_data(as_text=True)
    assert '<dd id="entry-status">counted</dd>' in html
