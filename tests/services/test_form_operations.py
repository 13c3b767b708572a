"""The services the record editors call: what each "Add ..." operation makes, and that
a change a form refuses is refused by the service too, with the form's message (issue
15: the rules live in the services, not in the removed ``ui/forms/checks.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain import changes
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Polarity, Unit
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionPartner,
    BoardMeeting,
    BoardPack,
    ChangeLog,
    FundingAllocation,
    FundingAward,
    FundingStream,
    Measure,
    MeasureTarget,
    Organisation,
    Outcome,
    OutcomeFramework,
    Person,
    Plan,
    PlanApproval,
    Priority,
    PriorityArea,
    Risk,
)
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.services import actions, funding, links, measures, outcomes, packs, people, risks
from ssp_desktop.services import plan as plan_services
from ssp_desktop.services.numbering import next_code, unique_text
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q2 = Quarter(2023, 2)


@pytest.fixture(autouse=True)
def guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The write guard is on here (it always is; this says so): every operation
    below must be a service."""
    monkeypatch.setattr(changes, "ENFORCED", True)


@dataclass
class World:
    mp: MiniPlan
    action2: Action
    council: Organisation
    framework: OutcomeFramework
    outcome: Outcome
    other_area: PriorityArea
    count_measure: Measure
    stream: FundingStream


@pytest.fixture
def world(store: Store) -> World:
    mp = mini_plan(store)
    with store.transaction(actor="test") as tx:
        action2 = services.add_action(tx, _get(tx, mp.area), ref="PVP-02", title="Train GPs")
        council = services.create(
            tx, Organisation(partnership_id=mp.partnership.id, name="Council")
        )
        framework = services.create(
            tx, OutcomeFramework(partnership_id=mp.partnership.id, name="GM", short_name="ST")
        )
        outcome = services.create(tx, Outcome(framework_id=framework.id, code="ST-01", title="A"))
        services.create(tx, Outcome(framework_id=framework.id, code="ST-02", title="B"))
        other_plan = services.create(
            tx,
            Plan(
                partnership_id=mp.partnership.id,
                title="Plan 2025-28",
                start_year=FinancialYear(2025),
                end_year=FinancialYear(2027),
            ),
        )
        other_priority = services.create(tx, Priority(plan_id=other_plan.id, code="P1", title="X"))
        other_area = services.create(tx, PriorityArea(priority_id=other_priority.id, title="Y"))
        count_measure = services.create(
            tx, Measure(plan_id=mp.plan.id, ref="M02", name="Crimes", unit=Unit.COUNT)
        )
        services.record_value(tx, count_measure, Q2, 150.0)
        services.record_value(tx, _get(tx, mp.measure), Q2, 60.0, comparators={"GM average": 55})
        stream = services.create(
            tx, FundingStream(partnership_id=mp.partnership.id, name="Safety Grant")
        )
    return World(mp, action2, council, framework, outcome, other_area, count_measure, stream)


def _get(tx: Transaction, record: Record) -> Any:
    found = tx.get(type(record), record.id)
    assert found is not None
    return found


def _writes(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(ChangeLog)) or 0)


def _refused(store: Store, work: Callable[[Transaction], object]) -> str:
    """The reason ``work`` was refused; asserts that nothing was written."""
    before = _writes(store)
    with pytest.raises(DomainError) as refused, store.transaction(actor="test") as tx:
        work(tx)
    assert _writes(store) == before
    return str(refused.value)


# --------------------------------------------------------------------------- numbering


def test_numbering_continues_after_the_highest_code() -> None:
    assert next_code(["PVP-01", "pvp-02", "Other"], "PVP-") == "PVP-03"
    assert next_code([], "P", width=1) == "P1"
    assert next_code(iter(["M01", "M07"]), "M") == "M08"  # read once: an iterator will do
    assert unique_text(["New person", "new person 2"], "New person") == "New person 3"
    assert unique_text([], "New person") == "New person"


# --------------------------------------------------------------------------- adding


