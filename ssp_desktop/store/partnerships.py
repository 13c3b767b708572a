"""Which partnership a store is opened for, and the filter that keeps every read to it.

One store may hold several partnerships (a region's master copy on a server). A store
is opened *for* one of them: every ORM statement run through the store's sessions gets
SQLAlchemy loader criteria (``with_loader_criteria``) that hide the other partnerships'
records, so lists, search, the board pack, bundles and spreadsheets see one partnership
without each query having to remember to filter. The criteria follow each record's way
up to its partnership: ``partnership_id`` where a record carries it, the plan for the
plan's children, otherwise the owning parent (``info={"owner": True}``), recursively.

On PostgreSQL the database enforces the same boundary for officers itself (row-level
security, migration 0011): the store tells the server which partnership it is open for
in the session setting ``ssp.partnership_ids`` on every connection it hands out.

A statement may look across partnerships with the execution option
``all_partnerships=True`` (the region summary; the check that refuses another
partnership's bundle or workbook).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, event, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.sql.functions import FunctionElement

from ssp_desktop.domain import sync_records
from ssp_desktop.domain.base import Base
from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.records import Partnership, Plan, record_classes
from ssp_desktop.store.requested import request, requested

ALL_PARTNERSHIPS = "all_partnerships"
SETTING = "ssp.partnership_ids"


class PartnershipChoiceError(SspError):
    """The partnership asked for is not in the store, or the store holds several and
    none was chosen. ``names`` lists the store's partnerships, for a chooser."""

    def __init__(self, message: str, names: Sequence[str]) -> None:
        super().__init__(message)
        self.names = tuple(names)


@dataclass(frozen=True)
class PartnershipRef:
    """A partnership as the chooser shows it."""

    id: uuid.UUID
    name: str
    area: str = ""


def list_partnerships(session: Session) -> list[PartnershipRef]:
    """Every live partnership in the store (whatever the store is open for), by name."""
    rows = session.execute(
        select(Partnership.id, Partnership.name, Partnership.area)
        .where(Partnership.deleted_at.is_(None))
        .order_by(Partnership.name, Partnership.id)
        .execution_options(**{ALL_PARTNERSHIPS: True})
    )
    return [PartnershipRef(r.id, r.name, r.area) for r in rows]


def choose(available: Sequence[PartnershipRef], wanted: str | None) -> PartnershipRef | None:
    """The partnership called ``wanted`` (its name, case aside, or its id).

    With no name: the only partnership. A store with none yet gives None whatever the
    name. A store with several needs a name; a name the store does not hold is
    refused. Both errors list the names the store holds.
    """
    if not available:
        return None  # a new store, or one a starter bundle is about to fill
    names = [p.name for p in available]
    listed = ", ".join(repr(n) for n in names) or "none yet"
    if wanted is None or not wanted.strip():
        if len(available) == 1:
            return available[0]
        raise PartnershipChoiceError(
            f"This store holds {len(available)} partnerships ({listed}); choose one "
            "with --partnership NAME. Nothing was changed.",
            names,
        )
    key = wanted.strip().casefold()
    found = [p for p in available if p.name.casefold() == key or str(p.id) == key]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:  # two partnerships of one name: only the id tells them apart
        ids = ", ".join(f"{p.name} ({p.id})" for p in found)
        raise PartnershipChoiceError(
            f"More than one partnership is called {wanted!r}: {ids}. Give the id instead. "
            "Nothing was changed.",
            names,
        )
    raise PartnershipChoiceError(
        f"This store holds no partnership called {wanted!r} (it holds {listed}). "
        "Nothing was changed.",
        names,
    )


# --------------------------------------------------------------------------- the filter


def _owner_column(cls: type[Base]) -> tuple[str, type[Base]] | None:
    """The column leading up towards the partnership, and the record it refers to."""
    columns = cls.__table__.columns
    if "plan_id" in columns and cls is not Plan:
        return "plan_id", Plan
    by_table: dict[str, type[Base]] = {
        m.class_.__tablename__: m.class_ for m in Base.registry.mappers
    }
    for column in columns:
        if column.info.get("owner"):
            (fk,) = column.foreign_keys
            return column.key, by_table[fk.column.table.name]
    return None


