"""A lead's scope made of single actions (issue 16, item 2: "an action lead gets their
actions"): what travels to them, what they may change, and what leaves their copy."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionMeasure,
    ActionUpdate,
    ChangeLog,
    Measure,
    MeasureValue,
    Priority,
    PriorityArea,
)
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.services import authority
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.export import ExportResult, export_snapshot
from ssp_desktop.sync.importer import ImportResult, import_bundle
from ssp_desktop.sync.manifest import Manifest, parse_manifest
from ssp_desktop.sync.state import lead_copy
from tests.sync.helpers import LEAD_A, LEAD_B, World, members_of, rewrite

Q1 = Quarter(2022, 1)


@pytest.fixture
def actions(world: World) -> dict[str, uuid.UUID]:
    """The master's PVP theme holds PVP-01 (led by Alice, linked to measure M01, which
    has a value) and PVP-03 in a second area (led by nobody in particular, with an
    update); RCH holds RCH-01."""
    with world.master.transaction(actor="strategy") as tx:
        priority = tx.get(Priority, world.plan.priority.id)
        pvp01 = tx.get(Action, world.plan.action.id)
        m01 = tx.get(Measure, world.plan.measure.id)
        assert priority is not None and pvp01 is not None and m01 is not None
        second = services.create(tx, PriorityArea(priority_id=priority.id, title="Exploitation"))
        pvp03 = services.add_action(tx, second, ref="PVP-03", title="Disrupt county lines")
        services.write_update(
            tx, pvp03, Q1, rag=None, narrative="Theirs", written_on=dt.date(2022, 6, 30)
        )
        services.create(tx, ActionMeasure(action_id=pvp01.id, measure_id=m01.id))
        services.record_value(tx, m01, Q1, 71.0)
        rch01 = tx.session.scalar(select(Action.id).where(Action.ref == "RCH-01"))
        assert rch01 is not None
        return {"PVP-01": pvp01.id, "PVP-03": pvp03.id, "RCH-01": rch01, "area2": second.id}


def export_for(world: World, email: str, **scope: Any) -> tuple[Path, ExportResult]:
    world.enrol(email)
    out = world.path(f"for-{email.split('@')[0]}")
    result = export_snapshot(world.master, out, person=email, identity=world.master_keys, **scope)
    return out, result


def import_to_lead(world: World, email: str, bundle: Path) -> ImportResult:
    return import_bundle(world.leads[email], world.read(bundle, email), file_name=bundle.name)


def action_lead(world: World, **scope: Any) -> Store:
    """Alice's copy, made from a starter of ``scope`` (by default: what she leads)."""
    from ssp_desktop.sync.importer import import_file

    out, _ = export_for(world, LEAD_A, **scope)
    path = world.folder / "lead-alice.sqlite"
    result = import_file(
        path, out, identity=world.keys[LEAD_A], master_fingerprint=world.master_keys.fingerprint
    )
    assert result.applied and result.created_store
    store = Store.open(path)
    world.leads[LEAD_A] = store
    return store


def manifest_of(bundle: Path) -> Manifest:
    return parse_manifest(members_of(bundle)["manifest.json"])


def refs(store: Store) -> set[str]:
    with store.session() as s:
        return set(s.scalars(select(Action.ref).where(Action.deleted_at.is_(None))))


def ids(store: Store, cls: type) -> set[uuid.UUID]:
    with store.session() as s:
        return set(s.scalars(select(cls.id)))


def retitle(store: Store, action_id: uuid.UUID, title: str) -> None:
    with store.transaction(actor="Alice") as tx:
        found = tx.get(Action, action_id)
        assert found is not None
        services.edit(tx, found, title=title)


def title(store: Store, action_id: uuid.UUID) -> str:
    with store.session() as s:
        found = s.get(Action, action_id)
        assert found is not None
        return found.title


def test_a_new_lead_who_leads_no_theme_gets_the_actions_they_lead(
    world: World, actions: dict[str, uuid.UUID]
) -> None:
    _out, result = export_for(world, LEAD_A)  # neither themes nor actions given
    assert (result.themes, result.actions) == ((), ("PVP-01",))
    assert "records of action PVP-01 for alice@example.org" in result.describe()


def test_an_action_leads_starter_holds_their_actions_and_only_context(
    world: World, actions: dict[str, uuid.UUID]
) -> None:
    lead = action_lead(world)
    assert refs(lead) == {"PVP-01"}
    with lead.session() as s:
        copy = lead_copy(s)
        assert copy is not None
        assert (copy.themes, copy.actions) == ((), (actions["PVP-01"],))
        # Where the action sits travels as context, and only that.
        assert set(s.scalars(select(PriorityArea.title))) == {"Domestic abuse"}
        assert set(s.scalars(select(Priority.code))) == {"PVP"}
        # The measure it links to travels so the link can, but none of its values.
        assert set(s.scalars(select(Measure.ref))) == {"M01"}
        assert s.scalars(select(ActionMeasure)).one().measure_id == world.plan.measure.id
        assert s.scalars(select(MeasureValue)).all() == []
        # Another action of the same theme, and its update, stay behind.
        assert s.scalars(select(ActionUpdate)).all() == []
    assert actions["area2"] not in ids(lead, PriorityArea)


