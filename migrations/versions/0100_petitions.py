"""petitions

Revision ID: 0100
Revises: 0001
Create Date: 2026-11-25 20:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0100'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('petitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('background', sa.Text(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('regions_json', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('share_token_hash', sa.String(length=64), nullable=False),
    sa.Column('sponsors_required', sa.Integer(), nullable=False),
    sa.Column('response_threshold', sa.Integer(), nullable=False),
    sa.Column('debate_threshold', sa.Integer(), nullable=False),
    sa.Column('response_threshold_reached_at', _tz(), nullable=True),
    sa.Column('debate_threshold_reached_at', _tz(), nullable=True),
    sa.Column('rejection_code', sa.String(length=32), nullable=True),
    sa.Column('rejection_note', sa.Text(), nullable=True),
    sa.Column('moderated_by', sa.Integer(), nullable=True),
    sa.Column('response_text', sa.Text(), nullable=True),
    sa.Column('responded_at', _tz(), nullable=True),
    sa.Column('debate_text', sa.Text(), nullable=True),
    sa.Column('debated_at', _tz(), nullable=True),
    sa.Column('created_at', _tz(), nullable=False),
    sa.Column('submitted_at', _tz(), nullable=True),
    sa.Column('opened_at', _tz(), nullable=True),
    sa.Column('closes_at', _tz(), nullable=True),
    sa.Column('closed_at', _tz(), nullable=True),
    sa.Column('issuer_private_pem', sa.Text(), nullable=False),
    sa.Column('issuer_public_json', sa.Text(), nullable=False),
    sa.Column('board_seed_hex', sa.String(length=64), nullable=False),
    sa.Column('board_public_hex', sa.String(length=64), nullable=False),
    sa.Column('election_key_json', sa.Text(), nullable=True),
    sa.Column('fingerprint_hex', sa.String(length=64), nullable=True),
    sa.Column('insecure_test_keys', sa.Boolean(), nullable=False),
    sa.Column('board_size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id']),
    sa.ForeignKeyConstraint(['moderated_by'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_petitions_state', 'petitions', ['state'])
    op.create_table('petition_citizens',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', _tz(), nullable=True),
    sa.Column('confirmed_at', _tz(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('petition_sponsors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', _tz(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('petition_id', 'user_id', name='uq_sponsor_petition_user')
    )
    op.create_table('petition_signers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('receipt_hex', sa.String(length=64), nullable=False),
    sa.Column('issued_at', _tz(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('petition_id', 'user_id', name='uq_signer_petition_user')
    )
    op.create_table('petition_board',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('leaf_index', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('token_id', sa.String(length=64), nullable=True),
    sa.Column('entry_json', sa.Text(), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.Column('invalidated_by', sa.Integer(), nullable=True),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('petition_id', 'leaf_index', name='uq_pboard_petition_index'),
    sa.UniqueConstraint('petition_id', 'token_id', name='uq_pboard_petition_token')
    )
    op.create_table('petition_tree_heads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('tree_size', sa.Integer(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('timestamp_ms', sa.BigInteger(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_petition_tree_heads_petition', 'petition_tree_heads', ['petition_id', 'tree_size'])
    op.create_table('petition_counts',
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('folded_size', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('invalidated', sa.Integer(), nullable=False),
    sa.Column('product_hex', sa.Text(), nullable=False),
    sa.Column('refreshed_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('petition_id')
    )
    op.create_table('petition_rate_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('addr_tag', sa.String(length=64), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_petition_rate_events_addr_tag', 'petition_rate_events', ['addr_tag'])
    op.create_table('petition_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('board_index', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', _tz(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('petition_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('tree_size', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('product_hex', sa.Text(), nullable=False),
    sa.Column('partials_json', sa.Text(), nullable=False),
    sa.Column('results_json', sa.Text(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('created_at', _tz(), nullable=False),
    sa.Column('decrypted_at', _tz(), nullable=True),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    for table in ('petition_tallies', 'petition_flags', 'petition_rate_events', 'petition_counts',
                  'petition_tree_heads', 'petition_board', 'petition_signers', 'petition_sponsors',
                  'petition_citizens', 'petitions'):
        op.drop_table(table)
