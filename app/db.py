"""SQLAlchemy 2.0 engine and sessions, one pair per Flask app.

SQLite connections get ``journal_mode=WAL``, ``foreign_keys=ON`` and a busy timeout;
PostgreSQL is reached through psycopg 3 (``postgresql+psycopg://...``).  Models live in
:mod:`app.models` and hold no cryptography; service logic is in :mod:`app.services`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    """Declarative base of every table (schema created only by Alembic migrations)."""


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def make_engine(url: str, *, schema: str | None = None, pool_size: int | None = None,
                max_overflow: int | None = None) -> Engine:
    """Create the engine for ``url``; ``schema`` sets PostgreSQL's search_path (tests).

    ``pool_size`` / ``max_overflow``: the connection pool of a server database (SQLAlchemy's
    defaults, 5 and 10, when ``None``); SQLite opens a connection per session (``NullPool``).
    """
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        kwargs["poolclass"] = NullPool
    else:
        if schema:
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        if pool_size is not None:
            kwargs["pool_size"] = pool_size
        if max_overflow is not None:
            kwargs["max_overflow"] = max_overflow
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def init_app(app: Flask) -> None:
    from app.config import DEFAULTS

    pool = {name: int(app.config.get(name, DEFAULTS[name]))
            for name in ("DATABASE_POOL_SIZE", "DATABASE_MAX_OVERFLOW")}
    engine = make_engine(app.config["DATABASE_URL"], schema=app.config.get("DATABASE_SCHEMA"),
                         pool_size=pool["DATABASE_POOL_SIZE"],
                         max_overflow=pool["DATABASE_MAX_OVERFLOW"])
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["saylau_engine"] = engine
    app.extensions["saylau_sessionmaker"] = factory
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    engine: Engine = (app or current_app).extensions["saylau_engine"]
    return engine


def new_session(app: Flask | None = None) -> Session:
    """A fresh session, independent of the request's (for the cast transaction)."""
    factory: sessionmaker[Session] = (app or current_app).extensions["saylau_sessionmaker"]
    return factory()


def get_session() -> Session:
    """The request's session (closed at teardown)."""
    if "db_session" not in g:
        g.db_session = new_session()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
