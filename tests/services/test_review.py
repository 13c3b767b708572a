"""The sign-off cycle through the domain (issue 16): submit, accept, return with a
reason; what only the master copy may change; archived plans read-only until reopened."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import PlanStatus, Polarity, Rag, UpdateState
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    ChangeLog,
    Measure,
    MeasureValue,
    Plan,
    PriorityArea,
    StoreMeta,
)
from ssp_desktop.domain.sync_records import ROLE_LEAD
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.services import authority, review
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q2 = Quarter(2023, 2)


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    return mini_plan(store)


def _update(store: Store, mini: MiniPlan, **kw: object) -> ActionUpdate:
    with store.transaction() as tx:
        action = tx.get(Action, mini.action.id)
        assert action is not None
        fields: dict = {
            "rag": Rag.AMBER,
            "narrative": "IDVA posts advertised.",
            "written_on": dt.date(2023, 10, 2),
        }
        fields.update(kw)
        return services.write_update(tx, action, Q2, **fields)


def _get(store: Store, cls: type, record_id: object) -> object:
    with store.session() as s:
        found = s.get(cls, record_id)
        s.expunge_all()
        return found


def _as_lead_copy(store: Store) -> None:
    with store.transaction(keeps_history=True) as tx:
        tx.session.add(StoreMeta(key="sync_role", value=ROLE_LEAD))


# --------------------------------------------------------------------------- review


def test_submit_accept_and_the_cycle_of_a_return(store: Store, mini: MiniPlan) -> None:
    update = _update(store, mini)
    with store.transaction() as tx:
        found = tx.get(ActionUpdate, update.id)
        with pytest.raises(DomainError, match="still a draft"):
            review.accept(tx, found)
    with store.transaction() as tx:
        review.submit(tx, tx.get(ActionUpdate, update.id))
    with store.transaction() as tx:
        with pytest.raises(ValidationError, match="Say why"):
            review.return_to_lead(tx, tx.get(ActionUpdate, update.id), "   ")
    with store.transaction() as tx:
        review.return_to_lead(tx, tx.get(ActionUpdate, update.id), "Say which posts.")
    returned = _get(store, ActionUpdate, update.id)
    assert isinstance(returned, ActionUpdate)
    assert (returned.state, returned.review_note) == (UpdateState.RETURNED, "Say which posts.")
    with store.transaction() as tx:  # resubmitted as it was: the reason is cleared
        review.submit(tx, tx.get(ActionUpdate, update.id))
    with store.transaction() as tx:
        review.accept(tx, tx.get(ActionUpdate, update.id))
    accepted = _get(store, ActionUpdate, update.id)
    assert isinstance(accepted, ActionUpdate)
    assert (accepted.state, accepted.review_note) == (UpdateState.ACCEPTED, "")
    with store.session() as s:  # every step is in the history, attributed
        states = s.scalars(
            select(ChangeLog.new)
            .where(ChangeLog.record_id == update.id, ChangeLog.field == "state")
            .order_by(ChangeLog.seq)
        ).all()
    assert states == ['"submitted"', '"returned"', '"submitted"', '"accepted"']


def test_an_update_without_rag_or_narrative_cannot_be_submitted(
    store: Store, mini: MiniPlan
) -> None:
    update = _update(store, mini, rag=None, narrative="")
    with store.transaction() as tx, pytest.raises(ValidationError, match="choose a RAG"):
        review.submit(tx, tx.get(ActionUpdate, update.id))


def test_edit_then_accept_keeps_the_leads_words_in_the_history(
    store: Store, mini: MiniPlan
) -> None:
    update = _update(store, mini, state=UpdateState.SUBMITTED)
    with store.transaction() as tx:
        made = review.edit_then_accept(
            tx, tx.get(ActionUpdate, update.id), narrative="Two IDVA posts advertised."
        )
    new = _get(store, ActionUpdate, made.id)
    old = _get(store, ActionUpdate, update.id)
    assert isinstance(new, ActionUpdate) and isinstance(old, ActionUpdate)
    assert (new.state, new.narrative, new.is_current) == (
        UpdateState.ACCEPTED,
        "Two IDVA posts advertised.",
        True,
    )
    assert (old.narrative, old.is_current) == ("IDVA posts advertised.", False)


def test_a_value_is_reviewed_as_an_update_is(store: Store, mini: MiniPlan) -> None:
    with store.transaction() as tx:
        measure = tx.get(Measure, mini.measure.id)
        value = services.record_value(tx, measure, Q2, 71.0)
    # Typed on the master copy: the strategy team's own figure, accepted.
    assert value.state is UpdateState.ACCEPTED
    _as_lead_copy(store)
    with store.transaction() as tx:
        measure = tx.get(Measure, mini.measure.id)
        changed = services.record_value(tx, measure, Q2, 73.0)
        assert changed.state is UpdateState.DRAFT  # a lead's change needs review again
        review.submit(tx, changed)
        assert changed.state is UpdateState.SUBMITTED
        with pytest.raises(ValidationError, match="Only the master copy accepts or returns"):
            review.accept(tx, changed)


# --------------------------------------------------------------------------- authority


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda tx, m: services.set_target(tx, m, FinancialYear(2023), 80.0), "sets targets"),
        (lambda tx, m: services.edit(tx, m, tolerance=3.0), "sets tolerances"),
        (
            lambda tx, m: services.edit(tx, m, polarity=Polarity.LOWER_BETTER),
            "sets a measure's polarity",
        ),
        (lambda tx, m: services.edit(tx, m, stable_threshold=1.0), "sets thresholds"),
        (lambda tx, m: services.edit(tx, m, definition="Other"), "changes measure definitions"),
    ],
)
def test_a_lead_copy_cannot_change_what_the_master_owns(
    store: Store, mini: MiniPlan, change: object, words: str
) -> None:
    _as_lead_copy(store)
    with store.transaction() as tx:
        measure = tx.get(Measure, mini.measure.id)
        with pytest.raises(ValidationError, match=f"^Only the master copy {words}$"):
            change(tx, measure)  # type: ignore[operator]
    with store.transaction() as tx:  # the form's pre-check gives the same words
        measure = tx.get(Measure, mini.measure.id)
        with pytest.raises(ValidationError, match="Only the master copy"):
            services.check_field(tx.session, measure, "tolerance", 9.0)
        services.check_field(tx.session, measure, "owner_person_id", mini.person.id)


def test_a_lead_copy_cannot_accept_or_restructure_the_plan(store: Store, mini: MiniPlan) -> None:
    update = _update(store, mini, state=UpdateState.SUBMITTED)
    _as_lead_copy(store)
    with store.transaction() as tx:
        with pytest.raises(ValidationError, match="accepts or returns updates"):
            services.edit(tx, tx.get(ActionUpdate, update.id), state=UpdateState.ACCEPTED)
    with store.transaction() as tx:
        with pytest.raises(ValidationError, match="changes the plan's structure"):
            services.create(tx, PriorityArea(priority_id=mini.priority.id, title="New area"))
    with store.transaction() as tx:
        with pytest.raises(ValidationError, match="sets the plan's status"):
            services.edit(tx, tx.get(Plan, mini.plan.id), status=PlanStatus.APPROVED)
    with store.transaction() as tx:  # their own actions are theirs to change
        services.edit(tx, tx.get(Action, mini.action.id), title="Fund three IDVAs")
    with store.transaction() as tx:  # and the master's snapshot is the master's
        with authority.acting_as(tx.session, authority.MASTER):
            services.edit(tx, tx.get(Measure, mini.measure.id), tolerance=2.0)


# --------------------------------------------------------------------------- archiving


def test_an_archived_plan_is_read_only_until_reopened_with_a_reason(
    store: Store, mini: MiniPlan
) -> None:
    with store.transaction(actor="Strategy Officer") as tx:
        review.archive_plan(tx, tx.get(Plan, mini.plan.id))
    with store.transaction() as tx:
        with pytest.raises(ValidationError, match="was archived on .* by Strategy Officer"):
            services.edit(tx, tx.get(Action, mini.action.id), title="Late edit")
    with pytest.raises(ValidationError, match="read-only"):
        _update(store, mini)
    with store.transaction() as tx:
        with pytest.raises(ValidationError, match="read-only"):
            services.edit(tx, tx.get(Plan, mini.plan.id), status=PlanStatus.APPROVED)
    with store.transaction() as tx:
        with pytest.raises(ValidationError, match="Say why"):
            review.reopen_plan(tx, tx.get(Plan, mini.plan.id), "", to=PlanStatus.APPROVED)
    with store.transaction() as tx:
        review.reopen_plan(
            tx, tx.get(Plan, mini.plan.id), "Board asked for a final update", to=PlanStatus.APPROVED
        )
    with store.transaction() as tx:
        services.edit(tx, tx.get(Action, mini.action.id), title="Late edit")
    with store.session() as s:
        reasons = s.scalars(
            select(ChangeLog.new).where(
                ChangeLog.record_id == mini.plan.id, ChangeLog.field == "status_reason"
            )
        ).all()
    assert reasons == ['"Board asked for a final update"']


def test_a_value_of_an_archived_plan_is_refused_too(store: Store, mini: MiniPlan) -> None:
    with store.transaction() as tx:
        review.archive_plan(tx, tx.get(Plan, mini.plan.id))
    with store.transaction() as tx:
        measure = tx.get(Measure, mini.measure.id)
        with pytest.raises(ValidationError, match="archived"):
            services.record_value(tx, measure, Q2, 50.0)
    with store.session() as s:
        assert s.scalars(select(MeasureValue)).all() == []
