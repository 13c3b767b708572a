"""Several writers beyond a form's plain fields: a measure's quarterly value, a year's
target and allocation (records whose id comes from their measure/stream and period, so
"no record yet" is a reading too), a quarter's action update, and deleting a record
someone changed since it was read. Each refused write names who, theirs and yours and
writes nothing (both engines; two real connections racing in tests/store)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.enums import Rag, ValueStatus
from ssp_desktop.domain.errors import DeleteConflictError, EditConflictError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    ChangeLog,
    FundingAllocation,
    FundingStream,
    Measure,
    MeasureTarget,
    MeasureValue,
    PlanApproval,
)
from ssp_desktop.services import funding, measures
from ssp_desktop.services import plan as plan_services
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q1 = Quarter(2022, 1)
FY = FinancialYear(2022)


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


@pytest.fixture
def second(store: Store) -> Iterator[Store]:
    other = store.another_writer()
    yield other
    other.close()


def enter_value(
    store: Store, plan: MiniPlan, value: float | None, *, actor: str = "test", **kw: object
) -> None:
    with store.transaction(actor=actor) as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.record_value(tx, measure, Q1, value, **kw)  # type: ignore[arg-type]


def stored_value(store: Store, plan: MiniPlan) -> float | None:
    with store.session() as s:
        row = s.get(MeasureValue, MeasureValue.make_id(plan.measure.id, Q1))
        return None if row is None or row.deleted_at is not None else row.value


def log_rows(store: Store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(ChangeLog)) or 0


def test_a_value_entered_by_someone_else_into_a_quarter_shown_empty_is_refused(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    enter_value(second, plan, 71.0, actor="Jane Other", expected={"value": None})
    rows = log_rows(store)
    with pytest.raises(EditConflictError) as refused:
        enter_value(store, plan, 64.0, expected={"value": None})
    conflict = refused.value.conflict
    assert (conflict.field, conflict.theirs, conflict.yours) == ("value", 71.0, 64.0)
    assert "Jane Other" in conflict.by
    assert stored_value(store, plan) == 71.0
    assert log_rows(store) == rows
    # Having seen theirs, writing mine is an ordinary change.
    enter_value(store, plan, 64.0, expected={"value": 71.0})
    assert stored_value(store, plan) == 64.0


def test_a_value_changed_since_read_is_refused_but_another_field_goes_through(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    enter_value(store, plan, 60.0)
    enter_value(second, plan, 60.0, actor="Jane Other", note="Survey wave 2")
    # The first window changes the value it showed as 60: the note it did not touch
    # is no conflict.
    enter_value(store, plan, 62.0, note="Survey wave 2", expected={"value": 60.0})
    assert stored_value(store, plan) == 62.0
    enter_value(second, plan, 63.0, actor="Jane Other", note="Survey wave 2")
    with pytest.raises(EditConflictError):
        enter_value(store, plan, 65.0, note="Survey wave 2", expected={"value": 62.0})
    assert stored_value(store, plan) == 63.0


def test_a_value_cleared_by_someone_else_reads_as_a_conflict_with_empty(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    enter_value(store, plan, 60.0, status=ValueStatus.FINAL)
    with second.transaction(actor="Jane Other") as tx:
        row = tx.get(MeasureValue, MeasureValue.make_id(plan.measure.id, Q1))
        assert row is not None
        services.delete(tx, row)
    with pytest.raises(EditConflictError) as refused:
        enter_value(store, plan, 61.0, expected={"value": 60.0})
    assert refused.value.conflict.theirs_words == "(empty)"
    assert "Jane Other" in refused.value.conflict.by
    assert stored_value(store, plan) is None


def test_a_target_set_by_someone_else_is_not_overwritten_nor_cleared(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    def enter(s: Store, value: float | None, expected: float | None, actor: str = "t") -> None:
        with s.transaction(actor=actor) as tx:
            measure = tx.get(Measure, plan.measure.id)
            assert measure is not None
            measures.enter_target(tx, measure, FY, value, expected=expected)

    enter(second, 75.0, None, actor="Jane Other")
    with pytest.raises(EditConflictError) as refused:
        enter(store, 70.0, None)
    assert (refused.value.conflict.theirs, refused.value.conflict.yours) == (75.0, 70.0)
    with pytest.raises(EditConflictError):
        enter(store, None, 80.0)  # clearing what it showed as 80: it is 75 now
    with store.session() as s:
        target = s.get(MeasureTarget, MeasureTarget.make_id(plan.measure.id, FY))
        assert target is not None and target.deleted_at is None and target.value == 75.0
    enter(store, None, 75.0)
    with store.session() as s:
        target = s.get(MeasureTarget, MeasureTarget.make_id(plan.measure.id, FY))
        assert target is not None and target.deleted_at is not None


def test_an_allocation_changed_since_read_is_refused_with_who(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    with store.transaction(actor="t") as tx:
        stream = funding.add_stream(tx, plan.partnership.id)
        services.set_allocation(tx, stream.id, FY, Decimal("1000"))
    stream_id = stream.id
    with second.transaction(actor="Jane Other") as tx:
        services.set_allocation(tx, stream_id, FY, Decimal("1200"), expected=Decimal("1000"))
    with pytest.raises(EditConflictError) as refused:
        with store.transaction(actor="t") as tx:
            services.set_allocation(tx, stream_id, FY, Decimal("900"), expected=Decimal("1000"))
    assert "£" not in refused.value.conflict.theirs_words
    assert refused.value.conflict.theirs == Decimal("1200")
    with pytest.raises(EditConflictError):
        with store.transaction(actor="t") as tx:
            funding.clear_allocation(tx, stream_id, FY, expected=Decimal("1000"))
    with store.session() as s:
        alloc = s.get(FundingAllocation, FundingAllocation.make_id(stream_id, FY))
        assert alloc is not None and alloc.deleted_at is None and alloc.amount == Decimal("1200")
        assert s.get(FundingStream, stream_id) is not None


def write(
    store: Store,
    plan: MiniPlan,
    rag: Rag,
    text: str,
    *,
    read: tuple[Rag | None, str] | None,
    actor: str = "t",
) -> None:
    with store.transaction(actor=actor) as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.write_update(
            tx,
            action,
            Q1,
            rag=rag,
            narrative=text,
            written_on=dt.date(2022, 7, 1),
            expected=None if read is None else {"rag": read[0], "narrative": read[1]},
        )


def current_updates(store: Store, plan: MiniPlan) -> list[str]:
    with store.session() as s:
        return list(
            s.scalars(
                select(ActionUpdate.narrative).where(
                    ActionUpdate.action_id == plan.action.id, ActionUpdate.is_current.is_(True)
                )
            )
        )


def test_a_quarters_update_written_by_someone_else_since_it_was_read_is_refused(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    write(second, plan, Rag.AMBER, "Recruiting", read=(None, ""), actor="Jane Other")
    with pytest.raises(EditConflictError) as refused:
        write(store, plan, Rag.GREEN, "Two IDVAs in post", read=(None, ""))
    conflict = refused.value.conflict
    assert conflict.field == "rag"
    assert (conflict.theirs, conflict.yours) == (Rag.AMBER, Rag.GREEN)
    assert current_updates(store, plan) == ["Recruiting"]
    write(store, plan, Rag.GREEN, "Two IDVAs in post", read=(Rag.AMBER, "Recruiting"))
    assert current_updates(store, plan) == ["Two IDVAs in post"]
    # Someone else rewrites only the narrative: refused on the narrative.
    write(
        second,
        plan,
        Rag.GREEN,
        "Three in post",
        read=(Rag.GREEN, "Two IDVAs in post"),
        actor="Jane Other",
    )
    with pytest.raises(EditConflictError) as again:
        write(store, plan, Rag.RED, "Two IDVAs in post", read=(Rag.GREEN, "Two IDVAs in post"))
    assert again.value.conflict.field == "narrative"
    assert again.value.conflict.theirs_words == "\u201cThree in post\u201d"


def approval_version(store: Store, approval_id: object) -> int:
    with store.session() as s:
        approval = s.get(PlanApproval, approval_id)
        assert approval is not None
        return approval.version


def test_deleting_a_record_changed_since_it_was_read_is_refused_with_who(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    with store.transaction(actor="t") as tx:
        plan_row = tx.get(type(plan.plan), plan.plan.id)
        assert plan_row is not None
        approval = plan_services.add_approval(tx, plan_row, dt.date(2022, 3, 1))
    approval_id = approval.id
    read = approval_version(store, approval_id)
    with second.transaction(actor="Jane Other") as tx:
        row = tx.get(PlanApproval, approval_id)
        assert row is not None
        services.edit(tx, row, body="Council Executive")
    with pytest.raises(DeleteConflictError) as refused:
        with store.transaction(actor="t") as tx:
            row = tx.get(PlanApproval, approval_id)
            assert row is not None
            services.delete(tx, row, read_version=read)
    message = str(refused.value)
    assert "was changed by Jane Other on " in message
    assert "its body is now \u201cCouncil Executive\u201d" in message
    assert "Nothing was deleted" in message
    with store.session() as s:
        kept = s.get(PlanApproval, approval_id)
        assert kept is not None and kept.deleted_at is None
    # Read again, the delete goes through.
    with store.transaction(actor="t") as tx:
        row = tx.get(PlanApproval, approval_id)
        assert row is not None
        services.delete(tx, row, read_version=approval_version(store, approval_id))
    with store.session() as s:
        gone = s.get(PlanApproval, approval_id)
        assert gone is not None and gone.deleted_at is not None
