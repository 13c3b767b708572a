"""Scenario tests of sync between the master copy and leads' copies (issue 6).

Each test drives real stores through the same functions the CLI and the app use:
export on one copy, import on another, and looks at what a user would see: the
records, the conflict queue, the preview and the change log.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.base import utcnow
from ssp_desktop.domain.enums import ActionStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    ChangeLog,
    Measure,
    MeasureValue,
    Organisation,
    Plan,
    PriorityArea,
)
from ssp_desktop.services import authority
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.conflicts import MINE, THEIRS, conflicts_for, resolve
from ssp_desktop.sync.export import pending_changes
from ssp_desktop.sync.preview import DUPLICATE, OLDER
from tests.sync.helpers import LEAD_A, LEAD_B, LEAD_R, World, log_rows, open_conflicts

Q1 = Quarter(2022, 1)


def edit_action(store: Store, world: World, **fields: object) -> None:
    with store.transaction(actor="someone") as tx:
        found = tx.get(Action, world.plan.action.id)
        assert found is not None
        services.edit(tx, found, **fields)


def get(store: Store, cls: type, record_id: uuid.UUID) -> object:
    with store.session() as s:
        return s.get(cls, record_id)


def action(store: Store, world: World) -> Action:
    found = get(store, Action, world.plan.action.id)
    assert isinstance(found, Action)
    return found


def write_update(store: Store, action_id: uuid.UUID, narrative: str) -> uuid.UUID:
    with store.transaction(actor="lead") as tx:
        act = tx.get(Action, action_id)
        assert act is not None
        update = services.write_update(
            tx, act, Q1, rag=None, narrative=narrative, written_on=dt.date(2022, 6, 30)
        )
        return update.id


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
    # The change log says which bundle each change came from.
    sources = {r.field: r.source for r in log_rows(world.master, world.plan.action.id)}
    assert sources["title"].startswith("bundle:") and sources["description"].startswith("bundle:")
    assert sources["title"] != sources["description"]


def test_same_field_differently_is_a_conflict_and_the_loser_is_kept(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    b = world.starter(LEAD_B, ["PVP"])
    edit_action(a, world, title="Title from A")
    edit_action(b, world, title="Title from B")
    world.send(LEAD_A)
    result = world.send(LEAD_B)
    assert result.conflicts_waiting == 1
    (conflict,) = result.preview.conflicts
    assert (conflict.field, conflict.base, conflict.local, conflict.incoming) == (
        "title",
        "'Fund IDVAs'",
        "'Title from A'",
        "'Title from B'",
    )
    assert conflict.incoming_actor == "someone"
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
    last = log_rows(world.master, world.plan.action.id)[-1]
    assert (last.old, last.new) == ('"Title from A"', '"Title from B"')


def test_same_value_from_two_leads_is_no_conflict(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    b = world.starter(LEAD_B, ["PVP"])
    edit_action(a, world, title="Agreed title")
    edit_action(b, world, title="Agreed title")
    world.send(LEAD_A)
    result = world.send(LEAD_B)
    assert result.preview.conflicts == []
    assert result.preview.counts["unchanged"] == 1
    assert action(world.master, world).title == "Agreed title"


def test_reimporting_a_bundle_changes_nothing_and_says_so(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    edit_action(a, world, title="Once")
    bundle = world.export(LEAD_A)
    world.to_master(bundle)
    before = world.master.revision()
    again = world.to_master(bundle)
    assert again.preview.status == DUPLICATE and not again.applied
    assert "already imported" in again.preview.message
    assert world.master.revision() == before


def test_out_of_order_bundles_the_older_one_changes_nothing(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    edit_action(a, world, title="First")
    first = world.export(LEAD_A)
    edit_action(a, world, description="Second")
    second = world.export(LEAD_A)
    world.to_master(second)
    before = world.master.revision()
    late = world.to_master(first)
    assert late.preview.status == OLDER and "number 2" in late.preview.message
    assert world.master.revision() == before
    got = action(world.master, world)
    assert (got.title, got.description) == ("First", "Second")


def test_a_lost_bundle_is_superseded_by_the_next(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    edit_action(a, world, title="In the lost bundle")
    world.export(LEAD_A)  # never arrives
    edit_action(a, world, title="Changed again", description="Also new")
    world.send(LEAD_A)
    got = action(world.master, world)
    assert (got.title, got.description) == ("Changed again", "Also new")
    assert open_conflicts(world.master) == []


def test_a_bundle_repeating_processed_changes_applies_only_the_new_ones(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    edit_action(a, world, title="A1")
    world.send(LEAD_A)
    edit_action(a, world, title="A2")  # acknowledgement not yet back: A1 is resent
    result = world.send(LEAD_A)
    assert result.preview.conflicts == []
    assert action(world.master, world).title == "A2"


def test_lead_deletes_what_the_master_edited_the_record_is_kept(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    with a.transaction() as tx:
        found = tx.get(Action, world.plan.action.id)
        assert found is not None
        services.delete(tx, found, cascade=True)
    edit_action(world.master, world, title="Master's new title")
    result = world.send(LEAD_A)
    (conflict,) = result.preview.conflicts
    assert conflict.kind == "delete_edit"
    assert action(world.master, world).deleted_at is None  # kept by default
    (row,) = open_conflicts(world.master)
    resolve(world.master, row.id, THEIRS)  # the lead was right: delete it
    assert action(world.master, world).deleted_at is not None


def test_master_deleted_what_the_lead_edited_the_record_comes_back(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    edit_action(a, world, title="Lead's title")
    with world.master.transaction() as tx:
        found = tx.get(Action, world.plan.action.id)
        assert found is not None
        services.delete(tx, found, cascade=True)
    result = world.send(LEAD_A)
    assert [c.kind for c in result.preview.conflicts] == ["edit_delete"]
    got = action(world.master, world)
    assert got.deleted_at is None and got.title == "Lead's title"
    (row,) = open_conflicts(world.master)
    resolve(world.master, row.id, MINE)  # the master's delete stands after all
    assert action(world.master, world).deleted_at is not None


def test_a_new_child_under_a_record_the_master_deleted_is_never_dropped(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    update_id = write_update(a, world.plan.action.id, "Two IDVAs recruited")
    with world.master.transaction() as tx:
        found = tx.get(Action, world.plan.action.id)
        assert found is not None
        services.delete(tx, found, cascade=True)
    result = world.send(LEAD_A)
    update = get(world.master, ActionUpdate, update_id)
    assert isinstance(update, ActionUpdate) and update.deleted_at is None
    assert update.narrative == "Two IDVAs recruited"
    assert action(world.master, world).deleted_at is None  # restored to hold it
    assert "delete_child" in [c.kind for c in result.preview.conflicts]


def test_lead_deletes_a_record_under_which_another_lead_added_a_child(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    b = world.starter(LEAD_B, ["PVP"])
    write_update(b, world.plan.action.id, "Bob's update")
    world.send(LEAD_B)
    with a.transaction() as tx:
        found = tx.get(Action, world.plan.action.id)
        assert found is not None
        services.delete(tx, found, cascade=True)
    result = world.send(LEAD_A)
    assert [c.kind for c in result.preview.conflicts] == ["delete_child"]
    assert action(world.master, world).deleted_at is None


def test_two_leads_enter_the_same_quarters_value_one_record_one_conflict(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    b = world.starter(LEAD_B, ["PVP"])
    for store, value in ((a, 81.0), (b, 83.5)):
        with store.transaction() as tx:
            measure = tx.get(Measure, world.plan.measure.id)
            assert measure is not None
            services.record_value(tx, measure, Q1, value)
    world.send(LEAD_A)
    result = world.send(LEAD_B)
    value_id = MeasureValue.make_id(world.plan.measure.id, Q1)
    with world.master.session() as s:
        values = s.scalars(select(MeasureValue)).all()
    assert [v.id for v in values] == [value_id]
    assert values[0].value == 81.0
    (conflict,) = result.preview.conflicts
    assert (conflict.field, conflict.base, conflict.local, conflict.incoming) == (
        "value",
        "(none)",
        "81.0",
        "83.5",
    )


def test_two_leads_add_actions_under_one_priority_both_kept(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    b = world.starter(LEAD_B, ["PVP"])
    for store, ref in ((a, "PVP-02"), (b, "PVP-03"), (b, "PVP-02")):
        with store.transaction() as tx:
            area = tx.get(PriorityArea, world.plan.area.id)
            assert area is not None
            services.add_action(tx, area, ref=ref, title=f"New {ref}")
    world.send(LEAD_A)
    result = world.send(LEAD_B)
    with world.master.session() as s:
        refs = sorted(s.scalars(select(Action.ref).where(Action.deleted_at.is_(None))))
    assert refs == ["PVP-01", "PVP-02", "PVP-02~2", "PVP-03", "RCH-01"]
    (clash,) = result.preview.conflicts
    assert (clash.kind, clash.field, clash.incoming) == ("duplicate", "ref", "'PVP-02'")


def test_full_round_trip_then_the_leads_next_export_is_empty(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    edit_action(a, world, title="Round trip")
    write_update(a, world.plan.action.id, "Quarter one went well")
    world.send(LEAD_A)
    edit_action(world.master, world, description="Added by the strategy team")
    back = world.reply(LEAD_A)
    assert back.applied
    got = action(a, world)
    assert (got.title, got.description) == ("Round trip", "Added by the strategy team")
    with a.session() as s:
        copy_id = uuid.UUID(a.meta("store_id"))
        assert copy_id == a.store_id
        from ssp_desktop.sync.state import lead_copy

        copy = lead_copy(s)
        assert copy is not None
        assert pending_changes(s, copy.lead_id) == []
    out = world.export(LEAD_A)
    assert world.read(out).changes == []


def test_master_and_lead_changed_the_same_field_the_lead_sees_a_conflict(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    edit_action(a, world, title="Lead unsent title")
    edit_action(world.master, world, title="Master title")
    back = world.reply(LEAD_A)
    (conflict,) = back.preview.conflicts
    assert (conflict.local, conflict.incoming) == ("'Lead unsent title'", "'Master title'")
    assert action(a, world).title == "Lead unsent title"  # nothing silently lost
    (row,) = open_conflicts(a)
    # The lead's change still goes to the master, where it is a conflict too.
    sent = world.send(LEAD_A)
    assert [c.field for c in sent.preview.conflicts] == ["title"]
    # Taking the master's value on the lead withdraws the lead's change.
    resolve(a, row.id, THEIRS)
    assert action(a, world).title == "Master title"
    assert world.read(world.export(LEAD_A)).changes == []


def test_scope_violation_is_rejected_and_reported_the_rest_applies(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    # A tampered lead copy (its own services refuse these): the master must too.
    with a.transaction() as tx, authority.acting_as(tx.session, authority.MASTER):
        plan = tx.get(Plan, world.plan.plan.id)
        org = tx.get(Organisation, world.plan.org.id)
        assert plan is not None and org is not None
        services.edit(tx, plan, title="Renamed by a lead")
        services.edit(tx, org, name="Renamed police")
    edit_action(a, world, title="In scope")
    result = world.send(LEAD_A)
    rejected = {i.label: i.detail for i in result.preview.rejected}
    assert set(rejected) == {"plan Plan 2022-25", "organisation Police"}
    assert all("outside the sender's themes (PVP)" in d for d in rejected.values())
    plan_now = get(world.master, Plan, world.plan.plan.id)
    assert isinstance(plan_now, Plan) and plan_now.title == "Plan 2022-25"
    assert action(world.master, world).title == "In scope"


def test_a_change_to_another_theme_is_rejected(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    # The lead moves its action into a priority area of another theme (RCH), on a
    # tampered copy (a lead's own services refuse new areas).
    with a.transaction() as tx, authority.acting_as(tx.session, authority.MASTER):
        area = services.create(
            tx, PriorityArea(priority_id=world.plan.priority.id, title="Scratch")
        )
        tx.flush()
        found = tx.get(Action, world.plan.action.id)
        assert found is not None
        services.edit(tx, found, priority_area_id=area.id)
    with a.session() as s:
        rows = s.scalars(select(ChangeLog).where(ChangeLog.field == "priority_area_id")).all()
    assert rows
    # Forge the move into RCH in the bundle: rewrite the new area id.
    bundle = world.export(LEAD_A)
    import json

    from tests.sync.helpers import members_of, rewrite

    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    for line in lines:
        if line["field"] == "priority_area_id":
            line["new"] = str(world.rch_area.id)

    rewrite(bundle, {"changes.jsonl": b"".join(json.dumps(x).encode() + b"\n" for x in lines)})
    result = world.to_master(bundle)
    rejected = {i.label: i.detail for i in result.preview.rejected}
    assert set(rejected) == {"priority area Scratch", "action PVP-01"}
    assert rejected["priority area Scratch"] == "Only the master copy changes the plan's structure"
    assert action(world.master, world).priority_area_id == world.plan.area.id


def test_a_record_moved_between_themes_leaves_one_copy_and_reaches_the_other(
    world: World,
) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    world.starter(LEAD_R, ["RCH"])
    edit_action(world.master, world, priority_area_id=world.rch_area.id)
    back = world.reply(LEAD_A)
    assert back.preview.removed >= 1
    assert get(a, Action, world.plan.action.id) is None  # gone from the PVP copy...
    ops = {r.op for r in log_rows(a, world.plan.action.id)}
    assert "delete" not in ops  # ...without a deletion
    assert action(world.master, world).deleted_at is None  # the plan still has it
    world.reply(LEAD_R)
    moved = get(world.leads[LEAD_R], Action, world.plan.action.id)
    assert isinstance(moved, Action) and moved.deleted_at is None
    # And the PVP lead's next bundle does not delete it on the master.
    assert world.read(world.export(LEAD_A)).changes == []


def test_a_lead_clock_a_year_fast_never_wins_and_is_flagged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    future = utcnow() + dt.timedelta(days=365)
    import ssp_desktop.domain.changes as changes_module
    import ssp_desktop.sync.export as export_module

    with monkeypatch.context() as m:
        m.setattr(changes_module, "utcnow", lambda: future)
        m.setattr(export_module, "utcnow", lambda: future)
        edit_action(a, world, title="From the future", description="Also from the future")
        bundle = world.export(LEAD_A)
    edit_action(world.master, world, title="Master today")
    result = world.to_master(bundle)
    assert any("clock" in w and "ahead" in w for w in result.preview.warnings)
    got = action(world.master, world)
    assert got.title == "Master today"  # no automatic win for the newer timestamp
    assert got.description == "Also from the future"  # non-conflicting still applies
    (row,) = open_conflicts(world.master)
    assert row.clock_ahead


def test_changes_the_master_already_has_are_unchanged_not_conflicts(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    edit_action(a, world, title="Same on both")
    edit_action(world.master, world, title="Same on both")
    result = world.send(LEAD_A)
    assert result.preview.conflicts == []
    assert result.preview.counts["unchanged"] == 1


def test_lead_value_and_update_reach_the_master(world: World) -> None:
    a = world.starter(LEAD_A, ["PVP"])
    update_id = write_update(a, world.plan.action.id, "Quarter one")
    second_id = write_update(a, world.plan.action.id, "Quarter one, corrected")
    with a.transaction() as tx:
        measure = tx.get(Measure, world.plan.measure.id)
        assert measure is not None
        services.record_value(tx, measure, Q1, 77.0, comparators={"GM average": 70.0})
    result = world.send(LEAD_A)
    assert result.preview.counts["new"] == 3
    first = get(world.master, ActionUpdate, update_id)
    second = get(world.master, ActionUpdate, second_id)
    assert isinstance(first, ActionUpdate) and isinstance(second, ActionUpdate)
    assert (first.is_current, second.is_current) == (False, True)
    value = get(world.master, MeasureValue, MeasureValue.make_id(world.plan.measure.id, Q1))
    assert isinstance(value, MeasureValue) and value.comparator_values == {"GM average": 70.0}


def test_a_lead_copy_restored_from_a_backup_loses_no_new_change(world: World) -> None:
    """Issue 22: the restored copy numbers its bundles again from where the backup was;
    the master used to answer "already imported, nothing changed" and drop the change."""
    import shutil

    from ssp_desktop.store.backup import sqlite_backup
    from ssp_desktop.sync.preview import READY

    a = world.starter(LEAD_A, ["PVP"])
    backup = world.folder / "lead-backup.sqlite"
    sqlite_backup(a.path, backup)
    edit_action(a, world, title="Sent before the laptop died")
    world.send(LEAD_A)  # bundle 1
    edit_action(a, world, description="Sent before too")
    world.send(LEAD_A)  # bundle 2
    # The laptop is restored from the backup taken before bundle 1.
    path = a.path
    a.close()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, path)
    restored = Store.open(path)
    world.leads[LEAD_A] = restored
    edit_action(restored, world, status=ActionStatus.IN_PROGRESS)
    again = world.send(LEAD_A)  # numbered 1 again, with a new change in it
    assert again.applied and again.preview.status == READY
    assert any("restored from a backup" in w for w in again.preview.warnings)
    got = action(world.master, world)
    assert got.status == ActionStatus.IN_PROGRESS
    assert got.title == "Sent before the laptop died"  # earlier work is not undone


def test_a_bundle_claiming_another_leads_site_cannot_block_that_lead(world: World) -> None:
    """Issue 22: lead A signed a bundle carrying lead B's site id and a huge number, so
    B's later bundles were "older" and dropped."""
    from ssp_desktop.domain.errors import BundleError
    from tests.sync.helpers import rewrite

    b = world.starter(LEAD_B, ["RCH"])
    a = world.starter(LEAD_A, ["PVP"])

    def retitle_rch_01(title: str) -> None:
        with b.transaction() as tx:
            rch_01 = tx.session.scalar(select(Action).where(Action.ref == "RCH-01"))
            assert rch_01 is not None
            services.edit(tx, rch_01, title=title)

    retitle_rch_01("Target hardening (B's first)")
    world.send(LEAD_B)
    edit_action(a, world, title="From A")
    forged = world.export(LEAD_A)
    rewrite(forged, manifest={"sender_site_id": str(b.site_id), "sequence": 2**31 - 1})
    with pytest.raises(BundleError, match="another lead's bundles carry"):
        world.to_master(forged)
    rewrite(forged, manifest={"sender_site_id": str(world.master.site_id)})
    with pytest.raises(BundleError, match="this master copy's"):
        world.to_master(forged)
    rewrite(forged, manifest={"sender_site_id": str(a.site_id), "sequence": 2**40})
    with pytest.raises(BundleError, match="sequence should be a smaller number"):
        world.to_master(forged)
    retitle_rch_01("Target hardening (B's second)")
    later = world.send(LEAD_B)
    assert later.applied
    with world.master.session() as s:
        got = s.scalar(select(Action.title).where(Action.ref == "RCH-01"))
    assert got == "Target hardening (B's second)"


