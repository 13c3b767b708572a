"""search index: documents numbered as they are written (``search_index_ids``)

Until now a document's rowid was made from its record's id, so an import's new
documents landed at random places in FTS5's tables and its write-ahead log carried most
of the index again. From here a document's rowid is given when it is written (one more
than the highest), and ``search_index_ids`` says which record each document is of (see
``ssp_desktop.store.search``). The documents already stored keep their words and are
numbered afresh in their present order; a downgrade numbers them from their records'
ids again. An update's or a value note's document no longer stores its action's or
measure's name (the label column holds each document's own title, as for every other
kind): a search reads the name as it is when it shows the result, so a rename rewrites
one document, not all its updates'. Only SQLite keeps an index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The index's columns as of this revision (search.py may gain some later).
_TABLE = "search_index"
_IDS = "search_index_ids"
_COLUMNS = "kind, record_id, target_entity, target_id, plan_id, period, label, title, body"
_PLACES = ", ".join("?" for _ in range(10))
_CREATE = (
    f"CREATE VIRTUAL TABLE {_TABLE} USING fts5("
    "kind UNINDEXED, record_id UNINDEXED, target_entity UNINDEXED, target_id UNINDEXED, "
    "plan_id UNINDEXED, period UNINDEXED, label UNINDEXED, title, body, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
)


def _documents() -> list[tuple[object, ...]]:
    """Every stored document's columns, in rowid order; the index is made again, empty.

    Made again rather than emptied row by row: FTS5 records each removal in its index
    until segments are merged, which left a region master's file 8 MB larger."""
    conn = op.get_bind()
    rows = [
        tuple(r) for r in conn.exec_driver_sql(f"SELECT {_COLUMNS} FROM {_TABLE} ORDER BY rowid")
    ]
    conn.exec_driver_sql(f"DROP TABLE {_TABLE}")
    conn.exec_driver_sql(_CREATE)
    return rows


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return  # elsewhere search scans the records
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {_IDS} ("
        "record_id BLOB NOT NULL PRIMARY KEY, doc INTEGER NOT NULL) WITHOUT ROWID"
    )
    # The label column takes each document's title (column 7 of _COLUMNS).
    rows = [(*row[:6], row[7], *row[7:]) for row in _documents()]
    if not rows:
        return  # a new store, or one whose index migration 0008 has yet to fill
    conn.exec_driver_sql(
        f"INSERT INTO {_TABLE} (rowid, {_COLUMNS}) VALUES ({_PLACES})",
        [(n, *row) for n, row in enumerate(rows, start=1)],
    )
    conn.exec_driver_sql(
        f"INSERT INTO {_IDS} (record_id, doc) VALUES (?, ?)",
        [(uuid.UUID(hex=str(row[1])).bytes, n) for n, row in enumerate(rows, start=1)],
    )


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    names = {
        str(record_id): f"{ref} {name}"
        for table, name_column in (("action", "title"), ("measure", "name"))
        for record_id, ref, name in conn.exec_driver_sql(
            f"SELECT id, ref, {name_column} FROM {table}"
        )
    }
    # An update's or a value's document stored its action's or measure's name again.
    rows = [
        (*row[:6], row[7] or names.get(str(row[3]), ""), *row[7:]) for row in _documents()
    ]
    # The earlier numbering: 63 bits of the record's id, written in ascending order.
    numbered = sorted((uuid.UUID(hex=str(row[1])).int & ((1 << 63) - 1), row) for row in rows)
    if numbered:
        conn.exec_driver_sql(
            f"INSERT INTO {_TABLE} (rowid, {_COLUMNS}) VALUES ({_PLACES})",
            [(n, *row) for n, row in numbered],
        )
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_IDS}")
