"""several writers: a version on every record, a store revision in commit order

* every record table gets ``version`` (1 for the records there are): one more on each
  logged change, so an edit can tell a record moved since its editor read it;
* ``change_log.revision``: the store revision of the commit that wrote the row. Rows
  written before this migration take their transaction's newest ``seq`` (what the
  revision was then: one writer at a time made ``seq`` order commit order);
* ``store_revision``: one row holding the newest revision, raised in each writing
  transaction right before it commits.

Plain table names and op calls only: a migration never imports the app's mappings.

Revision ID: 0010_record_versions
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010_record_versions'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every record table at schema 0009 (the tables with id, created_at, updated_at and
# deleted_at), as they were then.
_RECORD_TABLES = (
    'action',
    'action_measure',
    'action_outcome',
    'action_partner',
    'action_update',
    'board_meeting',
    'board_pack',
    'funding_allocation',
    'funding_award',
    'funding_award_outcome',
    'funding_stream',
    'measure',
    'measure_outcome',
    'measure_target',
    'measure_value',
    'organisation',
    'outcome',
    'outcome_framework',
    'pack_export',
    'partnership',
    'person',
    'plan',
    'plan_approval',
    'plan_framework',
    'priority',
    'priority_area',
    'priority_outcome',
    'risk',
)


def upgrade() -> None:
    # Plain ADD COLUMN on both engines: in batch mode Alembic rebuilds a SQLite table
    # for a column with a server default, and rebuilding a table others refer to would
    # trip the foreign keys of a store holding records.
    for table in _RECORD_TABLES:
        op.add_column(
            table,
            sa.Column('version', sa.Integer(), nullable=False, server_default=sa.text('1')),
        )
    op.add_column('change_log', sa.Column('revision', sa.Integer(), nullable=True))
    op.create_index('ix_change_log_revision', 'change_log', ['revision'], unique=False)
    log = sa.table(
        'change_log',
        sa.column('seq', sa.Integer()),
        sa.column('change_set', sa.Uuid()),
        sa.column('revision', sa.Integer()),
    )
    same_set = sa.alias(log, 'same_set')
    op.execute(
        log.update().values(
            revision=sa.select(sa.func.max(same_set.c.seq))
            .where(same_set.c.change_set == log.c.change_set)
            .scalar_subquery()
        )
    )
    store_revision = op.create_table(
        'store_revision',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_store_revision')),
    )
    newest = op.get_bind().scalar(sa.select(sa.func.coalesce(sa.func.max(log.c.seq), 0)))
    op.bulk_insert(store_revision, [{'id': 1, 'revision': int(newest or 0)}])


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+, as 0005): a batch rebuild of a table other
    # tables refer to would trip the foreign keys.
    op.drop_table('store_revision')
    op.drop_index('ix_change_log_revision', table_name='change_log')
    op.drop_column('change_log', 'revision')
    for table in reversed(_RECORD_TABLES):
        op.drop_column(table, 'version')
