"""Issue 10, "restart after a crash in seconds": gunicorn on PostgreSQL + Redis is killed
with SIGKILL — master and workers, mid-cast — and restarted on the same port.

It must listen again and accept casts, and a cast whose response was lost in the crash,
retried, gets its original receipt (the same index, tracker and leaf).  The seconds to
listen again are printed (docs/performance.md "Restart after a crash"), not asserted
tightly: the bound below is a generous guard against the port being held for the
worker timeout by orphaned workers (the fault gunicorn.conf.py's ``post_fork`` removes).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.app.helpers import VOTER_PASSWORD, roll_key, setup_election
from tests.app.test_gunicorn_postgres import _free_port
from tests.conftest import PG_BASE_URL, make_test_app

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/14"
#: generous guard (s) on a loaded 2-core machine; a cold start measured ≈ 3-10 s there.
#: Orphaned workers held the port for up to the 30 s worker timeout before the fix
#: (and the new master gave up binding after 5 s), so a regression fails this bound.
RESTART_GUARD_S = 60.0


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


class Server:
    """One gunicorn master (2 workers) on a fixed port, started in its own session."""

    def __init__(self, port: int, env: dict[str, str]) -> None:
        self.port, self.env = port, env
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = RESTART_GUARD_S) -> float:
        """Start and wait until it answers; returns the seconds that took."""
        started = time.monotonic()
        self.proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, on loopback
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{self.port}",
             "--graceful-timeout", "5", "app:create_app()"],
            env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise AssertionError(f"gunicorn exited with {self.proc.returncode}: {err[-2000:]}")
            try:
                with urllib.request.urlopen(self.base + "/api/v1/openapi.json",  # noqa: S310
                                            timeout=2):
                    # answered by THIS master's workers, not by orphans of a killed one
                    if self.workers():
                        return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer within {timeout} s")

    def workers(self) -> list[int]:
        assert self.proc is not None
        return _children(self.proc.pid)

    def kill_master(self) -> list[int]:
        """SIGKILL the master only (its workers are orphaned); returns the worker pids."""
        assert self.proc is not None
        workers = self.workers()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        return workers

    def kill_all(self) -> None:
        """SIGKILL master and workers at once (a machine-level crash of the service)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            for pid in _children(self.proc.pid):  # never expected: orphans of a killed master
                os.kill(pid, signal.SIGKILL)


@pytest.fixture()
def crash_server(tmp_path: Path, issuer_test_key: Any, pg_schema: str) -> Any:
    pytest.importorskip("gunicorn")
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis not reachable at {REDIS_URL}: {exc}")
    setup_app = make_test_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=pg_schema)
    emails = setup_election(setup_app, "crash1", voters=4, revote_policy="no-revote")
    from app.db import get_engine

    get_engine(setup_app).dispose()
    env = dict(os.environ, SAYLAU_SECRET_KEY=secrets.token_hex(32),
               SAYLAU_DATABASE_URL=PG_BASE_URL, SAYLAU_DATABASE_SCHEMA=pg_schema,
               SAYLAU_OUTBOX_DIR=str(tmp_path / "outbox"), SAYLAU_INSECURE_COOKIES="1",
               SAYLAU_RATELIMIT_STORAGE_URI=REDIS_URL)
    server = Server(_free_port(), env)
    try:
        yield server, emails
    finally:
        server.stop()


def _voter(base: str, email: str) -> tuple[Any, Any, Any]:
    from saylau.voter_client import VoterClient

    client = VoterClient(base, roll_key=roll_key(email))
    client.login(email, VOTER_PASSWORD)
    election = client.get_election("crash1")
    return client, election, client.obtain_credential(election)


def _same_receipt(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert (a["index"], a["tracker"], a["leaf_hash"]) == (b["index"], b["tracker"], b["leaf_hash"])


def test_restart_after_sigkill_listens_and_keeps_receipts(crash_server: Any) -> None:
    from saylau.voter_client import ServerError, VoterClient

    server, emails = crash_server
    cold = server.start()
    timings = {"cold start": cold}

    # 1. a cast whose response the voter never saw: the service dies right after it
    first, election, wallet = _voter(server.base, emails[0])
    ballot = first.encrypt(election, wallet, {"mayor": ["a"], "ref": ["yes"]})
    receipt = first.cast(election, wallet, ballot=ballot)
    # voters 2 and 3 prepare (login, credential, encryption) before the crash
    second, election2, wallet2 = _voter(server.base, emails[1])
    ballot2 = second.encrypt(election2, wallet2, {"mayor": ["b"], "ref": ["no"]})
    third, election3, wallet3 = _voter(server.base, emails[2])
    ballot3 = third.encrypt(election3, wallet3, {"mayor": ["c"], "ref": ["yes"]})

    # 2. kill -9 the master only, as the issue did: its workers must not keep the port
    workers = server.kill_master()
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "orphaned workers outlived their master"
    timings["restart after kill -9 of the master"] = server.start()

    retried = VoterClient(server.base).cast(election, wallet, ballot=ballot)
    _same_receipt(retried, receipt)  # the idempotent retry: the original receipt

    # 3. kill -9 master and workers while voter 2's cast is in flight
    outcome: list[object] = []

    def cast_in_flight() -> None:
        try:
            outcome.append(VoterClient(server.base).cast(election2, wallet2, ballot=ballot2))
        except (ServerError, OSError, Exception) as exc:  # noqa: BLE001 - the crash cuts it
            outcome.append(exc)

    thread = threading.Thread(target=cast_in_flight)
    thread.start()
    time.sleep(0.15)  # the request is being checked or committed
    server.kill_all()
    thread.join(30)
    timings["restart after kill -9 of master and workers mid-cast"] = server.start()

    again = VoterClient(server.base).cast(election2, wallet2, ballot=ballot2)
    if outcome and isinstance(outcome[0], dict):  # the cast had committed and answered
        _same_receipt(again, outcome[0])
    # either way the ballot is on the board exactly once, and casting goes on
    fresh = VoterClient(server.base).cast(election3, wallet3, ballot=ballot3)
    board = json.loads(first.download("/api/v1/elections/crash1/board"))
    assert len(board["entries"]) == 3  # no ballot lost, none twice
    assert {receipt["index"], again["index"], fresh["index"]} == {0, 1, 2}

    for what, seconds in timings.items():
        print(f"[restart] {what}: {seconds:.2f} s to answer")
        assert seconds < RESTART_GUARD_S
