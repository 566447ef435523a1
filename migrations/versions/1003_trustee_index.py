"""trustee accounts bound to their trustee index (issue 10)

Revision ID: 1003_trustee_index
Revises: 1002_user_sessions
Create Date: 2026-11-29 14:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1003_trustee_index'
down_revision: str | None = '1002_user_sessions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('trustee_index', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('trustee_index')
