"""publishing packs and locking their quarter

* ``change_log.reason``: why a locked (published) figure was corrected;
* ``pack_export``: who published it and when, and what it was made with (updates
  awaiting review shown or not, encrypted, app version) so it can be made again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
    with op.batch_alter_table('pack_export', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'include_awaiting_review', sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column('encrypted', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('app_version', sa.String(length=40), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('published_by', sa.String(length=254), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('pack_export', schema=None) as batch_op:
        batch_op.drop_column('published_by')
        batch_op.drop_column('published_at')
        batch_op.drop_column('app_version')
        batch_op.drop_column('encrypted')
        batch_op.drop_column('include_awaiting_review')
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_column('reason')