def test_the_add_operations_make_what_the_editors_made(store: Store, world: World) -> None:
    mp = world.mp
    with store.transaction(actor="test") as tx:
        plan = _get(tx, mp.plan)
        made = {
            "priority": plan_services.add_priority(tx, plan),
            "area": plan_services.add_area(tx, _get(tx, mp.priority)),
            "approval": plan_services.add_approval(tx, plan, dt.date(2022, 3, 1)),
            "approval2": plan_services.add_approval(tx, plan, dt.date(2022, 4, 1)),
            "action": actions.add_action_to_area(tx, _get(tx, mp.area)),
            "measure": measures.add_measure(tx, plan),
            "risk": risks.add_risk(tx, plan),
            "org": people.add_organisation(tx, mp.partnership.id),
            "org2": people.add_organisation(tx, mp.partnership.id),
            "person": people.add_person(tx, mp.partnership.id, organisation=_get(tx, mp.org)),
            "stream": funding.add_stream(tx, mp.partnership.id),
            "award": funding.add_award(tx, _get(tx, world.stream), FinancialYear(2023)),
            "framework": outcomes.add_framework(tx, mp.partnership.id),
            "outcome": outcomes.add_outcome(tx, _get(tx, world.framework)),
        }
        ids = {key: record.id for key, record in made.items()}
    with store.session() as s:

        def get(key: str, cls: type[Any]) -> Any:
            return s.get(cls, ids[key])

        priority = get("priority", Priority)
        assert (priority.code, priority.title) == ("P1", "New priority")
        assert priority.position == 1  # after the mini plan's PVP
        assert get("area", PriorityArea).title == "New priority area"
        approvals = get("approval", PlanApproval), get("approval2", PlanApproval)
        assert [a.body for a in approvals] == ["New approval", "New approval"]
        assert approvals[1].position == approvals[0].position + 1
        action = get("action", Action)
        assert (action.ref, action.title, action.plan_id) == ("PVP-03", "New action", mp.plan.id)
        assert get("measure", Measure).ref == "M03"
        assert (get("risk", Risk).ref, get("risk", Risk).title) == ("R01", "New risk")
        assert get("org", Organisation).name == "New organisation"
        assert get("org2", Organisation).name == "New organisation 2"
        assert get("person", Person).organisation_id == mp.org.id
        assert get("stream", FundingStream).name == "New funding stream"
        award = get("award", FundingAward)
        assert (award.project, award.amount, award.year) == ("New project", 0, FinancialYear(2023))
        assert get("framework", OutcomeFramework).name == "New outcome framework"
        assert get("outcome", Outcome).code == "ST-03"


@pytest.mark.parametrize(
    ("add", "message"),
    [
        (
            lambda tx, w: plan_services.add_priority(tx, _get(tx, w.mp.plan)),
            "The plan has been deleted.",
        ),
        (lambda tx, w: measures.add_measure(tx, _get(tx, w.mp.plan)), "The plan has been deleted."),
        (lambda tx, w: risks.add_risk(tx, _get(tx, w.mp.plan)), "The plan has been deleted."),
        (
            lambda tx, w: plan_services.add_approval(tx, _get(tx, w.mp.plan), dt.date(2022, 1, 1)),
            "The plan has been deleted.",
        ),
    ],
)
def test_nothing_is_added_to_a_deleted_plan(
    store: Store, world: World, add: Callable[[Transaction, World], object], message: str
) -> None:
    with store.transaction(actor="test") as tx:
        services.delete(tx, _get(tx, world.mp.plan), cascade=True)
    assert _refused(store, lambda tx: add(tx, world)) == message


def test_nothing_is_added_under_a_deleted_parent(store: Store, world: World) -> None:
    mp = world.mp
    with store.transaction(actor="test") as tx:
        services.delete(tx, _get(tx, world.stream))
        services.delete(tx, _get(tx, world.council))
        services.delete(tx, _get(tx, world.other_area))
    assert (
        _refused(
            store, lambda tx: funding.add_award(tx, _get(tx, world.stream), FinancialYear(2023))
        )
        == "The funding stream has been deleted."
    )
    assert (
        _refused(
            store,
            lambda tx: people.add_person(
                tx, mp.partnership.id, organisation=_get(tx, world.council)
            ),
        )
        == "The organisation has been deleted."
    )
    assert (
        _refused(store, lambda tx: actions.add_action_to_area(tx, _get(tx, world.other_area)))
        == "The priority area has been deleted."
    )


# --------------------------------------------------------------------------- the form's rules


