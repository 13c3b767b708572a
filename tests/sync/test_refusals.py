"""What a lead's bundle may not do, and how the master holds it (issue 22): text the
domain refuses, updates in another person's name, links into another theme, and mass
deletions that wait for the strategy team's confirmation."""

from __future__ import annotations

import datetime as dt

import pytest

from ssp_desktop import services
from ssp_desktop.domain import validation
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ActionUpdate
from ssp_desktop.sync.preview import REJECTED
from tests.sync.helpers import LEAD_A, World

Q = Quarter.parse("2024/25 Q2")


def _narrate(world: World, text: str) -> None:
    lead = world.leads[LEAD_A]
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.write_update(
            tx, action, Q, rag=None, narrative=text, written_on=dt.date(2024, 9, 1)
        )


def test_an_over_long_narrative_is_refused_once_and_does_not_block_the_lead(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    # An older app let the lead save 100,000 characters.
    with monkeypatch.context() as m:
        m.setattr(validation, "MAX_TEXT", 1_000_000)
        _narrate(world, "x" * 100_000)
    result = world.send(LEAD_A)
    (item,) = result.preview.rejected
    assert item.outcome == REJECTED and "too long: 100,000 characters" in item.detail
    # Shortening it on the lead makes a new update, which the master takes.
    _narrate(world, "Short and to the point.")
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Renamed on the lead")
    result = world.send(LEAD_A)
    assert result.applied, result.preview.items
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title == "Renamed on the lead"
        narratives = [u.narrative for u in s.query(ActionUpdate).filter_by(is_current=True)]
        assert "Short and to the point." in narratives
    # The master's reply acknowledges the refused change: the lead is told, and stops
    # sending it.
    reply = world.reply(LEAD_A)
    assert any("did not accept" in w and "rule" in w for w in reply.preview.warnings)
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, description="Later change")
    later = world.read(world.export(LEAD_A))
    assert all(
        not (isinstance(c.new, dict) and len(str(c.new.get("narrative", ""))) > 50_000)
        and len(str(c.new)) < 50_000
        for c in later.changes
    )


@pytest.mark.parametrize("bad", ["\x0b", "\x07", "\u202e"])
def test_a_control_character_in_a_leads_change_is_refused_item_by_item(
    world: World, bad: str
) -> None:
    import json

    from tests.sync.helpers import members_of, rewrite

    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Clean title")
    bundle = world.export(LEAD_A)
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    for line in lines:
        if line["field"] == "title":
            line["new"] = f"Evil{bad}title"
    rewrite(bundle, {"changes.jsonl": "".join(json.dumps(x) + "\n" for x in lines).encode()})
    result = world.to_master(bundle)
    (item,) = result.preview.rejected
    assert f"U+{ord(bad):04X}" in item.detail
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and bad not in action.title


