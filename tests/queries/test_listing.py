"""The rows and orders of the action and measure lists, on the sample plan (Qt-free)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.enums import ActionStatus, Frequency, Polarity, Rag, Unit, ValueStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ActionUpdate, Measure, MeasureValue
from ssp_desktop.domain.rules import Direction, FlagKind, measure_rag, travel_for
from ssp_desktop.queries import lists as listing
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.queries.lists import ActionSort, MeasureSort
from ssp_desktop.sample.plan import (
    SAMPLE_MEETING_DATE,
    SAMPLE_QUARTER,
    SampleSummary,
    write_sample,
)
from ssp_desktop.store.engine import Store
from tests.factories import mini_plan

REF = {"quarter": SAMPLE_QUARTER, "today": SAMPLE_MEETING_DATE}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, SampleSummary]]:
    store = Store.open(tmp_path_factory.mktemp("listing") / "s.sqlite", create=True)
    try:
        yield store, write_sample(store)
    finally:
        store.close()


@pytest.fixture
def session(sample: tuple[Store, SampleSummary]) -> Iterator[Session]:
    with sample[0].session() as s:
        yield s


@pytest.fixture
def plan_id(sample: tuple[Store, SampleSummary]) -> uuid.UUID:
    return sample[1].current_plan_id


@pytest.fixture
def statements(sample: tuple[Store, SampleSummary]) -> Iterator[list[str]]:
    """The SQL statements run while the test runs."""
    seen: list[str] = []

    def record(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            seen.append(str(args[2]))

    engine = sample[0].engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _by_ref(rows: list[listing.ActionListRow]) -> dict[str, listing.ActionListRow]:
    return {r.ref: r for r in rows}


# --------------------------------------------------------------------------- actions


def test_action_rows_show_the_planted_flags_and_no_others(
    session: Session, plan_id: uuid.UUID
) -> None:
    rows = listing.action_rows(session, plan_id, **REF)
    flagged = {r.ref: r.flag_kinds for r in rows if r.flags}
    assert flagged == {
        "PSP-05": (FlagKind.PAST_DUE_GREEN,),
        "PVP-07": (FlagKind.COMPLETE_NOT_GREEN,),
        "PVP-09": (FlagKind.NO_UPDATE,),
    }
    by_ref = _by_ref(rows)
    assert by_ref["PSP-05"].flags[0].message == (
        "Past its due date and not complete, but marked Green"
    )
    assert by_ref["PVP-09"].flags[0].message == "No update for 2024/25 Q2"
    assert [r.ref for r in rows if r.overdue] == ["PSP-05"]


def test_action_rows_carry_what_the_tracker_shows(session: Session, plan_id: uuid.UUID) -> None:
    row = _by_ref(listing.action_rows(session, plan_id, **REF))["PVP-01"]
    assert row.title.startswith("Maintain the Independent Domestic Violence Advocate (IDVA)")
    assert (row.priority_code, row.area) == ("PVP", "Domestic Abuse")
    assert (row.lead_organisation, row.lead_person) == ("SMBC", "Domestic Abuse Strategic Lead")
    assert (row.start, row.due) == (dt.date(2022, 4, 1), dt.date(2025, 3, 31))
    assert (row.status, row.rag, row.latest_quarter) == (
        ActionStatus.IN_PROGRESS,
        Rag.GREEN,
        SAMPLE_QUARTER,
    )
    assert row.latest_excerpt and len(row.latest_excerpt) <= listing.EXCERPT_LENGTH
    pvp09 = _by_ref(listing.action_rows(session, plan_id, **REF))["PVP-09"]
    assert pvp09.latest_quarter == SAMPLE_QUARTER.previous()


def test_action_rows_agree_with_the_domain(session: Session, plan_id: uuid.UUID) -> None:
    rows = listing.action_rows(session, plan_id, **REF)
    expected = plan_queries.actions_with_latest_update(session, plan_id)
    assert [r.ref for r in rows] == [e.action.ref for e in expected]
    for row, e in zip(rows, expected, strict=True):
        a = e.action
        assert (row.id, row.title, row.status, row.rag, row.start, row.due) == (
            a.id,
            a.title,
            a.status,
            a.rag,
            a.start_date,
            a.due_date,
        )
        assert row.lead_organisation_id == a.lead_organisation_id
        assert row.latest_quarter == (e.latest.quarter if e.latest else None)
        if e.latest is not None:
            assert row.latest_excerpt.rstrip("…") in " ".join(e.latest.narrative.split())


def test_action_rows_for_ids_keep_their_order_and_skip_strangers(
    session: Session, plan_id: uuid.UUID
) -> None:
    everything = listing.action_rows(session, plan_id, **REF)
    wanted = [everything[5].id, uuid.uuid4(), everything[0].id, everything[5].id]
    rows = listing.action_rows(session, plan_id, wanted, **REF)
    assert [r.id for r in rows] == [everything[5].id, everything[0].id]
    assert rows[0] == everything[5]


def test_rows_take_a_fixed_number_of_queries(
    session: Session, plan_id: uuid.UUID, statements: list[str]
) -> None:
    ids = listing.action_ids(session, plan_id)
    assert len(statements) == 1
    statements.clear()
    listing.action_rows(session, plan_id, **REF)
    assert len(statements) == 3
    statements.clear()
    listing.action_rows(session, plan_id, ids[:10], **REF)
    assert len(statements) == 3
    statements.clear()
    listing.measure_rows(session, plan_id, quarter=SAMPLE_QUARTER)
    assert len(statements) == 3


def test_action_ids_sort_in_the_store(session: Session, plan_id: uuid.UUID) -> None:
    rows = listing.action_rows(session, plan_id, **REF)
    refs = {r.id: r.ref for r in rows}

    def order(key: ActionSort, descending: bool = False) -> list[str]:
        return [refs[i] for i in listing.action_ids(session, plan_id, key, descending=descending)]

    assert order(ActionSort.REF) == sorted(refs.values())
    by_due = sorted(rows, key=lambda r: (r.due, r.ref))
    assert order(ActionSort.DUE) == [r.ref for r in by_due]
    due_desc = order(ActionSort.DUE, descending=True)
    dues = [next(r.due for r in rows if r.ref == ref) for ref in due_desc]
    assert dues == sorted(dues, reverse=True)
    # Ties keep ref order whichever way the column is sorted.
    same_day = [ref for ref in due_desc if ref in {"PSP-01", "PVP-01", "ROR-01"}]
    assert same_day == ["PSP-01", "PVP-01", "ROR-01"]

    rag_desc = order(ActionSort.RAG, descending=True)
    rags = [next(r.rag for r in rows if r.ref == ref) for ref in rag_desc]
    # Red first, then Amber, Green, and the unrated last.
    assert rags[0] is Rag.RED and rags[-1] is None
    severities = [rag.severity for rag in rags if rag is not None]
    assert severities == sorted(severities, reverse=True)
    assert order(ActionSort.RAG)[-1] == rag_desc[-1]  # blanks last both ways

    statuses = [next(r.status for r in rows if r.ref == ref) for ref in order(ActionSort.STATUS)]
    assert statuses == sorted(statuses, key=list(ActionStatus).index)

    lead_orgs = [
        next(r.lead_organisation for r in rows if r.ref == ref)
        for ref in order(ActionSort.LEAD_ORGANISATION)
    ]
    assert lead_orgs == sorted(lead_orgs, key=str.casefold)

    latest = order(ActionSort.LATEST_UPDATE)
    assert latest[0] == "PVP-04"  # its last update was 2022/23 Q4


def test_flags_sort_worst_first(session: Session, plan_id: uuid.UUID) -> None:
    rows = listing.action_rows(session, plan_id, **REF)
    refs = {r.id: r.ref for r in rows}
    ids = listing.action_ids(session, plan_id, ActionSort.FLAGS, descending=True, **REF)
    ordered = [refs[i] for i in ids]
    assert ordered[:3] == ["PSP-05", "PVP-09", "PVP-07"]
    assert ordered[3:] == sorted(ordered[3:])  # unflagged: last, in ref order
    ascending = [refs[i] for i in listing.action_ids(session, plan_id, ActionSort.FLAGS, **REF)]
    assert ascending[:3] == ["PVP-07", "PVP-09", "PSP-05"]


def test_blank_dates_sort_last_both_ways(store: Store) -> None:
    plan = mini_plan(store)
    with store.transaction(actor="test") as tx:
        area = tx.get(type(plan.area), plan.area.id)
        assert area is not None
        undated = services.add_action(tx, area, ref="PVP-00", title="No dates yet")
    with store.session() as s:
        for descending in (False, True):
            ids = listing.action_ids(s, plan.plan.id, ActionSort.DUE, descending=descending)
            assert ids == [plan.action.id, undated.id]


def test_reporting_quarter(session: Session, plan_id: uuid.UUID, store: Store) -> None:
    assert listing.reporting_quarter(session, plan_id, SAMPLE_MEETING_DATE) == SAMPLE_QUARTER
    # The last quarter to have ended, even if updates were written ahead of it: in May,
    # leads report on January-March.
    assert listing.reporting_quarter(session, plan_id, dt.date(2024, 5, 1)) == Quarter(2023, 4)
    # Within the plan's period: before it starts, its first quarter; after, its last.
    assert listing.reporting_quarter(session, plan_id, dt.date(2021, 6, 1)) == Quarter(2022, 1)
    assert listing.reporting_quarter(session, plan_id, dt.date(2027, 6, 1)) == Quarter(2024, 4)
    plan = mini_plan(store)
    with store.session() as s:
        assert listing.reporting_quarter(s, plan.plan.id, dt.date(2023, 8, 1)) == Quarter(2023, 1)


# --------------------------------------------------------------------------- measures


def test_measure_rows_agree_with_the_rules(session: Session, plan_id: uuid.UUID) -> None:
    rows = listing.measure_rows(session, plan_id, quarter=SAMPLE_QUARTER)
    measures = {m.id: m for m in session.scalars(select(Measure).where(Measure.plan_id == plan_id))}
    assert len(rows) == len(measures) >= 15
    for row in rows:
        m = measures[row.id]
        series = plan_queries.measure_series(session, m.id)
        values = {v.period: v.value for v in series if v.value is not None}
        latest = max(values)
        target = plan_queries.target_for(session, m.id, latest.fy)
        assert (row.latest_period, row.latest_value, row.target) == (
            latest,
            values[latest],
            target,
        )
        assessment = measure_rag(values[latest], target, m.polarity, m.tolerance, m.tolerance_mode)
        assert (row.rag, row.rag_reason) == (assessment.rag, assessment.reason)
        significance = {v.period: v.significant for v in series}
        previous, year_ago = travel_for(
            values, latest, m.polarity, m.stable_threshold, significance
        )
        assert row.travel == (year_ago if m.frequency is Frequency.ANNUAL else previous)
        if m.polarity is Polarity.TRACKER:
            assert row.rag is None and row.target is None


def test_knife_crime_is_red_and_worsening(session: Session, plan_id: uuid.UUID) -> None:
    rows = {r.ref: r for r in listing.measure_rows(session, plan_id, quarter=SAMPLE_QUARTER)}
    knife = rows["PSP-M4"]
    assert knife.name == "Knife crime offences"
    assert (knife.rag, knife.travel.direction) == (Rag.RED, Direction.WORSENING)
    assert knife.direction_text == "↑ Worsening"
    assert (knife.value_text, knife.target_text) == ("61", "46")
    assert knife.latest_status is ValueStatus.PROVISIONAL
    feel_safe = rows["PSP-M1"]
    assert feel_safe.unit is Unit.PERCENT and feel_safe.comparator_text.startswith("GM average: ")
    assert feel_safe.value_text.endswith("%")


def test_a_missing_latest_value_is_overdue(session: Session, plan_id: uuid.UUID) -> None:
    rows = listing.measure_rows(session, plan_id, quarter=SAMPLE_QUARTER)
    overdue = [r for r in rows if r.value_overdue]
    assert [r.ref for r in overdue] == ["PSP-M3"]
    assert overdue[0].latest_period == SAMPLE_QUARTER.previous()
    # Annual measures are due at Q4: not overdue in Q2.
    annual = [r for r in rows if r.frequency is Frequency.ANNUAL]
    assert annual and all(r.latest_period == Quarter(2023, 4) for r in annual)


def test_measure_ids_sort(session: Session, plan_id: uuid.UUID) -> None:
    rows = {r.id: r for r in listing.measure_rows(session, plan_id, quarter=SAMPLE_QUARTER)}
    by_rag = [
        rows[i] for i in listing.measure_ids(session, plan_id, MeasureSort.RAG, descending=True)
    ]
    assert by_rag[0].ref == "PSP-M4"
    assert all(r.rag is None for r in by_rag if r.polarity is Polarity.TRACKER)
    assert by_rag[-1].rag is None
    by_name = [rows[i].name for i in listing.measure_ids(session, plan_id, MeasureSort.NAME)]
    assert by_name == sorted(by_name, key=str.casefold)
    by_value = [
        rows[i].latest_value for i in listing.measure_ids(session, plan_id, MeasureSort.VALUE)
    ]
    assert by_value == sorted(v for v in by_value if v is not None)
    by_direction = [
        rows[i].travel.direction
        for i in listing.measure_ids(session, plan_id, MeasureSort.DIRECTION, descending=True)
    ]
    assert by_direction[0] is Direction.WORSENING


# --------------------------------------------------------------------------- choices, changes


def test_filter_choices(session: Session, plan_id: uuid.UUID) -> None:
    priorities = [c.label for c in listing.priority_choices(session, plan_id)]
    assert [p.split()[0] for p in priorities] == ["PVP", "PSP", "ROR"]
    leads = [c.label for c in listing.lead_organisation_choices(session, plan_id)]
    assert "GMP (Greater Manchester Police)" in leads
    assert leads == sorted(leads, key=str.casefold)
    owners = {c.label for c in listing.owner_organisation_choices(session, plan_id)}
    assert "SMBC (Stockport Council)" in owners


def test_changes_map_to_the_rows_they_touch(session: Session, plan_id: uuid.UUID) -> None:
    update = session.scalar(select(ActionUpdate).limit(1))
    assert update is not None
    touched = listing.actions_touched(session, [("action_update", update.id)])
    assert touched.ids == {update.action_id} and not touched.every_row
    assert listing.actions_touched(session, [("organisation", uuid.uuid4())]).every_row
    assert not listing.actions_touched(session, [("funding_award", uuid.uuid4())])
    action = session.scalar(select(Action).limit(1))
    assert action is not None
    assert listing.actions_touched(session, [("action", action.id)]).ids == {action.id}
    measure = session.scalar(select(Measure).limit(1))
    assert measure is not None
    value_id = MeasureValue.make_id(measure.id, SAMPLE_QUARTER)
    assert listing.measures_touched(session, [("measure_value", value_id)]).ids == {measure.id}
    assert listing.measures_touched(session, [("person", uuid.uuid4())]).every_row


# --------------------------------------------------------------------------- helpers


def test_text_helpers() -> None:
    assert listing.excerpt("  short\n text ") == "short text"
    long = "word " * 60
    cut = listing.excerpt(long, 40)
    assert cut.endswith("…") and len(cut) <= 40 and "  " not in cut
    assert listing.short_date(dt.date(2024, 6, 30)) == "30 Jun 2024"
    assert listing.short_date(None) == ""
    assert listing.format_value(92.04, Unit.PERCENT, 1) == "92.0%"
    assert listing.format_value(1602, Unit.COUNT, 0) == "1,602"
    assert listing.format_value(None, Unit.RATE, 2) == ""
    assert listing.format_value(float("nan"), Unit.RATE, 2) == ""


def test_row_search_matches_every_word(session: Session, plan_id: uuid.UUID) -> None:
    row = _by_ref(listing.action_rows(session, plan_id, **REF))["PVP-01"]
    assert row.matches(("idva", "smbc"))
    assert row.matches(("pvp-01",))
    assert not row.matches(("idva", "gmp"))
    assert row.matches(())
