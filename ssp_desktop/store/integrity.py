"""``ssp-desktop check``: is this store sound?

Looks for what would make the plan untrustworthy, from the file up: SQLite's own
integrity check, broken foreign keys, live records under deleted parents (orphans),
duplicate natural keys among live records, records whose id does not match their
natural key, actions filed under another plan's priority, and timestamps in the
future (a laptop with a wrong clock would make sync order misleading).

Every check is generic over the mapped tables, so a new entity is covered without
touching this file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlalchemy import Index, Table, UniqueConstraint, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, aliased

from ssp_desktop.domain.base import utcnow
from ssp_desktop.domain.changes import references_to
from ssp_desktop.domain.errors import CorruptStoreError
from ssp_desktop.domain.records import (
    Action,
    ChangeLog,
    FundingAllocation,
    FundingAward,
    FundingStream,
    MeasureTarget,
    MeasureValue,
    Priority,
    PriorityArea,
    record_classes,
)
from ssp_desktop.store.engine import RESTORE_ADVICE, Store

# A little slack for clocks that differ by a few minutes between office and laptop.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def check_store(store: Store, *, now: dt.datetime | None = None) -> list[Problem]:
    """Every problem found; an empty list means the store is clean."""
    try:
        return _check(store, now or utcnow())
    except sa_exc.DBAPIError as exc:
        # SQLite stops at the first page it cannot read; that is the finding.
        return [Problem("integrity", f"the store is damaged and cannot be read: {exc.orig}")]


def check_integrity(store: Store) -> list[Problem]:
    """The engine's own checks only (SQLite's integrity and foreign-key checks; on a
    server, constraints and indexes it is not enforcing): the quick part of
    :func:`check_store`, run after every bundle import."""
    problems: list[Problem] = []
    try:
        with store.engine.connect() as conn:
            for kind, message in store.backend.integrity_problems(conn):
                problems.append(Problem(kind, message))
    except sa_exc.DBAPIError as exc:
        return [Problem("integrity", f"the store is damaged and cannot be read: {exc.orig}")]
    return problems


def refuse_if_damaged(store: Store, what: str) -> None:
    """Refuse to start ``what`` ("importing the bundle") on a damaged store, with the
    findings ``ssp-desktop check`` prints. Writing to damaged pages spreads the damage,
    a backup taken now would be as damaged, and a reader would stop halfway with a
    database error; so every writer asks first."""
    damaged = [p for p in check_integrity(store) if p.kind == "integrity"]
    if not damaged:
        return
    found = "; ".join(str(p) for p in damaged[:3])
    more = f" (and {len(damaged) - 3} more)" if len(damaged) > 3 else ""
    raise CorruptStoreError(
        f"{store.location} is damaged, so {what} was not started. `ssp-desktop check` "
        f"finds: {found}{more}. {RESTORE_ADVICE}"
    )


def _check(store: Store, now: dt.datetime) -> list[Problem]:
    problems = check_integrity(store)
    if any(p.kind == "integrity" for p in problems):
        return problems  # the rest would read damaged pages; say what matters first
    with store.session() as session:
        problems += _orphans(session)
        problems += _duplicates(session)
        problems += _natural_ids(session)
        problems += _misfiled_actions(session)
        problems += _future_timestamps(session, now + CLOCK_SKEW)
        problems += _awards_over_allocation(session)
    return problems


def _pounds(amount: Decimal) -> str:
    return f"£{amount:,.0f}" if amount == amount.to_integral_value() else f"£{amount:,.2f}"


def _awards_over_allocation(session: Session) -> list[Problem]:
    """A funding stream whose awards for a year add up to more than its allocation for
    that year (or that has awards but no allocation): the board pack says so too."""
    allocated = {
        (stream_id, year): amount
        for stream_id, year, amount in session.execute(
            select(
                FundingAllocation.stream_id, FundingAllocation.year, FundingAllocation.amount
            ).where(FundingAllocation.deleted_at.is_(None))
        )
    }
    awarded: dict[tuple[object, object], Decimal] = {}
    names: dict[object, str] = {}
    for stream_id, name, year, amount in session.execute(
        select(FundingAward.stream_id, FundingStream.name, FundingAward.year, FundingAward.amount)
        .join(FundingStream, FundingStream.id == FundingAward.stream_id)
        .where(FundingAward.deleted_at.is_(None), FundingStream.deleted_at.is_(None))
    ):
        awarded[(stream_id, year)] = awarded.get((stream_id, year), Decimal(0)) + amount
        names[stream_id] = name
    problems = []
    for (stream_id, year), total in sorted(
        awarded.items(), key=lambda kv: (names[kv[0][0]], str(kv[0][1]))
    ):
        allocation = allocated.get((stream_id, year))
        where = f"{names[stream_id]} {year}"
        if allocation is None:
            problems.append(
                Problem("funding", f"{where}: {_pounds(total)} awarded with no allocation recorded")
            )
        elif total > allocation:
            problems.append(
                Problem(
                    "funding",
                    f"{where}: awards total {_pounds(total)} against an allocation of "
                    f"{_pounds(allocation)}, over by {_pounds(total - allocation)}",
                )
            )
    return problems


def _orphans(session: Session) -> list[Problem]:
    out: list[Problem] = []
    for parent_table, parent_cls in record_classes().items():
        for ref in references_to(parent_table):
            parent = aliased(parent_cls)
            child_col = getattr(ref.child, ref.column)
            rows = session.execute(
                select(ref.child.id, parent.id)
                .join(parent, parent.id == child_col)
                .where(ref.child.deleted_at.is_(None), parent.deleted_at.is_not(None))
                .limit(20)
            ).all()
            for child_id, parent_id in rows:
                out.append(
                    Problem(
                        "orphan",
                        f"live {ref.child.__tablename__} {child_id} refers through "
                        f"{ref.column} to deleted {parent_table} {parent_id}",
                    )
                )
    return out


def _duplicates(session: Session) -> list[Problem]:
    out: list[Problem] = []
    for table_name, cls in record_classes().items():
        table = cast(Table, cls.__table__)
        keys: list[list[str]] = []
        for idx in table.indexes:
            if isinstance(idx, Index) and idx.unique:
                keys.append([c.name for c in idx.columns])
        for con in table.constraints:
            if isinstance(con, UniqueConstraint):
                keys.append([c.name for c in con.columns])
        for cols in keys:
            columns = [table.c[c] for c in cols]
            where = [table.c.deleted_at.is_(None)]
            if table_name == "action_update":
                where.append(table.c.is_current.is_(True))
            rows = session.execute(
                select(*columns, func.count())
                .where(*where)
                .group_by(*columns)
                .having(func.count() > 1)
                .limit(20)
            ).all()
            for row in rows:
                key = ", ".join(f"{c}={v}" for c, v in zip(cols, row[:-1], strict=True))
                out.append(Problem("duplicate", f"{row[-1]} live {table_name} records share {key}"))
    return out


def _natural_ids(session: Session) -> list[Problem]:
    out: list[Problem] = []
    for cls, key_attr, parent_attr in (
        (MeasureValue, "period", "measure_id"),
        (MeasureTarget, "year", "measure_id"),
        (FundingAllocation, "year", "stream_id"),
    ):
        for record in session.scalars(select(cls)):
            expected = cls.make_id(getattr(record, parent_attr), getattr(record, key_attr))
            if record.id != expected:
                out.append(
                    Problem(
                        "natural key",
                        f"{cls.__tablename__} {record.id} should have id {expected} "
                        f"(from its {parent_attr.removesuffix('_id')} and {key_attr})",
                    )
                )
    return out


def _misfiled_actions(session: Session) -> list[Problem]:
    rows = session.execute(
        select(Action.ref, Action.id)
        .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
        .join(Priority, Priority.id == PriorityArea.priority_id)
        .where(Action.deleted_at.is_(None), Action.plan_id != Priority.plan_id)
    ).all()
    return [
        Problem("plan", f"action {ref} ({id_}) belongs to one plan but sits under another's")
        for ref, id_ in rows
    ]


def _future_timestamps(session: Session, limit: dt.datetime) -> list[Problem]:
    out: list[Problem] = []
    for table_name, cls in record_classes().items():
        for column in ("created_at", "updated_at", "deleted_at"):
            col = getattr(cls, column)
            count = session.scalar(select(func.count()).select_from(cls).where(col > limit))
            if count:
                out.append(
                    Problem(
                        "clock",
                        f"{count} {table_name} record(s) have {column} in the future "
                        "(a computer with a wrong clock?)",
                    )
                )
    # A merged change keeps the time on the laptop that made it (a lead's clock may be
    # ahead; the merge reports that); this store's own clock is on when it arrived.
    stamped = func.coalesce(ChangeLog.received_at, ChangeLog.at)
    count = session.scalar(select(func.count()).select_from(ChangeLog).where(stamped > limit))
    if count:
        out.append(Problem("clock", f"{count} change-log entries are dated in the future"))
    return out


__all__ = ["Problem", "check_integrity", "check_store", "refuse_if_damaged"]
