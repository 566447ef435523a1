"""board entries compressed with LZ4 on PostgreSQL (issue #13)

A board entry is about 35 KB of JSON at 3072 bits; PostgreSQL compresses values that large
(TOAST) with ``pglz`` by default, which cost the server about 0.3 ms of CPU per ballot in the
append (measured with ``bench.cpu``; ``lz4`` needs about a third of it and leaves the board
lock sooner).  Only new values are compressed with LZ4; old ones are read as they are.
SQLite stores text as it is: nothing to do there.

Revision ID: 1130_board_lz4
Revises: 1010_election_rules
Create Date: 2026-11-30 01:20:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '1130_board_lz4'
down_revision: str | None = '1010_election_rules'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column) of the large JSON values of the two boards.
COLUMNS = (("board_entries", "entry_json"), ("petition_board", "entry_json"))


def _lz4_available() -> bool:
    """PostgreSQL ≥ 14 built with LZ4 (Debian's and the official images are)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or bind.dialect.server_version_info < (14,):
        return False
    row = bind.exec_driver_sql(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)").first()
    return row is not None


def upgrade() -> None:
    if _lz4_available():
        for table, column in COLUMNS:
            op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION lz4')


def downgrade() -> None:
    if _lz4_available():
        for table, column in COLUMNS:
            op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION pglz')
