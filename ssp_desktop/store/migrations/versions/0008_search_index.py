"""search index: SQLite FTS5 over the plan's words, for "search the whole plan"

Makes the index table and fills it from every record already stored (a store's own
writes keep it current from then on; see ``ssp_desktop.store.search``). Not a record
table: it holds nothing that is not derived from the records, and a downgrade drops it.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from ssp_desktop.store import search

    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # elsewhere search scans the records (see store/search.py)
    op.execute(search.CREATE_SQL)
    # Filled once every migration has run (store/engine.py), not here: the records'
    # mappings are today's, and a later migration's columns do not exist yet.
    op.execute(
        sa.text("INSERT OR REPLACE INTO store_meta (key, value) VALUES (:key, '1')").bindparams(
            key=search.REBUILD_KEY
        )
    )


def downgrade() -> None:
    from ssp_desktop.store import search

    if op.get_bind().dialect.name == "sqlite":
        op.execute(search.DROP_SQL)
