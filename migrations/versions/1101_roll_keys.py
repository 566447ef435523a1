"""roll keys, voter-signed credential requests (issue 11)

Revision ID: 1101_roll_keys
Revises: 1411_petition_translations
Create Date: 2026-11-29 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1101_roll_keys'
down_revision: str | None = '1411_petition_translations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('elections') as batch:
        batch.add_column(sa.Column('credential_mode', sa.String(length=16), nullable=False,
                                   server_default='login'))
        batch.add_column(sa.Column('roll_commitment_json', sa.Text(), nullable=True))
        batch.add_column(sa.Column('id_salt_hex', sa.String(length=64), nullable=True))
    with op.batch_alter_table('voter_roll') as batch:
        batch.add_column(sa.Column('national_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('credential_issuance') as batch:
        batch.add_column(sa.Column('signed_request_json', sa.Text(), nullable=True))
        batch.add_column(sa.Column('blind_signature_hex', sa.Text(), nullable=True))
    op.create_table('roll_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.String(length=64), nullable=False),
    sa.Column('roll_entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('public_key_hex', sa.String(length=2048), nullable=False),
    sa.Column('id_hash_hex', sa.String(length=64), nullable=True),
    sa.Column('roll_index', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['roll_entry_id'], ['voter_roll.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'public_key_hex', name='uq_roll_key_election_key'),
    sa.UniqueConstraint('election_id', 'roll_entry_id', name='uq_roll_key_election_entry'),
    sa.UniqueConstraint('election_id', 'roll_index', name='uq_roll_key_election_index'),
    )


def downgrade() -> None:
    op.drop_table('roll_keys')
    with op.batch_alter_table('credential_issuance') as batch:
        batch.drop_column('blind_signature_hex')
        batch.drop_column('signed_request_json')
    with op.batch_alter_table('voter_roll') as batch:
        batch.drop_column('national_id')
    with op.batch_alter_table('elections') as batch:
        batch.drop_column('id_salt_hex')
        batch.drop_column('roll_commitment_json')
        batch.drop_column('credential_mode')
