"""The partnership filter is a filter, not the way SQLite searches a table.

On a region store (5,000 actions a partnership) the action list's newest-update query
took 91 s when SQLite drove an index search from the criterion ``action_id IN
(subquery)`` and re-ran the subquery for every row; with the criterion kept out of
index selection it took 0.07 s. Timings belong in benchmarks (region_bench.py); these
tests pin the SQL that makes the difference."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ssp_desktop.domain.records import ActionUpdate
from ssp_desktop.store import partnerships


def _newest_updates() -> Select[Any]:
    newest = (
        select(
            ActionUpdate.action_id.label("action_id"),
            func.max(ActionUpdate.quarter).label("quarter"),
        )
        .group_by(ActionUpdate.action_id)
        .subquery()
    )
    return (
        select(ActionUpdate.action_id, ActionUpdate.narrative)
        .join(
            newest,
            and_(
                ActionUpdate.action_id == newest.c.action_id,
                ActionUpdate.quarter == newest.c.quarter,
            ),
        )
        .options(*partnerships._options(uuid.uuid4()))
    )


def test_on_sqlite_the_child_criterion_is_kept_out_of_index_selection() -> None:
    sql = str(_newest_updates().compile(dialect=sqlite.dialect()))
    assert "+action_update.action_id IN (SELECT action.id" in sql


def test_on_postgresql_the_criterion_is_the_bare_column() -> None:
    dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    sql = str(_newest_updates().compile(dialect=dialect))
    assert "WHERE action_update.action_id IN (SELECT action.id" in sql
    assert "+action_update" not in sql
