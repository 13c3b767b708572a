"""The exported workbook: what a spreadsheet user sees, and that re-importing it changes nothing."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.records import Action
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.spreadsheets.importing import apply, known_comparators, prepare, preview
from ssp_desktop.spreadsheets.plan import Outcome
from ssp_desktop.spreadsheets.workbook import DEFAULT_MARKING, SAMPLE_NOTE, export_workbook
from ssp_desktop.store.engine import Store
from tests.factories import mini_plan
from tests.spreadsheets.sheets import change_rows


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    store = Store.open(path, create=True)
    write_sample(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def sample_workbook(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "plan.xlsx"
    export_workbook(sample_store, out, today=dt.date(2024, 11, 21))
    return out


def test_sheets_headings_marking_and_sample_note(sample_workbook: Path) -> None:
    wb = openpyxl.load_workbook(sample_workbook)
    assert wb.sheetnames == ["Actions", "Updates", "Measures", "Values", "Funding"]
    for ws in wb.worksheets:
        assert ws["A1"].value == DEFAULT_MARKING
        assert ws["A3"].value == SAMPLE_NOTE
        assert ws.freeze_panes == "A5"
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A4:")
        assert ws.max_row > 5, ws.title
    actions = wb["Actions"]
    headings = [c.value for c in actions[4]]
    assert headings[:3] == ["Ref", "Action", "Description"]
    assert actions.column_dimensions["B"].width > actions.column_dimensions["A"].width


def test_dates_are_dates_and_rag_is_a_word_on_its_colour(sample_workbook: Path) -> None:
    ws = openpyxl.load_workbook(sample_workbook)["Actions"]
    headings = [c.value for c in ws[4]]
    due, rag = headings.index("Due date") + 1, headings.index("RAG") + 1
    due_cells = [ws.cell(r, due) for r in range(5, ws.max_row + 1) if ws.cell(r, due).value]
    assert due_cells and all(isinstance(c.value, dt.datetime) for c in due_cells)
    assert due_cells[0].number_format == "dd/mm/yyyy"
    colours = {"Red": "FFC7CE", "Amber": "FFEB9C", "Green": "C6EFCE"}
    rag_cells = [ws.cell(r, rag) for r in range(5, ws.max_row + 1) if ws.cell(r, rag).value]
    assert {c.value for c in rag_cells} <= set(colours)
    for cell in rag_cells:
        assert cell.fill.fgColor.rgb.endswith(colours[cell.value])


def test_reimporting_the_exported_workbook_changes_nothing(
    sample_store: Store, sample_workbook: Path
) -> None:
    before_rev, before_rows = sample_store.revision(), change_rows(sample_store)
    comparators = known_comparators(sample_store)
    actions = apply(sample_store, prepare(sample_workbook, kind="actions"))
    assert actions.plan.count(Outcome.UNCHANGED) == len(actions.plan.rows) > 30
    assert actions.plan.new_records == ()
    values = apply(sample_store, prepare(sample_workbook, kind="measures", comparators=comparators))
    assert values.plan.count(Outcome.UNCHANGED) == len(values.plan.rows) > 100
    assert (sample_store.revision(), change_rows(sample_store)) == (before_rev, before_rows)


def test_an_edit_made_in_the_workbook_comes_back_as_one_change(
    sample_store: Store, sample_workbook: Path, tmp_path: Path
) -> None:
    wb = openpyxl.load_workbook(sample_workbook)
    ws = wb["Actions"]
    headings = [c.value for c in ws[4]]
    ws.cell(5, headings.index("Status") + 1).value = "Complete"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    plan = preview(sample_store, prepare(edited, kind="actions"))
    changed = [r for r in plan.rows if r.outcome is not Outcome.UNCHANGED]
    assert len(changed) == 1 and changed[0].row == 5
    assert changed[0].outcome is Outcome.UPDATE
    assert changed[0].details[0].startswith("Status: ") and "→ Complete" in changed[0].details[0]


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+44 161", "-5% on 2023", "@all"])
def test_text_that_looks_like_a_formula_is_written_as_text(
    store: Store, tmp_path: Path, text: str
) -> None:
    mini = mini_plan(store)
    with store.transaction() as tx:
        action = tx.get(Action, mini.action.id)
        assert action is not None
        services.edit(tx, action, title=text)
    out = tmp_path / "plan.xlsx"
    export_workbook(store, out)
    sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    cell = openpyxl.load_workbook(out)["Actions"]["B4"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    before = store.revision()
    result = apply(store, prepare(out, kind="actions"))
    assert result.plan.count(Outcome.UNCHANGED) == 1
    assert store.revision() == before
    with store.session() as s:
        assert s.scalar(select(Action.title).where(Action.id == mini.action.id)) == text


def test_export_replaces_a_file_only_when_complete(store: Store, tmp_path: Path) -> None:
    mini_plan(store)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "plan.xlsx"
    out.write_bytes(b"old")
    export_workbook(store, out)
    assert out.read_bytes()[:2] == b"PK"
    assert sorted(p.name for p in folder.iterdir()) == ["plan.xlsx"]


def test_leading_spaces_and_line_breaks_survive_a_round_trip(store: Store, tmp_path: Path) -> None:
    """Issue 22: re-importing an exported workbook stripped leading whitespace, so an
    indented description read as a change."""
    mini = mini_plan(store)
    description = "  Steps:\n    - fund two IDVAs\n    - train staff  "
    with store.transaction() as tx:
        action = tx.get(Action, mini.action.id)
        assert action is not None
        services.edit(tx, action, description=description, title=" Fund IDVAs")
    out = tmp_path / "plan.xlsx"
    export_workbook(store, out)
    before = store.revision()
    result = apply(store, prepare(out, kind="actions"))
    assert result.plan.count(Outcome.UNCHANGED) == 1, result.plan.rows
    assert store.revision() == before
    with store.session() as s:
        assert s.scalar(select(Action.description).where(Action.id == mini.action.id)) == (
            description
        )


def test_a_control_character_left_in_an_old_store_does_not_stop_the_export(
    store: Store, tmp_path: Path
) -> None:
    """A store written before control characters were refused may hold one (raw SQL
    here, as an older version would have left it); the workbook is still written."""
    import sqlite3

    mini = mini_plan(store)
    conn = sqlite3.connect(store.path)
    conn.execute(
        "UPDATE action SET description = ? WHERE id = ?",
        ("bell\x07 and vertical\x0btab", mini.action.id.hex),
    )
    conn.commit()
    conn.close()
    out = tmp_path / "plan.xlsx"
    export_workbook(store, out)
    ws = openpyxl.load_workbook(out)["Actions"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "bell\ufffd and vertical\ufffdtab" in texts
