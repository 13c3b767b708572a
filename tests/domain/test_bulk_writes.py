"""The flush writes a table's new records with one executemany instead of the ORM's
unit of work (``domain.changes._insert_new``), and those and the change-log rows go
to the driver's executemany with the parameters converted once per statement rather
than through Core's per-row processing (``domain.changes.insert_rows``): the same
writes, made once that way and once the ordinary way (the unit of work, Core's
executemany) into two copies of one store, leave the same rows in every table (in the
same order), the same change log (ids, order, content, times, who) and the same
search index.

Ids and times are made deterministic for the comparison: ``uuid.uuid4`` gives the same
sequence in both runs and the clock ticks a microsecond a reading from the same start.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from ssp_desktop import services
from ssp_desktop.domain import base, changes, ids
from ssp_desktop.domain.base import Base, Record
from ssp_desktop.domain.changes import Attribution, attributed
from ssp_desktop.domain.enums import PlanStatus, Rag
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionPartner,
    ActionUpdate,
    ChangeLog,
    Organisation,
    Person,
    Plan,
    Priority,
    PriorityArea,
)
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.spreadsheets import actions as sheet_actions
from ssp_desktop.spreadsheets import importing
from ssp_desktop.store import background, search
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan


class _Clock:
    """utcnow for both runs: the same start, one microsecond more at each reading."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(microseconds=1)
        return self.now


