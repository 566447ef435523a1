"""Several app nodes on one PostgreSQL (and Redis): for ``saylau bench cast`` and the
multi-node tests.

Each node is a separate ``gunicorn 'app:create_app()'`` process group on its own port,
standing for a separate machine: nodes share nothing but the database (and Redis for the
rate limits), so the board's append lock must hold across processes — it is the owner
row's lock taken by :func:`app.services.board_core.lock_board`.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PG_URL = os.environ.get("SAYLAU_BENCH_PG_URL",
                        os.environ.get("SAYLAU_TEST_PG_URL",
                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def pg_schema(url: str = PG_URL, prefix: str = "b_") -> Iterator[str]:
    """A fresh, randomly named PostgreSQL schema, dropped afterwards."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    name = prefix + secrets.token_hex(6)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{name}"'))
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()


def make_app(url: str, schema: str | None, tmp: Path, **extra: Any) -> Any:
    """The app on ``url``/``schema`` with its migrations run (for setting up data)."""
    from app import create_app
    from app.db import get_engine
    from app.migrate import upgrade

    config = {"TESTING": True, "SECRET_KEY": secrets.token_hex(16), "DATABASE_URL": url,
              "DATABASE_SCHEMA": schema, "OUTBOX_DIR": str(tmp / "outbox"),
              "ALLOW_TEST_KEYS": True, "RATELIMIT_ENABLED": False, "FAST_PASSWORD_HASH": True}
    config.update(extra)
    application = create_app(config)
    upgrade(get_engine(application))
    return application


def wait_until_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"gunicorn exited: {err[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn at {base} did not start")


@contextmanager
def nodes(url: str, schema: str | None, tmp: Path, *, count: int = 2, workers: int = 2,
          threads: int = 8, env: Mapping[str, str] | None = None,
          pids: list[int] | None = None) -> Iterator[list[str]]:
    """Start ``count`` gunicorn nodes (``workers`` processes × ``threads`` threads each);
    yields their base URLs.  ``pids``, when given, receives each node's master pid (its
    workers are the master's children: :mod:`bench.cpu` meters them)."""
    base_env = dict(os.environ, SAYLAU_SECRET_KEY=secrets.token_hex(32),
                    SAYLAU_DATABASE_URL=url, SAYLAU_DATABASE_SCHEMA=schema or "",
                    SAYLAU_OUTBOX_DIR=str(tmp / "outbox"), SAYLAU_INSECURE_COOKIES="1")
    # one pooled connection per request thread (app.config DATABASE_POOL_SIZE)
    base_env.setdefault("SAYLAU_DATABASE_POOL_SIZE", str(threads))
    base_env.update(env or {})
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for _ in range(count):
            port = free_port()
            proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, on loopback
                [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread",
                 "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--graceful-timeout",
                 "5", "--timeout", "120", "app:create_app()"],
                env=base_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            procs.append(proc)
            if pids is not None:
                pids.append(proc.pid)
            bases.append(f"http://127.0.0.1:{port}")
        for base, proc in zip(bases, procs, strict=True):
            wait_until_up(base, proc)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
