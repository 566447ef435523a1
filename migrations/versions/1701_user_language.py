"""user and roll-entry language (the language of the e-mails a person receives)

Revision ID: 1701_user_language
Revises: 1003_trustee_index
Create Date: 2026-11-29 13:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1701_user_language'
down_revision: str | None = '1003_trustee_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: not chosen; mails then use the language of the request or the default.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('language', sa.String(length=5), nullable=True))
    with op.batch_alter_table('voter_roll') as batch:
        batch.add_column(sa.Column('language', sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('voter_roll') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
