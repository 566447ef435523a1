"""coarse issuance: election credential policy; issuance periods instead of precise times

Revision ID: 1201_coarse_issuance
Revises: 1501_keygen_relay
Create Date: 2026-11-29 13:45:00

``credential_issuance.issued_at`` and ``petition_signers.issued_at`` (microsecond times
that linked each identified credential request to the anonymous ballot or signature cast
right after it) are replaced by ``issued_period``: "credential-period" or the start of a
coarse slot (``ISSUANCE_TIME_GRANULARITY_S``).  Existing rows keep only their day.
Existing elections keep today's behaviour (``credential_policy = 'any_time'``); new ones
default to "period" in the application.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1201_coarse_issuance'
down_revision: str | None = '1501_keygen_relay'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DAY = "'1970-01-01T00:00:00Z'"


def upgrade() -> None:
    with op.batch_alter_table('elections') as batch:
        batch.add_column(sa.Column('credential_policy', sa.String(length=16), nullable=False,
                                   server_default='any_time'))
    for table in ('credential_issuance', 'petition_signers'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('issued_period', sa.String(length=32), nullable=False,
                                       server_default=sa.text(_DAY)))
        # keep the day only (portable: the first 10 characters of the ISO date)
        bind = op.get_bind()
        rows = bind.execute(sa.text(f"SELECT id, issued_at FROM {table}")).fetchall()
        for row_id, issued_at in rows:
            day = str(issued_at)[:10] if issued_at is not None else "1970-01-01"
            bind.execute(sa.text(f"UPDATE {table} SET issued_period = :p WHERE id = :i"),
                         {"p": f"{day}T00:00:00Z", "i": row_id})
        with op.batch_alter_table(table) as batch:
            batch.drop_column('issued_at')


def downgrade() -> None:
    for table in ('credential_issuance', 'petition_signers'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True))
            batch.drop_column('issued_period')
    with op.batch_alter_table('elections') as batch:
        batch.drop_column('credential_policy')
