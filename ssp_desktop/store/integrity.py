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

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlalchemy import Index, String, Table, UniqueConstraint, case, func, select, type_coerce
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, aliased

from ssp_desktop.domain.base import Record, utcnow
from ssp_desktop.domain.changes import references_to
from ssp_desktop.domain.errors import CorruptStoreError
from ssp_desktop.domain.periods import FinancialYear, Quarter
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
    natural_id_hex,
    record_classes,
)
from ssp_desktop.progress import Progress
from ssp_desktop.store.backend import INTEGRITY_ON_TWO_CORES
from ssp_desktop.store.engine import RESTORE_ADVICE, Store

# A little slack for clocks that differ by a few minutes between office and laptop.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def check_store(
    store: Store, *, now: dt.datetime | None = None, progress: Progress | None = None
) -> list[Problem]:
    """Every problem found; an empty list means the store is clean."""
    try:
        return _check(store, now or utcnow(), progress or Progress())
    except sa_exc.DBAPIError as exc:
        # SQLite stops at the first page it cannot read; that is the finding.
        return [Problem("integrity", f"the store is damaged and cannot be read: {exc.orig}")]


def check_integrity(store: Store, *, waiting: bool = False) -> list[Problem]:
    """The engine's own checks only (SQLite's integrity and foreign-key checks; on a
    server, constraints and indexes it is not enforcing): the quick part of
    :func:`check_store`, run after every bundle import.

    ``waiting``: the caller does nothing else until the check is done (the check after
    an import), so SQLite's check may run on two cores (``backend.INTEGRITY_ON_TWO_CORES``;
    the same tests, the same findings)."""
    problems: list[Problem] = []
    try:
        with store.engine.connect() as conn:
            if waiting:
                conn = conn.execution_options(**{INTEGRITY_ON_TWO_CORES: True})
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
    _refuse(store, what, check_integrity(store))


