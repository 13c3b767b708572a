"""Scenario tests of sync between the master copy and leads' copies (issue 6)."""

from __future__ import annotations

import datetime as dt

from ssp_desktop.models import domain
from ssp_desktop.models.entities import Action
from ssp_desktop.models.store import Store
from ssp_desktop.sync.conflicts import THEIRS, conflicts_for, resolve
from tests.sync.helpers import LEAD_A, LEAD_B, World, open_conflicts


def edit_action(store: Store, world: World, **fields: object) -> None:
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        tx.update(action, **fields)


def action(store: Store, world: World) -> Action:
    with store.session() as s:
        found = s.get(Action, world.plan.action.id)
        assert found is not None
        return found


def test_two_leads_edit_different_fields_both_kept(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    b = world.starter(LEAD_B, ["PVP"])
    edit_action(a, world, title="Fund four IDVAs")
    edit_action(b, world, description="Independent advisers")
    ra = world.send(LEAD_A)
    rb = world.send(LEAD_B)
    assert ra.applied and rb.applied
    assert not ra.preview.conflicts and not rb.preview.conflicts
    got = action(world.master, world)
    assert (got.title, got.description) == ("Fund four IDVAs", "Independent advisers")


def test_same_field_differently_is_a_conflict_and_the_loser_is_kept(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    b = world.starter(LEAD_B, ["PVP"])
    edit_action(a, world, title="Title from A")
    edit_action(b, world, title="Title from B")
    world.send(LEAD_A)
    result = world.send(LEAD_B)
    (conflict,) = result.preview.conflicts
    assert (conflict.field, conflict.base, conflict.local, conflict.incoming) == (
        "title",
        "'Fund IDVAs'",
        "'Title from A'",
        "'Title from B'",
    )
    assert action(world.master, world).title == "Title from A"  # nothing decided yet
    (row,) = open_conflicts(world.master)
    resolve(world.master, row.id, THEIRS, actor="strategy")
    assert action(world.master, world).title == "Title from B"
    (history,) = conflicts_for(world.master, world.plan.action.id)
    assert (history.local, history.incoming, history.resolution) == (
        "Title from A",
        "Title from B",
        "theirs",
    )
    assert open_conflicts(world.master) == []


def test_it_runs(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    with a.transaction() as tx:
        act = tx.get(Action, world.plan.action.id)
        assert act is not None
        domain.write_update(
            tx,
            act,
            domain.Quarter(2022, 1),
            rag=None,
            narrative="x",
            written_on=dt.date(2022, 6, 1),
        )
    world.send(LEAD_A)
    world.reply(LEAD_A)