def test_a_forged_starter_is_refused_when_the_lead_checks_the_masters_fingerprint(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Issue 22: someone holding Alice's join request (leads email it) enrols it on their
    own store and sends her a starter. Her copy would then trust them and encrypt her
    updates to them. She types the fingerprint the strategy team reads out: it does not
    match the impostor's key, so nothing is made."""
    from ssp_desktop.domain.errors import SecurityError
    from ssp_desktop.sync.export import export_snapshot
    from ssp_desktop.sync.importer import import_file
    from tests.sync.helpers import enrol_identity, make_world

    alice = world.enrol(LEAD_A)  # her join request, as the real strategy team got it
    impostor = make_world(tmp_path_factory.mktemp("impostor"))
    try:
        enrol_identity(impostor.master, LEAD_A, alice)  # the same request, emailed on
        forged = tmp_path_factory.mktemp("mail") / "starter.sspbundle"
        export_snapshot(
            impostor.master, forged, person=LEAD_A, themes=["PVP"], identity=impostor.master_keys
        )
        copy = world.folder / "alice.sqlite"
        with pytest.raises(SecurityError, match="does not match the key that signed"):
            import_file(
                copy, forged, identity=alice, master_fingerprint=world.master_keys.fingerprint
            )
        with pytest.raises(SecurityError, match="read you their fingerprint"):
            import_file(copy, forged, identity=alice)
        assert not copy.exists()
        # The real starter, with the fingerprint the strategy team read, makes her copy.
        lead = world.starter(LEAD_A, ["PVP"])
        assert lead.path.exists()
    finally:
        impostor.close()
