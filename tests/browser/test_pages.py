"""Server side of the booth pages (Flask test client; no browser needed)."""

from __future__ import annotations

import re

from tests.app.helpers import VOTER_PASSWORD, setup_election, voter


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def _login(client, email):
    token = _csrf(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/auth/login", data={"email": email, "password": VOTER_PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 302


def test_booth_open_to_card_holders_and_roll_checked_when_logged_in(app, client):
    """The booth needs no login (a voter with a voting card casts anonymously, protocol
    §11.3); getting the card needs a login and a place on the roll."""
    emails = setup_election(app)
    anonymous = client.get("/elections/e1/booth").get_data(as_text=True)
    assert 'id="card-panel"' in anonymous and 'id="ballot-form"' in anonymous
    assert 'data-can-get="0"' in anonymous and "/auth/login?next=" in anonymous
    assert 'id="get-card-button"' not in anonymous
    from tests.app.helpers import OFFICIAL_EMAIL, OFFICIAL_PASSWORD
    official = app.test_client()
    token = _csrf(official.get("/auth/login").get_data(as_text=True))
    assert official.post("/auth/login", data={"email": OFFICIAL_EMAIL, "password": OFFICIAL_PASSWORD,
                                              "csrf_token": token}).status_code == 302
    off_roll = official.get("/elections/e1/booth").get_data(as_text=True)
    assert "voter roll" in off_roll and 'id="card-panel"' not in off_roll
    _login(client, emails[0])
    html = client.get("/elections/e1/booth").get_data(as_text=True)
    assert 'name="csrf-token"' in html and 'id="ballot-form"' in html
    assert 'data-can-get="1"' in html and 'id="get-card-button"' in html
    assert "<script>" not in html  # CSP: no inline script, only a JSON data block
    assert client.get("/elections/nope/booth").status_code == 404


def test_receipt_page_qr_and_unknown_tracker(app, client):
    emails = setup_election(app)
    vc = voter(app.test_client(), emails[0])
    election = vc.get_election("e1")
    receipt = vc.cast(election, vc.obtain_credential(election), {"mayor": ["a"], "ref": ["no"]})
    response = client.get(f"/elections/e1/receipt/{receipt['tracker']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<svg class="qr" role="img"' in html and "style=" not in html.split("<svg", 1)[1]
    assert client.get("/elections/e1/receipt/" + "0" * 64).status_code == 404
    assert client.get("/elections/e1/receipt/not-a-tracker").status_code == 404


def test_language_selection(app, client):
    setup_election(app)
    assert 'lang="en"' in client.get("/receipt").get_data(as_text=True)
    ru = client.get("/receipt", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert 'lang="ru"' in ru and "Проверить мою квитанцию" in ru
    assert 'lang="kk"' in client.get("/receipt?lang=kk").get_data(as_text=True)
    assert 'lang="en"' in client.get("/receipt?lang=xx").get_data(as_text=True)
    # the switch sets a cookie and redirects only on-site
    response = client.get("/lang?lang=kk&next=/receipt")
    assert response.status_code == 303 and response.headers["Location"] == "/receipt"
    assert "saylau_lang=kk" in response.headers["Set-Cookie"]
    assert 'lang="kk"' in client.get("/receipt").get_data(as_text=True)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil", "javascript:alert(1)"):
        assert client.get(f"/lang?lang=ru&next={target}").headers["Location"] == "/"
    # POST without a CSRF token is refused; with one it works
    assert client.post("/lang", data={"lang": "ru", "next": "/"}).status_code == 400
    token = _csrf(client.get("/receipt").get_data(as_text=True))
    response = client.post("/lang", data={"lang": "ru", "next": "/receipt", "csrf_token": token})
    assert response.status_code == 303 and "saylau_lang=ru" in response.headers["Set-Cookie"]
