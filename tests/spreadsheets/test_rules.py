"""A rule of the plan broken in a spreadsheet: refused in the preview with the message the
form gives (the services' own rules judge both), and not written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, Measure, MeasureValue, Organisation
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.spreadsheets.importing import ImportOptions, apply, prepare, preview
from ssp_desktop.spreadsheets.plan import Outcome
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan
from tests.spreadsheets.sheets import TRACKER_HEADINGS, change_rows, write_csv, write_xlsx

OPTIONS = ImportOptions(quarter=Quarter(2024, 2), today=dt.date(2024, 10, 20))


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    return mini_plan(store)


def form_message(store: Store, cls: type[Record], record_id: Any, field: str, value: Any) -> str:
    """What the form says under the field when ``value`` is typed into it."""
    with store.session() as s:
        record = s.get(cls, record_id)
        assert record is not None
        with pytest.raises(ValidationError) as refused:
            services.check_field(s, record, field, value)
    return str(refused.value)


def tracker(tmp_path: Path, rows: list[list[object]]) -> Path:
    return write_xlsx(tmp_path / "tracker.xlsx", [TRACKER_HEADINGS, *rows])


def test_due_date_before_start_gives_the_forms_message(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    due = dt.date(2020, 1, 1)
    said = form_message(store, Action, mini.action.id, "due_date", due)
    assert said == "The due date is before the start date"
    path = tracker(tmp_path, [["PVP-01", *[None] * 7, dt.datetime(2020, 1, 1)]])
    (row,) = preview(store, prepare(path), OPTIONS).rows
    assert (row.outcome, row.details) == (Outcome.REFUSE, (said,))
    before = change_rows(store)
    with pytest.raises(SpreadsheetError, match=f"row 2 PVP-01: {said}"):
        apply(store, prepare(path), OPTIONS)
    assert change_rows(store) == before


def test_a_new_actions_dates_are_judged_together(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-02", "Backwards", "PVP", "Domestic abuse", *[None] * 3,
             "01/04/2025", "01/04/2024"],
            ["PVP-03", "Forwards", "PVP", "Domestic abuse", *[None] * 3,
             "01/04/2024", "01/04/2025"],
        ],
    )  # fmt: skip
    result = apply(store, prepare(path), ImportOptions(quarter=Quarter(2024, 2), skip_refused=True))
    refused, made = result.plan.rows
    assert refused.details == ("The due date is before the start date",)
    assert made.outcome is Outcome.CREATE and result.skipped == 1
    with store.session() as s:
        refs = set(s.scalars(select(Action.ref)))
    assert refs == {"PVP-01", "PVP-03"}


def test_dates_moved_past_the_old_due_date_are_written(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    # The start moves beyond the old due date (31/03/2023): fine with the new due date.
    path = tracker(tmp_path, [["PVP-01", *[None] * 6, "01/04/2030", "31/03/2031"]])
    result = apply(store, prepare(path), OPTIONS)
    assert result.plan.count(Outcome.UPDATE) == 1
    with store.session() as s:
        action = s.get(Action, mini.action.id)
        assert action is not None
        assert (action.start_date, action.due_date) == (dt.date(2030, 4, 1), dt.date(2031, 3, 31))


def test_a_ref_too_long_gives_the_forms_message(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    ref = "PVP-" + "9" * 21
    said = form_message(store, Action, mini.action.id, "ref", ref)
    assert said == "Ref is too long: 25 characters, at most 20 are allowed"
    path = tracker(tmp_path, [[ref, "Long ref", "PVP", "Domestic abuse"]])
    (row,) = preview(store, prepare(path), OPTIONS).rows
    assert (row.outcome, row.details) == (Outcome.REFUSE, (said,))


def test_an_organisation_name_too_long_gives_the_forms_message(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    name = "Safer Streets " + "x" * 200
    said = form_message(store, Organisation, mini.org.id, "name", name)
    assert said == "Name is too long: 214 characters, at most 200 are allowed"
    path = tracker(tmp_path, [["PVP-01", *[None] * 3, name]])
    plan = preview(store, prepare(path), OPTIONS)
    (row,) = plan.rows
    assert row.outcome is Outcome.REFUSE
    assert row.details == (f"the organisation 'Safer Streets xxxxxxxxxxxxxxxxxxxxxxx...': {said}",)
    assert plan.new_records == () and plan.unknowns == ()


def test_a_percentage_over_100_gives_the_forms_message(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    with store.transaction() as tx:
        measure = tx.get(Measure, mini.measure.id)
        assert measure is not None
        services.record_value(tx, measure, Quarter(2023, 1), 80)
    value_id = MeasureValue.make_id(mini.measure.id, Quarter(2023, 1))
    said = form_message(store, MeasureValue, value_id, "value", 120)
    assert said == "A percentage cannot be over 100"
    path = write_csv(
        tmp_path / "values.csv",
        [["Ref", "Quarter", "Value"], ["M01", "2023/24 Q1", 120], ["M01", "2023/24 Q2", 90]],
    )
    plan = preview(store, prepare(path))
    assert [r.outcome for r in plan.rows] == [Outcome.REFUSE, Outcome.CREATE]
    assert plan.rows[0].details == (f"Value (column C): {said}",)
    before = change_rows(store)
    with pytest.raises(SpreadsheetError, match=said):
        apply(store, prepare(path))
    assert change_rows(store) == before


def test_records_named_only_by_refused_rows_are_not_made(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = tracker(
        tmp_path,
        [
            ["PVP-02", "Train staff", "PVP", "Domestic abuse", "Youth Service"],
            ["PVP-03", "Bad RAG", "PVP", "Domestic abuse", "Housing Trust", *[None] * 5, "Blue"],
        ],
    )
    plan = preview(store, prepare(path), OPTIONS)
    assert [(n.kind, n.name) for n in plan.new_records] == [("organisation", "Youth Service")]
    apply(store, prepare(path), ImportOptions(quarter=Quarter(2024, 2), skip_refused=True))
    with store.session() as s:
        names = set(s.scalars(select(Organisation.name)))
    assert "Youth Service" in names and "Housing Trust" not in names
