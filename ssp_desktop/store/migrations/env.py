"""Alembic environment: always run on a connection handed in by ``Store.open``.

There is no alembic.ini and no URL: the app migrates the store it is opening, inside
the transaction it opened, after taking the backup copy.
"""

from __future__ import annotations

from alembic import context

from ssp_desktop.domain import records, sync_records  # noqa: F401 - registers every table
from ssp_desktop.domain.base import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running alembic by hand
    raise RuntimeError("Migrations run from ssp_desktop.store.engine.Store.open, not the CLI.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
context.run_migrations()
