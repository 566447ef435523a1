"""Issue 10 attack 6 (web): open redirect, session revocation, per-account throttling,
ProxyFix + HSTS, NUL bytes and out-of-range integers at the edge, audited-ballot limit."""

from __future__ import annotations

import json

import pytest

from app.hardening import safe_next
from tests.app.helpers import OFFICIAL_EMAIL, OFFICIAL_PASSWORD, setup_election
from tests.app.test_web import csrf_token
from tests.conftest import make_test_app


@pytest.mark.parametrize("target", [
    "/%09/evil.example", "/\t/evil.example", "//evil.example", "/\\evil.example",
    "https://evil.example/", "http:/evil.example", "evil.example", "/%0a/x", "/\n/x",
    "/%2f/evil.example", "javascript:alert(1)", "",
])
def test_unsafe_next_is_refused(target):
    assert safe_next(target, "/") == "/"


@pytest.mark.parametrize("target", ["/admin/", "/elections/e1/booth?lang=kk", "/a/b#c"])
def test_safe_next_is_kept(target):
    assert safe_next(target, "/") == target


def _login(client, next_url="/"):
    token = csrf_token(client, "/auth/login")
    return client.post(f"/auth/login?next={next_url}", data={
        "email": OFFICIAL_EMAIL, "password": OFFICIAL_PASSWORD, "csrf_token": token})


def test_login_next_with_a_tab_stays_on_site(app, client):
    setup_election(app, "e1", voters=1)
    response = _login(client, "/%09/evil.example")  # the edge guard refuses the TAB
    assert response.status_code == 400
    response = _login(client, "//evil.example")
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_cookie_saved_before_logout_no_longer_opens_admin(app, client):
    setup_election(app, "e1", voters=1)
    assert _login(client).status_code == 302
    assert client.get("/admin/").status_code == 200
    saved = client.get_cookie("saylau_session").value
    other = app.test_client()  # a second browser of the same user
    assert _login(other).status_code == 302
    token = csrf_token(client, "/admin/")
    client.post("/auth/logout", data={"csrf_token": token})
    # replay the cookie saved before logout
    client.set_cookie("saylau_session", saved)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # logout ended every session of the user, the other browser's too
    assert other.get("/admin/").status_code == 302


def test_password_change_ends_every_session(app, client):
    from app.db import new_session
    from app.services import users as user_service

    setup_election(app, "e1", voters=1)
    assert _login(client).status_code == 302
    assert client.get("/admin/").status_code == 200
    with app.app_context():
        db = new_session(app)
        user_service.set_password(db, user_service.find_user(db, OFFICIAL_EMAIL), "new pw 1234567")
        db.commit()
        db.close()
    assert client.get("/admin/").status_code == 302


def test_login_is_throttled_per_account_across_addresses(tmp_path, issuer_test_key):
    app = make_test_app(f"sqlite:///{tmp_path / 't.db'}", tmp_path, issuer_test_key,
                        RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_LIMIT="5 per 15 minutes")
    statuses = []
    for i in range(8):
        client = app.test_client()
        response = client.post("/api/v1/auth/login",
                               json={"email": "victim@example.org", "password": f"guess{i}"},
                               environ_base={"REMOTE_ADDR": f"198.51.100.{i + 1}"})
        statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429] * 3
    # another account from the same addresses is not affected
    other = app.test_client().post("/api/v1/auth/login",
                                   json={"email": "other@example.org", "password": "x"},
                                   environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert other.status_code == 401


def test_proxy_fix_and_hsts_behind_tls(tmp_path, issuer_test_key):
    app = make_test_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, issuer_test_key,
                        PROXY_HOPS=1)
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    response = app.test_client().get("/", headers=headers)
    assert "max-age" in response.headers["Strict-Transport-Security"]
    plain = make_test_app(f"sqlite:///{tmp_path / 'q.db'}", tmp_path, issuer_test_key)
    assert "Strict-Transport-Security" not in plain.test_client().get("/", headers=headers).headers


@pytest.mark.parametrize("path", [
    "/api/v1/elections/e1/board?start=2147483648", "/api/v1/elections/e1/board?start=-99999999999",
    "/api/v1/elections/e%001", "/api/v1/elections/e1/board/ab%00cd", "/petitions?q=a%00b",
    "/api/v1/petitions?start=99999999999999999999", "/api/v1/elections/e1/board?start=%ff%fe",
])
def test_hostile_query_and_path_get_4xx(app, client, path):
    setup_election(app, "e1", voters=1)
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("body", [
    {"email": "a\x00@example.org", "password": "x"},
    {"email": "a@example.org", "password": "x", "n": 2**64},
    {"email": "a@example.org", "password": "x\x00"},
])
def test_hostile_json_gets_400(client, body):
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_hostile_json_in_another_unicode_encoding_gets_400(client, encoding):
    """The view reads UTF-16 and UTF-32 bodies (RFC 8259 §8.1 readers may); the input guard
    used to decode them as UTF-8 only, fail, and let them through unchecked."""
    body = json.dumps({"email": "a\x00@example.org", "password": "x"}).encode(encoding)
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"


def test_the_body_is_parsed_once_per_request(client, monkeypatch):
    """The input guard and the view share one parse (a ballot is 35 KB of JSON)."""
    body = json.dumps({"email": "parse-once@example.org", "password": "x"})
    calls = []
    real = json.loads

    def counting(data, *args, **kwargs):
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        if "parse-once@" in text:
            calls.append(1)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert response.status_code in (400, 401)
    assert calls == [1]


def test_deep_json_gets_400(client):
    deep = "[" * 200 + "]" * 200
    response = client.post("/api/v1/auth/login", data=deep, content_type="application/json")
    assert response.status_code == 400


def test_nul_in_form_gets_400(app, client):
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", data={"email": "a\x00@x.org", "password": "p",
                                                "csrf_token": token})
    assert response.status_code == 400


def test_audited_ballots_share_one_global_limit(tmp_path, issuer_test_key):
    app = make_test_app(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, issuer_test_key,
                        RATELIMIT_ENABLED=True, AUDITED_BALLOT_LIMIT="5 per hour")
    setup_election(app, "e1", voters=1)
    statuses = [app.test_client().post(
        "/api/v1/elections/e1/audited-ballots", json={"ballot": {}, "secrets": {}},
        environ_base={"REMOTE_ADDR": f"192.0.2.{i + 1}"}).status_code for i in range(7)]
    assert statuses == [400] * 5 + [429] * 2  # different addresses share one bucket


def test_deep_json_with_rate_limits_on_is_never_a_500(tmp_path, issuer_test_key):
    """Found by the gunicorn hostile run: the per-account key parsed a deep body (500)."""
    app = make_test_app(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, issuer_test_key,
                        RATELIMIT_ENABLED=True)
    body = b'{"email": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    response = app.test_client().post("/api/v1/auth/login", data=body,
                                      content_type="application/json")
    assert response.status_code == 400
