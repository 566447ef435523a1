"""Pages of every role (Flask test client): voter links, results, trustee upload, officials.

The whole election is driven for real: voters cast through the JSON API with the Python
voter client, the official closes through the API, and trustees decrypt the encrypted
tally with the 1024-bit TEST key shares and upload through the trustee page's form.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.db import new_session
from app.services import users as user_service
from audit.verifier import verify_record
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

TRUSTEE_EMAIL = "trustee@example.org"
TRUSTEE_PASSWORD = "trustee password 123"
#: (mayor, ref) choices of the three voters
CHOICES = [("a", "yes"), ("a", "no"), ("b", "yes")]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def _login(client: Any, email: str, password: str = VOTER_PASSWORD) -> None:
    token = _csrf(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/auth/login", data={"email": email, "password": password,
                                                "csrf_token": token})
    assert response.status_code == 302


def _add_trustee(app: Any) -> None:
    with app.app_context():
        db = new_session(app)
        try:
            user_service.get_or_create_user(db, TRUSTEE_EMAIL, "Trustee", ("trustee",),
                                            password=TRUSTEE_PASSWORD)
            db.commit()
        finally:
            db.close()


def _cast_and_close(app: Any) -> list[str]:
    emails = setup_election(app, "e1", voters=len(CHOICES))
    for email, (mayor, ref) in zip(emails, CHOICES, strict=True):
        vc = voter(app.test_client(), email)
        election = vc.get_election("e1")
        vc.cast(election, vc.obtain_credential(election), {"mayor": [mayor], "ref": [ref]})
    api = app.test_client()
    login = api.post("/api/v1/auth/login", json={"email": OFFICIAL_EMAIL,
                                                 "password": OFFICIAL_PASSWORD})
    token = login.get_json()["token"]
    closed = api.post("/api/v1/elections/e1/close", headers={"Authorization": f"Bearer {token}"})
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    _add_trustee(app)
    return emails


def _shares() -> list[KeyShare]:
    doc = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
    return [KeyShare.from_json(s) for s in doc["shares"]]


def _partials(client: Any, share: KeyShare) -> dict[str, Any]:
    tally = EncryptedTally.from_json(client.get("/api/v1/elections/e1/encrypted-tally").get_json())
    fingerprint = bytes.fromhex(client.get("/api/v1/elections/e1").get_json()["fingerprint"])
    return trustee_decrypt(share, tally, fingerprint=fingerprint).to_json()


def _upload(client: Any, body: bytes, lang: str = "en") -> str:
    page = client.get(f"/trustee/elections/e1?lang={lang}")
    assert page.status_code == 200
    response = client.post(f"/trustee/elections/e1?lang={lang}", data={
        "csrf_token": _csrf(page.get_data(as_text=True)),
        "partials_file": (io.BytesIO(body), "partials.json")},
        content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200  # never a 500: errors come back as flash messages
    return str(response.get_data(as_text=True))


def test_voter_election_page_links_to_booth_and_receipt_check(app: Any, client: Any) -> None:
    emails = setup_election(app)
    _login(client, emails[0])
    html = client.get("/vote/e1").get_data(as_text=True)
    assert 'href="/elections/e1/booth"' in html and 'href="/receipt"' in html
    assert "coming" not in html and "disabled" not in html
    home = client.get("/").get_data(as_text=True)
    assert 'href="/elections/e1/booth"' in home and 'href="/receipt"' in home


def test_results_before_tally_show_state(app: Any, client: Any) -> None:
    setup_election(app)
    html = client.get("/elections/e1/results").get_data(as_text=True)
    assert "voting is in progress" in html and "<svg" not in html
    assert client.get("/elections/nope/results").status_code == 404


def test_trustee_upload_results_record(app: Any, client: Any, tmp_path: Path) -> None:
    _cast_and_close(app)
    # before any upload: waiting for 3 of 5 trustees, 0 uploaded
    html = client.get("/elections/e1/results").get_data(as_text=True)
    assert "Waiting for the trustees: 3 of 5 must decrypt the tally; 0 have uploaded" in html
    # non-trustees get 403 (a voter and the official), anonymous users go to the login page
    assert client.get("/trustee/elections/e1").status_code == 302
    _login(client, "voter1@example.org")
    assert client.get("/trustee/elections/e1").status_code == 403
    assert client.post("/trustee/elections/e1").status_code in {400, 403}
    official = app.test_client()
    _login(official, OFFICIAL_EMAIL, OFFICIAL_PASSWORD)
    assert official.get("/trustee/").status_code == 403

    trustee = app.test_client()
    _login(trustee, TRUSTEE_EMAIL, TRUSTEE_PASSWORD)
    page = trustee.get("/trustee/elections/e1").get_data(as_text=True)
    assert "saylau trustee decrypt --record record.zip --share trustee-N.share.json " \
           "--out partials.json" in page
    assert re.search(r'id="tally-hash">[0-9a-f]{64}<', page)
    assert 'name="partials_file"' in page and 'name="csrf_token"' in page

    shares = _shares()
    good = _partials(trustee, shares[0])
    # tampered: one partial decryption value changed -> rejected with a clear message
    bad = json.loads(json.dumps(good))
    value = bad["partials"][0]["partial"]
    value["c_i"] = format(int(value["c_i"], 16) + 1, "x")
    html = _upload(trustee, json.dumps(bad).encode())
    assert "flash-error" in html and "were rejected" in html
    html = _upload(trustee, b"not json {")
    assert "flash-error" in html and "is not JSON" in html
    html = _upload(trustee, b"")
    assert "flash-error" in html
    # the good one is accepted; uploading it again is refused as a duplicate
    html = _upload(trustee, json.dumps(good).encode())
    assert "flash-ok" in html and "(1 of 3 needed)" in html
    html = _upload(trustee, json.dumps(good).encode())
    assert "flash-error" in html and "already uploaded" in html
    # the official sees the progress and the record link
    admin = official.get("/admin/elections/e1").get_data(as_text=True)
    assert "Waiting for the trustees: 1 of 3 uploaded." in admin
    assert 'href="/api/v1/elections/e1/record.zip"' in admin
    # two more trustees -> results published
    _upload(trustee, json.dumps(_partials(trustee, shares[2])).encode())
    html = _upload(trustee, json.dumps(_partials(trustee, shares[4])).encode())
    assert "the results are published" in html

    html = client.get("/elections/e1/results").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 2
    assert re.search(r'id="ballots-counted">3<', html)
    assert re.search(r'id="credentials-issued">3<', html)
    assert "<title id=\"chart-1-title\">Mayor</title>" in html
    for option, count, percent in (("a", 2, "66.7%"), ("b", 1, "33.3%"), ("c", 0, "0.0%")):
        assert re.search(rf'<tr data-option="{option}"><th scope="row">[^<]+</th>'
                         rf'<td class="num">{count}</td><td class="num">{percent}</td>', html)
    assert "Alice: 2 votes (66.7%)" in html  # the chart's <desc>
    assert re.search(r'id="turnout">[0-9.]+% \(3 ballots counted of \d+ voters on the roll\)', html)
    assert "Most votes: Alice (2)." in html
    assert '<div class="chart-figure" aria-hidden="true">' in html  # the table is what is read
    assert "saylau verify e1-record.zip --receipt my-receipt.json" in html
    assert "style=" not in html.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    admin = official.get("/admin/elections/e1").get_data(as_text=True)
    assert 'href="/elections/e1/results"' in admin
    # the record downloads and the independent verifier accepts it, with the results
    record = client.get("/api/v1/elections/e1/record.zip")
    assert record.status_code == 200 and record.mimetype == "application/zip"
    path = tmp_path / "e1-record.zip"
    path.write_bytes(record.get_data())
    report = verify_record(path, workers=1)
    assert report.valid, [c.name for c in report.failed()]
    assert report.tally == {"mayor": {"a": 2, "b": 1, "c": 0}, "ref": {"yes": 2, "no": 1}}
    # after publication, further uploads get a clear message, not an error page
    html = _upload(trustee, json.dumps(_partials(trustee, shares[1])).encode())
    assert "flash-error" in html and "already published" in html


@pytest.mark.parametrize(("lang", "words"), [
    ("kk", ("Нәтижелер", "Мұны өзіңіз қалай тексеруге болады", "Сайлау жабық")),
    ("ru", ("Результаты", "Как проверить это самостоятельно", "Выборы закрыты")),
])
def test_pages_translated(app: Any, client: Any, lang: str, words: tuple[str, ...]) -> None:
    _cast_and_close(app)
    html = client.get(f"/elections/e1/results?lang={lang}").get_data(as_text=True)
    assert f'lang="{lang}"' in html
    for word in words:
        assert word in html
    for english in ("How to verify", "Waiting for the trustees", "What the verifier checks"):
        assert english not in html
    trustee = app.test_client()
    _login(trustee, TRUSTEE_EMAIL, TRUSTEE_PASSWORD)
    page = trustee.get(f"/trustee/elections/e1?lang={lang}").get_data(as_text=True)
    assert "Encrypted tally" not in page and "Upload partials.json" not in page
    html = _upload(trustee, b"not json {", lang)
    assert "flash-error" in html and "is not JSON" not in html
    for path in ("/", "/board/", "/board/e1", "/auth/login", "/receipt"):
        body = client.get(f"{path}?lang={lang}").get_data(as_text=True)
        assert f'lang="{lang}"' in body
        assert "Public board" not in body and "Log in" not in body, path