def test_an_action_leads_change_applies_and_a_forged_change_to_another_action_is_rejected(
    world: World, actions: dict[str, uuid.UUID]
) -> None:
    lead = action_lead(world)
    retitle(lead, actions["PVP-01"], "Fund six IDVAs")
    with lead.transaction(actor="Alice") as tx:
        found = tx.get(Action, actions["PVP-01"])
        assert found is not None
        services.write_update(
            tx, found, Q1, rag=None, narrative="Two more advisers", written_on=dt.date(2022, 6, 1)
        )
    bundle = world.export(LEAD_A)
    # A forged line: the same title change, aimed at PVP-03 (same theme, not hers).
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    (line,) = [x for x in lines if x["field"] == "title"]
    forged = {
        **line,
        "id": str(uuid.uuid4()),
        "seq": max(x["seq"] for x in lines) + 1,
        "record_id": str(actions["PVP-03"]),
        "old": "Disrupt county lines",
        "new": "Taken over",
    }
    body = "".join(json.dumps(x) + "\n" for x in [*lines, forged]).encode()
    rewrite(bundle, {"changes.jsonl": body})
    result = world.to_master(bundle)
    assert result.applied
    rejected = {i.label: i.detail for i in result.preview.rejected}
    assert rejected == {
        "action PVP-03": "outside the sender's scope (actions PVP-01)",
    }
    assert title(world.master, actions["PVP-01"]) == "Fund six IDVAs"
    assert title(world.master, actions["PVP-03"]) == "Disrupt county lines"
    with world.master.session() as s:
        narratives = set(
            s.scalars(
                select(ActionUpdate.narrative).where(ActionUpdate.action_id == actions["PVP-01"])
            )
        )
    assert narratives == {"Two more advisers"}


def test_an_action_lead_cannot_add_an_action_or_move_theirs(
    world: World, actions: dict[str, uuid.UUID]
) -> None:
    lead = action_lead(world)
    with lead.transaction(actor="Alice") as tx:  # her own copy refuses it
        area = tx.get(PriorityArea, world.plan.area.id)
        assert area is not None
        with pytest.raises(ValidationError, match="Only the master copy adds actions"):
            services.add_action(tx, area, ref="PVP-09", title="My own idea")
    # A tampered copy sends it anyway: the master rejects it by the scope it recorded.
    with lead.transaction(actor="Alice") as tx, authority.acting_as(tx.session, authority.MASTER):
        area = tx.get(PriorityArea, world.plan.area.id)
        assert area is not None
        services.add_action(tx, area, ref="PVP-09", title="My own idea")
    bundle = world.export(LEAD_A)
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    move = {
        "id": str(uuid.uuid4()),
        "seq": max(x["seq"] for x in lines) + 1,
        "at": lines[-1]["at"],
        "actor": "Alice",
        "entity": "action",
        "record_id": str(actions["PVP-01"]),
        "op": "update",
        "field": "priority_area_id",
        "old": str(world.plan.area.id),
        "new": str(world.rch_area.id),
    }
    body = "".join(json.dumps(x) + "\n" for x in [*lines, move]).encode()
    rewrite(bundle, {"changes.jsonl": body})
    result = world.to_master(bundle)
    rejected = {i.label: i.detail for i in result.preview.rejected}
    assert rejected == {
        "action PVP-09": "outside the sender's scope (actions PVP-01)",
        "action PVP-01": "the change would move it outside the sender's scope (actions PVP-01)",
    }
    assert "PVP-09" not in refs(world.master)
    with world.master.session() as s:
        moved = s.get(Action, actions["PVP-01"])
        assert moved is not None and moved.priority_area_id == world.plan.area.id


def test_an_action_taken_out_of_the_set_leaves_the_copy_without_a_deletion(
    world: World, actions: dict[str, uuid.UUID]
) -> None:
    lead = action_lead(world, actions=["PVP-01", "pvp-03"])
    assert refs(lead) == {"PVP-01", "PVP-03"}
    assert actions["area2"] in ids(lead, PriorityArea)
    out, result = export_for(world, LEAD_A, actions=["PVP-03"])
    assert result.actions == ("PVP-03",)
    back = import_to_lead(world, LEAD_A, out)
    assert back.applied
    assert "Your actions are now PVP-03." in back.preview.warnings
    assert refs(lead) == {"PVP-03"}
    # Its area, its measure link and the measure left with it; nothing was deleted.
    assert world.plan.area.id not in ids(lead, PriorityArea)
    assert ids(lead, ActionMeasure) == set() and ids(lead, Measure) == set()
    with lead.session() as s:
        copy = lead_copy(s)
        assert copy is not None and copy.actions == (actions["PVP-03"],)
        assert s.scalars(select(ChangeLog).where(ChangeLog.op == "delete")).all() == []
    assert world.read(world.export(LEAD_A)).changes == []
    assert "PVP-01" in refs(world.master)  # the plan still has it


