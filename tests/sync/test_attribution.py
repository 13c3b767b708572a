"""A merged change is logged as its maker's: the lead's person, site and the time on
their laptop, with when the master received it; never the account that ran the import."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import ssp_desktop.domain.changes as changes_module
import ssp_desktop.sync.export as export_module
from ssp_desktop import services
from ssp_desktop.domain.base import utcnow
from ssp_desktop.domain.records import Action, ChangeLog
from ssp_desktop.queries.history import record_history
from ssp_desktop.store.integrity import check_store
from ssp_desktop.sync.importer import import_bundle
from tests.sync.helpers import LEAD_A, World


def _retitle_on_the_lead(world: World, title: str, *, at: dt.datetime) -> None:
    lead = world.leads[LEAD_A]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(changes_module, "utcnow", lambda: at)
        m.setattr(export_module, "utcnow", lambda: at)
        with lead.transaction(actor="alice-laptop") as tx:
            action = tx.get(Action, world.plan.action.id)
            assert action is not None
            services.edit(tx, action, title=title, description="Written on the train")


def test_merged_changes_are_the_leads_with_when_they_arrived(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    made = (utcnow() - dt.timedelta(hours=3)).replace(microsecond=0)
    _retitle_on_the_lead(world, "Fund four IDVAs", at=made)
    bundle = world.export(LEAD_A)
    before_import = utcnow()

    import_bundle(world.master, world.read(bundle), actor="strategy-officer")

    with world.master.session() as s:
        rows = s.scalars(
            select(ChangeLog).where(
                ChangeLog.record_id == world.plan.action.id, ChangeLog.source.startswith("bundle:")
            )
        ).all()
    assert {r.field for r in rows} == {"title", "description"}
    for row in rows:
        assert (row.person_id, row.site_id, row.actor, row.at) == (
            world.plan.person.id,
            lead.site_id,
            "alice-laptop",
            made,
        )
        assert row.received_at is not None and row.received_at >= before_import
    # The history shows the lead and their time, and when the master received it.
    with world.master.session() as s:
        newest = record_history(s, world.plan.action.id)[0]
    assert (newest.who, newest.at) == (world.plan.person.name, made)
    assert newest.received_at is not None and newest.received_at >= before_import


def test_a_snapshot_is_logged_on_the_lead_as_the_masters(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    with world.master.transaction(actor="strategy") as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, description="From the strategy team")
    world.reply(LEAD_A)
    with lead.session() as s:
        (row,) = s.scalars(
            select(ChangeLog).where(
                ChangeLog.record_id == world.plan.action.id, ChangeLog.field == "description"
            )
        ).all()
    assert row.site_id == world.master.site_id and row.received_at is not None
    assert row.actor != "" and row.source.startswith("bundle:")


def test_a_leads_clock_ahead_is_not_a_damaged_store(world: World) -> None:
    world.starter(LEAD_A, ["PVP"])
    _retitle_on_the_lead(world, "From the future", at=utcnow() + dt.timedelta(days=365))
    result = world.send(LEAD_A)
    assert any("clock" in w for w in result.preview.warnings)
    with world.master.session() as s:
        (row,) = s.scalars(
            select(ChangeLog).where(
                ChangeLog.record_id == world.plan.action.id, ChangeLog.field == "title"
            )
        ).all()
    assert row.at > utcnow()  # the lead's time is kept, as the lead's
    assert [p for p in check_store(world.master) if p.kind == "clock"] == []
