"""keygen relay: trustees' messages and the distributed key-generation transcript

Revision ID: 1501_keygen_relay
Revises: 1701_user_language
Create Date: 2026-11-29 13:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1501_keygen_relay'
down_revision: str | None = '1701_user_language'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('keygen_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('round', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.Integer(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'run_id', 'round', 'sender', 'recipient',
                        name='uq_keygen_message')
    )
    op.create_index('ix_keygen_messages_election_id', 'keygen_messages', ['election_id'])
    op.create_table('keygen_transcripts',
    sa.Column('election_id', sa.String(length=64), nullable=False),
    sa.Column('transcript_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('election_id')
    )


def downgrade() -> None:
    op.drop_table('keygen_transcripts')
    op.drop_index('ix_keygen_messages_election_id', table_name='keygen_messages')
    op.drop_table('keygen_messages')
