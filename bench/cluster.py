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
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import cpu, loadgen
from bench.loadgen import LoadResult


def build_in_processes(init: Callable[[dict[str, Any]], None], ctx: dict[str, Any],
                       build: Callable[[int], list[bytes]], count: int,
                       processes: int = 2) -> list[bytes]:
    """``count`` request bodies built beforehand, as voters' devices would: ``build(k)`` makes
    ``k`` of them in a worker process set up by ``init(ctx)``; in order of the parts."""
    chunk = max(1, count // (processes * 4))
    sizes = [min(chunk, count - i) for i in range(0, count, chunk)]
    with ProcessPoolExecutor(processes, initializer=init, initargs=(ctx,)) as pool:
        return [b for part in pool.map(build, sizes) for b in part]


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


def pg_sessions(app: Any) -> int | None:
    """Connections PostgreSQL has accepted to this database so far (``pg_stat_database``,
    PostgreSQL ≥ 14; ``None`` otherwise).  Each is a server process started: a pool too small
    for the request threads shows up here as thousands of them."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from app.db import get_engine

    try:
        with get_engine(app).connect() as conn:
            time.sleep(1.1)  # backends report their counters at most once a second
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            value = conn.scalar(text("SELECT sessions FROM pg_stat_database "
                                     "WHERE datname = current_database()"))
            return int(value) if value is not None else None
    except SQLAlchemyError:
        return None


@dataclass(frozen=True)
class TimedLoad:
    """The timed part of ``bench cast|sign``: the load's outcome, the CPU seconds of each
    process group (:class:`bench.cpu.CpuMeter`) and the PostgreSQL connections opened."""

    result: LoadResult
    cpu_s: dict[str, float]
    sessions_opened: int | None


def timed_load(app: Any, bases: list[str], masters: list[int], path: str,
               bodies: list[bytes], clients: int, rate: float | None) -> TimedLoad:
    """POST ``bodies`` to the nodes (closed loop, or open loop at ``rate``), metering the
    nodes (``masters`` and their workers), PostgreSQL and this process."""
    meter = cpu.CpuMeter({"nodes": cpu.descendants_of(lambda: masters),
                          "database": cpu.named("postgres")})
    before = pg_sessions(app)
    meter.start()
    if rate is None:
        result = loadgen.post_all(bases, path, bodies, clients)
    else:
        result = loadgen.post_at_rate(bases, path, bodies, rate, clients)
    spent = meter.stop()
    after = pg_sessions(app)
    opened = after - before if after is not None and before is not None else None
    return TimedLoad(result, spent, opened)


def wait_until_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0,
                  log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = log.read_text(errors="replace") if log is not None and log.exists() else ""
            raise RuntimeError(f"gunicorn exited: {err[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn at {base} did not start")


#: connections left to the bench's own sessions and to maintenance
RESERVED_CONNECTIONS = 10


def pool_budget(url: str, processes: int, threads: int) -> tuple[int, int]:
    """``(DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW)`` for each of ``processes`` worker
    processes: one connection per request thread, but never more in all than PostgreSQL's
    ``max_connections`` less :data:`RESERVED_CONNECTIONS` (docs/deploy.md).  Pools that
    together exceed it let a burst open connections the server refuses ("too many clients"),
    and the request that asked for one fails; a thread that finds its pool empty waits for a
    connection instead."""
    if not url.startswith("postgresql"):
        return threads, 8
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            allowed = int(conn.execute(sqlalchemy.text("SHOW max_connections")).scalar_one())
    finally:
        engine.dispose()
    each = (allowed - RESERVED_CONNECTIONS) // max(processes, 1)
    if each < 2:
        raise RuntimeError(f"PostgreSQL's max_connections ({allowed}) leaves fewer than 2 "
                           f"connections for each of {processes} worker processes: use fewer "
                           "--nodes or --workers, or raise max_connections")
    pool = min(threads, each)
    return pool, max(0, min(8, each - pool))


def server_errors(tmp: Path, limit: int = 3) -> dict[str, Any]:
    """The app's logged errors in the nodes' logs under ``tmp``: how many tracebacks, the
    last line of each (up to ``limit``) and the first one whole, so that a 500 in a long
    run can be explained after the nodes are gone."""
    tracebacks: list[str] = []
    chained = ("During handling of the above exception",
               "The above exception was the direct cause")
    for log in sorted(tmp.glob("node-*.log")):
        lines = log.read_text(errors="replace").splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("Traceback"):
                i += 1
                continue
            start = i - 1 if i and "ERROR" in lines[i - 1] else i
            j = i + 1
            while j < len(lines):  # indented frames, the exception line, chained causes
                line = lines[j]
                if line.startswith((" ", "\t", "Traceback")) or line.startswith(chained):
                    j += 1
                elif not line and j + 1 < len(lines) and lines[j + 1].startswith(chained):
                    j += 1
                elif j > i and not lines[j - 1].startswith((" ", "\t")) and line:
                    break  # the line after the exception line
                else:
                    j += 1  # the exception line (or a blank before a chained cause)
            tracebacks.append("\n".join(lines[start:j]).rstrip())
            i = j
    return {"count": len(tracebacks),
            "last_lines": [t.splitlines()[-1] for t in tracebacks[:limit]],
            "first": tracebacks[0] if tracebacks else ""}


@contextmanager
def nodes(url: str, schema: str | None, tmp: Path, *, count: int = 2, workers: int = 2,
          threads: int = 8, env: Mapping[str, str] | None = None,
          pids: list[int] | None = None) -> Iterator[list[str]]:
    """Start ``count`` gunicorn nodes (``workers`` processes × ``threads`` threads each);
    yields their base URLs.  ``pids``, when given, receives each node's master pid (its
    workers are the master's children: :mod:`bench.cpu` meters them).  Node ``i`` writes
    its log (gunicorn's and the app's, with the traceback of any 500) to
    ``tmp/node-i.log`` (:func:`server_errors` reads them), never to a pipe that a long
    run would fill."""
    base_env = dict(os.environ, SAYLAU_SECRET_KEY=secrets.token_hex(32),
                    SAYLAU_DATABASE_URL=url, SAYLAU_DATABASE_SCHEMA=schema or "",
                    SAYLAU_OUTBOX_DIR=str(tmp / "outbox"), SAYLAU_INSECURE_COOKIES="1")
    # one pooled connection per request thread (app.config DATABASE_POOL_SIZE), within what
    # the server accepts from every worker of every node (docs/deploy.md)
    pool, overflow = pool_budget(url, count * workers, threads)
    base_env.setdefault("SAYLAU_DATABASE_POOL_SIZE", str(pool))
    base_env.setdefault("SAYLAU_DATABASE_MAX_OVERFLOW", str(overflow))
    base_env.update(env or {})
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    logs: list[Path] = []
    try:
        for i in range(count):
            port = free_port()
            logs.append(tmp / f"node-{i}.log")
            with logs[-1].open("wb") as sink:  # the child keeps its own descriptor
                proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, on loopback
                    [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread",
                     "--threads", str(threads), "-b", f"127.0.0.1:{port}",
                     "--graceful-timeout", "5", "--timeout", "120", "app:create_app()"],
                    env=base_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sink)
            procs.append(proc)
            if pids is not None:
                pids.append(proc.pid)
            bases.append(f"http://127.0.0.1:{port}")
        for base, proc, log in zip(bases, procs, logs, strict=True):
            wait_until_up(base, proc, log=log)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
