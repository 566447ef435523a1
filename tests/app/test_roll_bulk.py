"""Issue 10: the roll is frozen at opening (409 JSON); 100,000 rows import in one request."""

from __future__ import annotations

from tests.app.helpers import OFFICIAL_EMAIL, OFFICIAL_PASSWORD, setup_election


def _token(client):
    login = client.post("/api/v1/auth/login", json={"email": OFFICIAL_EMAIL,
                                                    "password": OFFICIAL_PASSWORD})
    return {"Authorization": f"Bearer {login.get_json()['token']}"}


def test_roll_is_frozen_once_the_election_is_open(app, client):
    setup_election(app, "e1", voters=2)  # opened
    response = client.post("/api/v1/elections/e1/roll", headers=_token(client),
                           json={"csv": "email,name\nlate@example.org,Late Voter\n"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "roll_frozen"


def test_hundred_thousand_rows_in_one_request(app, client):
    setup_election(app, "e1", voters=2, open_it=False)
    rows = "".join(f"bulk{i}@example.org,Voter {i}\n" for i in range(99_998))
    body = "email,name\n" + rows + "voter1@example.org,Already There\n"
    assert len(body) > 2 * 1024 * 1024  # more than the default body limit
    response = client.post("/api/v1/elections/e1/roll", headers=_token(client),
                           json={"csv": "email,name\n" + rows})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json() == {"added": 99_998, "voters_on_roll": 100_000}
    # a voter who is already a user keeps the account and gains the voter role
    response = client.post("/api/v1/elections/e1/roll", headers=_token(client),
                           json={"csv": "email,name\nofficial@example.org,Official\n"})
    assert response.status_code == 200
    from app.db import new_session
    from app.services import users as user_service

    with app.app_context():
        db = new_session(app)
        user = user_service.find_user(db, OFFICIAL_EMAIL)
        assert user is not None and user.has_role("voter") and user.has_role("official")
        db.close()
