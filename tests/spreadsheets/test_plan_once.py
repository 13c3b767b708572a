"""An import carries out the plan its preview showed, and judges the rows again only when
the store changed since, or the import was asked for with other choices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.enums import ActionStatus, Rag
from ssp_desktop.domain.errors import CorruptStoreError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionPartner,
    ActionUpdate,
    ChangeLog,
    Organisation,
    Person,
    Priority,
    PriorityArea,
)
from ssp_desktop.progress import Cancelled, Progress
from ssp_desktop.spreadsheets import importing
from ssp_desktop.spreadsheets.importing import ImportOptions, apply, prepare, preview
from ssp_desktop.spreadsheets.plan import Outcome
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan
from tests.spreadsheets.sheets import TRACKER_HEADINGS, change_rows, write_xlsx

Q2 = Quarter(2024, 2)
OPTIONS = ImportOptions(quarter=Q2, today=dt.date(2024, 10, 20))


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    return mini_plan(store)


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many times the rows of an action tracker were judged (one entry each)."""
    calls: list[int] = []
    plan_actions = importing.plan_actions

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return plan_actions(*args, **kwargs)

    monkeypatch.setattr(importing, "plan_actions", counting)
    yield calls


def tracker(tmp_path: Path, rows: list[list[object]], name: str = "tracker.xlsx") -> Path:
    return write_xlsx(
        tmp_path / name, [["Safer Testshire action tracker"], TRACKER_HEADINGS, *rows]
    )


def partners_of(store: Store, ref: str) -> list[str]:
    with store.session() as s:
        return sorted(
            s.scalars(
                select(Organisation.name)
                .join(ActionPartner, ActionPartner.organisation_id == Organisation.id)
                .join(Action, Action.id == ActionPartner.action_id)
                .where(Action.ref == ref, ActionPartner.deleted_at.is_(None))
            )
        )


def count(store: Store, cls: Any) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(cls)) or 0)


def test_the_import_writes_the_previewed_plan_judging_the_rows_once(
    store: Store, mini: MiniPlan, tmp_path: Path, judged: list[int]
) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-01", "Fund IDVAs", "PVP", "Domestic abuse", "Police", None, "Council; Probation",
             None, None, "In progress", "Amber", "Two IDVAs in post"],
            ["RCH-01", "Reduce ASB in town centre", "Reducing crime and harm",
             "Anti-social behaviour", "Stockport Council", "ASB Manager", "Police",
             "01/04/2024", "31/03/2025", "Ongoing", "G", "Patrols started"],
        ],
    )  # fmt: skip
    prepared = prepare(path)
    shown = preview(store, prepared, OPTIONS)
    result = apply(store, prepared, OPTIONS, actor="importer", previewed=shown)
    # A server store has no cheap sign that nobody committed meanwhile: it judges again.
    assert len(judged) == (1 if store.backend.kind == "sqlite" else 2)
    assert result.plan == shown
    assert result.summary() == (
        "Actions: 1 new, 1 updated, 0 unchanged, 0 refused. Also new: 1 area for action, "
        "3 organisations, 1 person, 1 priority."
    )
    assert partners_of(store, "PVP-01") == ["Council", "Probation"]
    with store.session() as s:
        assert set(s.scalars(select(ChangeLog.source).where(ChangeLog.actor == "importer"))) == {
            "import:tracker.xlsx"
        }
        pvp = s.scalar(select(Action).where(Action.ref == "PVP-01"))
        assert pvp is not None and (pvp.status, pvp.rag) == (ActionStatus.IN_PROGRESS, Rag.AMBER)
        update = s.scalar(select(ActionUpdate).where(ActionUpdate.action_id == pvp.id))
        assert update is not None and (update.quarter, update.narrative) == (
            Q2,
            "Two IDVAs in post",
        )
        rch = s.scalar(select(Action).where(Action.ref == "RCH-01"))
        assert rch is not None and rch.rag is Rag.GREEN
        area = s.get(PriorityArea, rch.priority_area_id)
        assert area is not None and area.title == "Anti-social behaviour"
        priority = s.get(Priority, area.priority_id)
        assert priority is not None and priority.code == "RCAH"
        lead = s.get(Person, rch.lead_person_id)
        assert lead is not None and lead.name == "ASB Manager"
    # Each new record made once, as the preview listed them.
    assert count(store, Organisation) == 4 and count(store, Person) == 2


