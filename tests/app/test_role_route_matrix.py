"""Role × route matrix (issue 10): every route of ``app.url_map`` × every role.

``EXPECTED`` is the explicit access table, one rule per (endpoint, method).  A route that
is added without a rule here fails :func:`test_every_route_has_a_rule`.  Rules:

* ``public``    — everyone, anonymous included, gets past access control;
* ``auth``      — any logged-in account; anonymous is refused;
* ``citizen``   — a confirmed citizen (voter account with a confirmed e-mail);
* ``official`` / ``moderator`` / ``trustee`` — that role only; ``trustee|official`` — either;
* ``owner``     — logged in, and then the object's owner or the holder of a link (only
  "anonymous refused" is checked);
* ``open``      — login, sign-up and language forms (anyone; never a 5xx).

"Refused" = 401 / 403, or a redirect to ``/auth/login`` (HTML pages), or — for an HTML form
POST — anything but a success or a redirect elsewhere (the CSRF check comes first).
"Allowed" = not refused (404 / 409 / 400 are fine: access control let it through).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.helpers import setup_election
from tests.app.petitions_helpers import (
    PASSWORD,
    citizen,
    login,
    make_user,
    open_petition,
    petition_app,
)
from tests.app.test_web import csrf_token

EXPECTED: dict[tuple[str, str], str] = {
    ("index", "GET"): "public",
    ("admin.index", "GET"): "official",
    ("admin.election", "GET"): "official",
    ("admin.close", "POST"): "official",
    ("admin.start_voting", "POST"): "official",
    ("admin.generate_test_key", "POST"): "official",
    ("admin.invite", "POST"): "official",
    ("admin.key", "POST"): "official",
    ("admin.open_", "POST"): "official",
    ("admin.roll", "POST"): "official",
    ("admin.settings", "POST"): "official",
    ("admin.new", "GET"): "official",
    ("admin.new", "POST"): "official",
    ("api.login", "POST"): "open",
    ("api.list_elections", "GET"): "public",
    ("api.create_election", "POST"): "official",
    ("api.get_election", "GET"): "public",
    ("api.audited", "POST"): "public",
    ("api.cast", "POST"): "public",
    ("api.board", "GET"): "public",
    ("api.board_entry", "GET"): "public",
    ("api.close_election", "POST"): "official",
    ("api.start_voting", "POST"): "official",
    ("api.consistency", "GET"): "public",
    ("api.credential", "POST"): "auth",
    ("api.set_key", "POST"): "official",
    ("api.encrypted_tally", "GET"): "public",
    ("api.inclusion", "GET"): "public",
    ("api.issuance", "GET"): "public",
    ("api.enroll", "POST"): "auth",  # roll membership checked after the body
    ("api.roll", "GET"): "public",
    ("api.roll_me", "GET"): "auth",
    ("api.open_election", "POST"): "official",
    ("api.upload_partials", "POST"): "trustee",
    ("api.record", "GET"): "official",
    ("api.record_zip", "GET"): "public",
    ("api.import_roll", "POST"): "official",
    ("api.tree_head", "GET"): "public",
    ("api.tree_heads", "GET"): "public",
    ("api.me", "GET"): "auth",
    ("api.openapi", "GET"): "public",
    ("petitions_api.list_petitions", "GET"): "public",
    ("petitions_api.create", "POST"): "citizen",
    ("petitions_api.list_csv", "GET"): "public",
    ("petitions_api.get_petition", "GET"): "public",
    ("petitions_api.edit", "PATCH"): "owner",
    ("petitions_api.get_petition_csv", "GET"): "public",
    ("petitions_api.board", "GET"): "public",
    ("petitions_api.close", "POST"): "moderator",
    ("petitions_api.consistency", "GET"): "public",
    ("petitions_api.credential", "POST"): "auth",  # citizenship checked after the body
    ("petitions_api.debate", "POST"): "moderator",
    ("petitions_api.election_key", "POST"): "moderator",
    ("petitions_api.add_flag", "POST"): "moderator",
    ("petitions_api.inclusion", "GET"): "public",
    ("petitions_api.invalidate", "POST"): "moderator",
    ("petitions_api.issuance", "GET"): "public",
    ("petitions_api.moderation", "POST"): "moderator",
    ("petitions_api.record_zip", "GET"): "public",
    ("petitions_api.response", "POST"): "moderator",
    ("petitions_api.results", "GET"): "public",
    ("petitions_api.share_link", "POST"): "owner",
    ("petitions_api.sign", "POST"): "public",
    ("petitions_api.sponsor", "POST"): "owner",  # a citizen holding the share link
    ("petitions_api.submit", "POST"): "owner",
    ("petitions_api.tallies", "GET"): "public",
    ("petitions_api.request_tally", "POST"): "moderator",
    ("petitions_api.tally", "GET"): "public",
    ("petitions_api.post_partial", "POST"): "trustee",
    ("petitions_api.thresholds", "POST"): "moderator",
    ("petitions_api.tree_head", "GET"): "public",
    ("petitions_api.request_confirmation", "POST"): "auth",
    ("petitions_api.confirm_email", "POST"): "open",
    ("petitions_api.list_flags", "GET"): "moderator",
    ("petitions_api.dismiss_flag", "POST"): "moderator",
    ("petitions_api.moderation_queue", "GET"): "moderator",
    ("petitions_api.regions", "GET"): "public",
    ("petitions_api.similar", "GET"): "public",
    ("auth.link", "GET"): "open",
    ("auth.link", "POST"): "open",
    ("auth.login", "GET"): "open",
    ("auth.login", "POST"): "open",
    ("auth.logout", "POST"): "open",
    ("board.elections", "GET"): "public",
    ("board.board", "GET"): "public",
    ("board.check", "GET"): "public",
    ("board.check", "POST"): "open",
    ("board.tracker", "GET"): "public",
    ("booth.booth", "GET"): "public",  # a voter with a voting card casts without logging in (issue 12)
    ("booth.pki_enroll", "GET"): "auth",  # PKI mode: put one's certificate on the roll (issue 11)
    ("booth.receipt", "GET"): "public",
    ("results.results", "GET"): "public",
    ("i18n.set_language_post", "POST"): "open",
    ("i18n.set_language_get", "GET"): "public",
    ("petitions.index", "GET"): "public",
    ("petitions.show", "GET"): "public",
    ("petitions.edit", "GET"): "owner",
    ("petitions.edit", "POST"): "owner",
    ("petitions.moderate", "POST"): "moderator",
    ("petitions.sign", "GET"): "public",
    ("petitions.sponsor", "GET"): "public",
    ("petitions.sponsor", "POST"): "owner",
    ("petitions.submit", "POST"): "owner",
    ("petitions.confirm_request", "POST"): "owner",
    ("petitions.confirm", "GET"): "open",
    ("petitions.confirm", "POST"): "open",
    ("petitions.moderation", "GET"): "moderator",
    ("petitions.new", "GET"): "auth",
    ("petitions.new", "POST"): "owner",
    ("booth.check_receipt", "GET"): "public",
    ("results.trustee_index", "GET"): "trustee",
    ("results.trustee_election", "GET"): "trustee",
    ("results.trustee_election", "POST"): "trustee",
    ("vote.election", "GET"): "auth",
    ("vote.roll_key", "GET"): "auth",  # enrolled-key mode: make and enroll a roll key (§2.7)
    ("api.docs", "GET"): "public",  # the OpenAPI document's page, read-only
    ("board.tracker_json", "GET"): "public",  # a board entry is public
    ("board.search", "GET"): "public",
    ("petitions.trustee", "GET"): "trustee",
    ("petitions.upload_partial", "POST"): "trustee",
    # distributed key generation relay (app/keygen_relay.py): envelopes between trustees;
    # the verified transcript may be uploaded by a trustee or the official (it is checked
    # by verify_transcript), and is public once stored, like the election key
    ("keygen_relay.post_message", "POST"): "trustee",
    ("keygen_relay.get_messages", "GET"): "trustee",
    ("keygen_relay.post_transcript", "POST"): "trustee|official",
    ("keygen_relay.get_transcript", "GET"): "public",
}
ROLES = ("anonymous", "voter", "citizen", "official", "moderator", "trustee")
VALUES = {"election_id": "e1", "pid": "1", "tid": "1", "index": "0", "fid": "1",
          "tracker": "00" * 32, "token": "x" * 20, "run_id": "run1"}


def _routes(app: Any) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", VALUES[arg]).replace(f"<{arg}>", VALUES[arg])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, path))
    return out


def test_every_route_has_a_rule(app: Any) -> None:
    routes = {(endpoint, method) for endpoint, method, _ in _routes(app)}
    missing = sorted(routes - set(EXPECTED))
    assert not missing, f"routes without an access rule in EXPECTED: {missing}"
    assert not sorted(set(EXPECTED) - routes), "rules for routes that no longer exist"


def _allowed(rule: str, role: str) -> bool | None:
    """True / False, or None when the rule leaves it to ownership or the route is open."""
    if rule in ("public",):
        return True
    if rule == "open":
        return None
    if role == "anonymous":
        return False
    if rule == "auth":
        return True
    if rule == "owner":
        return None
    return role in rule.split("|")


def _sessions(app: Any) -> dict[str, tuple[Any, dict[str, str]]]:
    """A browser (session cookie) and bearer headers per role."""
    out: dict[str, tuple[Any, dict[str, str]]] = {"anonymous": (app.test_client(), {})}
    for role in ROLES[1:]:
        client = app.test_client()
        email = f"matrix-{role}@example.org"
        if role == "citizen":
            headers = citizen(app, client, email)
        else:
            make_user(app, email, (role,) if role != "voter" else ("voter",))
            headers = login(client, email)
        token = csrf_token(client, "/auth/login")
        r = client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                             "csrf_token": token})
        assert r.status_code == 302, role
        out[role] = (client, headers)
    return out


def _refused(response: Any, html_post: bool) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code in (301, 302, 303) and "/auth/login" in response.headers.get(
            "Location", ""):
        return True
    return html_post and response.status_code == 400  # CSRF first, for a form POST


@pytest.fixture()
def mapp(tmp_path: Any, issuer_test_key: Any) -> Any:
    from app.db import get_engine

    application = petition_app(f"sqlite:///{tmp_path / 'm.db'}", tmp_path, issuer_test_key)
    yield application
    get_engine(application).dispose()


def test_role_route_matrix(mapp: Any) -> None:
    app = mapp
    setup_election(app, "e1", voters=1)
    mod_client = app.test_client()
    make_user(app, "matrix-mod2@example.org", ("moderator",))
    open_petition(app, mod_client, login(mod_client, "matrix-mod2@example.org"))
    sessions = _sessions(app)
    failures = []
    checked = 0
    for endpoint, method, path in _routes(app):
        rule = EXPECTED[(endpoint, method)]
        html_post = method != "GET" and not path.startswith("/api/")
        for role in ROLES:
            client, headers = sessions[role]
            if endpoint == "auth.logout":
                continue  # would end the role's sessions for the rest of the matrix
            kwargs: dict[str, Any] = {"headers": headers} if path.startswith("/api/") else {}
            if method in ("POST", "PATCH") and path.startswith("/api/"):
                kwargs["json"] = {}
            response = client.open(path, method=method, **kwargs)
            checked += 1
            if response.status_code >= 500:
                failures.append(f"{role} {method} {path}: {response.status_code}")
                continue
            expected = _allowed(rule, role)
            if expected is None:
                continue
            refused = _refused(response, html_post)
            if expected and html_post:
                continue  # the CSRF check answers first: only refusals are observable
            if expected and refused:
                failures.append(f"{role} {method} {path} ({rule}): refused "
                                f"{response.status_code}")
            if not expected and not refused:
                failures.append(f"{role} {method} {path} ({rule}): allowed "
                                f"{response.status_code}")
    print(f"role x route matrix: {checked} requests checked")
    assert not failures, "\n".join(failures)
