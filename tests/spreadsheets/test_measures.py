"""Importing measure data in long and wide form, with comparators and council periods."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import ValueStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Measure, MeasureValue
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.spreadsheets.importing import apply, known_comparators, prepare, preview
from ssp_desktop.spreadsheets.plan import Outcome
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan
from tests.spreadsheets.sheets import change_rows, write_csv, write_xlsx


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    return mini_plan(store)


def values(store: Store, measure_id: object) -> dict[Quarter, MeasureValue]:
    with store.session() as s:
        return {
            v.period: v
            for v in s.scalars(select(MeasureValue).where(MeasureValue.measure_id == measure_id))
        }


def test_long_form_with_comparators_status_and_note(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "perf.csv",
        [
            ["Measure", "Period", "Value", "GM", "Status", "Comments"],
            ["Feel safe", "2023/24 Q1", "85%", "80", "Final", "Survey wave 1"],
            ["M01", "Q2 2023/24", "86", "", "", ""],
        ],
    )
    prepared = prepare(path, comparators=known_comparators(store))
    assert prepared.kind == "measures"
    assert prepared.columns == (
        "measure_name", "period", "value", "comparator:GM average", "status", "note",
    )  # fmt: skip
    # "M01" is a ref in a name column: the name column finds it by name only.
    plan = preview(store, prepared)
    assert [r.outcome for r in plan.rows] == [Outcome.CREATE, Outcome.REFUSE]
    assert "no measure called 'M01'" in plan.rows[1].text


def test_long_form_by_ref_creates_then_updates(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    rows = [
        ["Ref", "Quarter", "Value", "GM average"],
        ["M01", "2023/24 Q1", 85, 80],
        ["M01", "Jul-Sep 2023", 86, None],
        ["M01", dt.datetime(2023, 12, 31), 84.5, 81],
    ]
    path = write_xlsx(tmp_path / "perf.xlsx", rows, sheet="Data")
    apply(store, prepare(path, comparators=["GM average"]))
    found = values(store, mini.measure.id)
    assert {q: v.value for q, v in found.items()} == {
        Quarter(2023, 1): 85,
        Quarter(2023, 2): 86,
        Quarter(2023, 3): 84.5,
    }
    assert found[Quarter(2023, 1)].comparator_values == {"GM average": 80}
    assert found[Quarter(2023, 1)].status is ValueStatus.PROVISIONAL
    rows[1][2] = 87
    path = write_xlsx(tmp_path / "perf2.xlsx", rows, sheet="Data")
    plan = preview(store, prepare(path, comparators=["GM average"]))
    assert [r.outcome for r in plan.rows] == [Outcome.UPDATE, Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert plan.rows[0].details == ("M01 2023/24 Q1: 85 → 87",)


def test_a_changed_value_keeps_what_the_sheet_does_not_say(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    with store.transaction() as tx:
        measure = tx.get(Measure, mini.measure.id)
        assert measure is not None
        services.record_value(
            tx,
            measure,
            Quarter(2023, 1),
            80,
            comparators={"GM average": 75},
            status=ValueStatus.FINAL,
            note="Survey wave 1",
            significant=True,
        )
    path = write_csv(tmp_path / "v.csv", [["Ref", "Quarter", "Value"], ["M01", "2023/24 Q1", 82]])
    result = apply(store, prepare(path))
    assert result.plan.rows[0].details == ("M01 2023/24 Q1: 80 → 82",)
    found = values(store, mini.measure.id)[Quarter(2023, 1)]
    assert (found.value, found.comparator_values, found.status, found.note) == (
        82,
        {"GM average": 75},
        ValueStatus.FINAL,
        "Survey wave 1",
    )
    assert found.significant is True


def test_wide_form_with_series_rows_for_comparators(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "wide.xlsx",
        [
            ["Measure", "Series", "2023/24 Q1", "Q2 2023/24", "Oct-Dec 2023", "2023-24 Q4"],
            ["Feel safe", "Stockport", 85, 86, None, 88],
            ["Feel safe", "GM", 80, 81, None, 82],
            ["Feel safe", "England", 79, None, None, 80],
        ],
    )
    prepared = prepare(path, comparators=known_comparators(store))
    assert prepared.columns[2:] == ("quarter_value",) * 4
    plan = preview(store, prepared)
    assert plan.count(Outcome.REFUSE) == 1  # Partnership area is "Testshire", not Stockport
    assert "series 'Stockport' is neither" in plan.rows[0].text
    path = write_xlsx(
        tmp_path / "wide2.xlsx",
        [
            ["Measure", "Series", "2023/24 Q1", "Q2 2023/24", "Oct-Dec 2023", "2023-24 Q4"],
            ["Feel safe", "Value", 85, 86, None, 88],
            ["Feel safe", "GM", 80, 81, None, 82],
            ["Feel safe", "England", 79, None, None, 80],
        ],
    )
    result = apply(store, prepare(path, comparators=known_comparators(store)))
    assert [(n.kind, n.name) for n in result.plan.new_records] == [("comparator", "England")]
    found = values(store, mini.measure.id)
    assert sorted(found) == [Quarter(2023, 1), Quarter(2023, 2), Quarter(2023, 4)]
    assert found[Quarter(2023, 1)].comparator_values == {"GM average": 80, "England": 79}
    assert found[Quarter(2023, 4)].value == 88
    with store.session() as s:
        measure = s.get(Measure, mini.measure.id)
        assert measure is not None and measure.comparator_names == ["GM average", "England"]


def test_unreadable_periods_are_refused(store: Store, mini: MiniPlan, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [["Ref", "Period", "Value"], ["M01", "Summer 2023", 80], ["M01", "2023/24 Q5", 80]],
    )
    before = change_rows(store)
    plan = preview(store, prepare(path))
    assert [r.outcome for r in plan.rows] == [Outcome.REFUSE, Outcome.REFUSE]
    assert "'Summer 2023' is not a quarter" in plan.rows[0].text
    assert "Q5 is not a quarter" in plan.rows[1].text
    with pytest.raises(SpreadsheetError, match="cannot be imported"):
        apply(store, prepare(path))
    assert change_rows(store) == before


def test_values_out_of_range_and_duplicates_are_refused(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["Ref", "Period", "Value"],
            ["M01", "2023/24 Q1", 120],
            ["M01", "2023/24 Q2", 80],
            ["M01", "Jul-Sep 2023", 81],
            ["M99", "2023/24 Q2", 81],
        ],
    )
    plan = preview(store, prepare(path))
    texts = [r.text for r in plan.rows]
    assert "A percentage cannot be over 100" in texts[0]
    assert "M01 2023/24 Q2 value is given also in row 4" in texts[1]
    assert "M01 2023/24 Q2 value is given also in row 3" in texts[2]
    assert "no measure with the ref 'M99'" in texts[3]


def test_long_and_wide_together_is_a_mapping_problem(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p.csv", [["Ref", "Period", "Value", "2023/24 Q1"], ["M01", "2023/24 Q2", 1, 2]]
    )
    prepared = prepare(path, kind="measures")
    assert any("Choose one layout" in p for p in prepared.problems)


def test_withheld_values_significance_and_rank_are_imported(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "perf.csv",
        [
            ["Ref", "Quarter", "Value", "GM average", "Status", "Note", "Significance", "Rank"],
            ["M01", "2023/24 Q1", "85", "80", "Final", "", "Yes", "3rd of 10 in GM"],
            ["M01", "2023/24 Q2", "", "81", "Withheld", "GMP data not validated", "", ""],
        ],
    )
    prepared = prepare(path, comparators=known_comparators(store))
    assert prepared.columns[-2:] == ("comparator_significant", "rank")
    apply(store, prepared)
    found = values(store, mini.measure.id)
    q1, q2 = found[Quarter(2023, 1)], found[Quarter(2023, 2)]
    assert (q1.comparator_significant, q1.rank) == (True, "3rd of 10 in GM")
    assert (q2.value, q2.status, q2.note) == (None, ValueStatus.WITHHELD, "GMP data not validated")


def test_a_withheld_value_without_its_reason_is_refused(
    store: Store, mini: MiniPlan, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "perf.csv",
        [
            ["Ref", "Quarter", "Value", "Status", "Note", "Significance"],
            ["M01", "2023/24 Q2", "", "Withheld", "", ""],
            ["M01", "2023/24 Q3", "80", "Final", "", "Perhaps"],
        ],
    )
    plan = preview(store, prepare(path, comparators=known_comparators(store)))
    assert [r.outcome for r in plan.rows] == [Outcome.REFUSE, Outcome.REFUSE]
    assert "a withheld value needs its reason in the Note column" in plan.rows[0].text
    assert "'Perhaps' is not Yes or No" in plan.rows[1].text
