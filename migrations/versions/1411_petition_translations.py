"""petition translations (display-only title/action texts in kk/ru/en)

Revision ID: 1411_petition_translations
Revises: 1201_coarse_issuance
Create Date: 2026-11-29 14:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1411_petition_translations'
down_revision: str | None = '1201_coarse_issuance'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # JSON {"title"|"action": {"kk"|"ru"|"en": text}}; NULL: none.  Not part of the
    # petition parameters, so not of the fingerprint (docs/protocol.md §7.2).
    with op.batch_alter_table('petitions') as batch:
        batch.add_column(sa.Column('translations_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('petitions') as batch:
        batch.drop_column('translations_json')
