"""Importing an action tracker: preview, create and update by ref, refusals, one transaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ssp_desktop.domain.enums import ActionStatus, Rag, UpdateState
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
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.spreadsheets.importing import ImportOptions, apply, prepare, preview
from ssp_desktop.spreadsheets.mapping import Mapping
from ssp_desktop.spreadsheets.plan import Outcome
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan
from tests.spreadsheets.sheets import TRACKER_HEADINGS, change_rows, write_csv, write_xlsx

Q2 = Quarter(2024, 2)
OPTIONS = ImportOptions(quarter=Q2, today=dt.date(2024, 10, 20))


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    return mini_plan(store)


def tracker(tmp_path: Path, rows: list[list[object]], name: str = "tracker.xlsx") -> Path:
    return write_xlsx(
        tmp_path / name, [["Safer Testshire action tracker"], TRACKER_HEADINGS, *rows]
    )


def action(store: Store, ref: str) -> Action | None:
    with store.session() as s:
        return s.scalar(select(Action).where(Action.ref == ref, Action.deleted_at.is_(None)))


def test_preview_says_per_row_what_will_happen_and_writes_nothing(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-01", "Fund IDVAs", "PVP", "Domestic abuse", "Police", "Superintendent", None,
             None, None, "In progress", "Amber", "Two IDVAs in post"],
            ["PVP-02", "Train staff", "PVP", "Domestic abuse", "Police", None, None,
             dt.datetime(2024, 4, 1), dt.datetime(2025, 3, 31), "Not started", None, None],
            ["PVP-03", "Bad dates", "PVP", "Domestic abuse", None, None, None,
             None, "end of March", None, None, None],
        ],
    )  # fmt: skip
    before = store.revision()
    prepared = prepare(path)
    assert prepared.kind == "actions"
    plan = preview(store, prepared, OPTIONS)
    assert store.revision() == before
    by_ref = {r.key: r for r in plan.rows}
    assert by_ref["PVP-01"].outcome is Outcome.UPDATE
    assert "Status: Not started → In progress" in by_ref["PVP-01"].details
    assert any("Update for 2024/25 Q2: new" in d for d in by_ref["PVP-01"].details)
    assert by_ref["PVP-02"].outcome is Outcome.CREATE
    assert by_ref["PVP-03"].outcome is Outcome.REFUSE
    assert "Due date (column I): 'end of March' is text, not a date" in by_ref["PVP-03"].text
    assert plan.summary() == "Actions: 1 new, 1 updated, 0 unchanged, 1 refused."


def test_a_refused_row_refuses_the_whole_import(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-02", "Train staff", "PVP", "Domestic abuse"],
            ["PVP-03", "Bad RAG", "PVP", "Domestic abuse", *[None] * 6, "Blue"],
        ],
    )
    before = change_rows(store)
    with pytest.raises(SpreadsheetError, match=r"row 4 PVP-03: RAG \(column K\): 'Blue'"):
        apply(store, prepare(path), OPTIONS)
    assert change_rows(store) == before
    assert action(store, "PVP-02") is None


def test_skip_refused_imports_the_others(store: Store, mini: MiniPlan, tmp_path: Path) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-02", "Train staff", "PVP", "Domestic abuse"],
            ["PVP-03", "Bad RAG", "PVP", "Domestic abuse", *[None] * 6, "Blue"],
        ],
    )
    result = apply(store, prepare(path), ImportOptions(quarter=Q2, skip_refused=True))
    assert result.skipped == 1
    assert action(store, "PVP-02") is not None
    assert action(store, "PVP-03") is None


def test_apply_creates_updates_and_logs_one_change_set_from_the_file(
    store: Store, mini: MiniPlan, tmp_path: Path
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
    result = apply(store, prepare(path), OPTIONS, actor="importer")
    assert result.applied
    with store.session() as s:
        sources = set(s.scalars(select(ChangeLog.source)).all()) - {"local"}
        change_sets = set(
            s.scalars(select(ChangeLog.change_set).where(ChangeLog.source != "local"))
        )
        assert sources == {"import:tracker.xlsx"}
        assert len(change_sets) == 1
        pvp = s.scalar(select(Action).where(Action.ref == "PVP-01"))
        assert pvp is not None
        assert (pvp.status, pvp.rag) == (ActionStatus.IN_PROGRESS, Rag.AMBER)
        partner_names = sorted(
            s.scalars(
                select(Organisation.name)
                .join(ActionPartner, ActionPartner.organisation_id == Organisation.id)
                .where(ActionPartner.action_id == pvp.id)
            )
        )
        assert partner_names == ["Council", "Probation"]
        update = s.scalar(select(ActionUpdate).where(ActionUpdate.action_id == pvp.id))
        assert update is not None
        assert (update.quarter, update.narrative, update.rag) == (
            Q2,
            "Two IDVAs in post",
            Rag.AMBER,
        )
        assert update.state is UpdateState.SUBMITTED
        rch = s.scalar(select(Action).where(Action.ref == "RCH-01"))
        assert rch is not None
        assert (rch.start_date, rch.due_date) == (dt.date(2024, 4, 1), dt.date(2025, 3, 31))
        assert rch.status is ActionStatus.IN_PROGRESS and rch.rag is Rag.GREEN
        area = s.get(PriorityArea, rch.priority_area_id)
        assert area is not None and area.title == "Anti-social behaviour"
        priority = s.get(Priority, area.priority_id)
        assert priority is not None
        assert (priority.code, priority.title) == ("RCAH", "Reducing crime and harm")
        lead = s.get(Person, rch.lead_person_id)
        assert lead is not None and lead.name == "ASB Manager"
    assert result.summary() == (
        "Actions: 1 new, 1 updated, 0 unchanged, 0 refused. Also new: 1 area for action, "
        "3 organisations, 1 person, 1 priority."
    )


def test_importing_the_same_tracker_again_changes_nothing(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = tracker(
        tmp_path,
        [["PVP-05", "New work", "PVP", "Domestic abuse", "Police", None, "Council", None, None,
          "In progress", "Green", "Going well"]],
    )  # fmt: skip
    apply(store, prepare(path), OPTIONS)
    before = store.revision()
    again = apply(store, prepare(path), OPTIONS)
    assert again.plan.count(Outcome.UNCHANGED) == 1
    assert store.revision() == before


def test_a_changed_update_supersedes_the_old_one(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    first = tracker(tmp_path, [["PVP-01", *[None] * 9, "Amber", "Recruiting"]], "q2a.xlsx")
    second = tracker(tmp_path, [["PVP-01", *[None] * 9, "Green", "Both IDVAs in post"]], "q2b.xlsx")
    apply(store, prepare(first), OPTIONS)
    apply(store, prepare(second), OPTIONS)
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


def test_duplicate_refs_are_refused(store: Store, mini: MiniPlan, tmp_path: Path) -> None:
    path = tracker(
        tmp_path,
        [["PVP-07", "One", "PVP", "Domestic abuse"], ["pvp-07", "Two", "PVP", "Domestic abuse"]],
    )
    plan = preview(store, prepare(path), OPTIONS)
    assert [r.outcome for r in plan.rows] == [Outcome.REFUSE, Outcome.REFUSE]
    assert "appears on more than one row" in plan.rows[0].text


def test_formulas_in_imported_columns_are_refused_naming_the_cell(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = tracker(
        tmp_path,
        [["PVP-02", "Train staff", "PVP", "Domestic abuse", None, None, None, None, "=H3+90"]],
    )
    with pytest.raises(SpreadsheetError, match=r"I3 \(=H3\+90\) hold formulas.*Paste Special"):
        preview(store, prepare(path), OPTIONS)


def test_formulas_in_ignored_columns_do_not_matter(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [["Ref", "Action", "Days left"], ["PVP-02", "Train staff", "=TODAY()-1"]],
        sheet="Actions",
    )
    prepared = prepare(path, kind="actions")
    assert prepared.columns == ("ref", "title", "ignore")
    plan = preview(store, prepared, OPTIONS)
    assert plan.rows[0].outcome is Outcome.REFUSE  # no area: but not for the formula
    assert "needs an area" in plan.rows[0].text


def test_unknown_organisations_are_listed_with_a_suggestion_and_can_be_mapped(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = tracker(tmp_path, [["PVP-01", *[None] * 3, "Polise"]])
    prepared = prepare(path)
    plan = preview(store, prepared, OPTIONS)
    (unknown,) = plan.unknowns
    assert (unknown.kind, unknown.name, unknown.suggestion) == ("organisation", "Polise", "Police")
    assert [(n.kind, n.name) for n in plan.new_records] == [("organisation", "Polise")]
    mapped = prepared.with_decisions({"Polise": "Police"}, {})
    plan = preview(store, mapped, OPTIONS)
    assert plan.new_records == ()
    assert plan.rows[0].outcome is Outcome.UNCHANGED  # Police leads it already


def test_a_mapping_to_a_missing_organisation_is_refused(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = tracker(tmp_path, [["PVP-01", *[None] * 3, "GMP"]])
    prepared = prepare(path).with_decisions({"GMP": "Greater Manchester Police"}, {})
    plan = preview(store, prepared, OPTIONS)
    assert "no such organisation" in plan.rows[0].text


def test_saved_mapping_reads_unusual_headings_next_quarter(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    rows = [["Our no.", "What", "Colour"], ["PVP-01", "Fund IDVAs", "Red"]]
    path = write_csv(tmp_path / "q3.csv", rows)
    prepared = prepare(path, kind="actions")
    assert prepared.problems  # "Our no." is not a heading anyone would guess
    chosen = prepared.with_columns(["ref", "title", "rag"]).with_decisions({}, {})
    saved = tmp_path / "mapping.json"
    chosen.mapping_to_save().save(saved)
    again = prepare(path, mapping=Mapping.load(saved))
    assert again.columns == ("ref", "title", "rag") and not again.problems
    apply(store, again, OPTIONS)
    found = action(store, "PVP-01")
    assert found is not None and found.rag is Rag.RED


def test_a_bad_mapping_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    head = '"format": "ssp-desktop spreadsheet mapping", "version": 1, "kind": "actions"'
    bad.write_text("{" + head + ', "columns": {"A": "nonsense"}}')
    with pytest.raises(SpreadsheetError, match="not one of"):
        Mapping.load(bad)
    bad.write_text('{"format": "ssp-desktop spreadsheet mapping", "format": "x"}')
    with pytest.raises(SpreadsheetError, match="appears twice"):
        Mapping.load(bad)


def test_no_ref_column_is_a_mapping_problem(store: Store, mini: MiniPlan, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["Action", "RAG"], ["Fund IDVAs", "Red"]])
    prepared = prepare(path, kind="actions")
    assert any("No column is the action's Ref" in p for p in prepared.problems)
    with pytest.raises(SpreadsheetError, match="Nothing was imported"):
        preview(store, prepared, OPTIONS)


def test_cancel_leaves_nothing_half_imported(store: Store, mini: MiniPlan, tmp_path: Path) -> None:
    rows = [[f"NEW-{i:03d}", f"Action {i}", "PVP", "Domestic abuse"] for i in range(250)]
    path = tracker(tmp_path, rows)
    before = change_rows(store)
    calls = []

    def on_step(done: int, total: int, text: str) -> None:
        calls.append(done)
        if done >= 100:
            progress.cancel()

    progress = Progress(on_step)
    with pytest.raises(Cancelled):
        apply(store, prepare(path), OPTIONS, progress=progress)
    assert calls and change_rows(store) == before
    assert action(store, "NEW-000") is None


def test_a_new_action_without_an_area_or_priority_is_refused(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "t.csv", [["Ref", "Action"], ["X-1", "Something"]])
    plan = preview(store, prepare(path, kind="actions"), OPTIONS)
    assert "needs an area for action" in plan.rows[0].text


def test_due_before_start_is_refused(store: Store, mini: MiniPlan, tmp_path: Path) -> None:
    path = tracker(tmp_path, [["PVP-01", *[None] * 7, "01/01/2020"]])
    plan = preview(store, prepare(path), OPTIONS)
    assert plan.rows[0].details == ("The due date is before the start date",)


def test_a_saved_mapping_finds_next_quarters_renamed_sheet(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    q2 = write_xlsx(tmp_path / "q2.xlsx", [["No.", "RAG"], ["PVP-01", "Amber"]], sheet="Q2")
    mapping = prepare(q2, kind="actions").with_columns(["ref", "rag"]).mapping_to_save()
    assert mapping.sheet == "Q2"
    q3 = write_xlsx(tmp_path / "q3.xlsx", [["No.", "RAG"], ["PVP-01", "Red"]], sheet="Q3")
    prepared = prepare(q3, mapping=mapping)
    assert (prepared.table.sheet, prepared.columns) == ("Q3", ("ref", "rag"))


def test_a_title_merged_over_two_actions_is_refused_not_copied(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    """Issue 22: a data cell merged down copied the row above's title to the next action."""
    blank = [None] * (len(TRACKER_HEADINGS) - 4)
    path = tracker(
        tmp_path,
        [
            ["PVP-05", "Fund IDVAs", "PVP", "Domestic abuse", *blank],
            ["PVP-06", None, "PVP", "Domestic abuse", *blank],
        ],
    )
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("B3:B4")  # type: ignore[union-attr]
    wb.save(path)
    plan = preview(store, prepare(path), OPTIONS)
    by_ref = {r.key: r for r in plan.rows}
    assert by_ref["PVP-05"].outcome is Outcome.CREATE
    assert by_ref["PVP-06"].outcome is Outcome.REFUSE
    assert "Action (column B) is in merged cells B3:B4" in by_ref["PVP-06"].text


@pytest.mark.parametrize("bad", ["\x0b", "\x07", "\x00", "\u202e"])
def test_control_characters_in_a_csv_are_refused_with_the_row(
    store: Store, mini: MiniPlan, tmp_path: Path, bad: str
) -> None:
    blank = [None] * (len(TRACKER_HEADINGS) - 4)
    path = tmp_path / "t.csv"
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(TRACKER_HEADINGS)
        writer.writerow(["PVP-05", f"Fund{bad}IDVAs", "PVP", "Domestic abuse", *blank])
    if bad == "\x00":  # a NUL byte makes the file binary: refused as not a CSV at all
        with pytest.raises(SpreadsheetError, match="not a spreadsheet"):
            prepare(path)
        return
    before = store.revision()
    plan = preview(store, prepare(path), OPTIONS)
    (row,) = plan.rows
    assert row.outcome is Outcome.REFUSE
    assert f"U+{ord(bad):04X}" in row.text and "control character" in row.text
    assert store.revision() == before
