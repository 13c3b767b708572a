"""The data a board pack is made from: a private copy of the store, shaped for print.

:func:`pack_source` copies the store (``store.snapshot``), optionally winds it back to
the revision a published pack was made from, and then, in the copy only:

* **review**: keeps the action updates and measure values the Board may see. An
  action's update for a quarter is its newest *accepted* version (a later draft or
  submission leaves the accepted one in print); with ``include_awaiting_review`` a
  submitted version counts too (and is marked "Awaiting review" in print). Drafts,
  returned updates and any other state never appear. A measure value is shown only when
  it is accepted (or submitted, when asked);
* **as at the quarter's end**: a pack for a past quarter (one before the quarter being
  reported at its production date) shows the plan as it stood when the quarter ended:
  actions' status, start and due dates as the change log says they were then, and
  actions deleted later put back (actions added later stay: a plan typed into the app
  after the event has no other record of what it held).

It also reads the pack's provenance: the data revision (the newest change-log entry
that is not the bookkeeping of an export), when that change was made ("data as at"),
the production time and the app version. Every pack section then reads the copy with
the same queries as the app's screens.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, select, update
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import from_json_value
from ssp_desktop.domain.enums import UpdateState
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    BoardPack,
    ChangeLog,
    Measure,
    MeasureValue,
    PackExport,
)
from ssp_desktop.store.engine import read_revision
from ssp_desktop.store.snapshot import memory_copy, wind_back

__all__ = [
    "PRINTED_STATES",
    "Provenance",
    "data_revision",
    "is_past_quarter",
    "pack_source",
    "printed_states",
]

PRINTED_STATES = frozenset({UpdateState.ACCEPTED})
_AWAITING = UpdateState.SUBMITTED
# Fields of an action that say where it stands in the plan (not its update).
_PLAN_FIELDS = ("status", "start_date", "due_date")


def printed_states(include_awaiting_review: bool) -> frozenset[UpdateState]:
    """The review states a pack prints: accepted, and submitted when asked."""
    return PRINTED_STATES | ({_AWAITING} if include_awaiting_review else set())


@dataclass(frozen=True)
class Provenance:
    """Where a pack's figures come from, printed on its cover and in its metadata."""

    revision: int
    data_as_at: dt.datetime | None
    produced_at: dt.datetime
    app_version: str
    include_awaiting_review: bool
    # The date the plan's standing is shown as at: the quarter's end for a past
    # quarter, else None (as at production).
    plan_as_at: dt.date | None
    # The newest change-log entry of the copy (export records included): the revision
    # an export records, and the one its remake winds the store back to.
    snapshot: int = 0

    def info(self) -> tuple[tuple[str, str], ...]:
        """The document information entries that carry it."""
        return (
            ("DataRevision", str(self.revision)),
            ("DataAsAt", _iso(self.data_as_at) if self.data_as_at else ""),
            ("Produced", _iso(self.produced_at)),
            ("AppVersion", self.app_version),
            ("IncludesUpdatesAwaitingReview", "yes" if self.include_awaiting_review else "no"),
            ("PlanAsAt", self.plan_as_at.isoformat() if self.plan_as_at else "production"),
        )


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def data_revision(session: Session) -> tuple[int, dt.datetime | None]:
    """The newest change that is plan data (not an export's own record) and when it was
    made: recording or publishing an export does not change what a pack says."""
    row = session.execute(
        select(ChangeLog.revision, ChangeLog.at, ChangeLog.received_at)
        .where(ChangeLog.entity != PackExport.__tablename__)
        .order_by(ChangeLog.revision.desc(), ChangeLog.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, None
    seq, at, received = row
    # A merged change counts from when it reached this store: that is when the data
    # the pack reads came to be.
    when = received or at
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(seq or 0), when


def is_past_quarter(quarter: Quarter, produced_on: dt.date) -> bool:
    """Whether a pack produced on ``produced_on`` reports a past quarter: one before the
    quarter then being reported (the last to have ended)."""
    return quarter < Quarter.of(produced_on).previous()


@contextmanager
def pack_source(
    engine: Engine,
    pack_id: uuid.UUID,
    *,
    produced_at: dt.datetime | None,
    include_awaiting_review: bool,
    app_version: str,
    revision: int | None = None,
) -> Iterator[tuple[Session, Provenance]]:
    """A read session over the copy of the store the pack is made from, and the pack's
    provenance. With ``revision``, the copy is first wound back to it (raises
    :class:`~ssp_desktop.store.snapshot.SnapshotError` if it cannot be).

    With no ``produced_at``, the production time is that of an earlier export of the
    same pack from the same data revision with the same options (so making the pack
    again gives the same file), else now."""
    with memory_copy(engine) as scratch:
        if revision is not None:
            wind_back(scratch, revision)
        with Session(scratch) as s:
            seq, as_at = data_revision(s)
            snapshot = read_revision(s)
            pack = s.get(BoardPack, pack_id)
            plan_id = pack.plan_id if pack is not None else None
            quarter = pack.quarter if pack is not None else None
            if produced_at is None:
                produced_at = _earlier_production(
                    s, pack_id, seq, include_awaiting_review, app_version
                ) or dt.datetime.now(dt.UTC).replace(microsecond=0)
        plan_as_at: dt.date | None = None
        with scratch.begin() as conn:
            states = printed_states(include_awaiting_review)
            if plan_id is not None:
                _keep_printed(conn, plan_id, states)
                if quarter is not None and is_past_quarter(quarter, produced_at.date()):
                    plan_as_at = quarter.end_date
                    _plan_as_at(conn, plan_id, quarter.end_date)
        provenance = Provenance(
            revision=seq,
            data_as_at=as_at,
            produced_at=produced_at,
            app_version=app_version,
            include_awaiting_review=include_awaiting_review,
            plan_as_at=plan_as_at,
            snapshot=snapshot,
        )
        with Session(scratch) as session:
            yield session, provenance


def _earlier_production(
    session: Session, pack_id: uuid.UUID, revision: int, include: bool, app_version: str
) -> dt.datetime | None:
    """The production time of the first unencrypted export of ``pack_id`` made from data
    ``revision`` with the same options, if there is one."""
    for snapshot_seq, exported_at in session.execute(
        select(PackExport.snapshot_seq, PackExport.exported_at)
        .where(
            PackExport.pack_id == pack_id,
            PackExport.deleted_at.is_(None),
            PackExport.encrypted.is_(False),
            PackExport.include_awaiting_review.is_(include),
            PackExport.app_version == app_version,
        )
        .order_by(PackExport.exported_at)
    ):
        their = session.scalar(
            select(func.max(ChangeLog.revision)).where(
                ChangeLog.revision <= snapshot_seq,
                ChangeLog.entity != PackExport.__tablename__,
            )
        )
        if int(their or 0) == revision:
            when: dt.datetime = exported_at
            return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return None


def _keep_printed(conn: Any, plan_id: uuid.UUID, states: frozenset[UpdateState]) -> None:
    rows = conn.execute(
        select(
            ActionUpdate.id,
            ActionUpdate.action_id,
            ActionUpdate.quarter,
            ActionUpdate.state,
            ActionUpdate.supersedes_id,
            ActionUpdate.is_current,
        )
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(Action.plan_id == plan_id, ActionUpdate.deleted_at.is_(None))
    ).all()
    by_id = {r.id: r for r in rows}
    chosen: set[uuid.UUID] = set()
    for r in rows:
        if not r.is_current:
            continue
        # The newest version the Board may see: back along what each version replaced.
        seen: set[uuid.UUID] = set()
        current: Any = r
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.state in states:
                chosen.add(current.id)
                break
            current = by_id.get(current.supersedes_id) if current.supersedes_id else None
    changed = [r.id for r in rows if bool(r.is_current) != (r.id in chosen)]
    updates: Any = ActionUpdate.__table__
    values: Any = MeasureValue.__table__
    if changed:
        conn.execute(update(updates).where(updates.c.id.in_(changed)).values(is_current=False))
        promoted = [i for i in changed if i in chosen]
        if promoted:
            conn.execute(update(updates).where(updates.c.id.in_(promoted)).values(is_current=True))
    measure_ids = select(Measure.id).where(Measure.plan_id == plan_id)
    conn.execute(
        update(values)
        .where(
            and_(
                values.c.measure_id.in_(measure_ids),
                values.c.deleted_at.is_(None),
                values.c.state.not_in([s.value for s in states]),
            )
        )
        .values(deleted_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    )


def _plan_as_at(conn: Any, plan_id: uuid.UUID, day: dt.date) -> None:
    """Put the plan's actions back as they stood at the end of ``day``."""
    cutoff = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
    table: Any = Action.__table__
    action_ids = set(conn.scalars(select(Action.id).where(Action.plan_id == plan_id)))
    later = conn.execute(
        select(ChangeLog.record_id, ChangeLog.op, ChangeLog.field, ChangeLog.old)
        .where(ChangeLog.entity == Action.__tablename__, ChangeLog.at >= cutoff)
        .order_by(ChangeLog.seq.desc())
    ).all()
    for record_id, op, field, old in later:
        if record_id not in action_ids:
            continue
        where = table.c.id == record_id
        # An action added after the quarter is kept: a plan typed into the app after
        # the event (a store set up mid-plan) has no other record of what it held.
        if op == "restore":
            conn.execute(
                update(table).where(where).values(deleted_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            )
        elif op == "delete":
            conn.execute(update(table).where(where).values(deleted_at=None))
        elif op == "update" and field in _PLAN_FIELDS:
            value = from_json_value(table.c[field].type, json.loads(old) if old else None)
            conn.execute(update(table).where(where).values({field: value}))
