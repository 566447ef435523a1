"""petition ciphertext registry (issue 10): a region ciphertext once per petition

Revision ID: 1001_petition_ciphertexts
Revises: 0100
Create Date: 2026-11-29 13:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1001_petition_ciphertexts'
down_revision: str | None = '0100'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('petition_ciphertext_registry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('leaf_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('petition_id', 'digest', name='uq_pciphertext_petition_digest'),
    )


def downgrade() -> None:
    op.drop_table('petition_ciphertext_registry')
