"""Two officers importing two leads' bundles into one master at the same moment: both
land, each planned against what the other committed, and the change log has both."""

from __future__ import annotations

import threading

from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.records import Action, ChangeLog
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.importer import ImportResult, import_bundle
from tests.sync.helpers import LEAD_A, LEAD_B, World


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

    def run(name: str, store: Store, bundle: object) -> None:
        try:
            start.wait(5)
            results[name] = import_bundle(store, bundle, file_name=f"{name}.sspbundle")  # type: ignore[arg-type]
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
        titles = dict(s.execute(select(Action.ref, Action.title)).tuples())
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
