"""The merge is planned once, at the preview, and that plan is applied; a write to the
store between the preview and the import's transaction makes it plan again, so what is
applied always matches the store as it is when applied."""

from __future__ import annotations

import pytest
from pytest import MonkeyPatch

from ssp_desktop import services
from ssp_desktop.domain.records import Action
from ssp_desktop.progress import Progress
from ssp_desktop.sync import importer
from ssp_desktop.sync.importer import import_bundle
from tests.sync.helpers import World, lead_change, open_conflicts


def _count_plans(monkeypatch: MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = importer._plan

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "_plan", counting)
    return calls


# A server store has no counter that every commit moves (SQLite's data_version), so an
# import there always plans again inside its transaction, after the import lock.
@pytest.mark.sqlite_only
def test_an_untouched_store_gets_the_previewed_plan(world: World, monkeypatch: MonkeyPatch) -> None:
    bundle = lead_change(world, "Title from the lead")
    calls = _count_plans(monkeypatch)
    result = world.to_master(bundle)
    assert result.applied and len(calls) == 1
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title == "Title from the lead"


def test_a_write_after_the_preview_is_seen_by_the_import(
    world: World, monkeypatch: MonkeyPatch
) -> None:
    bundle = lead_change(world, "Title from the lead")
    calls = _count_plans(monkeypatch)

    def strategy_team_edits(_done: int, _total: int, text: str) -> None:
        # Between the preview and the import's transaction (while the backup is made),
        # the master copy's own user retitles the same action.
        if text.startswith("Taking a backup"):
            with world.master.transaction(actor="strategy") as tx:
                action = tx.get(Action, world.plan.action.id)
                assert action is not None
                services.edit(tx, action, title="Title from the strategy team")

    result = import_bundle(world.master, world.read(bundle), progress=Progress(strategy_team_edits))
    assert len(calls) == 2  # planned again inside the transaction
    # The previewed plan would have applied the lead's title over the team's edit; the
    # new plan sees both changed the field and queues a conflict instead.
    assert result.applied and result.conflicts_waiting == 1
    (conflict,) = open_conflicts(world.master)
    assert conflict.field == "title"
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title == "Title from the strategy team"