@pytest.mark.parametrize(
    ("record", "attr", "value", "message"),
    [
        ("action", "due_date", dt.date(2022, 3, 1), "The due date is before the start date"),
        ("action", "start_date", dt.date(2023, 6, 1), "The due date is before the start date"),
        ("action", "ref", "pvp-02", "Another action in this plan already has the ref pvp-02"),
        (
            "action",
            "priority_area_id",
            "other_area",
            "An action can only move to a priority area of its own plan",
        ),
        ("measure", "baseline_value", 101.0, "A percentage cannot be over 100"),
        ("measure", "tolerance", -1.0, "Tolerance cannot be negative"),
        ("measure", "stable_threshold", -0.5, "Stable threshold cannot be negative"),
        (
            "measure",
            "comparator_names",
            [],
            "GM average has figures for 1 quarter; clear them in the values grid before "
            "removing it",
        ),
        (
            "count_measure",
            "unit",
            Unit.PERCENT,
            "1 of this measure's values is not between 0 and 100, so it cannot be a percentage",
        ),
        ("plan", "end_year", FinancialYear(2020), "The plan's last year is before its first year"),
        (
            "plan",
            "start_year",
            FinancialYear(2025),
            "The plan's last year is before its first year",
        ),
        (
            "org",
            "name",
            "council",
            "Another organisation in this partnership already has the name council",
        ),
        (
            "outcome",
            "code",
            "st-02",
            "Another outcome in this framework already has the code st-02",
        ),
        ("action", "title", "   ", "Title is required"),
        ("measure", "comparator_names", ["GM average", "gm average"], "gm average is listed twice"),
        (
            "person",
            "email",
            "not an address",
            "'not an address' is not an email address (it should look like name@example.org)",
        ),
    ],
)
def test_a_change_the_form_refuses_is_refused_by_the_service_with_its_message(
    store: Store, world: World, record: str, attr: str, value: Any, message: str
) -> None:
    records: dict[str, Record] = {
        "action": world.mp.action,
        "measure": world.mp.measure,
        "count_measure": world.count_measure,
        "plan": world.mp.plan,
        "org": world.mp.org,
        "outcome": world.outcome,
        "person": world.mp.person,
    }
    target = records[record]
    if value == "other_area":
        value = world.other_area.id
    # What the form shows beside the field before writing...
    with store.session() as s:
        stored = s.get(type(target), target.id)
        assert stored is not None
        with pytest.raises(ValidationError) as checked:
            services.check_field(s, stored, attr, value)
    assert str(checked.value) == message
    # ...and what the write itself says when it gets that far.
    assert (
        _refused(store, lambda tx: services.edit(tx, _get(tx, target), **{attr: value})) == message
    )


# --------------------------------------------------------------------------- grids


def test_a_target_is_set_cleared_and_refused_on_a_tracker(store: Store, world: World) -> None:
    measure, year = world.mp.measure, FinancialYear(2023)
    target_id = MeasureTarget.make_id(measure.id, year)
    with store.transaction(actor="test") as tx:
        measures.enter_target(tx, _get(tx, measure), year, 70.0)
    with store.transaction(actor="test") as tx:
        assert measures.enter_target(tx, _get(tx, measure), year, None) is not None
        assert measures.clear_target(tx, _get(tx, measure), year) is None  # already clear
    with store.session() as s:
        target = s.get(MeasureTarget, target_id)
        assert target is not None and target.deleted_at is not None  # a tombstone: undoable
    with store.transaction(actor="test") as tx:
        measures.enter_target(tx, _get(tx, measure), year, 75.0)
    with store.session() as s:
        target = s.get(MeasureTarget, target_id)
        assert target is not None and target.deleted_at is None and target.value == 75.0
    assert (
        _refused(store, lambda tx: measures.enter_target(tx, _get(tx, measure), year, 101.0))
        == "A percentage cannot be over 100"
    )
    with store.transaction(actor="test") as tx:
        services.edit(tx, _get(tx, world.count_measure), polarity=Polarity.TRACKER)
    assert (
        _refused(
            store, lambda tx: measures.enter_target(tx, _get(tx, world.count_measure), year, 5.0)
        )
        == "A tracker has no targets."
    )


def test_an_allocation_is_cleared_to_a_tombstone(store: Store, world: World) -> None:
    stream, year = world.stream, FinancialYear(2023)
    with store.transaction(actor="test") as tx:
        services.set_allocation(tx, stream.id, year, Decimal("1000"))
    with store.transaction(actor="test") as tx:
        assert funding.clear_allocation(tx, stream.id, year) is not None
        assert funding.clear_allocation(tx, stream.id, FinancialYear(2030)) is None
    with store.session() as s:
        alloc = s.get(FundingAllocation, FundingAllocation.make_id(stream.id, year))
        assert alloc is not None and alloc.deleted_at is not None


