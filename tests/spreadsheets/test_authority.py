"""Spreadsheet imports on a lead copy (issue 16): rows that would change what only the
master copy sets are refused one by one, with the editors' words; the rest import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from ssp_desktop.domain.enums import UpdateState
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    Measure,
    MeasureValue,
    PriorityArea,
    StoreMeta,
)
from ssp_desktop.domain.sync_records import ROLE_LEAD
from ssp_desktop.spreadsheets.importing import ImportOptions, apply, prepare, preview
from ssp_desktop.spreadsheets.plan import Outcome
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan
from tests.spreadsheets.sheets import TRACKER_HEADINGS, write_csv, write_xlsx

Q2 = Quarter(2023, 2)


@pytest.fixture
def lead(store: Store) -> MiniPlan:
    mini = mini_plan(store)
    with store.transaction(keeps_history=True) as tx:
        tx.session.add(StoreMeta(key="sync_role", value=ROLE_LEAD))
    return mini


def test_a_new_comparator_is_refused_on_a_lead_copy_and_the_rest_imports(
    store: Store, lead: MiniPlan, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "perf.csv",
        [
            ["Ref", "Quarter", "Value", "GM average", "England"],
            ["M01", "2023/24 Q1", "85", "80", ""],
            ["M01", "2023/24 Q2", "86", "", "79"],
        ],
    )
    prepared = prepare(path, comparators=["GM average", "England"])
    plan = preview(store, prepared)
    assert [r.outcome for r in plan.rows] == [Outcome.CREATE, Outcome.REFUSE]
    assert "M01 has no comparator England and only the master copy changes measure" in (
        plan.rows[1].text
    )
    apply(store, prepared, ImportOptions(skip_refused=True))
    with store.session() as s:
        found = {v.period: v for v in s.scalars(select(MeasureValue))}
        measure = s.get(Measure, lead.measure.id)
        assert measure is not None and measure.comparator_names == ["GM average"]
    assert set(found) == {Quarter(2023, 1)}
    assert found[Quarter(2023, 1)].state is UpdateState.DRAFT  # the lead submits it later


def test_a_tracker_row_needing_a_new_area_is_refused_on_a_lead_copy(
    store: Store, lead: MiniPlan, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "tracker.xlsx",
        [
            ["Tracker"],
            TRACKER_HEADINGS,
            ["PVP-01", "Fund IDVAs", "PVP", "Domestic abuse", *[None] * 6, "Amber"],
            ["PVP-02", "New work", "PVP", "A brand new area", *[None] * 6, "Green"],
        ],
    )
    options = ImportOptions(quarter=Q2, today=dt.date(2023, 10, 20), skip_refused=True)
    prepared = prepare(path)
    plan = preview(store, prepared, options)
    outcomes = {r.key: (r.outcome, r.text) for r in plan.rows}
    assert outcomes["PVP-02"][0] is Outcome.REFUSE
    assert "Only the master copy changes the plan's structure" in outcomes["PVP-02"][1]
    apply(store, prepared, options)
    with store.session() as s:
        assert s.scalar(select(Action).where(Action.ref == "PVP-02")) is None
        assert (
            s.scalar(select(PriorityArea).where(PriorityArea.title == "A brand new area")) is None
        )
        pvp01 = s.scalar(select(Action).where(Action.ref == "PVP-01"))
        assert pvp01 is not None and pvp01.rag is not None and pvp01.rag.word == "Amber"
