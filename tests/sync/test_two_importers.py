"""Two officers importing two leads' bundles into one master at the same moment: both
land, each planned against what the other committed, and the change log has both."""

from __future__ import annotations

import json
import threading

from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.records import Action, ChangeLog
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.bundle import Bundle
from ssp_desktop.sync.importer import ImportResult, import_bundle
from tests.sync.helpers import LEAD_A, LEAD_B, World, open_conflicts


def retitle(lead: Store, ref: str, title: str) -> None:
    with lead.transaction(actor="lead") as tx:
        action = tx.session.scalar(select(Action).where(Action.ref == ref))
        assert action is not None
        services.edit(tx, action, title=title)


def test_two_leads_bundles_imported_at_once_both_land(world: World) -> None:
    alice = world.starter(LEAD_A, ["PVP"])
    bob = world.starter(LEAD_B, ["RCH"])
    retitle(alice, "PVP-01", "Fund four IDVAs")
    retitle(bob, "RCH-01", "Target hardening for 500 homes")
    from_alice = world.read(world.export(LEAD_A))
    from_bob = world.read(world.export(LEAD_B))
    second_officer = world.master.another_writer()
    before = world.master.revision()
    results: dict[str, ImportResult] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(name: str, store: Store, bundle: Bundle) -> None:
        try:
            start.wait(5)
            results[name] = import_bundle(store, bundle, file_name=f"{name}.sspbundle")
        except BaseException as exc:  # reported below, with the test's own assertion
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=("alice", world.master, from_alice)),
        threading.Thread(target=run, args=("bob", second_officer, from_bob)),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        second_officer.close()
    assert errors == []
    assert results["alice"].applied and results["bob"].applied
    with world.master.session() as s:
        titles = {ref: title for ref, title in s.execute(select(Action.ref, Action.title))}
        rows = s.execute(
            select(ChangeLog.source, ChangeLog.revision, ChangeLog.new)
            .where(ChangeLog.field == "title", ChangeLog.revision > before)
            .order_by(ChangeLog.revision)
        ).all()
    assert titles["PVP-01"] == "Fund four IDVAs"
    assert titles["RCH-01"] == "Target hardening for 500 homes"
    # One commit each, each with its own revision, both after the start.
    assert sorted(new for _s, _r, new in rows) == [
        '"Fund four IDVAs"',
        '"Target hardening for 500 homes"',
    ]
    assert len({revision for _s, revision, _n in rows}) == 2
    assert world.master.revision() == max(revision for _s, revision, _n in rows)


def _import_at_once(world: World, bundles: dict[str, Bundle]) -> dict[str, ImportResult]:
    """Import each bundle from its own officer's connection, all starting together."""
    stores = {name: world.master.another_writer() for name in bundles}
    results: dict[str, ImportResult] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(bundles))

    def run(name: str) -> None:
        try:
            start.wait(5)
            results[name] = import_bundle(stores[name], bundles[name], file_name=name)
        except BaseException as exc:  # reported below, with the test's own assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in bundles]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for store in stores.values():
            store.close()
    assert errors == []
    return results


def test_two_leads_changing_one_field_imported_at_once_make_a_conflict_not_a_loss(
    world: World,
) -> None:
    """Each import plans its merge inside the import lock, so the second sees the
    first's title and queues a conflict; without the lock both would plan against the
    old title and the second would overwrite the first's silently."""
    alice = world.starter(LEAD_A, ["PVP"])
    bob = world.starter(LEAD_B, ["PVP"])
    retitle(alice, "PVP-01", "Alice's title")
    retitle(bob, "PVP-01", "Bob's title")
    bundles = {
        "alice": world.read(world.export(LEAD_A)),
        "bob": world.read(world.export(LEAD_B)),
    }
    results = _import_at_once(world, bundles)
    assert results["alice"].applied and results["bob"].applied
    conflicts = open_conflicts(world.master)
    assert len(conflicts) == 1
    with world.master.session() as s:
        title = s.scalar(select(Action.title).where(Action.ref == "PVP-01"))
        logged = s.scalars(
            select(ChangeLog.new).where(
                ChangeLog.record_id == world.plan.action.id, ChangeLog.field == "title"
            )
        ).all()
    # One lead's title applied and logged; the other's waits in the queue.
    assert logged == [f'"{title}"']
    assert {title, json.loads(conflicts[0].incoming_value)} == {"Alice's title", "Bob's title"}
