"""board pack, second edition: a value's rank, the rest of the council's cover sheet

* ``measure_value.rank``: the value's rank among its comparators as its source states
  it ("3rd of 10 in GM"); a value's status may now also be ``withheld`` (the status
  column is a plain string, so that needs no change here);
* ``board_pack``: agenda item, relevant scrutiny committee, background papers, wards
  affected, equality impact and forward plan reference.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PACK_TEXT = (
    ('agenda_item', sa.String(length=60)),
    ('scrutiny_committee', sa.String(length=300)),
    ('background_papers', sa.Text()),
    ('wards_affected', sa.String(length=300)),
    ('equality_impact', sa.Text()),
    ('forward_plan_ref', sa.String(length=100)),
)


def upgrade() -> None:
    with op.batch_alter_table('measure_value', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('rank', sa.String(length=60), nullable=False, server_default='')
        )
    with op.batch_alter_table('board_pack', schema=None) as batch_op:
        for name, kind in _PACK_TEXT:
            batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('board_pack', schema=None) as batch_op:
        for name, _kind in reversed(_PACK_TEXT):
            batch_op.drop_column(name)
    with op.batch_alter_table('measure_value', schema=None) as batch_op:
        batch_op.drop_column('rank')
