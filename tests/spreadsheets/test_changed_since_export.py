"""A tracker exported, edited offline and imported back while others kept working on
the store: cells the workbook did not change never overwrite newer store values; cells
both changed are conflicts, shown with who changed them, theirs and the workbook's, and
refused unless the officer chooses the workbook's for that row. A workbook that does not
record its export (older, or made elsewhere) imports as before, and the preview says so."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import ActionStatus, Rag
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ActionUpdate, Measure, MeasureValue
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.spreadsheets.importing import ImportOptions, apply, prepare, preview
from ssp_desktop.spreadsheets.plan import Outcome
from ssp_desktop.spreadsheets.since_export import OLD_WORKBOOK_NOTE, exported_revision
from ssp_desktop.spreadsheets.workbook import export_workbook
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q2 = Quarter(2022, 2)
OPTIONS = ImportOptions(quarter=Q2, today=dt.date(2022, 10, 20))


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


@pytest.fixture
def exported(store: Store, plan: MiniPlan, tmp_path: Path) -> Path:
    out = tmp_path / "tracker.xlsx"
    export_workbook(store, out, today=dt.date(2022, 10, 1))
    return out


def edit_cell(path: Path, heading: str, value: object, *, out: Path | None = None) -> Path:
    """Change the first action row's cell under ``heading``, as an officer would in Excel."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Actions"]
    header = next(r for r in range(1, 8) if ws.cell(r, 1).value == "Ref")
    col = [c.value for c in ws[header]].index(heading) + 1
    ws.cell(header + 1, col).value = value
    target = out or path.with_name("edited.xlsx")
    wb.save(target)
    return target


def their_edit(store: Store, plan: MiniPlan, **fields: object) -> None:
    other = store.another_writer()
    try:
        with other.transaction(actor="Jane Other") as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            services.edit(tx, action, **fields)
    finally:
        other.close()


def stored(store: Store, plan: MiniPlan, attr: str) -> object:
    with store.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None
        return getattr(action, attr)


def test_the_workbook_records_the_revision_it_was_exported_at(store: Store, exported: Path) -> None:
    assert exported_revision(exported) == store.revision()


def test_a_cell_the_workbook_did_not_change_keeps_the_newer_store_value(
    store: Store, plan: MiniPlan, exported: Path
) -> None:
    their_edit(store, plan, title="Fund IDVAs and ISVAs")
    # The officer changes another column only.
    edited = edit_cell(exported, "Status", "In progress")
    result = preview(store, prepare(edited, kind="actions"), OPTIONS)
    (row,) = result.rows
    assert row.outcome is Outcome.UPDATE
    assert "Status: Not started → In progress" in row.details
    assert any(
        d.startswith("Action: kept 'Fund IDVAs and ISVAs', changed by Jane Other on ")
        for d in row.details
    )
    assert OLD_WORKBOOK_NOTE not in result.notes
    apply(store, prepare(edited, kind="actions"), OPTIONS)
    assert stored(store, plan, "title") == "Fund IDVAs and ISVAs"
    assert stored(store, plan, "status") is ActionStatus.IN_PROGRESS


def test_a_workbook_changed_nowhere_leaves_everyone_elses_changes_alone(
    store: Store, plan: MiniPlan, exported: Path
) -> None:
    their_edit(store, plan, title="Fund IDVAs and ISVAs", status=ActionStatus.COMPLETE)
    before = store.revision()
    result = apply(store, prepare(exported, kind="actions"), OPTIONS)
    assert [r.outcome for r in result.plan.rows] == [Outcome.UNCHANGED]
    assert store.revision() == before
    assert stored(store, plan, "status") is ActionStatus.COMPLETE


def test_a_cell_both_changed_is_a_conflict_refused_with_who_theirs_and_the_workbooks(
    store: Store, plan: MiniPlan, exported: Path
) -> None:
    their_edit(store, plan, status=ActionStatus.COMPLETE)
    edited = edit_cell(exported, "Status", "Deferred")
    result = preview(store, prepare(edited, kind="actions"), OPTIONS)
    (row,) = result.rows
    assert row.outcome is Outcome.REFUSE
    (conflict,) = row.conflicts
    assert conflict.field == "Status"
    assert conflict.by.startswith("Jane Other on ")
    assert (conflict.theirs, conflict.workbook) == ("Complete", "Deferred")
    assert row.text.startswith(
        "Status was changed in the store by Jane Other on "
    ) and row.text.endswith(
        "after this workbook was exported: theirs is Complete, the workbook's is Deferred. "
        "Choose to write the workbook's, or leave the row out"
    )
    before = store.revision()
    with pytest.raises(SpreadsheetError, match="Status was changed in the store by Jane Other"):
        apply(store, prepare(edited, kind="actions"), OPTIONS)
    assert store.revision() == before
    assert stored(store, plan, "status") is ActionStatus.COMPLETE
    # Leaving the row out writes nothing of it.
    skipped = ImportOptions(quarter=Q2, today=OPTIONS.today, skip_refused=True)
    apply(store, prepare(edited, kind="actions"), skipped)
    assert stored(store, plan, "status") is ActionStatus.COMPLETE