def _criterion(cls: type[Base], pid: uuid.UUID) -> ColumnElement[bool] | None:
    """Rows of ``cls`` belonging to partnership ``pid`` (None: not partnership data)."""
    if cls is Partnership:
        return Partnership.id == pid
    columns = cls.__table__.columns
    if "partnership_id" in columns:
        return columns["partnership_id"] == pid
    if cls is sync_records.SyncProcessed:
        lead = sync_records.SyncLead
        return cls.lead_id.in_(select(lead.id).where(_criterion_required(lead, pid)))
    step = _owner_column(cls)
    if step is None:
        return None
    column, parent = step
    return columns[column].in_(
        select(parent.__table__.c.id).where(_criterion_required(parent, pid))
    )


def _criterion_required(cls: type[Base], pid: uuid.UUID) -> ColumnElement[bool]:
    found = _criterion(cls, pid)
    assert found is not None, f"{cls.__name__} has no way up to its partnership"
    return found


@functools.cache
def scoped_classes() -> tuple[type[Base], ...]:
    """Every mapped class holding one partnership's data (the filter's targets)."""
    extra: tuple[type[Base], ...] = (
        sync_records.SyncLead,
        sync_records.SyncBundle,
        sync_records.SyncProcessed,
        sync_records.SyncKey,  # trust of leads' keys is per partnership (0012)
    )
    return (*record_classes().values(), *extra)


class not_indexed(FunctionElement[Any]):
    """A column that SQLite must not use an index for: ``+column`` there, the bare
    column elsewhere.

    The partnership criterion ``column IN (subquery)`` is a filter. Left indexable,
    SQLite 3.40 may use it to search the table's index inside a join on a
    materialised subquery and then runs the IN's subquery again for every outer row:
    the action list's newest-update query took 91 s on a region store of 5,000
    actions a partnership, and 0.07 s with the unary plus (SQLite's documented way to
    keep a term out of index selection). PostgreSQL plans the semi-join well as it is.
    """

    name = "not_indexed"
    inherit_cache = True


