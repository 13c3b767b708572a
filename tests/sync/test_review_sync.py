"""The sign-off cycle through bundles (issue 16): a lead's bundle that changes what only
the master copy sets has those items rejected, each with a message, and the rest
applied; a lead cannot accept their own update; an update the master returns travels
back to the lead with its reason, and the lead's resubmission reaches the master."""

from __future__ import annotations

import datetime as dt
import uuid

from ssp_desktop import services
from ssp_desktop.domain.enums import Rag, UpdateState
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Action, ActionUpdate, Measure, MeasureTarget
from ssp_desktop.services import authority, review
from ssp_desktop.store.engine import Store
from tests.sync.helpers import LEAD_A, World

Q2 = Quarter(2023, 2)


def _get(store: Store, cls: type, record_id: uuid.UUID) -> object:
    with store.session() as s:
        found = s.get(cls, record_id)
        s.expunge_all()
        return found


def _write_update(store: Store, world: World, state: UpdateState) -> uuid.UUID:
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        return services.write_update(
            tx,
            action,
            Q2,
            rag=Rag.AMBER,
            narrative="Two IDVAs recruited.",
            written_on=dt.date(2023, 10, 3),
            state=state,
        ).id


def test_master_owned_changes_in_a_lead_bundle_are_rejected_item_by_item(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    update_id = _write_update(lead, world, UpdateState.SUBMITTED)
    # A tampered lead copy (its own services refuse all of this) sends the master
    # a tolerance, a target and its own acceptance, beside an ordinary change.
    with lead.transaction(actor="lead") as tx, authority.acting_as(tx.session, authority.MASTER):
        measure = tx.get(Measure, world.plan.measure.id)
        assert measure is not None
        services.edit(tx, measure, tolerance=9.0, owner_person_id=world.plan.person.id)
        services.set_target(tx, measure, FinancialYear(2023), 99.0)
        services.edit(tx, tx.get(ActionUpdate, update_id), state=UpdateState.ACCEPTED)
        services.edit(tx, tx.get(Action, world.plan.action.id), title="Fund three IDVAs")
    result = world.send(LEAD_A)
    rejected = [(i.label, i.detail) for i in result.preview.rejected]
    assert ("measure M01", "tolerance: Only the master copy sets tolerances") in rejected
    assert ("target for 2023/24", "Only the master copy sets targets") in rejected
    assert any(d == "state: Only the master copy accepts or returns updates" for _, d in rejected)
    # The rest applied: the lead's title, their submitted update, the measure's owner.
    action = _get(world.master, Action, world.plan.action.id)
    assert isinstance(action, Action) and action.title == "Fund three IDVAs"
    update = _get(world.master, ActionUpdate, update_id)
    assert isinstance(update, ActionUpdate) and update.state is UpdateState.SUBMITTED
    measure = _get(world.master, Measure, world.plan.measure.id)
    assert isinstance(measure, Measure)
    assert measure.tolerance == 0.0 and measure.owner_person_id == world.plan.person.id
    target_id = MeasureTarget.make_id(world.plan.measure.id, FinancialYear(2023))
    assert _get(world.master, MeasureTarget, target_id) is None
    # The rejected changes count as processed: the next bundle does not repeat them.
    again = world.send(LEAD_A)
    assert again.preview.rejected == []


def test_a_returned_update_travels_back_and_the_resubmission_reaches_the_master(
    world: World,
) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    update_id = _write_update(lead, world, UpdateState.SUBMITTED)
    world.send(LEAD_A)
    with world.master.transaction(actor="strategy") as tx:
        review.return_to_lead(tx, tx.get(ActionUpdate, update_id), "Say how many are in post.")
    world.reply(LEAD_A)
    on_lead = _get(lead, ActionUpdate, update_id)
    assert isinstance(on_lead, ActionUpdate)
    assert (on_lead.state, on_lead.review_note) == (
        UpdateState.RETURNED,
        "Say how many are in post.",
    )
    # The lead answers and submits again; the master sees it awaiting review.
    with lead.transaction(actor="lead") as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        new = services.write_update(
            tx,
            action,
            Q2,
            rag=Rag.AMBER,
            narrative="Two IDVAs in post since September.",
            written_on=dt.date(2023, 10, 9),
            state=UpdateState.SUBMITTED,
        )
        new_id = new.id
    result = world.send(LEAD_A)
    assert result.preview.rejected == []
    resubmitted = _get(world.master, ActionUpdate, new_id)
    assert isinstance(resubmitted, ActionUpdate)
    assert (resubmitted.state, resubmitted.is_current) == (UpdateState.SUBMITTED, True)
    with world.master.transaction(actor="strategy") as tx:
        review.accept(tx, tx.get(ActionUpdate, new_id))
    world.reply(LEAD_A)
    accepted = _get(lead, ActionUpdate, new_id)
    assert isinstance(accepted, ActionUpdate) and accepted.state is UpdateState.ACCEPTED