@pytest.fixture
def deterministic(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call to restart the ids and the clock (before each of the two runs)."""
    real_utcnow = base.utcnow

    def restart() -> None:
        rng = random.Random(18)

        def made() -> uuid.UUID:
            return uuid.UUID(int=rng.getrandbits(128), version=4)

        # Record and change-log ids (domain/ids.py), and the change sets and drafts.
        monkeypatch.setattr(uuid, "uuid4", made)
        monkeypatch.setattr(ids, "new_id", made)
        monkeypatch.setattr(ids, "new_ids", lambda count: [made() for _ in range(count)])
        clock = _Clock()
        for module in list(sys.modules.values()):
            held = getattr(module, "utcnow", None)
            if (module.__name__ or "").startswith("ssp_desktop") and (
                held is real_utcnow or isinstance(held, _Clock)
            ):
                monkeypatch.setattr(module, "utcnow", clock)

    return restart


@contextlib.contextmanager
def _twin(
    store: Store, store_engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Store]:
    """A second, empty store on the same engine as ``store``, open, with ``store``'s
    site id (so the two change logs can be compared whole)."""
    if store_engine == "sqlite":
        location: Any = tmp_path / "other.sqlite"
    else:
        make: Callable[[], str] = request.getfixturevalue("pg_new_store_url")
        location = make()
    with Store.open(location, create=True) as other:
        other.set_meta(site_id=str(store.site_id))
    with Store.open(location) as other:
        yield other


def _contents(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in the order they were written where the engine keeps one
    (SQLite's rowid), else by key; the change log by ``seq``, its change sets numbered
    in the order they first appear (each transaction draws a random one)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    sqlite = not store.is_server
    with store.session() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in ("store_meta", "alembic_version"):
                continue
            if table.name == ChangeLog.__tablename__:
                order = "seq"
            elif sqlite:
                order = "rowid"
            else:
                order = ", ".join(c.name for c in table.primary_key.columns)
            rows = s.execute(text(f"SELECT * FROM {table.name} ORDER BY {order}")).all()
            out[table.name] = [tuple(r) for r in rows]
        sets: dict[Any, int] = {}
        column = list(ChangeLog.__table__.columns.keys()).index("change_set")
        out[ChangeLog.__tablename__] = [
            (*r[:column], sets.setdefault(r[column], len(sets)), *r[column + 1 :])
            for r in out[ChangeLog.__tablename__]
        ]
        if search.has_index(s):
            out[search.TABLE] = [
                tuple(r)
                for r in s.execute(text(f"SELECT rowid, * FROM {search.TABLE} ORDER BY rowid"))
            ]
    return out


def _tracker(store: Store, path: Path) -> None:
    """A small action tracker under the sample plan: new actions, and one existing
    action changed."""
    with store.session() as s:
        areas = [
            (code, title)
            for code, title in s.execute(
                select(Priority.code, PriorityArea.title)
                .join(PriorityArea, PriorityArea.priority_id == Priority.id)
                .order_by(Priority.code, PriorityArea.title)
            )
        ]
        orgs = list(s.scalars(select(Organisation.name).order_by(Organisation.name)))
        existing = s.execute(
            select(Action.ref, Action.title, Priority.code, PriorityArea.title)
            .join(PriorityArea, Action.priority_area_id == PriorityArea.id)
            .join(Priority, PriorityArea.priority_id == Priority.id)
            .order_by(Action.ref)
            .limit(1)
        ).one()
    heading = ["Ref No.", "Action", "Theme", "Area for action", "Lead Agency", "Partners",
               "Start", "Due Date", "Status", "RAG Status", "Progress Update"]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(heading)
        ref, title, code, area = existing
        out.writerow([ref, f"{title} (revised)", code, area, orgs[0], "", "", "", "In progress",
                      "Amber", "Revised in the tracker."])  # fmt: skip
        for i in range(40):
            code, area = areas[i % len(areas)]
            out.writerow([f"T{i:03d}", f"Tracker action {i}", code, area, orgs[i % len(orgs)],
                          "; ".join(orgs[(i + k) % len(orgs)] for k in (1, 2)), "01/05/2024",
                          "31/03/2025", "Not started", ["Green", "Amber", "Red"][i % 3],
                          f"Update {i}: meetings held."])  # fmt: skip


def _write_everything(store: Store, tracker: Path) -> None:
    """Writes of every kind the flush meets: the sample plan (thousands of new records
    of every class), a spreadsheet import, and one flush that mixes new records with
    changed records of the same table, a related object set on a new record, records
    written under a merge's attribution, and tombstones."""
    write_sample(store)
    _tracker(store, tracker)
    prepared = importing.prepare(tracker)
    options = importing.ImportOptions(quarter=Quarter(2024, 2), today=dt.date(2024, 10, 20))
    result = importing.apply(store, prepared, options)
    assert result.plan.rows
    lead = Attribution(
        site_id=uuid.UUID(int=7), actor="lead@example", person_id=None, at=base.utcnow()
    )
    with store.transaction(actor="officer", source="bundle:test") as tx:
        plan = tx.session.scalars(
            select(Plan).where(Plan.status != PlanStatus.ARCHIVED).order_by(Plan.title)
        ).first()
        assert plan is not None
        action = tx.session.scalars(
            select(Action).where(Action.plan_id == plan.id).order_by(Action.ref)
        ).first()
        org = tx.session.scalars(select(Organisation).order_by(Organisation.name)).first()
        assert plan is not None and action is not None and org is not None
        old_ref = action.ref
        # One flush: the ref given up and taken by a new action of the same plan.
        services.edit(tx, action, ref=f"{old_ref}-OLD")
        services.create(
            tx,
            Action(
                plan_id=plan.id,
                priority_area_id=action.priority_area_id,
                ref=old_ref,
                title="Takes the ref over",
            ),
        )
        # A relationship set to an object rather than its id.
        services.create(
            tx, Person(partnership_id=org.partnership_id, name="Related", organisation=org)
        )
        with attributed(tx.session, lead):
            made = services.create(
                tx,
                Action(
                    plan_id=plan.id,
                    priority_area_id=action.priority_area_id,
                    ref="LEAD-1",
                    title="Made on a lead's laptop",
                ),
            )
            services.write_update(
                tx,
                made,
                Quarter(2024, 2),
                rag=Rag.GREEN,
                narrative="From the lead.",
                written_on=dt.date(2024, 10, 1),
            )
        tx.flush()
        services.delete(tx, made, cascade=True)
        services.edit(tx, action, title="Retitled after the flush")


def test_bulk_inserts_write_the_same_rows_log_and_index(
    store: Store,
    store_engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    deterministic: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with _twin(store, store_engine, request, tmp_path) as other:
        deterministic()
        assert changes.BULK_INSERTS
        assert changes.DRIVER_EXECUTEMANY
        (tmp_path / "one").mkdir()
        _write_everything(store, tmp_path / "one" / "tracker.csv")
        deterministic()
        monkeypatch.setattr(changes, "BULK_INSERTS", False)
        monkeypatch.setattr(changes, "DRIVER_EXECUTEMANY", False)
        (tmp_path / "two").mkdir()
        _write_everything(other, tmp_path / "two" / "tracker.csv")
        bulk, ordinary = _contents(store), _contents(other)
    assert bulk.keys() == ordinary.keys()
    assert len(bulk[ChangeLog.__tablename__]) > 1000
    assert len(bulk[ActionUpdate.__tablename__]) > 40
    for table in bulk:
        assert len(bulk[table]) == len(ordinary[table]), table
        for i, (one, two) in enumerate(zip(bulk[table], ordinary[table], strict=True)):
            assert one == two, f"{table} row {i}"


def _compare(one: Store, two: Store) -> None:
    first, second = _contents(one), _contents(two)
    assert first.keys() == second.keys()
    for table in first:
        assert len(first[table]) == len(second[table]), table
        for i, (a, b) in enumerate(zip(first[table], second[table], strict=True)):
            assert a == b, f"{table} row {i}"


def test_an_import_in_batches_writes_what_row_by_row_writes(
    store: Store,
    store_engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    deterministic: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tracker's new actions written a run at a time (``services.add_actions``, one
    ``create_many`` per run) leave the same rows, change log and index as each row
    written on its own (``create`` and ``write_update``)."""
    with _twin(store, store_engine, request, tmp_path) as other:
        deterministic()
        assert sheet_actions.BATCHES
        (tmp_path / "one").mkdir()
        _write_everything(store, tmp_path / "one" / "tracker.csv")
        deterministic()
        monkeypatch.setattr(sheet_actions, "BATCHES", False)
        (tmp_path / "two").mkdir()
        _write_everything(other, tmp_path / "two" / "tracker.csv")
        _compare(store, other)


def test_inserts_written_behind_are_the_inserts_written_inline(
    store: Store,
    store_engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    deterministic: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An import's inserts written on a thread of their own, many rows to a statement
    (``store/background.py``), and its search documents made a batch at a time and
    written there too (``search.Indexer``), leave the same rows in the same order, the
    same change log and the same index (the same rowids) as the same inserts run inline
    and the index made at the commit."""
    if store_engine != "sqlite":
        pytest.skip("a SQLite file's")
    with _twin(store, store_engine, request, tmp_path) as other:
        deterministic()
        # A few rows to a statement: every flush's inserts are many statements, and
        # most tables' rows end in a shorter one. Batches of a few rows: the tracker's
        # import is indexed in several.
        monkeypatch.setattr(background, "ROWS_PER_STATEMENT", 7)
        monkeypatch.setattr(sheet_actions, "FLUSH_EVERY", 7)
        handed: list[int] = []
        write = background.BackgroundInserts.write

        def counted(self: background.BackgroundInserts, sql: str, rows: list[Any]) -> bool:
            taken = write(self, sql, rows)
            if taken:
                handed.append(len(rows))
            return taken

        monkeypatch.setattr(background.BackgroundInserts, "write", counted)
        (tmp_path / "one").mkdir()
        _write_everything(store, tmp_path / "one" / "tracker.csv")
        assert sum(handed) > 150  # the import's records and log rows went behind
        deterministic()
        monkeypatch.setattr(background, "WRITE_BEHIND", False)
        handed.clear()
        (tmp_path / "two").mkdir()
        _write_everything(other, tmp_path / "two" / "tracker.csv")
        assert handed == []
        _compare(store, other)


def _batch_of_everything(mini: MiniPlan) -> list[Record]:
    """New records of several classes, children after the parents they refer to, one
    with a related object set rather than its id."""
    records: list[Record] = []
    for i in range(30):
        action = Action(
            plan_id=mini.plan.id,
            priority_area_id=mini.area.id,
            ref=f"B-{i:02d}",
            title=f"Batch action {i}",
            lead_organisation_id=mini.org.id,
            start_date=dt.date(2022, 4, 1),
            due_date=dt.date(2024, 3, 31),
        )
        records.append(action)
        records.append(ActionPartner(action_id=action.id, organisation_id=mini.org.id))
        records.append(
            ActionUpdate(
                action_id=action.id,
                quarter=Quarter(2023, 1 + i % 4),
                rag=Rag.AMBER,
                narrative=f"Update {i}.",
                written_on=dt.date(2023, 7, 1),
                is_current=True,
            )
        )
    records.append(
        Person(partnership_id=mini.partnership.id, name="Related", organisation=mini.org)
    )
    records.append(Organisation(partnership_id=mini.partnership.id, name="Fire and Rescue"))
    return records


def _write_batch(store: Store, batched: bool) -> None:
    mini = mini_plan(store)
    lead = Attribution(
        site_id=uuid.UUID(int=7), actor="lead@example", person_id=None, at=base.utcnow()
    )
    with store.transaction(actor="officer", source="test") as tx:
        services.edit(tx, tx.get(Action, mini.action.id), title="Changed first")
        for attribution in (None, lead):
            with attributed(tx.session, attribution):
                records = _batch_of_everything(mini)
                if attribution is not None:
                    for record in records:
                        if isinstance(record, Action):
                            record.ref = f"{record.ref}-LEAD"
                    records = records[:-2]  # the person and the organisation once
                if batched:
                    services.create_many(tx, records)
                else:
                    for record in records:
                        services.create(tx, record)


def test_create_many_writes_what_create_writes_one_by_one(
    store: Store,
    store_engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    deterministic: Callable[[], None],
) -> None:
    """A batch (plain and under a merge's attribution, after an edit left pending)
    leaves the same rows, change log and index as ``create`` of each record in turn."""
    with _twin(store, store_engine, request, tmp_path) as other:
        deterministic()
        _write_batch(store, batched=True)
        deterministic()
        _write_batch(other, batched=False)
        _compare(store, other)