def test_the_officer_chooses_the_workbooks_value_for_a_conflicting_row(
    store: Store, plan: MiniPlan, exported: Path
) -> None:
    their_edit(store, plan, status=ActionStatus.COMPLETE)
    edited = edit_cell(exported, "Status", "Deferred")
    (row,) = preview(store, prepare(edited, kind="actions"), OPTIONS).rows
    chosen = ImportOptions(quarter=Q2, today=OPTIONS.today, write_over=frozenset({row.row}))
    (again,) = preview(store, prepare(edited, kind="actions"), chosen).rows
    assert again.outcome is Outcome.UPDATE and again.conflicts
    apply(store, prepare(edited, kind="actions"), chosen)
    assert stored(store, plan, "status") is ActionStatus.DEFERRED


def their_update(store: Store, plan: MiniPlan, narrative: str) -> None:
    other = store.another_writer()
    try:
        with other.transaction(actor="Jane Other") as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            services.write_update(
                tx, action, Q2, rag=Rag.AMBER, narrative=narrative, written_on=dt.date(2022, 10, 5)
            )
    finally:
        other.close()


def current_narratives(store: Store, plan: MiniPlan) -> list[str]:
    with store.session() as s:
        return list(
            s.scalars(
                select(ActionUpdate.narrative).where(
                    ActionUpdate.action_id == plan.action.id,
                    ActionUpdate.quarter == Q2,
                    ActionUpdate.is_current.is_(True),
                )
            )
        )


def test_an_update_written_since_export_is_kept_or_a_conflict(
    store: Store, plan: MiniPlan, tmp_path: Path
) -> None:
    their_update(store, plan, "Recruiting two IDVAs.")
    out = tmp_path / "tracker.xlsx"
    export_workbook(store, out, today=dt.date(2022, 10, 6))
    their_update(store, plan, "Two IDVAs in post.")
    # The workbook still shows the update as exported: theirs is kept.
    result = preview(store, prepare(out, kind="actions"), OPTIONS)
    (row,) = result.rows
    assert row.outcome is Outcome.UNCHANGED
    assert any("kept the update Jane Other on " in d for d in row.details)
    # The officer rewrote it offline too: a conflict.
    edited = edit_cell(out, "Latest update", "One IDVA starts in May.")
    (row,) = preview(store, prepare(edited, kind="actions"), OPTIONS).rows
    assert row.outcome is Outcome.REFUSE
    (conflict,) = row.conflicts
    assert conflict.theirs == "'Two IDVAs in post.'"
    assert conflict.workbook == "'One IDVA starts in May.'"
    with pytest.raises(SpreadsheetError):
        apply(store, prepare(edited, kind="actions"), OPTIONS)
    assert current_narratives(store, plan) == ["Two IDVAs in post."]


