"""The production stack for real: gunicorn (2 worker processes) on PostgreSQL.

Voters cast with the Python voter client over HTTP; two casts with one credential race
through different worker processes and exactly one wins; the frozen board downloaded
from the server verifies with the independent verifier.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.app.helpers import (
    OFFICIAL_EMAIL,
    OFFICIAL_PASSWORD,
    VOTER_PASSWORD,
    roll_key,
    setup_election,
)
from tests.conftest import PG_BASE_URL, make_test_app

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


@pytest.fixture()
def gunicorn_server(tmp_path: Path, issuer_test_key, pg_schema):
    pytest.importorskip("gunicorn")
    setup_app = make_test_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=pg_schema)
    emails = setup_election(setup_app, "prod1", voters=3)
    from app.db import get_engine

    get_engine(setup_app).dispose()
    port = _free_port()
    env = dict(os.environ, SAYLAU_SECRET_KEY=secrets.token_hex(32),
               SAYLAU_DATABASE_URL=PG_BASE_URL, SAYLAU_DATABASE_SCHEMA=pg_schema,
               SAYLAU_OUTBOX_DIR=str(tmp_path / "outbox"), SAYLAU_INSECURE_COOKIES="1")
    proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, on loopback
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--graceful-timeout", "5", "app:create_app()"],
        env=env, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc)
        yield base, emails
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_vote_race_and_verify_through_gunicorn_on_postgresql(gunicorn_server, tmp_path):
    from audit.election_verifier import verify_board_record
    from audit.record import read_record
    from saylau.voter_client import ServerError, VoterClient

    base, emails = gunicorn_server
    receipts = []
    for email in emails[:2]:
        voter = VoterClient(base, roll_key=roll_key(email))
        voter.login(email, VOTER_PASSWORD)
        election = voter.get_election("prod1")
        wallet = voter.obtain_credential(election)
        receipts.append(voter.cast(election, wallet, {"mayor": ["b"], "ref": ["yes"]}))
    assert [r["index"] for r in receipts] == [0, 1]

    # the third voter casts twice at once with one credential (no-revote election)
    racer = VoterClient(base, roll_key=roll_key(emails[2]))
    racer.login(emails[2], VOTER_PASSWORD)
    election = racer.get_election("prod1")
    wallet = racer.obtain_credential(election)
    ballots = [racer.encrypt(election, wallet, {"mayor": ["a"], "ref": ["no"]}) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def cast(ballot):
        client = VoterClient(base)  # a separate connection: gunicorn may route it to the other worker
        barrier.wait()
        try:
            outcomes.append(client.cast(election, wallet, ballot=ballot))
        except ServerError as exc:
            outcomes.append(exc.status)

    threads = [threading.Thread(target=cast, args=(b,)) for b in ballots]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o if isinstance(o, int) else 201 for o in outcomes) == [201, 409]

    # a receipt still verifies against the later tree head (consistency proof)
    racer.check_receipt(receipts[0])

    official = VoterClient(base)
    official.login(OFFICIAL_EMAIL, OFFICIAL_PASSWORD)
    official.api("POST", "/api/v1/elections/prod1/close")
    zipped = tmp_path / "board.zip"
    zipped.write_bytes(official.download("/api/v1/elections/prod1/record.zip"))
    checked = verify_board_record(read_record(zipped))
    assert not checked.report.failed(), [c.name for c in checked.report.failed()]
    assert checked.tally is not None and len(checked.tally.counted) == 3
    board = json.loads(urllib.request.urlopen(base + "/api/v1/elections/prod1/board").read())  # noqa: S310
    assert len(board["entries"]) == 3


def test_hostile_inputs_and_schemathesis_against_gunicorn_on_postgresql(gunicorn_server, capsys):
    """Issue 10: schemathesis over the whole OpenAPI document plus a hostile-input corpus
    (NUL bytes, huge/negative integers, deep JSON, non-UTF-8, oversized bodies, path
    tricks) against gunicorn on PostgreSQL: zero 5xx; the counts are printed."""
    import http.client
    from urllib.parse import urlsplit

    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode

    from tests.app.test_api_fuzz import HOSTILE

    base, _ = gunicorn_server
    host = urlsplit(base)
    statuses: list[tuple[str, str, int]] = []

    def send(method: str, path: str, body: bytes = b"", content_type: str = "") -> int:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            conn.request(method, path, body=body or None, headers=headers)
            status = conn.getresponse().status
        except (ConnectionError, http.client.HTTPException):
            status = 413 if len(body) > 2 * 1024 * 1024 else 599  # closed early on a big body
        finally:
            conn.close()
        statuses.append((method, path, status))
        return status

    doc = json.loads(urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=30).read())
    values = {"election_id": "prod1", "petition_id": "1", "tracker": "00" * 32, "index": "0",
              "tally_id": "1", "flag_id": "1"}
    paths = []
    for template, ops in doc["paths"].items():
        path = "/api/v1" + template if not template.startswith("/api/") else template
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        paths += [(method.upper(), path) for method in ops if method in ("get", "post", "patch")]
    corpus = {k: HOSTILE[k] for k in ("non_utf8", "deep_arrays", "huge_ints", "negative",
                                       "nul_bytes", "wrong_types", "just_over_max", "truncated")}
    for method, path in paths:
        if method == "GET":
            for query in ("?start=2147483648", "?start=-1", "?limit=99999999999999999999",
                          "?q=%00", "?start=%ff%fe", "?next=/%09/evil.example"):
                send("GET", path + query)
        else:
            for body, content_type in corpus.values():
                send(method, path, body, content_type)
    for trick in ("/api/v1/elections/%00", "/api/v1/elections/..%2f..%2fetc%2fpasswd",
                  "/api/v1/elections/prod1%0d%0aX:1/board", "/api/v1/petitions/99999999999",
                  "/api/v1/elections/" + "a" * 5000, "/api/v1/elections/%c3%28",
                  "/auth/login?next=%0a//evil.example", "/board/%ff"):
        send("GET", trick)

    schema = schemathesis.openapi.from_url(base + "/api/v1/openapi.json")
    for result in schema.get_all_operations():
        op = result.ok()
        names = {p.name for p in op.path_parameters}
        fixed = {k: v for k, v in values.items() if k in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = op.as_strategy(generation_mode=mode, path_parameters=fixed or None)

            @settings(max_examples=3, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case) -> None:
                response = case.call(base_url=base, timeout=60)
                statuses.append((case.operation.method.upper(), case.operation.path,
                                 response.status_code))

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - an unsatisfiable negative case only
                if "Unsatisfiable" not in type(exc).__name__:
                    raise
    errors = [s for s in statuses if s[2] >= 500]
    with capsys.disabled():
        print(f"\ngunicorn+PostgreSQL hostile/schemathesis: {len(statuses)} requests, "
              f"{len(errors)} answered 5xx")
    assert not errors, errors[:20]