def test_a_previewed_update_supersedes_the_old_one_and_partners_leave(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    first = tracker(
        tmp_path,
        [["PVP-01", *[None] * 5, "Council; Probation", None, None, None, "Amber", "Recruiting"]],
        "q2a.xlsx",
    )
    second = tracker(
        tmp_path,
        [["PVP-01", *[None] * 5, "Council", None, None, None, "Green", "Both IDVAs in post"]],
        "q2b.xlsx",
    )
    apply(store, prepare(first), OPTIONS)
    prepared = prepare(second)
    shown = preview(store, prepared, OPTIONS)
    assert "Partners: −Probation" in shown.rows[0].details
    apply(store, prepared, OPTIONS, previewed=shown)
    assert partners_of(store, "PVP-01") == ["Council"]
    with store.session() as s:
        updates = s.scalars(
            select(ActionUpdate).where(ActionUpdate.action_id == mini.action.id)
        ).all()
        current = [u for u in updates if u.is_current]
        assert len(updates) == 2 and len(current) == 1
        assert current[0].narrative == "Both IDVAs in post"
        assert current[0].supersedes_id is not None
        act = s.get(Action, mini.action.id)
        assert act is not None and act.rag is Rag.GREEN


def test_a_change_committed_after_the_preview_is_judged_again(
    store: Store, mini: MiniPlan, tmp_path: Path, judged: list[int]
) -> None:
    path = tracker(tmp_path, [["PVP-01", "Fund IDVAs", *[None] * 7, "In progress", None, None]])
    prepared = prepare(path)
    shown = preview(store, prepared, OPTIONS)
    assert shown.rows[0].outcome is Outcome.UPDATE
    with store.transaction(actor="colleague") as tx:
        act = tx.session.get(Action, mini.action.id)
        assert act is not None
        services.edit(tx, act, status=ActionStatus.IN_PROGRESS)
    before = change_rows(store)
    result = apply(store, prepared, OPTIONS, previewed=shown)
    assert len(judged) == 2
    # Judged against the store as it is now: the colleague already made the change.
    assert result.plan.rows[0].outcome is Outcome.UNCHANGED
    assert change_rows(store) == before


def test_an_import_asked_for_with_other_choices_than_previewed_is_judged_again(
    store: Store, mini: MiniPlan, tmp_path: Path, judged: list[int]
) -> None:
    path = tracker(tmp_path, [["PVP-01", *[None] * 9, "Amber", "Recruiting"]])
    prepared = prepare(path)
    shown = preview(store, prepared, ImportOptions(quarter=Quarter(2024, 1), today=OPTIONS.today))
    apply(store, prepared, OPTIONS, previewed=shown)
    assert len(judged) == 2
    with store.session() as s:
        quarters = s.scalars(
            select(ActionUpdate.quarter).where(ActionUpdate.action_id == mini.action.id)
        ).all()
    assert quarters == [Q2]


def test_a_previewed_plan_is_written_once(store: Store, mini: MiniPlan, tmp_path: Path) -> None:
    path = tracker(
        tmp_path,
        [["PVP-05", "New work", "PVP", "Domestic abuse", "Kent Police", None, "Council",
          None, None, "In progress", "Green", "Going well"]],
    )  # fmt: skip
    prepared = prepare(path)
    shown = preview(store, prepared, OPTIONS)
    apply(store, prepared, OPTIONS, previewed=shown)
    before = store.revision()
    again = apply(store, prepared, OPTIONS, previewed=shown)
    assert again.plan.count(Outcome.UNCHANGED) == 1
    assert store.revision() == before
    with store.session() as s:
        assert len(s.scalars(select(Action).where(Action.ref == "PVP-05")).all()) == 1
        assert (
            len(s.scalars(select(Organisation).where(Organisation.name == "Kent Police")).all())
            == 1
        )


def test_a_cancelled_previewed_import_leaves_nothing_and_can_be_made_again(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    rows = [
        [f"NEW-{i:03d}", f"Action {i}", "PVP", "Domestic abuse", "Kent Police"] for i in range(250)
    ]
    prepared = prepare(tracker(tmp_path, rows))
    shown = preview(store, prepared, OPTIONS)
    before = change_rows(store)

    def on_step(done: int, total: int, text: str) -> None:
        if done >= 100:
            progress.cancel()

    progress = Progress(on_step)
    with pytest.raises(Cancelled):
        apply(store, prepared, OPTIONS, progress=progress, previewed=shown)
    assert change_rows(store) == before
    result = apply(store, prepared, OPTIONS, previewed=shown)
    assert result.plan.count(Outcome.CREATE) == 250
    with store.session() as s:
        assert len(s.scalars(select(Action).where(Action.ref.like("NEW-%"))).all()) == 250
        assert (
            len(s.scalars(select(Organisation).where(Organisation.name == "Kent Police")).all())
            == 1
        )


def test_leaving_refused_rows_out_after_the_preview_keeps_its_plan(
    store: Store, mini: MiniPlan, tmp_path: Path, judged: list[int]
) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-02", "Train staff", "PVP", "Domestic abuse"],
            ["PVP-03", "Bad RAG", "PVP", "Domestic abuse", *[None] * 6, "Blue"],
        ],
    )
    prepared = prepare(path)
    shown = preview(store, prepared, OPTIONS)
    assert [r.outcome for r in shown.refused] == [Outcome.REFUSE]
    skipping = ImportOptions(quarter=Q2, today=OPTIONS.today, skip_refused=True)
    result = apply(store, prepared, skipping, previewed=shown)
    assert len(judged) == (1 if store.backend.kind == "sqlite" else 2)
    assert result.skipped == 1
    with store.session() as s:
        refs = set(s.scalars(select(Action.ref)))
    assert "PVP-02" in refs and "PVP-03" not in refs