def without_revision(path: Path, out: Path) -> Path:
    """The workbook as an older ssp-desktop wrote it: no revision property."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "docProps/custom.xml":
                data = data.replace(b"ssp-desktop revision", b"something else")
            dst.writestr(item, data)
    return out


def test_an_old_workbook_imports_as_before_and_the_preview_says_so(
    store: Store, plan: MiniPlan, exported: Path, tmp_path: Path
) -> None:
    old = without_revision(exported, tmp_path / "old.xlsx")
    assert exported_revision(old) is None
    their_edit(store, plan, status=ActionStatus.COMPLETE)
    edited = edit_cell(old, "Status", "Deferred", out=tmp_path / "old-edited.xlsx")
    result = preview(store, prepare(edited, kind="actions"), OPTIONS)
    assert OLD_WORKBOOK_NOTE in result.notes
    (row,) = result.rows
    assert row.outcome is Outcome.UPDATE
    apply(store, prepare(edited, kind="actions"), OPTIONS)
    assert stored(store, plan, "status") is ActionStatus.DEFERRED


def enter_value(store: Store, plan: MiniPlan, value: float, actor: str = "test") -> None:
    with store.transaction(actor=actor) as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.record_value(tx, measure, Quarter(2022, 1), value)


def stored_value(store: Store, plan: MiniPlan) -> float | None:
    with store.session() as s:
        row = s.get(MeasureValue, MeasureValue.make_id(plan.measure.id, Quarter(2022, 1)))
        assert row is not None
        return row.value


def edit_value(path: Path, value: float) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb["Values"]
    header = next(r for r in range(1, 8) if ws.cell(r, 1).value == "Measure ref")
    col = [c.value for c in ws[header]].index("Value") + 1
    ws.cell(header + 1, col).value = value
    target = path.with_name("values-edited.xlsx")
    wb.save(target)
    return target


def test_a_measure_value_changed_since_export_is_kept_or_a_conflict(
    store: Store, plan: MiniPlan, tmp_path: Path
) -> None:
    enter_value(store, plan, 60.0)
    out = tmp_path / "tracker.xlsx"
    export_workbook(store, out, today=dt.date(2022, 10, 1))
    other = store.another_writer()
    try:
        enter_value(other, plan, 63.0, actor="Jane Other")
    finally:
        other.close()
    # The workbook still says 60: theirs (63) is kept.
    result = apply(store, prepare(out, kind="measures"), OPTIONS)
    (row,) = result.plan.rows
    assert row.outcome is Outcome.UNCHANGED
    assert any(
        k.startswith("Value 2022/23 Q1: kept 63, changed by Jane Other on ") for k in row.kept
    )
    assert stored_value(store, plan) == 63.0
    # The officer typed 65 offline: a conflict, refused unless chosen.
    edited = edit_value(out, 65.0)
    (row,) = preview(store, prepare(edited, kind="measures"), OPTIONS).rows
    assert row.outcome is Outcome.REFUSE
    (conflict,) = row.conflicts
    assert (conflict.field, conflict.theirs, conflict.workbook) == ("Value 2022/23 Q1", "63", "65")
    with pytest.raises(SpreadsheetError, match="changed in the store by Jane Other"):
        apply(store, prepare(edited, kind="measures"), OPTIONS)
    assert stored_value(store, plan) == 63.0
    chosen = ImportOptions(quarter=Q2, today=OPTIONS.today, write_over=frozenset({row.row}))
    apply(store, prepare(edited, kind="measures"), chosen)
    assert stored_value(store, plan) == 65.0


def enter_comparator(store: Store, plan: MiniPlan, figure: float, actor: str = "test") -> None:
    with store.transaction(actor=actor) as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.record_value(
            tx, measure, Quarter(2022, 1), 60.0, comparators={"GM average": figure}
        )


def stored_comparator(store: Store, plan: MiniPlan) -> float | None:
    with store.session() as s:
        row = s.get(MeasureValue, MeasureValue.make_id(plan.measure.id, Quarter(2022, 1)))
        assert row is not None
        return row.comparator_values.get("GM average")


def test_a_comparator_figure_changed_since_export_is_kept_or_a_conflict(
    store: Store, plan: MiniPlan, tmp_path: Path
) -> None:
    enter_comparator(store, plan, 50.0)
    out = tmp_path / "tracker.xlsx"
    export_workbook(store, out, today=dt.date(2022, 10, 1))
    other = store.another_writer()
    try:
        enter_comparator(other, plan, 52.0, actor="Jane Other")
    finally:
        other.close()
    # The workbook still says 50 for the GM average: theirs (52) is kept.
    (row,) = apply(store, prepare(out, kind="measures"), OPTIONS).plan.rows
    assert row.outcome is Outcome.UNCHANGED
    assert any(
        k.startswith("GM average 2022/23 Q1: kept 52, changed by Jane Other on ") for k in row.kept
    )
    assert stored_comparator(store, plan) == 52.0
    # The officer typed 55 offline: a conflict, refused unless chosen.
    wb = openpyxl.load_workbook(out)
    ws = wb["Values"]
    header = next(r for r in range(1, 8) if ws.cell(r, 1).value == "Measure ref")
    col = [c.value for c in ws[header]].index("GM average") + 1
    ws.cell(header + 1, col).value = 55.0
    edited = tmp_path / "comparator-edited.xlsx"
    wb.save(edited)
    (row,) = preview(store, prepare(edited, kind="measures"), OPTIONS).rows
    assert row.outcome is Outcome.REFUSE
    (conflict,) = row.conflicts
    assert (conflict.field, conflict.theirs, conflict.workbook) == (
        "GM average 2022/23 Q1",
        "52",
        "55",
    )
    with pytest.raises(SpreadsheetError, match="changed in the store by Jane Other"):
        apply(store, prepare(edited, kind="measures"), OPTIONS)
    assert stored_comparator(store, plan) == 52.0
    chosen = ImportOptions(quarter=Q2, today=OPTIONS.today, write_over=frozenset({row.row}))
    apply(store, prepare(edited, kind="measures"), chosen)
    assert stored_comparator(store, plan) == 55.0