@contextlib.contextmanager
def refuse_if_damaged_meanwhile(store: Store, what: str) -> Iterator[Callable[[], None]]:
    """:func:`refuse_if_damaged`, with the check running while the caller works.

    The engine's checks read every page inside SQLite (or the server) without holding
    Python's lock, so they run on a connection of their own in a second thread while
    the caller works out what it will write (an import's plan). The caller calls what
    this yields before it writes anything (a backup included): it waits for the check
    and refuses a damaged store as :func:`refuse_if_damaged` does. A caller writing
    to a SQLite store with a write-ahead log (``backup.writes_ahead``) may call it
    later, as long as it is before the commit: until then its writes reach only the
    log, which a refusal's rollback throws away, and the store's file is untouched
    (a spreadsheet import writes while the check runs). If the caller's work fails
    first, the damage is what is reported (reading a damaged page is the likely
    cause, and it is what the user must hear first), else the caller's error.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssp-check") as pool:
        found = pool.submit(check_integrity, store)
        asked = False

        def refuse() -> None:
            nonlocal asked
            asked = True
            _refuse(store, what, found.result())

        try:
            yield refuse
        except BaseException:
            if not asked:
                refuse()
            raise


def _refuse(store: Store, what: str, problems: list[Problem]) -> None:
    damaged = [p for p in problems if p.kind == "integrity"]
    if not damaged:
        return
    found = "; ".join(str(p) for p in damaged[:3])
    more = f" (and {len(damaged) - 3} more)" if len(damaged) > 3 else ""
    raise CorruptStoreError(
        f"{store.location} is damaged, so {what} was not started. `ssp-desktop check` "
        f"finds: {found}{more}. {RESTORE_ADVICE}"
    )


def _check(store: Store, now: dt.datetime, progress: Progress) -> list[Problem]:
    steps: list[tuple[str, Callable[[Session], list[Problem]]]] = [
        ("Records under deleted parents", _orphans),
        ("Duplicate records", _duplicates),
        ("Record ids", _natural_ids),
        ("Actions under another plan", _misfiled_actions),
        ("Dates in the future", lambda session: _future_timestamps(session, now + CLOCK_SKEW)),
        ("Funding against allocations", _awards_over_allocation),
    ]
    total = len(steps) + 1
    # The engine's own checks read every page inside SQLite (or the server), without
    # holding Python's lock: they run on a connection of their own in a second thread
    # while the plan's checks run here, so the whole check takes little longer than
    # they alone do. Their findings come first; and if they find damage, that is all
    # that is reported, as before, since the plan's checks may have read damaged pages.
    plan_problems: list[Problem] = []
    unreadable: sa_exc.DBAPIError | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssp-check") as pool:
        engine_checks = pool.submit(check_integrity, store)
        try:
            with store.session() as session:
                for done, (label, check) in enumerate(steps):
                    progress.step(done, total, label)
                    plan_problems += check(session)
        except sa_exc.DBAPIError as exc:
            unreadable = exc
        progress.step(len(steps), total, "SQLite integrity and foreign keys")
        problems = engine_checks.result()
    if any(p.kind == "integrity" for p in problems):
        return problems  # what matters first; the rest may have read damaged pages
    if unreadable is not None:
        raise unreadable
    progress.step(total, total, "Done")
    return problems + plan_problems


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
        refs = references_to(parent_table)
        # Most tables have no deleted rows; one look at the parent spares joining every
        # child table to it.
        if not refs or not session.scalar(
            select(parent_cls.id).where(parent_cls.deleted_at.is_not(None)).limit(1)
        ):
            continue
        for ref in refs:
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
    keys: tuple[tuple[type[Record], str, type[Quarter | FinancialYear], str], ...] = (
        (MeasureValue, "period", Quarter, "measure_id"),
        (MeasureTarget, "year", FinancialYear, "measure_id"),
        (FundingAllocation, "year", FinancialYear, "stream_id"),
    )
    for cls, key_attr, key_type, parent_attr in keys:
        # Three columns, not whole records; each distinct period and parent read once,
        # and ids worked out and compared as the hex text the store holds (each class's
        # ``make_id`` is ``natural_id(table name, parent, key label)``; a test holds
        # them to it): a region has tens of thousands of values over a few hundred
        # measures and a few dozen quarters, and making objects per row (records, then
        # UUIDs) took most of the check's time.
        kind = cls.__tablename__
        labels: dict[str, str] = {}
        parents: dict[object, str] = {}
        rows = session.execute(
            select(
                type_coerce(cls.id, String),
                type_coerce(getattr(cls, parent_attr), String),
                type_coerce(getattr(cls, key_attr), String),
            )
        ).tuples()
        for raw_id, raw_parent, label in rows:
            canonical = labels.get(label)
            if canonical is None:
                canonical = labels[label] = key_type.parse(label).label
            parent = parents.get(raw_parent)
            if parent is None:
                parent = parents[raw_parent] = str(_as_uuid(raw_parent))
            expected = natural_id_hex(kind, parent, canonical)
            if raw_id != expected and _as_uuid(raw_id).hex != expected:
                out.append(
                    Problem(
                        "natural key",
                        f"{kind} {_as_uuid(raw_id)} should have id {uuid.UUID(hex=expected)} "
                        f"(from its {parent_attr.removesuffix('_id')} and {key_attr})",
                    )
                )
    return out


def _as_uuid(raw: object) -> uuid.UUID:
    """An id as read without its column type: SQLite holds 32 hex digits, a native
    uuid column (PostgreSQL) gives a UUID already."""
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))


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
    columns = ("created_at", "updated_at", "deleted_at")
    for table_name, cls in record_classes().items():
        # One scan of the table counts all three columns.
        counts = session.execute(
            select(
                *(func.count(case((getattr(cls, column) > limit, 1))) for column in columns)
            ).select_from(cls)
        ).one()
        for column, count in zip(columns, counts, strict=True):
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


__all__ = [
    "Problem",
    "check_integrity",
    "check_store",
    "refuse_if_damaged",
    "refuse_if_damaged_meanwhile",
]
