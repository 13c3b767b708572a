"""What a merge's planner reads up front about unique keys (``Overlay.preload_keys``)
finds exactly the stored records holding a key as a whole, and the clash checks that
follow answer from it without asking the store again."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from ssp_desktop import services
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ActionUpdate
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.overlay import Overlay
from tests.sync.helpers import World

Q1 = Quarter(2022, 1)
Q2 = Quarter(2022, 2)


def _update(store: Store, action_id: uuid.UUID, quarter: Quarter) -> uuid.UUID:
    with store.transaction(actor="strategy") as tx:
        action = tx.get(Action, action_id)
        assert action is not None
        update = services.write_update(
            tx, action, quarter, rag=None, narrative="On track", written_on=dt.date(2022, 6, 30)
        )
        return update.id


@contextmanager
def _queries(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def _new(action_id: uuid.UUID, quarter: Quarter) -> dict[str, Any]:
    return {"action_id": action_id, "quarter": quarter, "is_current": True}


def test_keys_read_up_front_find_whole_keys_only(world: World) -> None:
    pvp = world.plan.action.id
    with world.master.session() as s:
        rch = s.scalar(select(Action.id).where(Action.ref == "RCH-01"))
    assert rch is not None
    # Stored current updates: PVP-01 in Q1, RCH-01 in Q2. A new update of PVP-01 in Q2
    # (or RCH-01 in Q1) matches a stored one on each column, but on neither as a whole.
    held = _update(world.master, pvp, Q1)
    _update(world.master, rch, Q2)
    rows = [_new(pvp, Q2), _new(rch, Q1), _new(pvp, Q1)]
    with world.master.session() as s:
        view = Overlay(s)
        view.preload_keys(ActionUpdate, rows)
        with _queries(world.master) as asked:
            found = [view.clash(ActionUpdate, uuid.uuid4(), row) for row in rows]
        assert asked == []  # every key was read up front
    assert found[0] is None and found[1] is None
    assert found[2] is not None
    cols, other, current_only = found[2]
    assert (cols, other, current_only) == (["action_id", "quarter"], held, True)


def test_a_key_not_read_up_front_is_asked_of_the_store(world: World) -> None:
    held = _update(world.master, world.plan.action.id, Q1)
    with world.master.session() as s:
        view = Overlay(s)
        view.preload_keys(ActionUpdate, [_new(world.plan.action.id, Q2)])
        with _queries(world.master) as asked:
            found = view.clash(ActionUpdate, uuid.uuid4(), _new(world.plan.action.id, Q1))
        assert asked  # not foreseen: the store answers
    assert found is not None and found[1] == held