def test_an_action_moved_to_another_theme_brings_its_new_context(
    world: World, actions: dict[str, uuid.UUID]
) -> None:
    lead = action_lead(world)
    with world.master.transaction(actor="strategy") as tx:
        found = tx.get(Action, actions["PVP-01"])
        assert found is not None
        services.edit(tx, found, priority_area_id=world.rch_area.id)
    back = world.reply(LEAD_A)  # the scope as before: her action, wherever it is
    assert back.applied
    assert refs(lead) == {"PVP-01"}  # RCH-01 does not come with its area
    with lead.session() as s:
        moved = s.get(Action, actions["PVP-01"])
        assert moved is not None and moved.priority_area_id == world.rch_area.id
        assert set(s.scalars(select(Priority.code))) == {"RCH"}
        assert set(s.scalars(select(PriorityArea.title))) == {"Burglary"}
        # M01 is a PVP measure: with PVP gone from the copy, the link stays behind.
        assert s.scalars(select(ActionMeasure)).all() == []
    retitle(lead, actions["PVP-01"], "Fund IDVAs, now under burglary")
    result = world.send(LEAD_A)
    assert result.applied and not result.preview.rejected
    assert title(world.master, actions["PVP-01"]) == "Fund IDVAs, now under burglary"


def test_themes_and_actions_together(world: World, actions: dict[str, uuid.UUID]) -> None:
    bob = world.starter(LEAD_B, ["RCH"])  # a copy of RCH alone, then widened
    assert refs(bob) == {"RCH-01"}
    out, result = export_for(world, LEAD_B, themes=["RCH"], actions=["PVP-03"])
    assert "records of RCH and action PVP-03 for bob@example.org" in result.describe()
    back = import_to_lead(world, LEAD_B, out)
    assert back.applied and "Your actions are now PVP-03." in back.preview.warnings
    assert refs(bob) == {"RCH-01", "PVP-03"}
    retitle(world.master, actions["PVP-01"], "Master's own")
    # A forged change to PVP-01 names both halves of the scope.
    retitle(bob, actions["PVP-03"], "Disrupt county lines together")
    bundle = world.export(LEAD_B)
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    forged = {
        **lines[-1],
        "id": str(uuid.uuid4()),
        "seq": lines[-1]["seq"] + 1,
        "record_id": str(actions["PVP-01"]),
        "old": "Master's own",
    }
    body = "".join(json.dumps(x) + "\n" for x in [*lines, forged]).encode()
    rewrite(bundle, {"changes.jsonl": body})
    result = world.to_master(bundle)
    rejected = {i.label: i.detail for i in result.preview.rejected}
    assert rejected == {"action PVP-01": "outside the sender's scope (themes RCH; actions PVP-03)"}
    assert title(world.master, actions["PVP-03"]) == "Disrupt county lines together"
    assert title(world.master, actions["PVP-01"]) == "Master's own"


def test_export_refuses_an_unknown_action_and_a_person_who_leads_nothing(
    world: World, actions: dict[str, uuid.UUID]
) -> None:
    with pytest.raises(
        BundleError, match="No plan in this store has all the actions PVP-01, PVP-99"
    ):
        export_for(world, LEAD_A, actions=["PVP-01", "PVP-99"])
    with pytest.raises(BundleError, match="leads no theme or action"):
        export_for(world, LEAD_B)


def test_the_manifest_names_the_action_set_and_old_bundles_still_read(
    world: World, actions: dict[str, uuid.UUID]
) -> None:
    out, _ = export_for(world, LEAD_A, actions=["PVP-01"])
    manifest = json.loads(members_of(out)["manifest.json"])
    assert (manifest["format_version"], manifest["min_reader_version"]) == (2, 1)
    assert manifest["scope"]["action_ids"] == [str(actions["PVP-01"])]
    assert manifest["scope"]["action_refs"] == ["PVP-01"]
    # A format 1 bundle (before action sets) has no action fields, and still reads.
    old_scope = {k: v for k, v in manifest["scope"].items() if not k.startswith("action_")}
    rewrite(out, manifest={"format_version": 1, "scope": old_scope})
    assert manifest_of(out).scope.action_ids == ()
    # From format 2 on, the fields are checked like the rest of the manifest.
    for bad, words in (
        ({"action_ids": ["not an id"], "action_refs": ["PVP-01"]}, "scope.action_ids"),
        ({"action_ids": [str(actions["PVP-01"])] * 2, "action_refs": ["a", "b"]}, "different"),
        ({"action_ids": [str(actions["PVP-01"])], "action_refs": []}, "scope.action_refs"),
        ({"action_refs": ["PVP-01"]}, "scope.action_ids is missing"),
    ):
        rewrite(out, manifest={"format_version": 2, "scope": {**old_scope, **bad}})
        with pytest.raises(BundleError, match=words):
            manifest_of(out)