@pytest.mark.sqlite_only  # damages pages of the SQLite file
def test_a_damaged_master_refuses_a_bundle_before_taking_a_backup(world: World) -> None:
    """Issue 22: the import applied, then 'restored' an equally damaged backup and blamed
    the bundle. Now it refuses first, naming what ``check`` finds."""
    import sqlite3

    from ssp_desktop.domain.errors import CorruptStoreError
    from ssp_desktop.store.engine import Store

    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Changed on the lead")
    bundle = world.export(LEAD_A)
    bundle_read = world.read(bundle)
    path = world.master.path
    world.master.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    good = path.read_bytes()
    # Overwrite one page that holds data (not the schema), as a failing disk would.
    for page in range(len(good) // page_size - 1, 1, -1):
        data = bytearray(good)
        start = page * page_size
        data[start + 100 : start + page_size - 100] = b"\x5a" * (page_size - 200)
        path.write_bytes(bytes(data))
        probe = sqlite3.connect(path)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if probe.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                break
        except sqlite3.DatabaseError:
            pass
        finally:
            probe.close()
    else:
        pytest.fail("no page could be damaged")
    world.master = Store.open(path)
    from ssp_desktop.sync.importer import import_bundle

    with pytest.raises(CorruptStoreError, match="is damaged, so importing the bundle was not"):
        import_bundle(world.master, bundle_read, file_name=bundle.name)
    assert not list(path.parent.glob("*.backup-*"))


def test_an_import_whose_every_item_is_refused_takes_no_backup(world: World) -> None:
    import json

    from tests.sync.helpers import members_of, rewrite

    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Changed on the lead")
    bundle = world.export(LEAD_A)
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    for line in lines:
        line["new"] = "x" * 600 if line["field"] == "title" else line["new"]
    rewrite(bundle, {"changes.jsonl": "".join(json.dumps(x) + "\n" for x in lines).encode()})
    result = world.to_master(bundle)
    assert result.applied and result.preview.rejected and not result.preview.changes_anything
    assert result.backup_path is None
    assert not list(world.folder.glob("*.backup-*"))


def test_an_update_in_another_persons_name_is_refused(world: World) -> None:
    from ssp_desktop.domain.records import Person

    lead = world.starter(LEAD_A, ["PVP"])
    with world.master.session() as s:
        bob = s.query(Person).filter_by(email="bob@example.org").one()
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.write_update(
            tx, action, Q, rag=None, narrative="Mine", written_on=dt.date(2024, 9, 1)
        )
    import json

    from tests.sync.helpers import members_of, rewrite

    bundle = world.export(LEAD_A)
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    for line in lines:
        if line["entity"] == "action_update" and line["op"] == "create":
            line["new"]["author_person_id"] = str(bob.id)
    rewrite(bundle, {"changes.jsonl": "".join(json.dumps(x) + "\n" for x in lines).encode()})
    result = world.to_master(bundle)
    (item,) = result.preview.rejected
    assert "written in the name of Bob" in item.detail


def test_a_link_from_an_own_action_to_another_themes_measure_is_refused(world: World) -> None:
    import uuid

    from ssp_desktop.domain.records import ActionMeasure

    lead = world.starter(LEAD_A, ["PVP"])
    link_id = uuid.uuid4()
    # The lead's copy has no RCH measure; a tampered (or buggy) copy sends the link anyway.
    import json

    from tests.sync.helpers import members_of, rewrite

    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Linked")
    bundle = world.export(LEAD_A)
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    template = dict(lines[0])
    lines.append(
        {
            **template,
            "id": str(uuid.uuid4()),
            "seq": template["seq"] + 1,
            "entity": "action_measure",
            "record_id": str(link_id),
            "op": "create",
            "field": None,
            "old": None,
            "new": {
                "action_id": str(world.plan.action.id),
                "measure_id": str(world.rch_measure.id),
            },
        }
    )
    rewrite(bundle, {"changes.jsonl": "".join(json.dumps(x) + "\n" for x in lines).encode()})
    result = world.to_master(bundle)
    rejected = {i.entity: i.detail for i in result.preview.rejected}
    assert "outside the sender's themes" in rejected["action_measure"]
    with world.master.session() as s:
        assert s.get(ActionMeasure, link_id) is None


def test_a_bundle_deleting_a_whole_theme_waits_for_the_masters_confirmation(
    world: World,
) -> None:
    from ssp_desktop.domain.records import PriorityArea
    from ssp_desktop.sync.merge_changes import MASS_DELETION
    from ssp_desktop.sync.preview import HELD, describe

    # The master's PVP theme has many actions; the lead's copy deletes them all.
    with world.master.transaction() as tx:
        area = tx.get(PriorityArea, world.plan.area.id)
        assert area is not None
        for n in range(MASS_DELETION + 5):
            services.add_action(tx, area, ref=f"PVP-{n + 10}", title=f"Action {n}")
    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        for action in tx.session.query(Action).filter(Action.deleted_at.is_(None)).all():
            if action.ref.startswith("PVP-"):
                services.delete(tx, action, cascade=True)
    bundle = world.export(LEAD_A)
    before = world.master.revision()
    held = world.to_master(bundle)
    assert held.preview.status == HELD and not held.applied
    assert f"deletes {MASS_DELETION + 6} records of the theme PVP" in held.preview.message
    assert "Held:" in describe(held.preview)
    assert world.master.revision() == before
    from ssp_desktop.sync.importer import import_bundle

    done = import_bundle(world.master, world.read(bundle), confirm_deletions=True)
    assert done.applied
    with world.master.session() as s:
        live = s.query(Action).filter(Action.deleted_at.is_(None), Action.ref.like("PVP-%"))
        assert live.count() == 0
