"""election rules: revote policy, voting window and time granularity bound into F1 (issue 10)

Revision ID: 1010_election_rules
Revises: 1101_roll_keys
Create Date: 2026-11-29 16:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1010_election_rules'
down_revision: str | None = '1101_roll_keys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('elections') as batch:
        batch.add_column(sa.Column('rules_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('elections') as batch:
        batch.drop_column('rules_json')
