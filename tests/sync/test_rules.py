"""A lead's change that breaks one of the plan's rules is rejected in the preview, item
by item, with the words the form uses; the rest of the bundle applies, in one
transaction."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    ChangeLog,
    Measure,
    MeasureValue,
    Plan,
    PriorityArea,
)
from ssp_desktop.services import review
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.preview import REJECTED
from tests.sync.helpers import LEAD_A, World, members_of, rewrite

Q1 = Quarter(2022, 1)


def _on(store: Store, world: World, **fields: object) -> None:
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, **fields)


def _refusal(store: Store, world: World, **fields: object) -> str:
    """What the form says to the same change on this store (nothing is written)."""
    with pytest.raises(DomainError) as refused, store.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, **fields)
    return str(refused.value)


def test_changes_that_break_rules_are_rejected_one_by_one_and_the_rest_applies(
    world: World,
) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    # The lead brings the due date forward; the master, meanwhile, starts the action
    # later: each is fine on its own copy, together the dates are out of order.
    _on(lead, world, due_date=dt.date(2022, 6, 30))
    _on(world.master, world, start_date=dt.date(2022, 9, 1))
    with lead.transaction(actor="lead") as tx:
        area = tx.get(PriorityArea, world.plan.area.id)
        action = tx.get(Action, world.plan.action.id)
        measure = tx.get(Measure, world.plan.measure.id)
        assert area is not None and action is not None and measure is not None
        # A ref the lead's copy has no trace of, but another theme's action has.
        services.add_action(tx, area, ref="rch-01", title="Doorstep crime")
        services.write_update(
            tx, action, Q1, rag=None, narrative="Two IDVAs", written_on=dt.date(2022, 6, 30)
        )
        services.record_value(tx, measure, Q1, 81.0)
    bundle = world.export(LEAD_A)
    # A buggy or hostile app sends a percentage over 100.
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    for line in lines:
        if line["entity"] == "measure_value" and line["op"] == "create":
            line["new"]["value"] = 150.0
    rewrite(bundle, {"changes.jsonl": b"".join(json.dumps(x).encode() + b"\n" for x in lines)})
    before = world.master.revision()

    result = world.to_master(bundle)

    assert result.applied
    rejected = {i.label: i.detail for i in result.preview.items if i.outcome == REJECTED}
    assert rejected == {
        "action PVP-01": "The due date is before the start date",
        "action rch-01": "Another action in this plan already has the ref rch-01",
        "value for 2022/23 Q1": "A percentage cannot be over 100",
    }
    assert result.preview.counts["new"] == 1  # the quarterly update
    # The same words as the form, for the same change on the master.
    assert _refusal(world.master, world, due_date=dt.date(2022, 6, 30)) == (
        "The due date is before the start date"
    )
    assert _refusal(world.master, world, ref="rch-01") == (
        "Another action in this plan already has the ref rch-01"
    )
    with pytest.raises(DomainError, match="^A percentage cannot be over 100$"):
        with world.master.transaction() as tx:
            measure = tx.get(Measure, world.plan.measure.id)
            assert measure is not None
            services.record_value(tx, measure, Q1, 150.0)
    # Nothing refused was written; the quarterly update applied, in one transaction.
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None
        assert (action.start_date, action.due_date) == (dt.date(2022, 9, 1), dt.date(2023, 3, 31))
        assert s.scalars(select(Action.ref).where(Action.ref.ilike("rch-01"))).all() == ["RCH-01"]
        assert s.scalars(select(MeasureValue)).all() == []
        (update,) = s.scalars(select(ActionUpdate)).all()
        assert update.narrative == "Two IDVAs"
        change_sets = set(s.scalars(select(ChangeLog.change_set).where(ChangeLog.seq > before)))
    assert len(change_sets) == 1
    # The lead hears the master did not accept them.
    back = world.reply(LEAD_A)
    assert any("did not accept 3 of your changes" in w for w in back.preview.warnings)


def test_changes_to_a_plan_archived_meanwhile_are_each_refused_in_the_forms_words(
    world: World,
) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    # Several fields of one record, a new update and a new value: each is judged
    # against the plan the master has archived since the lead's starter.
    _on(lead, world, title="Four IDVAs", description="Independent advisers")
    with lead.transaction(actor="lead") as tx:
        action = tx.get(Action, world.plan.action.id)
        measure = tx.get(Measure, world.plan.measure.id)
        assert action is not None and measure is not None
        services.write_update(
            tx, action, Q1, rag=None, narrative="Two IDVAs", written_on=dt.date(2022, 6, 30)
        )
        services.record_value(tx, measure, Q1, 81.0)
    bundle = world.export(LEAD_A)
    with world.master.transaction(actor="Strategy Officer") as tx:
        plan = tx.get(Plan, world.plan.plan.id)
        assert plan is not None
        review.archive_plan(tx, plan)
    words = _refusal(world.master, world, title="Four IDVAs")
    assert "was archived on" in words and "by Strategy Officer" in words

    result = world.to_master(bundle)

    items = {i.label: (i.outcome, i.detail) for i in result.preview.items}
    assert items == {
        "action PVP-01": (REJECTED, words),
        "update for 2022/23 Q1": (REJECTED, words),
        "value for 2022/23 Q1": (REJECTED, words),
    }
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title != "Four IDVAs"
        assert s.scalars(select(ActionUpdate)).all() == []
        assert s.scalars(select(MeasureValue)).all() == []
