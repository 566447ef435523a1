"""Migration 1130_board_lz4: the boards' large JSON values are compressed with LZ4 on
PostgreSQL (pglz cost the server about 0.3 ms of CPU per appended ballot at 3072 bits)."""

from __future__ import annotations

import sqlalchemy
from alembic import command

from app.db import make_engine
from app.migrate import alembic_config, upgrade
from tests.conftest import PG_BASE_URL

QUERY = sqlalchemy.text(
    "SELECT c.relname, a.attcompression FROM pg_attribute a JOIN pg_class c "
    "ON a.attrelid = c.oid JOIN pg_namespace s ON c.relnamespace = s.oid "
    "WHERE s.nspname = :schema AND a.attname = 'entry_json' ORDER BY c.relname")


def _compression(engine: sqlalchemy.Engine, schema: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(QUERY, {"schema": schema})]


def test_board_values_are_lz4_on_postgresql_and_the_downgrade_restores_pglz(pg_schema):
    engine = make_engine(PG_BASE_URL, schema=pg_schema)
    try:
        upgrade(engine, "1010_election_rules")
        assert _compression(engine, pg_schema) == [("board_entries", ""),
                                                   ("petition_board", "")]  # the default
        upgrade(engine)
        assert _compression(engine, pg_schema) == [("board_entries", "l"),
                                                   ("petition_board", "l")]
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "1010_election_rules")
        assert _compression(engine, pg_schema) == [("board_entries", "p"),
                                                   ("petition_board", "p")]
    finally:
        engine.dispose()


def test_sqlite_upgrades_through_it(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        upgrade(engine)
        with engine.connect() as conn:
            version = conn.scalar(sqlalchemy.text("SELECT version_num FROM alembic_version"))
        assert version == "1130_board_lz4"
    finally:
        engine.dispose()