@compiles(not_indexed)
def _bare_column(element: not_indexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(not_indexed, "sqlite")
def _unary_plus(element: not_indexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


def _in(column: str) -> Callable[[Any], Callable[[Any], ColumnElement[bool]]]:
    # One lambda per column name: SQLAlchemy adapts a lambda's entity to aliases
    # (``include_aliases``) and caches it by its code, with the subquery and the id
    # as its parameters; a plain expression would name the unaliased table.
    # The column is wrapped in ``not_indexed``: the criterion is a filter on rows the
    # statement finds by its own conditions, never the way SQLite finds them.
    makers: dict[str, Callable[[Any], Callable[[Any], ColumnElement[bool]]]] = {
        "plan_id": lambda sub: lambda c: not_indexed(c.plan_id).in_(sub),
        "priority_id": lambda sub: lambda c: not_indexed(c.priority_id).in_(sub),
        "action_id": lambda sub: lambda c: not_indexed(c.action_id).in_(sub),
        "measure_id": lambda sub: lambda c: not_indexed(c.measure_id).in_(sub),
        "framework_id": lambda sub: lambda c: not_indexed(c.framework_id).in_(sub),
        "stream_id": lambda sub: lambda c: not_indexed(c.stream_id).in_(sub),
        "award_id": lambda sub: lambda c: not_indexed(c.award_id).in_(sub),
        "pack_id": lambda sub: lambda c: not_indexed(c.pack_id).in_(sub),
        "meeting_id": lambda sub: lambda c: not_indexed(c.meeting_id).in_(sub),
        "lead_id": lambda sub: lambda c: not_indexed(c.lead_id).in_(sub),
    }
    return makers[column]


def _adaptable(cls: type[Base], pid: uuid.UUID) -> Callable[[Any], ColumnElement[bool]] | None:
    """:func:`_criterion` as a lambda of the entity, so that aliases are filtered too."""
    if cls is Partnership:
        return lambda c: c.id == pid
    if "partnership_id" in cls.__table__.columns:
        return lambda c: c.partnership_id == pid
    parent: type[Base]
    if cls is sync_records.SyncProcessed:
        column, parent = "lead_id", sync_records.SyncLead
    else:
        step = _owner_column(cls)
        if step is None:
            return None
        column, parent = step
    sub = select(parent.__table__.c.id).where(_criterion_required(parent, pid))
    return _in(column)(sub)


@functools.cache
def _options(pid: uuid.UUID) -> tuple[LoaderCriteriaOption, ...]:
    options = []
    for cls in scoped_classes():
        criterion = _adaptable(cls, pid)
        if criterion is not None:
            options.append(with_loader_criteria(cls, criterion, include_aliases=True))
    return tuple(options)


def install_filter(sessions: Any, chosen: Callable[[], uuid.UUID | None]) -> None:
    """Filter every ORM read of ``sessions`` (a sessionmaker) to ``chosen()``'s
    partnership, when it names one; a statement may opt out (``ALL_PARTNERSHIPS``)."""
    sessions.configure(info={**sessions.kw.get("info", {}), _CHOSEN: chosen})

    @event.listens_for(sessions, "do_orm_execute")
    def _scope(state: ORMExecuteState) -> None:
        pid = chosen()
        if pid is None or state.execution_options.get(ALL_PARTNERSHIPS):
            return
        if state.is_column_load or state.is_relationship_load:
            return  # loading more of a row already read: the criteria ride along
        if state.is_select or state.is_update or state.is_delete:
            state.statement = state.statement.options(*_options(pid))


_CHOSEN = "ssp_partnership"


def filtered_partnership(session: Session) -> uuid.UUID | None:
    """The partnership ``session``'s reads are filtered to (None: not filtered).

    For the few reads the filter cannot reach (the SQLite search index's own SQL)."""
    chosen = session.info.get(_CHOSEN)
    return None if chosen is None else chosen()


def install_session_setting(engine: Engine, chosen: Callable[[], uuid.UUID | None]) -> None:
    """On PostgreSQL, tell the server on every checkout which partnership the store is
    open for, so row-level security narrows a regional reader to it too (an empty
    setting: every partnership the connecting role may read)."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkout")
    def _set(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        pid = chosen()
        cur = dbapi_conn.cursor()
        try:
            cur.execute(
                "SELECT set_config(%s, %s, false)", (SETTING, "" if pid is None else str(pid))
            )
        finally:
            cur.close()
        # A checkout outside a transaction: the setting holds for the session.
        dbapi_conn.commit()


def across_partnerships(session: Session) -> None:
    """Let ``session``'s current transaction read every partnership its connection's
    role may read: on PostgreSQL the app's narrowing setting is cleared until the
    transaction ends (``is_local``); statements still opt out of the ORM filter with
    ``ALL_PARTNERSHIPS``. For the region summary, the one view across partnerships."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT set_config(:name, '', true)"), {"name": SETTING})


def partnership_of_plan(session: Session, plan_id: uuid.UUID) -> PartnershipRef | None:
    """The partnership a plan belongs to, looked up across every partnership."""
    row = session.execute(
        select(Partnership.id, Partnership.name, Partnership.area)
        .join(Plan, Plan.partnership_id == Partnership.id)
        .where(Plan.id == plan_id)
        .execution_options(**{ALL_PARTNERSHIPS: True})
    ).first()
    return None if row is None else PartnershipRef(row.id, row.name, row.area)


def partnership_by_id(session: Session, pid: uuid.UUID) -> PartnershipRef | None:
    row = session.execute(
        select(Partnership.id, Partnership.name, Partnership.area)
        .where(Partnership.id == pid)
        .execution_options(**{ALL_PARTNERSHIPS: True})
    ).first()
    return None if row is None else PartnershipRef(row.id, row.name, row.area)


def other_partnership_refusal(
    what: str, theirs: PartnershipRef, open_for: PartnershipRef | None
) -> str:
    """The plain words refusing ``what`` made for another partnership than the one open."""
    here = f"the store is open for {open_for.name}" if open_for else "the store is open"
    return (
        f"{what} belongs to {theirs.name}, but {here}. Open the store for {theirs.name} "
        "(choose it when the store opens, or --partnership) to import it. "
        "Nothing was changed."
    )


__all__ = [
    "ALL_PARTNERSHIPS",
    "SETTING",
    "PartnershipChoiceError",
    "PartnershipRef",
    "across_partnerships",
    "choose",
    "filtered_partnership",
    "install_filter",
    "install_session_setting",
    "list_partnerships",
    "other_partnership_refusal",
    "partnership_by_id",
    "partnership_of_plan",
    "request",
    "requested",
    "scoped_classes",
]
