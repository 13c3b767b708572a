"""review and sign-off: returned updates, reviewed measure values, action-scoped leads

* ``action_update.review_note``: the strategy team's reason for returning an update;
* ``measure_value.state`` and ``review_note``: values are reviewed as updates are. A
  value already in the store was already used by packs, so it starts accepted;
* ``plan.status_reason``: why an archived plan was reopened;
* ``sync_lead.actions``: a lead given single actions rather than whole themes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A non-native enum is a VARCHAR(20) with no CHECK, so 'returned' needs no change to
# action_update.state.
_STATES = ('draft', 'submitted', 'accepted', 'returned')


def upgrade() -> None:
    with op.batch_alter_table('action_update', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('review_note', sa.Text(), nullable=False, server_default='')
        )
    with op.batch_alter_table('measure_value', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'state',
                sa.Enum(*_STATES, name='updatestate', native_enum=False, length=20),
                nullable=False,
                server_default='accepted',
            )
        )
        batch_op.add_column(
            sa.Column('review_note', sa.Text(), nullable=False, server_default='')
        )
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('status_reason', sa.Text(), nullable=False, server_default='')
        )
    with op.batch_alter_table('sync_lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actions', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of plan, which other tables
    # refer to, would trip the foreign keys.
    op.drop_column('sync_lead', 'actions')
    op.drop_column('plan', 'status_reason')
    op.drop_column('measure_value', 'review_note')
    op.drop_column('measure_value', 'state')
    op.drop_column('action_update', 'review_note')
