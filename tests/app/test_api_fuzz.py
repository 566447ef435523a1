"""API robustness: "never a 500", JSON errors under /api/, and refusals change nothing.

* Schemathesis generates requests (schema-conforming and deliberately non-conforming)
  for every operation of the app's own OpenAPI document (``/api/v1/openapi.json``),
  sent through the WSGI app (no network), against a database seeded with an open
  election (one ballot on its board) and an open petition (one signature): path
  parameters hit the real objects as well as unknown ones.  Requests go out
  anonymously and with the bearer token of a logged-in user who holds no role on
  anything (not on the roll, e-mail not confirmed), so every state-changing call must
  be refused.
* Hand-written hostile bodies: non-UTF-8, JSON nested 10,000 levels deep, huge
  integers, hex literals, NaN/Infinity, duplicate keys, wrong Content-Type, empty
  bodies, bodies just under and just over ``MAX_CONTENT_LENGTH``.

Every response: status < 500; under ``/api/`` every 4xx is ``{"error": {"code",
"message"}}`` (JSON).  Afterwards the boards, trees, issuance registers and counts are
exactly as seeded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402

from tests.app.helpers import board_state, cast_payload, setup_election, voter  # noqa: E402
from tests.app.petitions_helpers import (  # noqa: E402
    PASSWORD,
    citizen,
    login,
    make_user,
    moderator,
    open_petition,
    sign,
)
from tests.app.petitions_helpers import petition_app as make_petition_app  # noqa: E402

ELECTION = "e1"
STRANGER = "stranger@example.org"
MAX_EXAMPLES = int(os.environ.get("SAYLAU_FUZZ_EXAMPLES", "4"))  # more: a longer local hunt


@dataclass
class Seeded:
    app: Any
    client: Any
    pid: int
    tracker: str
    stranger: dict[str, str]
    happy: list[tuple[str, str, int, Any]]  # (method, documented path, status, JSON) of the seeding


def petition_state(app: Any, pid: int) -> dict[str, int]:
    """Row counts of the petition's records (must not change on a refused request)."""
    from sqlalchemy import func, select

    from app.db import new_session
    from app.petitions import models as pm

    with app.app_context():
        db = new_session(app)
        try:
            out = {m.__name__: int(db.scalar(select(func.count()).select_from(m).where(
                m.petition_id == pid)) or 0)
                for m in (pm.PetitionBoardEntry, pm.PetitionTreeHead, pm.PetitionSigner,
                          pm.PetitionSponsor, pm.PetitionFlag, pm.PetitionTally)}
            out["petitions"] = int(db.scalar(select(func.count()).select_from(pm.Petition)) or 0)
            return out
        finally:
            db.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, issuer_test_key: Any) -> Iterator[Seeded]:
    from app.db import get_engine

    tmp: Path = tmp_path_factory.mktemp("fuzz")
    app = make_petition_app(f"sqlite:///{tmp / 'fuzz.db'}", tmp, issuer_test_key)
    client = app.test_client()
    emails = setup_election(app, ELECTION, voters=2)
    vc = voter(client, emails[0])
    election = vc.get_election(ELECTION)
    wallet = vc.obtain_credential(election)
    r = client.post(f"/api/v1/elections/{ELECTION}/ballots",
                    json=cast_payload(vc, election, wallet, {"mayor": ["a"], "ref": ["no"]}))
    assert r.status_code == 201, r.get_json()
    tracker = r.get_json()["tracker"]
    happy = [("post", "/elections/{election_id}/ballots", 201, r.get_json())]
    mod = moderator(app, client)
    pid, _ = open_petition(app, client, mod)
    sign(client, citizen(app, client, "signer@example.org"), pid, "almaty")
    make_user(app, STRANGER)
    r = client.post("/api/v1/auth/login", json={"email": STRANGER, "password": PASSWORD})
    assert r.status_code == 200
    happy.append(("post", "/auth/login", 200, r.get_json()))
    stranger = {"Authorization": f"Bearer {r.get_json()['token']}"}
    yield Seeded(app, client, pid, tracker, stranger, happy)
    get_engine(app).dispose()


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """The promise: never a 5xx; under /api/ a 4xx is the documented JSON error."""
    where = f"{method} {path} -> {status}: {body[:300]!r}"
    assert status < 500, where
    if path.startswith("/api/") and 400 <= status < 500:
        assert content_type.startswith("application/json"), where
        doc = json.loads(body)
        assert isinstance(doc, dict) and set(doc) >= {"error"}, where
        error = doc["error"]
        assert isinstance(error, dict), where
        assert isinstance(error.get("code"), str) and error["code"], where
        assert isinstance(error.get("message"), str) and error["message"], where


