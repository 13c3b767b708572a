"""Tests for the built-in sample plan: what a user opening the demo store would see."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, Text, func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Base, Record
from ssp_desktop.domain.enums import (
    ActionStatus,
    Frequency,
    PlanStatus,
    Polarity,
    Rag,
    Unit,
    UpdateState,
    ValueStatus,
)
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionOutcome,
    ActionPartner,
    ActionUpdate,
    BoardMeeting,
    BoardPack,
    ChangeLog,
    FundingAllocation,
    FundingAward,
    FundingAwardOutcome,
    FundingStream,
    Measure,
    MeasureTarget,
    MeasureValue,
    Organisation,
    Outcome,
    OutcomeFramework,
    Person,
    Plan,
    PlanApproval,
    PlanFramework,
    Priority,
    PriorityArea,
    PriorityOutcome,
    Risk,
    record_classes,
)
from ssp_desktop.domain.rules import FlagKind, action_flags, measure_rag
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.sample.plan import (
    SAMPLE_BANNER,
    SAMPLE_MEETING_DATE,
    SAMPLE_QUARTER,
    SampleSummary,
    write_sample,
)
from ssp_desktop.store.engine import Store

FIRST = Quarter(2022, 1)
QUARTERS = Quarter.range(FIRST, SAMPLE_QUARTER)

# Officials named in the council papers the sample is built from: the sample names roles.
SEED_OFFICIALS = (
    "Kathryn Rees",
    "Alan Lawson",
    "Steve Skelton",
    "Mark Glynn",
    "Helen Smith",
    "Caroline Simpson",
    "Chris McLoughlin",
    "Marcus Noden",
    "Val Mullock",
    "Nuala O'Rourke",
    "Katy Forde",
    "David Sedgwick",
    # and their e-mail addresses
    "kathryn.rees",
    "steve.skelton",
    "katy.forde",
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, SampleSummary]]:
    store = Store.open(tmp_path_factory.mktemp("sample") / "s.sqlite", create=True)
    try:
        yield store, write_sample(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def store(sample: tuple[Store, SampleSummary]) -> Store:
    return sample[0]


@pytest.fixture(scope="module")
def summary(sample: tuple[Store, SampleSummary]) -> SampleSummary:
    return sample[1]


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with store.session() as s:
        yield s


def _plan(session: Session, period: str) -> Plan:
    return next(p for p in plan_queries.plans(session) if p.period_label == period)


def _live(session: Session, cls: type[Record]) -> list[Any]:
    return list(session.scalars(select(cls).where(cls.deleted_at.is_(None))))


def _measure(session: Session, name: str) -> Measure:
    measure = session.scalar(select(Measure).where(Measure.name == name))
    assert measure is not None, name
    return measure


# --------------------------------------------------------------------------- store


def test_store_is_flagged_as_sample(store: Store) -> None:
    assert store.is_sample
    assert SAMPLE_BANNER == "Sample data - illustrative only"


def test_summary_counts_what_is_in_the_store(session: Session, summary: SampleSummary) -> None:
    counted = {
        "organisations": Organisation,
        "people": Person,
        "plans": Plan,
        "priorities": Priority,
        "priority_areas": PriorityArea,
        "actions": Action,
        "action_updates": ActionUpdate,
        "measures": Measure,
        "measure_values": MeasureValue,
        "funding_streams": FundingStream,
        "awards": FundingAward,
        "outcomes": Outcome,
    }
    for field, cls in counted.items():
        assert getattr(summary, field) == session.scalar(select(func.count()).select_from(cls))
    assert session.get(Plan, summary.current_plan_id) == _plan(session, "2022-25")


def test_every_record_was_logged_as_created_by_the_sample(session: Session) -> None:
    created = set(
        session.scalars(
            select(ChangeLog.record_id).where(
                ChangeLog.op == "create", ChangeLog.source == "sample"
            )
        )
    )
    for cls in record_classes().values():
        ids = set(session.scalars(select(cls.id)))
        assert ids <= created, f"{cls.__tablename__} records without a create log row"
    sources = set(session.scalars(select(ChangeLog.source).distinct()))
    actors = set(session.scalars(select(ChangeLog.actor).distinct()))
    assert sources == {"sample"}
    assert actors == {"ssp-desktop sample"}
    assert len(set(session.scalars(select(ChangeLog.change_set).distinct()))) == 1


def test_no_seed_official_is_named_anywhere(store: Store) -> None:
    # Every text column of every table, the change log's record snapshots included.
    scanned = 0
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            text_columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not text_columns:
                continue
            for row in conn.execute(select(*text_columns)):
                for value in row:
                    if not isinstance(value, str):
                        continue
                    scanned += 1
                    lowered = value.lower()
                    for name in SEED_OFFICIALS:
                        assert name.lower() not in lowered, f"{name!r} in {table.name}"
    assert scanned > 1000


def test_writing_into_a_store_with_data_is_refused(store: Store) -> None:
    before = store.revision()
    with pytest.raises(DomainError, match="already holds a partnership"):
        write_sample(store)
    assert store.revision() == before


# --------------------------------------------------------------------------- partnership


def test_responsible_authorities_and_board_members(session: Session) -> None:
    orgs = {o.short_name: o for o in _live(session, Organisation)}
    statutory = {k for k, o in orgs.items() if o.responsible_authority}
    assert statutory == {"SMBC", "GMP", "GMFRS", "PS", "CCG"}
    assert {"GMCA", "SHG"} <= set(orgs) - statutory
    assert orgs["GMP"].name == "Greater Manchester Police"
    assert all(o.sector for o in orgs.values())


def test_people_are_named_by_role(session: Session) -> None:
    people = _live(session, Person)
    assert people
    for person in people:
        assert person.name == person.role_title
        assert person.organisation_id is not None
        assert person.email is not None and person.email.split("@")[1].endswith(".example")
    roles = {p.role_title for p in people}
    assert "Strategy and Performance Team Manager" in roles
    assert "Cabinet Member for Inclusive Neighbourhoods" in roles


# --------------------------------------------------------------------------- frameworks


def _framework(session: Session, short_name: str) -> OutcomeFramework:
    fw = session.scalar(select(OutcomeFramework).where(OutcomeFramework.short_name == short_name))
    assert fw is not None
    return fw


def _outcomes(session: Session, fw: OutcomeFramework) -> list[Outcome]:
    return list(
        session.scalars(
            select(Outcome).where(Outcome.framework_id == fw.id).order_by(Outcome.position)
        )
    )


def test_gm_framework_has_17_outcomes_in_4_groups(session: Session) -> None:
    outcomes = _outcomes(session, _framework(session, "Standing Together"))
    groups = Counter(o.group_name for o in outcomes)
    assert list(groups.items()) == [
        ("Overarching", 5),
        ("Keeping people safe", 4),
        ("Reducing Harm and Reoffending", 5),
        ("Strengthening communities and places", 3),
    ]
    assert outcomes[0].title.startswith("People feel safe at home, at work")
    assert outcomes[5].title == "There are fewer repeat victims"
    assert outcomes[16].title == "People feel communities are stronger"


def test_borough_plan_has_three_pillars_under_each_heading(session: Session) -> None:
    fw = _framework(session, "One Stockport")
    outcomes = _outcomes(session, fw)
    assert Counter(o.group_name for o in outcomes) == {
        "One Heart": 3,
        "One Home": 3,
        "One Future": 3,
    }
    by_code = {o.code: o for o in outcomes}
    assert by_code["HEART-3"].title == "A strong and supportive Stockport"
    assert by_code["HEART-3"].description.startswith("Confident and empowered communities")


# --------------------------------------------------------------------------- plans


def test_both_plans_with_status_and_period(session: Session) -> None:
    old, current = _plan(session, "2018-21"), _plan(session, "2022-25")
    assert old.title == "Safer Stockport Partnership Plan 2018-21"
    assert old.status is PlanStatus.ARCHIVED
    assert (old.start_year, old.end_year) == (FinancialYear(2018), FinancialYear(2020))
    assert "October 2019" in old.summary
    assert current.title == "Safer Stockport Partnership Plan 2022-25"
    assert current.status is PlanStatus.APPROVED
    assert current.in_force_from == dt.date(2022, 4, 1)
    assert "repeat victim" in current.vision


def _approvals(session: Session, plan: Plan) -> list[PlanApproval]:
    return list(
        session.scalars(
            select(PlanApproval)
            .where(PlanApproval.plan_id == plan.id)
            .order_by(PlanApproval.position)
        )
    )


def test_2022_approval_trail(session: Session) -> None:
    trail = _approvals(session, _plan(session, "2022-25"))
    cabinet = next(a for a in trail if a.decision_ref == "CAB265")
    assert cabinet.body == "Cabinet"
    assert cabinet.meeting_date == dt.date(2022, 3, 15)
    assert "Recommendations approved" in cabinet.resolution
    board = next(a for a in trail if a.body == "Safer Stockport Partnership Board")
    assert board.meeting_date == dt.date(2022, 3, 17)


def test_2018_approval_trail_runs_from_board_to_council(session: Session) -> None:
    trail = _approvals(session, _plan(session, "2018-21"))
    assert [(a.body, a.meeting_date) for a in trail] == [
        ("Safer Stockport Partnership Board", dt.date(2018, 2, 8)),
        ("Communities & Transport Scrutiny Committee", dt.date(2018, 2, 26)),
        ("Corporate, Resource Management & Governance Scrutiny Committee", dt.date(2018, 2, 27)),
        ("Cabinet", dt.date(2018, 3, 13)),
        ("Council Meeting", dt.date(2018, 4, 5)),
    ]
    assert "be approved and adopted" in trail[-1].resolution


def _priorities(session: Session, plan: Plan) -> list[Priority]:
    return list(
        session.scalars(
            select(Priority).where(Priority.plan_id == plan.id).order_by(Priority.position)
        )
    )


def _area_titles(session: Session, priority: Priority) -> list[str]:
    return list(
        session.scalars(
            select(PriorityArea.title)
            .where(PriorityArea.priority_id == priority.id)
            .order_by(PriorityArea.position)
        )
    )


def test_2018_themes_leads_and_refreshed_areas(session: Session) -> None:
    themes = _priorities(session, _plan(session, "2018-21"))
    assert [t.title for t in themes] == [
        "Public Safety and Protection",
        "Protecting Vulnerable People",
        "Serious and Organised Crime",
        "Transforming Justice",
        "Radicalisation and Extremism",
    ]
    leads = [t.lead.role_title if t.lead else None for t in themes]
    assert leads[1] == "Director of Children's Services"
    assert leads[2] == "Superintendent, Stockport District"
    assert all(leads)
    areas = {t.code: _area_titles(session, t) for t in themes}
    assert areas["PSP"] == ["Anti-Social Behaviour", "Crime", "Locations/Hotspots"]
    assert "Missing from Home or Care" in areas["PVP"]
    assert areas["TJ"] == [
        "Adult Offending and Reoffending",
        "Youth Offending and Reoffending",
        "Victims",
    ]
    assert areas["RAE"] == ["Prevent and Channel"]


def test_2022_has_three_priorities_with_leads_and_new_focus_areas(session: Session) -> None:
    plan = _plan(session, "2022-25")
    priorities = _priorities(session, plan)
    assert [(p.code, p.title) for p in priorities] == [
        ("PVP", "Protecting Vulnerable People"),
        ("PSP", "Public Safety and Protection"),
        ("ROR", "Reducing Offending and Reoffending"),
    ]
    assert all(p.lead is not None for p in priorities)
    titles = [t for p in priorities for t in _area_titles(session, p)]
    for needle in (
        "Exploitation",
        "Online Harm",
        "Stalking and Harassment",
        "Victims",
        "Domestic Abuse",
        "Hate Crime",
        "Drugs and Alcohol",
        "Anti-Social Behaviour",
        "Knife Crime",
        "Burglary",
        "Organised Crime",
        "Youth Offending",
        "Restorative Justice",
    ):
        assert any(needle.lower() in t.lower() for t in titles) or any(
            needle.lower() in (a.description or "").lower() for a in _live(session, PriorityArea)
        ), needle


def test_2022_plan_is_aligned_to_both_frameworks(session: Session) -> None:
    plan = _plan(session, "2022-25")
    aligned = set(
        session.scalars(
            select(OutcomeFramework.short_name)
            .join(PlanFramework, PlanFramework.framework_id == OutcomeFramework.id)
            .where(PlanFramework.plan_id == plan.id)
        )
    )
    assert aligned == {"Standing Together", "One Stockport"}
    for priority in _priorities(session, plan):
        codes = set(
            session.scalars(
                select(Outcome.code)
                .join(PriorityOutcome, PriorityOutcome.outcome_id == Outcome.id)
                .where(PriorityOutcome.priority_id == priority.id)
            )
        )
        assert "HEART-3" in codes
        assert any(c.startswith("GM-") for c in codes)


# --------------------------------------------------------------------------- actions


def _actions(session: Session, plan: Plan) -> list[Action]:
    return list(
        session.scalars(select(Action).where(Action.plan_id == plan.id).order_by(Action.ref))
    )


def test_actions_have_leads_partners_dates_and_outcomes(session: Session) -> None:
    plan = _plan(session, "2022-25")
    actions = _actions(session, plan)
    assert len(actions) >= 30
    for a in actions:
        assert a.lead_organisation_id is not None and a.lead_person_id is not None, a.ref
        assert a.ref.split("-")[0] in {"PVP", "PSP", "ROR"}
        assert a.start_date is not None and a.due_date is not None
        assert plan.start_year.start_date <= a.start_date <= a.due_date
        assert a.due_date <= plan.end_year.end_date
        assert a.delivery_year is not None
        partners = session.scalar(select(func.count()).where(ActionPartner.action_id == a.id))
        assert 1 <= (partners or 0) <= 3, a.ref
        outcomes = session.scalar(select(func.count()).where(ActionOutcome.action_id == a.id))
        assert 1 <= (outcomes or 0) <= 2, a.ref
    statuses = Counter(a.status for a in actions)
    assert statuses[ActionStatus.IN_PROGRESS] > len(actions) / 2
    assert statuses[ActionStatus.COMPLETE] >= 3
    assert statuses[ActionStatus.DEFERRED] + statuses[ActionStatus.NOT_STARTED] >= 1


def test_board_sees_the_planted_inconsistencies(session: Session) -> None:
    plan = _plan(session, "2022-25")
    flagged: dict[FlagKind, list[str]] = {}
    for row in plan_queries.actions_with_latest_update(session, plan.id):
        a = row.action
        has_update = row.latest is not None and row.latest.quarter == SAMPLE_QUARTER
        for flag in action_flags(
            status=a.status,
            rag=a.rag,
            due=a.due_date,
            has_update_for_quarter=has_update,
            quarter=SAMPLE_QUARTER,
            today=SAMPLE_MEETING_DATE,
        ):
            flagged.setdefault(flag.kind, []).append(a.ref)
    assert len(flagged[FlagKind.PAST_DUE_GREEN]) == 1
    assert len(flagged[FlagKind.COMPLETE_NOT_GREEN]) == 1
    assert len(flagged[FlagKind.NO_UPDATE]) == 1


def test_updates_span_the_plan_to_date(session: Session) -> None:
    updates = _live(session, ActionUpdate)
    assert sorted({u.quarter for u in updates}) == QUARTERS
    actions = {a.id: a for a in _live(session, Action)}
    for u in updates:
        action = actions[u.action_id]
        assert u.author_person_id == action.lead_person_id
        assert u.narrative
        assert dt.timedelta(days=7) <= u.written_on - u.quarter.end_date <= dt.timedelta(days=31)
        if u.is_current and u.quarter != SAMPLE_QUARTER:
            assert u.state is UpdateState.ACCEPTED
        if u.rag is not None:
            assert action.start_date is not None
            assert u.quarter >= Quarter.of(action.start_date), action.ref


def test_the_latest_quarter_is_mostly_reviewed_with_a_few_awaiting_review(
    session: Session,
) -> None:
    # The pack prints accepted updates; a few submitted ones show the review queue.
    states = [
        u.state
        for u in _live(session, ActionUpdate)
        if u.is_current and u.quarter == SAMPLE_QUARTER
    ]
    submitted = states.count(UpdateState.SUBMITTED)
    assert 0 < submitted < states.count(UpdateState.ACCEPTED)
    assert set(states) == {UpdateState.SUBMITTED, UpdateState.ACCEPTED}


def test_an_update_was_superseded_not_erased(session: Session) -> None:
    old = [u for u in _live(session, ActionUpdate) if not u.is_current]
    assert old
    for u in old:
        newer = session.scalar(select(ActionUpdate).where(ActionUpdate.supersedes_id == u.id))
        assert newer is not None and newer.is_current
        assert (newer.action_id, newer.quarter) == (u.action_id, u.quarter)
        assert newer.narrative != u.narrative


def test_action_rag_follows_its_newest_update(session: Session) -> None:
    plan = _plan(session, "2022-25")
    rags: Counter[Rag | None] = Counter()
    for row in plan_queries.actions_with_latest_update(session, plan.id):
        if row.latest is not None:
            assert row.action.rag == row.latest.rag
            rags[row.action.rag] += 1
    assert rags[Rag.GREEN] and rags[Rag.AMBER] and rags[Rag.RED]


# --------------------------------------------------------------------------- measures


def test_measures_cover_units_polarities_and_targets(session: Session) -> None:
    measures = _live(session, Measure)
    assert 15 <= len(measures) <= 20
    assert {m.unit for m in measures} == set(Unit)
    assert all(m.rate_basis for m in measures if m.unit is Unit.RATE)
    polarity = Counter(m.polarity for m in measures)
    assert polarity[Polarity.HIGHER_BETTER] and polarity[Polarity.LOWER_BETTER]
    assert 2 <= polarity[Polarity.TRACKER] <= 3
    for m in measures:
        assert m.illustrative and m.data_source and m.owner_person_id and m.priority_id
        assert m.baseline_value is not None and m.baseline_period
        years = set(
            session.scalars(select(MeasureTarget.year).where(MeasureTarget.measure_id == m.id))
        )
        if m.polarity is Polarity.TRACKER:
            assert not years, m.ref
        else:
            assert years == {FinancialYear(2022), FinancialYear(2023), FinancialYear(2024)}
    comparators = {name for m in measures for name in m.comparator_names}
    assert comparators == {"GM average", "England"}


def test_feel_safe_measure_carries_the_seed_survey_figure(session: Session) -> None:
    m = _measure(session, "Residents feeling very or fairly safe in their local area")
    assert (m.unit, m.polarity) == (Unit.PERCENT, Polarity.HIGHER_BETTER)
    assert m.data_source == "GM Policing and Community Safety Survey"
    assert m.comparator_names == ["GM average"]
    assert (m.baseline_value, m.baseline_period) == (92, "Wave 6, Dec 2020")
    seeded = [
        v
        for v in plan_queries.measure_series(session, m.id)
        if v.value == 92 and v.comparator_significant
    ]
    assert any(
        v.comparator_values == {"GM average": 88} and "GM survey Wave 6, December 2020" in v.note
        for v in seeded
    )
    later = [v for v in plan_queries.measure_series(session, m.id) if v.period >= FIRST]
    assert [v.period for v in later] == QUARTERS
    assert {v.significant for v in later} == {True, False}


def test_non_opiate_completions_carry_the_seed_figure(session: Session) -> None:
    m = _measure(session, "Non-opiate users successfully completing treatment")
    assert m.comparator_names == ["England"]
    assert m.baseline_value == 46.7
    values = plan_queries.measure_series(session, m.id)
    assert any(v.value == 46.7 and v.comparator_values == {"England": 35.9} for v in values)


def test_measure_values_by_quarter(session: Session) -> None:
    missing_latest = []
    for m in _live(session, Measure):
        values = {
            v.period: v for v in plan_queries.measure_series(session, m.id) if v.period >= FIRST
        }
        expected = (
            [q for q in QUARTERS if q.q == 4] if m.frequency is Frequency.ANNUAL else (QUARTERS)
        )
        assert sorted(values) == expected, m.ref
        for period, v in values.items():
            latest = period == SAMPLE_QUARTER
            assert v.status is (ValueStatus.PROVISIONAL if latest else ValueStatus.FINAL)
            assert set(v.comparator_values) == set(m.comparator_names)
            if v.value is None:
                missing_latest.append(m.ref)
                assert latest and v.note
    assert len(missing_latest) == 1


def test_one_measure_turns_red_in_the_latest_quarter(session: Session) -> None:
    red_now = []
    for m in _live(session, Measure):
        v = session.get(MeasureValue, MeasureValue.make_id(m.id, SAMPLE_QUARTER))
        prev = session.get(MeasureValue, MeasureValue.make_id(m.id, SAMPLE_QUARTER.previous()))
        if v is None or prev is None:
            continue

        def rag(value: MeasureValue, m: Measure = m) -> Rag | None:
            target = plan_queries.target_for(session, m.id, value.period.fy)
            return measure_rag(value.value, target, m.polarity, m.tolerance, m.tolerance_mode).rag

        if rag(v) is Rag.RED and rag(prev) is not Rag.RED:
            red_now.append(m.name)
    assert red_now == ["Knife crime offences"]


# --------------------------------------------------------------------------- funding


def test_2020_21_allocations_are_the_seed_figures(session: Session) -> None:
    rows = session.execute(
        select(FundingStream.name, FundingAllocation.amount)
        .join(FundingAllocation, FundingAllocation.stream_id == FundingStream.id)
        .where(FundingAllocation.year == FinancialYear(2020))
    ).all()
    assert {name: amount for name, amount in rows} == {
        "Community Safety Grant": Decimal("218973"),
        "Voluntary and Community Sector Grant": Decimal("100000"),
        "Serious Violence Fund": Decimal("150000"),
        "Hate Crime Fund": Decimal("10000"),
    }
    later = session.scalars(
        select(FundingAllocation.year).where(FundingAllocation.year > FinancialYear(2020))
    )
    assert {FinancialYear(2022), FinancialYear(2023), FinancialYear(2024)} == set(later)
    assert all("illustrative" in s.description for s in _live(session, FundingStream))


def test_awards_fit_their_allocation_and_are_linked(session: Session) -> None:
    awards = _live(session, FundingAward)
    projects = {a.project for a in awards}
    for named in (
        "Independent Domestic Violence Advocates (IDVAs)",
        "Orange Umbrella project",
        "Schools-based knife crime awareness programme",
        "Black History Month education packs",
    ):
        assert named in projects
    recipients = {a.recipient_name for a in awards}
    assert {"Man about a Dog", "PIE Radio UK", "Culture Bridge"} <= recipients
    spent: Counter[tuple[uuid.UUID, FinancialYear]] = Counter()
    for a in awards:
        assert a.amount > 0 and a.priority_id is not None
        assert a.recipient_organisation_id is not None or a.recipient_name
        assert session.scalar(select(func.count()).where(FundingAwardOutcome.award_id == a.id))
        spent[a.stream_id, a.year] += a.amount
    for (stream_id, year), total in spent.items():
        allocation = session.get(FundingAllocation, FundingAllocation.make_id(stream_id, year))
        assert allocation is not None and total <= allocation.amount


# --------------------------------------------------------------------------- risks, board


def test_risks_and_board_pack(session: Session) -> None:
    plan = _plan(session, "2022-25")
    risks = _live(session, Risk)
    assert any("Police data" in r.title for r in risks)
    assert all(r.plan_id == plan.id and 1 <= r.likelihood <= 5 for r in risks)
    meeting = session.scalar(select(BoardMeeting))
    pack = session.scalar(select(BoardPack))
    assert meeting is not None and pack is not None
    assert (meeting.title, meeting.meeting_date) == ("SSP Board", dt.date(2024, 11, 21))
    assert (pack.plan_id, pack.quarter, pack.meeting_id) == (plan.id, SAMPLE_QUARTER, meeting.id)
    assert pack.subject == (
        "Safer Stockport Partnership Plan 2022-25: quarterly performance report, 2024/25 Q2"
    )
    assert pack.report_of == "Strategy and Performance Team Manager"
    assert not pack.key_decision
    assert pack.recommendations.startswith("The Board is asked to:")
    assert pack.contact_officer.startswith("Strategy and Performance Team Manager")
    assert pack.protective_marking == "OFFICIAL"


# --------------------------------------------------------------------------- determinism


def _fingerprint(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a user reads, without record ids or timestamps."""
    with store.session() as s:
        plans = {p.id: p.period_label for p in s.scalars(select(Plan))}
        actions = {a.id: (plans[a.plan_id], a.ref) for a in s.scalars(select(Action))}
        measures = {m.id: m.ref for m in s.scalars(select(Measure))}
        streams = {f.id: f.name for f in s.scalars(select(FundingStream))}
        return {
            "actions": sorted(
                (plans[a.plan_id], a.ref, a.title, a.status.value, a.rag, a.start_date, a.due_date)
                for a in s.scalars(select(Action))
            ),
            "updates": sorted(
                (
                    *actions[u.action_id],
                    u.quarter.label,
                    u.rag,
                    u.narrative,
                    u.written_on,
                    u.state.value,
                    u.is_current,
                )
                for u in s.scalars(select(ActionUpdate))
            ),
            "values": sorted(
                (
                    measures[v.measure_id],
                    v.period.label,
                    v.value,
                    tuple(sorted(v.comparator_values.items())),
                    v.status.value,
                    v.note,
                    v.significant,
                )
                for v in s.scalars(select(MeasureValue))
            ),
            "allocations": sorted(
                (streams[a.stream_id], a.year.label, a.amount)
                for a in s.scalars(select(FundingAllocation))
            ),
            "awards": sorted(
                (streams[a.stream_id], a.year.label, a.project, a.amount)
                for a in s.scalars(select(FundingAward))
            ),
        }


def test_the_sample_is_the_same_every_time(store: Store, tmp_path: Path) -> None:
    with Store.open(tmp_path / "again.sqlite", create=True) as again:
        write_sample(again)
        assert _fingerprint(again) == _fingerprint(store)
