"""sync keys: the public keys a store trusts (enrolled leads, its master, recovery)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sync_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('sign_key', sa.String(length=64), nullable=False),
    sa.Column('enc_key', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('replaced_by', sa.Uuid(), nullable=True),
    sa.Column('enrolled_at', sa.DateTime(), nullable=False),
    sa.Column('enrolled_by', sa.String(length=254), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_key'))
    )
    with op.batch_alter_table('sync_key', schema=None) as batch_op:
        batch_op.create_index('ix_sync_key_fingerprint', ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_key_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_key_person_id'))
        batch_op.drop_index('ix_sync_key_fingerprint')
    op.drop_table('sync_key')