def snapshot(s: Seeded) -> tuple[dict[str, int], dict[str, int]]:
    return board_state(s.app, ELECTION), petition_state(s.app, s.pid)


# -- schemathesis over the whole document -------------------------------------------------
def test_schemathesis_never_500(seeded: Seeded) -> None:
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", seeded.app)
    before = snapshot(seeded)
    real = {"election_id": ELECTION, "petition_id": seeded.pid, "tracker": seeded.tracker,
            "index": 0, "tally_id": 1, "flag_id": 1}
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) > 40
    seen: list[tuple[str, str, int]] = []
    for op in ops:
        names = {p.name for p in op.path_parameters}
        fixed = {k: v for k, v in real.items() if k in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for params in ({}, fixed) if fixed else ({},):
                strategy = op.as_strategy(generation_mode=mode, path_parameters=params or None)

                @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
                @given(case=strategy, auth=st.booleans())
                def run(case: Any, auth: bool) -> None:
                    headers = dict(seeded.stranger) if auth else {}
                    response = case.call(headers=headers)
                    path = urlsplit(response.request.url or "").path
                    method = case.operation.method.upper()
                    seen.append((method, case.operation.path, response.status_code))
                    check_response(method, path, response.status_code,
                                   (response.headers.get("content-type") or [""])[0],
                                   response.content)

                try:
                    run()
                except Unsatisfiable:
                    # nothing in this operation can be made invalid (no body, no parameters)
                    assert mode is GenerationMode.NEGATIVE, op.label
    assert snapshot(seeded) == before
    # state-changing calls of an unprivileged user are all refused
    for method, path, status in seen:
        if method in {"POST", "PATCH"} and path not in {"/auth/login", "/petitions/confirm-email"}:
            assert status >= 400, (method, path, status)


# -- hand-written hostile bodies ----------------------------------------------------------
def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


MAX = 2 * 1024 * 1024  # app.config.MAX_CONTENT_LENGTH (asserted below)
HOSTILE: dict[str, tuple[bytes, str]] = {
    "non_utf8": (b'{"email": "\xff\xfe\xfa", "token": "\xc3\x28"}', "application/json"),
    "latin1": ('{"text": "café", "title": "ç"}'.encode("latin-1"), "application/json"),
    "utf16_bom": ('{"token": "x"}'.encode("utf-16"), "application/json"),
    "deep_arrays": (_deep(10_000), "application/json"),
    "deep_objects": (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "application/json"),
    "deep_in_field": (b'{"ballot": ' + _deep(10_000) + b', "credential": {}, "signature": ""}',
                      "application/json"),
    "huge_int_literal": (b'{"board_index": ' + b"9" * 5000 + b"}", "application/json"),
    "huge_ints": (json.dumps({k: 10**40 for k in (
        "board_index", "target_index", "response", "debate", "trustee_index", "index",
        "threshold", "token", "blinded_message", "decision", "text")}).encode(), "application/json"),
    "hex_literal": (b'{"board_index": 0x10}', "application/json"),
    "hex_strings": (json.dumps({k: "0x" + "ab" * 32 for k in (
        "blinded_message", "signature", "ed25519_signature", "token", "board_index",
        "target_index", "credential", "ballot", "partial")}).encode(), "application/json"),
    "negative": (json.dumps({k: -1 for k in (
        "board_index", "target_index", "response", "debate", "trustee_index", "index",
        "threshold")}).encode(), "application/json"),
    "floats": (b'{"board_index": 1.5, "target_index": 1e308, "response": -0.0, "debate": 1e-400}',
               "application/json"),
    "nan": (b'{"board_index": NaN, "response": NaN, "debate": NaN}', "application/json"),
    "infinity": (b'{"board_index": Infinity, "response": -Infinity}', "application/json"),
    "bare_nan": (b"NaN", "application/json"),
    "duplicate_keys": (b'{"token": "a", "token": "b", "decision": "approve", "decision": 7}',
                       "application/json"),
    "wrong_types": (json.dumps({k: [{}] for k in (
        "email", "password", "token", "text", "decision", "reason_code", "csv", "credential",
        "ballot", "signature", "blinded_message", "board_index", "partial", "secrets",
        "questions", "id", "title", "action", "regions")}).encode(), "application/json"),
    "null": (b"null", "application/json"),
    "array": (b"[1, 2, 3]", "application/json"),
    "string": (b'"hello"', "application/json"),
    "empty_json": (b"", "application/json"),
    "empty_object": (b"{}", "application/json"),
    "truncated": (b'{"token": "abc', "application/json"),
    "nul_bytes": (b'{"token": "a\\u0000b", "text": "\\ud800"}', "application/json"),
    "text_plain": (b'{"token": "x"}', "text/plain"),
    "form": (b"token=x&email=a%40b", "application/x-www-form-urlencoded"),
    "multipart": (b"--B\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nx\r\n--B--\r\n",
                  "multipart/form-data; boundary=B"),
    "no_content_type": (b'{"token": "x"}', ""),
    "bad_charset": (b'{"token": "x"}', "application/json; charset=ebcdic-no-such"),
    "just_under_max": (b'{"pad": "' + b"a" * (MAX - 12) + b'"}', "application/json"),
    "just_over_max": (b'{"pad": "' + b"a" * (MAX - 10) + b'"}', "application/json"),
}


def _write_operations(s: Seeded) -> list[tuple[str, str]]:
    """Every documented POST/PATCH, with the seeded objects as path parameters."""
    doc = s.client.get("/api/v1/openapi.json").get_json()
    real = {"election_id": ELECTION, "petition_id": str(s.pid), "tally_id": "1", "flag_id": "1"}
    out = []
    for path, item in doc["paths"].items():
        for method in item:
            if method in {"post", "patch"}:
                for name, value in real.items():
                    path = path.replace("{" + name + "}", value)
                out.append((method.upper(), "/api/v1" + path))
    return out


@pytest.fixture(scope="module")
def privileged(seeded: Seeded) -> dict[str, str]:
    """A bearer token with every role (bodies then reach the deeper parsers)."""
    make_user(seeded.app, "boss@example.org", ("official", "moderator", "trustee"))
    return login(seeded.client, "boss@example.org")


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bodies(seeded: Seeded, privileged: dict[str, str], name: str) -> None:
    assert seeded.app.config["MAX_CONTENT_LENGTH"] == MAX
    body, content_type = HOSTILE[name]
    before = snapshot(seeded)
    ops = _write_operations(seeded)
    doc_paths = {m + p for m, p in ops}
    assert len(doc_paths) > 20
    for method, path in ops:
        for headers in ({}, seeded.stranger, privileged):
            if headers is privileged and not _reads_body(path):
                continue  # a privileged call that reads no body may legitimately succeed
            r = seeded.client.open(path, method=method, data=body, headers={
                **headers, **({"Content-Type": content_type} if content_type else {})})
            check_response(method, path, r.status_code, r.content_type or "", r.get_data())
            if name == "just_over_max" and r.status_code == 413:
                assert r.get_json()["error"]["code"] == "too_large"
            if name not in {"empty_object", "duplicate_keys", "huge_ints", "hex_strings",
                            "negative", "floats", "wrong_types", "just_under_max", "nul_bytes",
                            "bad_charset", "utf16_bom"}:
                # not a JSON object at all: refused, whoever asks
                assert r.status_code >= 400 or not _reads_body(path), (method, path, r.status_code)
    assert snapshot(seeded) == before


def _reads_body(path: str) -> bool:
    return not path.endswith(("/open", "/close", "/submit", "/share-link", "/confirm-email",
                              "/tallies", "/dismiss"))


def test_over_max_is_413_json(seeded: Seeded) -> None:
    for path in (f"/api/v1/elections/{ELECTION}/ballots", f"/api/v1/petitions/{seeded.pid}/signatures",
                 "/api/v1/auth/login"):
        r = seeded.client.post(path, data=HOSTILE["just_over_max"][0], content_type="application/json")
        assert r.status_code == 413, r.get_data()
        assert r.get_json() == {"error": {"code": "too_large", "message": "request body too large"}}
        r = seeded.client.post(path, data=HOSTILE["just_under_max"][0], content_type="application/json")
        assert 400 <= r.status_code < 500 and r.status_code != 413, r.get_data()


@pytest.mark.parametrize("path", [
    "/api/v1/elections/e1/inclusion/-1", "/api/v1/elections/e1/inclusion/" + "9" * 40,
    "/api/v1/elections/e1/inclusion/0x10", "/api/v1/elections/e1/board?start=-1",
    "/api/v1/elections/e1/board?limit=0x10", "/api/v1/elections/e1/board?start=" + "9" * 40,
    "/api/v1/elections/e1/board?start=%EF%BC%91",  # fullwidth digit one: isdigit() but not ASCII
    "/api/v1/elections/e1/consistency?old=NaN", "/api/v1/elections/e1/consistency?old=1&new=-1",
    "/api/v1/elections/e1/inclusion/0?tree_size=Infinity", "/api/v1/elections/%00/board",
    "/api/v1/elections/e1/board/%FF%FE", "/api/v1/petitions/" + "9" * 40,
    "/api/v1/petitions/-1", "/api/v1/petitions/0x1", "/api/v1/petitions/1/tallies/" + "9" * 40,
    "/api/v1/petitions/1/inclusion/" + "9" * 40, "/api/v1/petitions?page=-1",
    "/api/v1/petitions?per_page=" + "9" * 40, "/api/v1/petitions?state=%00",
    "/api/v1/petitions/similar?q=%FF", "/api/v1/petitions/1/board?start=%EF%BC%91",
    "/petitions/" + "9" * 40, "/petitions/1/sign?x=%FF", "/elections/%00/booth",
    "/board/e1?page=" + "9" * 40, "/board/e1?start=-1", "/board/%00/t/%FF",
    "/elections/e1/results?x=%FF", "/elections/e1/receipt/%FF", "/trustee/elections/%00",
])
def test_hostile_urls(seeded: Seeded, privileged: dict[str, str], path: str) -> None:
    for headers in ({}, privileged):
        r = seeded.client.get(path, headers=headers)
        check_response("GET", path.split("?")[0], r.status_code, r.content_type or "", r.get_data())
    r = seeded.client.post("/api/v1/petitions/flags/" + "9" * 40 + "/dismiss", headers=privileged)
    check_response("POST", "/api/v1/petitions/flags/…/dismiss", r.status_code, r.content_type or "",
                   r.get_data())


# -- the OpenAPI document itself, and responses against it ----------------------------------
def test_openapi_document_is_valid_openapi_3_1(seeded: Seeded) -> None:
    validators = pytest.importorskip("openapi_spec_validator")
    doc = seeded.client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    validators.validate(doc, cls=validators.OpenAPIV31SpecValidator)


def _documented(doc: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    """The response schema documented for (method, path, status), $refs resolvable."""
    response = doc["paths"][path][method]["responses"][str(status)]
    schema = dict(response["content"]["application/json"]["schema"])
    schema["components"] = doc["components"]  # '#/components/…' resolves against this root
    return schema


def test_happy_path_responses_match_the_document(seeded: Seeded) -> None:
    import jsonschema

    doc = seeded.client.get("/api/v1/openapi.json").get_json()
    e, p = f"/elections/{ELECTION}", f"/petitions/{seeded.pid}"
    calls = [
        ("/elections", "/elections"), (e, "/elections/{election_id}"),
        (e + "/board", "/elections/{election_id}/board"),
        (e + "/board/" + seeded.tracker, "/elections/{election_id}/board/{tracker}"),
        (e + "/tree-head", "/elections/{election_id}/tree-head"),
        (e + "/tree-heads", "/elections/{election_id}/tree-heads"),
        (e + "/inclusion/0", "/elections/{election_id}/inclusion/{index}"),
        (e + "/consistency?old=0", "/elections/{election_id}/consistency"),
        (e + "/issuance", "/elections/{election_id}/issuance"),
        ("/petitions", "/petitions"), ("/petitions/regions", "/petitions/regions"),
        ("/petitions/similar?q=trees", "/petitions/similar"), (p, "/petitions/{petition_id}"),
        (p + "/board", "/petitions/{petition_id}/board"),
        (p + "/tree-head", "/petitions/{petition_id}/tree-head"),
        (p + "/inclusion/0", "/petitions/{petition_id}/inclusion/{index}"),
        (p + "/issuance", "/petitions/{petition_id}/issuance"),
        ("/openapi.json", "/openapi.json"),
    ]
    checked = list(seeded.happy)
    for url, path in calls:
        r = seeded.client.get("/api/v1" + url, headers=seeded.stranger)
        assert r.status_code == 200, (url, r.get_data())
        checked.append(("get", path, 200, r.get_json()))
    r = seeded.client.get("/api/v1/me", headers=seeded.stranger)
    checked.append(("get", "/me", r.status_code, r.get_json()))
    for url, path, status in ((e + "/board/" + "0" * 64, "/elections/{election_id}/board/{tracker}", 404),
                              ("/elections/nope", "/elections/{election_id}", 404),
                              (e + "/consistency", "/elections/{election_id}/consistency", 400),
                              ("/petitions/999", "/petitions/{petition_id}", 404)):
        r = seeded.client.get("/api/v1" + url)
        assert r.status_code == status, (url, r.status_code)
        checked.append(("get", path, status, r.get_json()))
    for method, path, status, body in checked:
        try:
            jsonschema.validate(body, _documented(doc, method, path, status))
        except jsonschema.ValidationError as exc:
            raise AssertionError(f"{method.upper()} {path} {status}: {exc.message}") from exc


# -- the HTML forms that take JSON text (pasted receipt, election key, trustee upload) -----
@pytest.fixture(scope="module")
def forms_client(seeded: Seeded) -> Any:
    make_user(seeded.app, "forms@example.org", ("official", "trustee"))
    setup_election(seeded.app, "draft1", voters=1, open_it=False)
    return seeded.app.test_client()


@pytest.mark.parametrize("name", ["deep_arrays", "deep_objects", "nan", "huge_int_literal",
                                  "non_utf8", "truncated"])
def test_json_text_in_forms_is_never_a_500(seeded: Seeded, forms_client: Any, name: str) -> None:
    import io

    text = HOSTILE[name][0]
    client = forms_client
    seeded.app.config["WTF_CSRF_ENABLED"] = False  # reach the parsers, not the CSRF check
    try:
        assert client.post("/auth/login", data={"email": "forms@example.org",
                                                "password": PASSWORD}).status_code in {302, 303}
        before = snapshot(seeded)
        for path, data in (
                (f"/board/{ELECTION}/check", {"receipt": text.decode("latin-1")}),
                ("/admin/elections/draft1/key", {"key_json": text.decode("latin-1")}),
                ("/admin/elections/draft1/key", {"key_file": (io.BytesIO(text), "key.json")}),
                (f"/trustee/elections/{ELECTION}", {"partials_file": (io.BytesIO(text), "p.json")})):
            r = client.post(path, data=data)
            assert r.status_code < 500, (path, r.status_code)
        assert snapshot(seeded) == before
    finally:
        seeded.app.config["WTF_CSRF_ENABLED"] = True
