"""two indexes no query needed: ``ix_action_update_action_id``, ``ix_measure_value_measure_id``

Each is a prefix of another index of its table: ``ix_action_update_action_quarter``
(action_id, quarter) and the unique (measure_id, period) constraint's. Lookups by the
one column use the longer index (SQLite and PostgreSQL alike, foreign-key checks
included); the shorter one was only ever written, a random-keyed b-tree more for every
update and figure an import or a spreadsheet adds. A downgrade makes them again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_action_update_action_id", "action_update", "action_id"),
    ("ix_measure_value_measure_id", "measure_value", "measure_id"),
)


def upgrade() -> None:
    for name, _table, _column in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    for name, table, column in _INDEXES:
        op.create_index(name, table, [column], unique=False)
