"""An import that is cancelled, or sent to the wrong kind of copy, changes nothing."""

from __future__ import annotations

import pytest

from ssp_desktop import services
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import Action
from ssp_desktop.progress import Cancelled, Progress
from ssp_desktop.sync.importer import import_bundle
from tests.sync.helpers import LEAD_A, World, bundle_count


def test_a_cancelled_import_leaves_the_store_and_no_backup(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Never arrives")
    bundle = world.read(world.export(LEAD_A))
    before = (world.master.revision(), bundle_count(world.master))

    def cancel_when_saving(_done: int, _total: int, text: str) -> None:
        if text.startswith("Saving"):  # the user presses Cancel at the last moment
            progress.cancel()
            progress.check()

    progress = Progress(cancel_when_saving)
    with pytest.raises(Cancelled):
        import_bundle(world.master, bundle, progress=progress)
    assert (world.master.revision(), bundle_count(world.master)) == before
    assert not list(world.folder.glob("*.backup-*"))
    with world.master.session() as s:
        found = s.get(Action, world.plan.action.id)
        assert found is not None and found.title == "Fund IDVAs"


def test_bundles_sent_the_wrong_way_are_refused(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    snapshot = world.read(world.snapshot(LEAD_A), LEAD_A)
    with pytest.raises(BundleError, match="this store is the master copy"):
        import_bundle(world.master, snapshot)
    changes = world.read(world.export(LEAD_A))
    with pytest.raises(BundleError, match="this store is a lead copy"):
        import_bundle(lead, changes)
