"""Tests for one person's quarter (queries.quarter_status), on the sample plan and on
small hand-built plans: what is listed, what counts as done, and the entry rules."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.enums import (
    ActionStatus,
    Frequency,
    Polarity,
    Rag,
    ToleranceMode,
    Unit,
    UpdateState,
    ValueStatus,
)
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Action, Measure, Person, Plan
from ssp_desktop.domain.rules import FlagKind
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.queries.quarter_status import (
    QuarterStatus,
    parse_value,
    people_with_work,
    plan_quarters,
    quarter_status,
    reporting_quarter,
    submission_problem,
)
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE, SAMPLE_QUARTER, write_sample
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q = Quarter
TODAY = dt.date(2024, 11, 21)
QUARTER = Q(2023, 2)  # the small plans' reporting quarter


# --------------------------------------------------------------------------- sample plan


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, uuid.UUID]]:
    # Read-only tests share one sample store: writing it takes about a second.
    store = Store.open(tmp_path_factory.mktemp("sample") / "sample.sqlite", create=True)
    summary = write_sample(store)
    yield store, summary.current_plan_id
    store.close()


def _person(session: Session, role: str) -> uuid.UUID:
    person_id = session.scalar(select(Person.id).where(Person.role_title == role))
    assert person_id is not None, role
    return person_id


def _sample_status(sample: tuple[Store, uuid.UUID], role: str, quarter: Quarter) -> QuarterStatus:
    store, plan_id = sample
    with store.session() as session:
        return quarter_status(session, plan_id, _person(session, role), quarter, TODAY)


# fmt: off
SAMPLE_CASES = [
    # role, quarter, actions listed, measures listed, progress, missing
    pytest.param(
        "Education Safeguarding Lead", SAMPLE_QUARTER, ["PSP-06", "PVP-09"], ["PVP-M6"],
        "1 of 2 actions updated · no measures due · 1 submitted", ("PVP-09 update",),
        id="pvp-09-has-no-update-and-the-annual-measure-is-not-due",
    ),
    pytest.param(
        "Chief Inspector, Neighbourhood Policing", SAMPLE_QUARTER,
        ["PSP-03", "PSP-04", "PSP-08", "PSP-11", "ROR-08"], ["PSP-M2", "PSP-M3", "PSP-M4"],
        "5 of 5 actions updated · 2 of 3 measures entered · 5 submitted", ("PSP-M3 value",),
        id="a-value-record-without-a-figure-is-missing",
    ),
    pytest.param(
        "Domestic Abuse Strategic Lead", SAMPLE_QUARTER, ["PVP-01"], ["PVP-M2"],
        "1 of 1 actions updated · 1 of 1 measures entered · 1 submitted", (),
        id="complete-actions-are-not-listed",
    ),
    pytest.param(
        "Service Manager, Restorative Justice", SAMPLE_QUARTER, ["ROR-09"], [],
        "1 of 1 actions updated · no measures due · 1 submitted", (),
        id="an-action-starting-after-the-quarter-is-not-listed",
    ),
    pytest.param(
        "Education Safeguarding Lead", Q(2022, 1), ["PSP-06"], ["PVP-M6"],
        "1 of 1 actions updated · no measures due · 1 submitted", (),
        id="pvp-09-starts-in-september-2022",
    ),
    pytest.param(
        "Head of Service, Probation", Q(2023, 4),
        ["ROR-01", "ROR-02", "ROR-03", "ROR-04", "ROR-05", "ROR-07", "ROR-08", "ROR-09"],
        ["ROR-M1", "ROR-M2", "ROR-M3", "ROR-M4", "ROR-M5"],
        "8 of 8 actions updated · 5 of 5 measures entered · 8 submitted", (),
        id="a-theme-lead-sees-their-whole-theme-and-the-annual-measure-is-due-in-q4",
    ),
    pytest.param(
        "Senior Performance Analyst", SAMPLE_QUARTER, [], ["PVP-M1", "PSP-M1"],
        "no actions to update · 2 of 2 measures entered · 0 submitted", (),
        id="survey-wave-measures-are-due-like-quarterly-ones",
    ),
    pytest.param(
        "Superintendent, Stockport District", SAMPLE_QUARTER,
        ["PSP-01", "PSP-03", "PSP-04", "PSP-05", "PSP-06", "PSP-08", "PSP-09", "PSP-10",
         "PSP-11", "PSP-12"],
        ["PSP-M1", "PSP-M2", "PSP-M3", "PSP-M4", "PSP-M5", "PSP-M6"],
        "10 of 10 actions updated · 5 of 6 measures entered · 10 submitted", ("PSP-M3 value",),
        id="a-theme-lead-with-no-actions-of-their-own-sees-their-theme",
    ),
]
# fmt: on


@pytest.mark.parametrize(
    ("role", "quarter", "actions", "measures", "progress", "missing"), SAMPLE_CASES
)
def test_sample_quarters(
    sample: tuple[Store, uuid.UUID],
    role: str,
    quarter: Quarter,
    actions: list[str],
    measures: list[str],
    progress: str,
    missing: tuple[str, ...],
) -> None:
    status = _sample_status(sample, role, quarter)
    assert [a.ref for a in status.actions] == actions
    assert [m.ref for m in status.measures] == measures
    assert status.progress_text == progress
    assert status.missing == missing


def test_missing_text_names_what_is_left(sample: tuple[Store, uuid.UUID]) -> None:
    status = _sample_status(sample, "Education Safeguarding Lead", SAMPLE_QUARTER)
    assert status.missing_text == "Still missing: PVP-09 update."
    done = _sample_status(sample, "Domestic Abuse Strategic Lead", SAMPLE_QUARTER)
    assert done.missing_text == "Nothing missing for 2024/25 Q2."


def test_an_action_without_an_update_is_flagged_and_keeps_its_own_rag(
    sample: tuple[Store, uuid.UUID],
) -> None:
    status = _sample_status(sample, "Education Safeguarding Lead", SAMPLE_QUARTER)
    pvp09 = next(a for a in status.actions if a.ref == "PVP-09")
    assert pvp09.update is None and not pvp09.updated
    assert pvp09.rag is Rag.GREEN  # from its 2024/25 Q1 update, the newest
    assert [f.kind for f in pvp09.flags] == [FlagKind.NO_UPDATE]
    assert pvp09.flag_words == "No update for 2024/25 Q2"
    assert pvp09.due_date == dt.date(2025, 3, 31)


def test_past_due_green_is_flagged(sample: tuple[Store, uuid.UUID]) -> None:
    status = _sample_status(sample, "Trading Standards Manager", SAMPLE_QUARTER)
    (psp05,) = status.actions
    assert psp05.update is not None and psp05.update.submitted
    assert [f.kind for f in psp05.flags] == [FlagKind.PAST_DUE_GREEN]


def test_measure_values_targets_and_rag(sample: tuple[Store, uuid.UUID]) -> None:
    status = _sample_status(sample, "Chief Inspector, Neighbourhood Policing", SAMPLE_QUARTER)
    m2, m3, m4 = status.measures
    assert (m2.target, m2.value and m2.value.value, m2.assessment.rag) == (6.4, 6.43, Rag.AMBER)
    assert m2.value is not None and m2.value.comparator("GM average") is not None
    assert m2.previous_period == Q(2024, 1) and m2.previous is not None
    assert m3.value is not None and m3.value.value is None and "Not yet available" in m3.value.note
    assert not m3.entered and m3.assessment.rag is None
    assert m4.assessment.rag is Rag.RED and m4.unit is Unit.COUNT


def test_an_annual_measure_outside_q4_is_listed_but_not_due(
    sample: tuple[Store, uuid.UUID],
) -> None:
    status = _sample_status(sample, "Head of Service, Probation", Q(2024, 1))
    rom1 = next(m for m in status.measures if m.ref == "ROR-M1")
    assert not rom1.due and rom1.value is None and rom1.period == Q(2024, 4)
    assert rom1.previous_period == Q(2023, 4) and rom1.previous is not None
    assert "annual" in rom1.assessment.reason.lower()
    assert status.measures_total == 4  # the theme's quarterly measures


def test_a_theme_lead_sees_who_owes_what(sample: tuple[Store, uuid.UUID]) -> None:
    status = _sample_status(sample, "Superintendent, Stockport District", SAMPLE_QUARTER)
    owed = {a.ref: a.lead for a in status.actions}
    assert owed["PSP-05"] == "Trading Standards Manager"
    assert {m.ref: m.owner for m in status.measures}["PSP-M3"] == (
        "Chief Inspector, Neighbourhood Policing"
    )
    # Their own work names nobody else.
    own = _sample_status(sample, "Trading Standards Manager", SAMPLE_QUARTER)
    assert [a.lead for a in own.actions] == [""]


def test_people_with_work_are_listed_by_role(sample: tuple[Store, uuid.UUID]) -> None:
    store, plan_id = sample
    with store.session() as session:
        people = people_with_work(session, plan_id)
    labels = [p.label for p in people]
    assert labels == sorted(labels, key=str.casefold)
    assert "Education Safeguarding Lead" in labels
    assert "Senior Performance Analyst" in labels  # owns measures, leads no action
    # A theme lead who leads no action and owns no measure answers for their theme.
    assert "Superintendent, Stockport District" in labels
    assert len(set(labels)) == len(labels)


def test_the_sample_plan_quarters_and_reporting_quarter(sample: tuple[Store, uuid.UUID]) -> None:
    store, plan_id = sample
    with store.session() as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        quarters = plan_quarters(plan)
    assert quarters[0] == Q(2024, 4) and quarters[-1] == Q(2022, 1) and len(quarters) == 12
    assert reporting_quarter(SAMPLE_MEETING_DATE, quarters) == SAMPLE_QUARTER


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        pytest.param(dt.date(2024, 11, 21), Q(2024, 2), id="november-reports-q2"),
        pytest.param(dt.date(2024, 10, 1), Q(2024, 2), id="first-day-after-q2"),
        pytest.param(dt.date(2024, 9, 30), Q(2024, 1), id="last-day-of-q2-reports-q1"),
        pytest.param(dt.date(2025, 4, 15), Q(2024, 4), id="april-reports-q4"),
        pytest.param(dt.date(2030, 1, 1), Q(2024, 4), id="after-the-plan-its-last-quarter"),
        pytest.param(dt.date(2022, 5, 1), Q(2022, 1), id="before-the-first-ends-its-first"),
        pytest.param(dt.date(2019, 1, 1), Q(2022, 1), id="before-the-plan-its-first-quarter"),
    ],
)
def test_reporting_quarter(today: dt.date, expected: Quarter) -> None:
    quarters = Quarter.range(Q(2022, 1), Q(2024, 4))
    assert reporting_quarter(today, quarters) == expected


def test_reporting_quarter_without_a_plan_is_the_last_ended() -> None:
    assert reporting_quarter(dt.date(2024, 4, 2)) == Q(2023, 4)


# --------------------------------------------------------------------------- small plans


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    plan = mini_plan(store)
    with store.transaction(actor="test") as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.edit(tx, measure, owner_person_id=plan.person.id)
        services.edit(tx, measure, tolerance=2.0)
        # The fixture's action is due in March 2023; keep it open for later quarters.
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, due_date=dt.date(2025, 3, 31))
    return plan


def _add_person(store: Store, plan: MiniPlan, role: str) -> uuid.UUID:
    with store.transaction(actor="test") as tx:
        person = services.create(
            tx, Person(partnership_id=plan.partnership.id, name=role.upper(), role_title=role)
        )
        tx.flush()
        return person.id


def _add_action(store: Store, plan: MiniPlan, ref: str, **fields: Any) -> uuid.UUID:
    fields.setdefault("lead_person_id", plan.person.id)
    fields.setdefault("start_date", dt.date(2022, 4, 1))
    fields.setdefault("status", ActionStatus.IN_PROGRESS)
    with store.transaction(actor="test") as tx:
        action = services.add_action(tx, plan.area, ref=ref, title=f"Action {ref}", **fields)
        tx.flush()
        return action.id


def _add_measure(store: Store, plan: MiniPlan, ref: str, **fields: Any) -> uuid.UUID:
    fields.setdefault("owner_person_id", plan.person.id)
    with store.transaction(actor="test") as tx:
        measure = services.create(
            tx, Measure(plan_id=plan.plan.id, ref=ref, name=f"Measure {ref}", **fields)
        )
        tx.flush()
        return measure.id


def _update(
    store: Store,
    action_id: uuid.UUID,
    quarter: Quarter,
    state: UpdateState = UpdateState.DRAFT,
    rag: Rag | None = Rag.GREEN,
    narrative: str = "Going well",
) -> None:
    with store.transaction(actor="test") as tx:
        action = tx.get(Action, action_id)
        assert action is not None
        services.write_update(
            tx,
            action,
            quarter,
            rag=rag,
            narrative=narrative,
            written_on=TODAY,
            state=state,
        )


def _value(store: Store, measure_id: uuid.UUID, quarter: Quarter, value: float | None) -> None:
    with store.transaction(actor="test") as tx:
        measure = tx.get(Measure, measure_id)
        assert measure is not None
        services.record_value(tx, measure, quarter, value)


def _status(store: Store, plan: MiniPlan, quarter: Quarter = QUARTER) -> QuarterStatus:
    with store.session() as session:
        return quarter_status(session, plan.plan.id, plan.person.id, quarter, TODAY)


def test_a_fresh_mini_plan_has_everything_missing(store: Store, mini: MiniPlan) -> None:
    status = _status(store, mini)
    assert [a.ref for a in status.actions] == ["PVP-01"]
    assert [m.ref for m in status.measures] == ["M01"]
    assert status.missing == ("PVP-01 update", "M01 value")
    assert status.progress_text == "0 of 1 actions updated · 0 of 1 measures entered · 0 submitted"


# fmt: off
ACTION_FILTER_CASES = [
    pytest.param({"status": ActionStatus.COMPLETE}, False, id="complete"),
    pytest.param({"status": ActionStatus.CANCELLED}, False, id="cancelled"),
    pytest.param({"status": ActionStatus.DEFERRED}, True, id="deferred-is-still-open"),
    pytest.param({"status": ActionStatus.NOT_STARTED}, True, id="not-started-but-due-to-be"),
    pytest.param({"start_date": dt.date(2023, 9, 30)}, True, id="starts-on-the-quarter-end"),
    pytest.param({"start_date": dt.date(2023, 10, 1)}, False, id="starts-after-the-quarter"),
    pytest.param({"start_date": None}, True, id="no-start-date"),
    pytest.param({"lead_person_id": None}, False, id="nobody-leads-it"),
]
# fmt: on


@pytest.mark.parametrize(("fields", "listed"), ACTION_FILTER_CASES)
def test_which_actions_are_listed(
    store: Store, mini: MiniPlan, fields: dict[str, Any], listed: bool
) -> None:
    _add_action(store, mini, "PVP-02", **fields)
    refs = [a.ref for a in _status(store, mini).actions]
    assert ("PVP-02" in refs) is listed


def test_deleted_and_other_peoples_work_is_not_listed(store: Store, mini: MiniPlan) -> None:
    other = _add_person(store, mini, "Fire station manager")
    _add_action(store, mini, "PVP-02", lead_person_id=other)
    _add_measure(store, mini, "M02", owner_person_id=other)
    gone = _add_action(store, mini, "PVP-03")
    gone_measure = _add_measure(store, mini, "M03")
    with store.transaction(actor="test") as tx:
        for record in (tx.get(Action, gone), tx.get(Measure, gone_measure)):
            assert record is not None
            services.delete(tx, record, cascade=True)
    status = _status(store, mini)
    assert [a.ref for a in status.actions] == ["PVP-01"]
    assert [m.ref for m in status.measures] == ["M01"]
    with store.session() as session:
        mine = quarter_status(session, mini.plan.id, other, Q(2023, 2), TODAY)
        labels = [p.label for p in people_with_work(session, mini.plan.id)]
    assert [a.ref for a in mine.actions] == ["PVP-02"] and [m.ref for m in mine.measures] == ["M02"]
    assert labels == ["Fire station manager", "Superintendent"]


def test_work_in_another_plan_is_not_listed(store: Store, mini: MiniPlan) -> None:
    with store.transaction(actor="test") as tx:
        plan = services.start_plan(
            tx,
            partnership_name="",
            area="",
            title="Next plan",
            start_year=FinancialYear(2025),
            end_year=FinancialYear(2027),
        )
        tx.flush()
        services.create(
            tx, Measure(plan_id=plan.id, ref="N01", name="Other", owner_person_id=mini.person.id)
        )
        other_plan = plan.id
    assert [m.ref for m in _status(store, mini).measures] == ["M01"]
    with store.session() as session:
        assert [p.label for p in people_with_work(session, other_plan)] == ["Superintendent"]
        assert people_with_work(session, uuid.uuid4()) == []


# fmt: off
UPDATE_CASES = [
    # updates written (quarter, state), in order; expected (updated, submitted, state shown)
    pytest.param([], (0, 0, None), id="none"),
    pytest.param([(Q(2023, 2), UpdateState.DRAFT)], (1, 0, UpdateState.DRAFT), id="draft"),
    pytest.param([(Q(2023, 2), UpdateState.SUBMITTED)], (1, 1, UpdateState.SUBMITTED),
                 id="submitted"),
    pytest.param([(Q(2023, 2), UpdateState.ACCEPTED)], (1, 1, UpdateState.ACCEPTED),
                 id="accepted-counts-as-submitted"),
    pytest.param([(Q(2023, 2), UpdateState.SUBMITTED), (Q(2023, 2), UpdateState.DRAFT)],
                 (1, 0, UpdateState.DRAFT), id="a-newer-draft-supersedes-a-submission"),
    pytest.param([(Q(2023, 1), UpdateState.SUBMITTED)], (0, 0, None),
                 id="last-quarters-update-does-not-count"),
    pytest.param([(Q(2023, 3), UpdateState.SUBMITTED)], (0, 0, None),
                 id="next-quarters-update-does-not-count"),
]
# fmt: on


@pytest.mark.parametrize(("updates", "expected"), UPDATE_CASES)
def test_what_counts_as_updated_and_submitted(
    store: Store,
    mini: MiniPlan,
    updates: list[tuple[Quarter, UpdateState]],
    expected: tuple[int, int, UpdateState | None],
) -> None:
    for quarter, state in updates:
        _update(store, mini.action.id, quarter, state)
    status = _status(store, mini)
    (item,) = status.actions
    shown = item.update.state if item.update is not None else None
    assert (status.actions_updated, status.actions_submitted, shown) == expected


def test_the_current_update_is_the_one_shown(store: Store, mini: MiniPlan) -> None:
    _update(store, mini.action.id, Q(2023, 2), rag=Rag.AMBER, narrative="First go")
    _update(store, mini.action.id, Q(2023, 2), rag=Rag.RED, narrative="Second go")
    (item,) = _status(store, mini).actions
    assert item.update is not None
    assert (item.update.rag, item.update.narrative, item.rag) == (Rag.RED, "Second go", Rag.RED)
    assert item.flags == ()


# fmt: off
MEASURE_CASES = [
    # frequency, quarter, due, period the value belongs to, previous period
    pytest.param(Frequency.QUARTERLY, Q(2023, 2), True, Q(2023, 2), Q(2023, 1), id="quarterly"),
    pytest.param(Frequency.QUARTERLY, Q(2023, 1), True, Q(2023, 1), Q(2022, 4),
                 id="quarterly-q1-looks-back-to-q4"),
    pytest.param(Frequency.SURVEY_WAVE, Q(2023, 2), True, Q(2023, 2), Q(2023, 1),
                 id="survey-wave-like-quarterly"),
    pytest.param(Frequency.ANNUAL, Q(2023, 2), False, Q(2023, 4), Q(2022, 4),
                 id="annual-not-due-in-q2"),
    pytest.param(Frequency.ANNUAL, Q(2023, 4), True, Q(2023, 4), Q(2022, 4), id="annual-in-q4"),
]
# fmt: on


@pytest.mark.parametrize(("frequency", "quarter", "due", "period", "previous"), MEASURE_CASES)
def test_measure_periods_by_frequency(
    store: Store,
    mini: MiniPlan,
    frequency: Frequency,
    quarter: Quarter,
    due: bool,
    period: Quarter,
    previous: Quarter,
) -> None:
    measure_id = _add_measure(store, mini, "M02", frequency=frequency, unit=Unit.COUNT)
    _value(store, measure_id, previous, 10.0)
    _value(store, measure_id, period, 12.0)
    status = _status(store, mini, quarter)
    item = next(m for m in status.measures if m.ref == "M02")
    assert (item.due, item.period, item.previous_period) == (due, period, previous)
    assert item.previous is not None and item.previous.value == 10.0
    assert item.entered is due
    assert (item.value is not None and item.value.value == 12.0) is due
    assert "M02 value" not in status.missing


# fmt: off
RAG_CASES = [
    # polarity, target, value, RAG
    pytest.param(Polarity.HIGHER_BETTER, 90.0, 91.0, Rag.GREEN, id="above-target"),
    pytest.param(Polarity.HIGHER_BETTER, 90.0, 89.0, Rag.AMBER, id="within-tolerance"),
    pytest.param(Polarity.HIGHER_BETTER, 90.0, 80.0, Rag.RED, id="well-below"),
    pytest.param(Polarity.LOWER_BETTER, 90.0, 80.0, Rag.GREEN, id="lower-is-better"),
    pytest.param(Polarity.TRACKER, None, 80.0, None, id="tracker"),
    pytest.param(Polarity.HIGHER_BETTER, None, 80.0, None, id="no-target-for-the-year"),
    pytest.param(Polarity.HIGHER_BETTER, 90.0, None, None, id="no-value"),
]
# fmt: on


@pytest.mark.parametrize(("polarity", "target", "value", "rag"), RAG_CASES)
def test_measure_rag_uses_the_years_target(
    store: Store,
    mini: MiniPlan,
    polarity: Polarity,
    target: float | None,
    value: float | None,
    rag: Rag | None,
) -> None:
    with store.transaction(actor="test") as tx:
        measure = tx.get(Measure, mini.measure.id)
        assert measure is not None
        services.edit(tx, measure, polarity=polarity)
        services.edit(tx, measure, tolerance_mode=ToleranceMode.ABSOLUTE)
        if target is not None:
            services.set_target(tx, measure, FinancialYear(2023), target)
        services.set_target(tx, measure, FinancialYear(2022), 10.0)  # another year's: ignored
    if value is not None:
        _value(store, mini.measure.id, Q(2023, 2), value)
    (item,) = _status(store, mini).measures
    assert item.target == target
    assert item.assessment.rag is rag
    assert item.entered is (value is not None)


def test_a_value_record_without_a_figure_is_still_missing(store: Store, mini: MiniPlan) -> None:
    _value(store, mini.measure.id, Q(2023, 2), None)
    status = _status(store, mini)
    (item,) = status.measures
    assert item.value is not None and not item.entered
    assert status.missing == ("PVP-01 update", "M01 value")


def test_record_ids_cover_values_not_yet_entered(store: Store, mini: MiniPlan) -> None:
    from ssp_desktop.domain.records import MeasureValue

    status = _status(store, mini)
    (item,) = status.measures
    assert item.value_id == MeasureValue.make_id(mini.measure.id, Q(2023, 2))
    assert {mini.action.id, mini.measure.id, item.value_id} <= status.record_ids


def test_a_few_queries_whatever_the_size(store: Store, mini: MiniPlan) -> None:
    for n in range(2, 22):
        action_id = _add_action(store, mini, f"PVP-{n:02d}")
        _update(store, action_id, Q(2023, 2))
        measure_id = _add_measure(store, mini, f"M{n:02d}", comparator_names=["England"])
        _value(store, measure_id, Q(2023, 2), float(n))
        _value(store, measure_id, Q(2023, 1), float(n))
    statements: list[str] = []

    def count(*args: Any) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):  # not BEGIN
            statements.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        status = _status(store, mini)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(status.actions) == 21 and len(status.measures) == 21
    assert status.actions_updated == 20 and status.measures_entered == 20
    assert len(statements) == 5, statements


# --------------------------------------------------------------------------- entry rules


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        pytest.param("42", Unit.COUNT, 42.0, id="whole"),
        pytest.param(" 42.5 ", Unit.RATE, 42.5, id="spaces"),
        pytest.param("1,602", Unit.COUNT, 1602.0, id="thousands"),
        pytest.param("88%", Unit.PERCENT, 88.0, id="percent-sign"),
        pytest.param("0", Unit.PERCENT, 0.0, id="zero-percent"),
        pytest.param("100", Unit.PERCENT, 100.0, id="hundred-percent"),
        pytest.param("250", Unit.RATE, 250.0, id="rates-may-exceed-100"),
        pytest.param("", Unit.COUNT, None, id="blank"),
        pytest.param("   ", Unit.PERCENT, None, id="only-spaces"),
    ],
)
def test_parse_value_reads_figures(text: str, unit: Unit, expected: float | None) -> None:
    assert parse_value(text, unit) == expected


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        pytest.param("abc", Unit.COUNT, "^'abc' is not a number$", id="words"),
        pytest.param("nan", Unit.RATE, "is not a number", id="nan"),
        pytest.param("inf", Unit.COUNT, "is not a number", id="infinity"),
        pytest.param("1,2,3", Unit.COUNT, "is not a number", id="misplaced-separators"),
        pytest.param("105", Unit.PERCENT, "^A percentage cannot be over 100$", id="over-100"),
        pytest.param("-1", Unit.PERCENT, "^A percentage cannot be below 0$", id="negative-pct"),
        pytest.param("-3", Unit.COUNT, "^A count cannot be negative$", id="negative-count"),
        pytest.param("-0.5", Unit.RATE, "^A rate cannot be negative$", id="negative-rate"),
    ],
)
def test_parse_value_says_what_is_wrong(text: str, unit: Unit, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_value(text, unit)


def test_parse_value_names_the_figure_when_told() -> None:
    with pytest.raises(ValidationError, match="^GM average figure: A percentage cannot be over"):
        parse_value("120", Unit.PERCENT, "GM average figure")
    with pytest.raises(ValidationError, match="^England figure: 'x' is not a number$"):
        parse_value("x", Unit.RATE, "England figure")


@pytest.mark.parametrize(
    ("rag", "narrative", "problem"),
    [
        pytest.param(Rag.GREEN, "Done", None, id="ready"),
        pytest.param(Rag.RED, "  ", "write a progress narrative", id="blank-narrative"),
        pytest.param(None, "Done", "choose a RAG rating", id="no-rag"),
        pytest.param(None, "", "choose a RAG rating and write a progress narrative", id="neither"),
    ],
)
def test_submission_problem(rag: Rag | None, narrative: str, problem: str | None) -> None:
    found = submission_problem(rag, narrative)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_value_status_is_carried(store: Store, mini: MiniPlan) -> None:
    with store.transaction(actor="test") as tx:
        measure = tx.get(Measure, mini.measure.id)
        assert measure is not None
        services.record_value(
            tx,
            measure,
            Q(2023, 2),
            88.0,
            comparators={"GM average": 84.0},
            status=ValueStatus.FINAL,
            note="Wave 9",
        )
    (item,) = _status(store, mini).measures
    assert item.value is not None
    assert (item.value.status, item.value.note, item.value.comparator("GM average")) == (
        ValueStatus.FINAL,
        "Wave 9",
        84.0,
    )


def test_plan_quarters_of_a_one_year_plan() -> None:
    plan = Plan(title="x", start_year=FinancialYear(2023), end_year=FinancialYear(2023))
    assert plan_quarters(plan) == [Q(2023, 4), Q(2023, 3), Q(2023, 2), Q(2023, 1)]