def test_links_are_made_once_and_removed(store: Store, world: World) -> None:
    action, council = world.mp.action, world.council
    assert links.ends(ActionPartner) == ("action_id", "organisation_id")
    with store.transaction(actor="test") as tx:
        first = links.link(tx, ActionPartner, _get(tx, action), council.id)
        assert links.link(tx, ActionPartner, _get(tx, action), council.id) is first
    with store.transaction(actor="test") as tx:
        gone = links.unlink(tx, ActionPartner, action.id, council.id)
        assert gone is not None and gone.id == first.id
        assert links.unlink(tx, ActionPartner, action.id, council.id) is None
    with store.transaction(actor="test") as tx:
        services.delete(tx, _get(tx, world.action2))
    assert _refused(
        store, lambda tx: links.link(tx, ActionPartner, _get(tx, world.action2), council.id)
    ) == ("Cannot link to action PVP-02: it has been deleted, so nothing was changed.")
    with pytest.raises(DomainError, match="not a link"):
        links.ends(Action)


# --------------------------------------------------------------------------- packs


def test_a_pack_is_made_with_its_meeting_and_the_last_packs_standing_fields(
    store: Store, world: World
) -> None:
    plan_id = world.mp.plan.id
    meeting_date = dt.date(2023, 11, 20)
    with store.transaction(actor="test") as tx:
        first = packs.create_pack(tx, plan_id, Q2, meeting_date)
        services.edit(tx, first, report_of="Head of Community Safety", key_decision=True)
        first_id, meeting_id = first.id, first.meeting_id
    with store.transaction(actor="test") as tx:
        later = packs.create_pack(
            tx, plan_id, Q2.next(), meeting_date, "Ignored: the meeting exists"
        )
        later_id = later.id
    with store.session() as s:
        meeting = s.get(BoardMeeting, meeting_id)
        assert meeting is not None and meeting.title == "TC Board"
        pack = s.get(BoardPack, later_id)
        assert pack is not None and pack.meeting_id == meeting_id
        assert (pack.report_of, pack.key_decision) == ("Head of Community Safety", True)
        assert pack.subject == f"Plan 2022-25: quarterly performance report, {Q2.next().label}"
        assert s.get(BoardPack, first_id) is not None
    assert _refused(store, lambda tx: packs.create_pack(tx, uuid.uuid4(), Q2, meeting_date)) == (
        "That plan is not in this store (it may have been deleted)."
    )


def test_a_refused_pack_field_leaves_the_pack_as_it_was(store: Store, world: World) -> None:
    with store.transaction(actor="test") as tx:
        pack_id = packs.create_pack(tx, world.mp.plan.id, Q2, dt.date(2023, 11, 20)).id

    def too_long(tx: Transaction) -> None:
        pack = tx.get(BoardPack, pack_id)
        assert pack is not None
        services.edit(tx, pack, protective_marking="X" * 61)

    assert "Protective marking" in _refused(store, too_long)


def test_a_negative_award_or_allocation_is_refused_as_the_money_fields_say(
    store: Store, world: World
) -> None:
    message = _refused(
        store,
        lambda tx: funding.set_allocation(tx, world.stream.id, FinancialYear(2023), Decimal(-5)),
    )
    assert message == "An amount cannot be negative"


def test_what_a_delete_would_take_can_be_asked_without_writing(store: Store, world: World) -> None:
    revision = store.revision()
    with store.session() as s:
        area = s.get(PriorityArea, world.mp.area.id)
        assert area is not None
        with pytest.raises(DomainError, match="Cannot delete"):
            services.delete_plan(s, area)
        doomed = services.delete_plan(s, area, cascade=True)
    assert world.mp.action.id in {r.id for r in doomed}
    assert store.revision() == revision


def test_fields_changed_together_are_judged_together(store: Store, world: World) -> None:
    """Moving both dates past the old due date is one valid change, in either order."""
    with store.transaction() as tx:
        action = _get(tx, world.mp.action)
        services.edit(tx, action, start_date=dt.date(2024, 4, 1), due_date=dt.date(2025, 3, 31))
    with store.session() as s:
        stored = s.get(Action, world.mp.action.id)
        assert stored is not None
        assert (stored.start_date, stored.due_date) == (dt.date(2024, 4, 1), dt.date(2025, 3, 31))


def test_a_refused_field_among_several_puts_them_all_back(store: Store, world: World) -> None:
    """Even when the caller carries on in the same transaction (as an importer that
    skips a refused row does), nothing of a refused edit is written."""
    with store.transaction() as tx:
        measure = _get(tx, world.mp.measure)
        with pytest.raises(ValidationError, match="GM average has figures for 1 quarter"):
            services.edit(tx, measure, name="Renamed", comparator_names=[])
        services.edit(tx, measure, definition="Still written")
    with store.session() as s:
        stored = s.get(Measure, world.mp.measure.id)
        assert stored is not None
        assert (stored.name, stored.comparator_names) == ("Feel safe", ["GM average"])
        assert stored.definition == "Still written"