def test_the_import_backup_is_the_store_as_it_was_before_the_import(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    """A file store is copied on a thread of its own while the import writes: the copy
    is the store before the import (its revision, none of the new actions), and the
    summary says where it is."""
    if store.is_server:
        pytest.skip("a file store's copy; a server store is dumped before, as for a bundle")
    rows = [[f"NEW-{i:03d}", f"Action {i}", "PVP", "Domestic abuse", "Police"] for i in range(60)]
    prepared = prepare(tracker(tmp_path, rows))
    shown = preview(store, prepared, OPTIONS)
    before = store.revision()
    result = apply(store, prepared, OPTIONS, previewed=shown)
    assert result.backups is not None
    copy = result.backups.path
    assert copy.exists() and copy.parent == Path(str(store.path)).parent
    assert store.revision() > before
    with Store.open(copy, readonly=True) as old:
        assert old.revision() == before
        with old.session() as s:
            assert s.scalar(select(func.count()).where(Action.ref.like("NEW-%"))) == 0
    with store.session() as s:
        assert s.scalar(select(func.count()).where(Action.ref.like("NEW-%"))) == 60


def test_a_store_found_damaged_as_the_import_writes_is_refused_before_the_commit(
    store: Store, mini: MiniPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview found the store sound; the check the import makes again (on a thread
    of its own while the rows are written) finds damage: nothing is saved, no backup is
    left, and the message is what ``ssp-desktop check`` finds."""
    rows = [[f"NEW-{i:03d}", f"Action {i}", "PVP", "Domestic abuse", "Police"] for i in range(60)]
    prepared = prepare(tracker(tmp_path, rows))
    shown = preview(store, prepared, OPTIONS)
    before = (store.revision(), change_rows(store))
    monkeypatch.setattr(
        store.backend, "integrity_problems", lambda conn: [("integrity", "Page 7: never used")]
    )
    with pytest.raises(CorruptStoreError, match="finds: integrity: Page 7: never used"):
        apply(store, prepared, OPTIONS, previewed=shown)
    assert (store.revision(), change_rows(store)) == before
    with store.session() as s:
        assert s.scalar(select(func.count()).where(Action.ref.like("NEW-%"))) == 0
    if not store.is_server:
        assert not list(Path(str(store.path)).parent.glob("*.backup-*"))
