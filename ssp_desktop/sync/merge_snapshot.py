"""Planning the master's snapshot into a lead's copy (:func:`plan_snapshot`).

Records the lead has no unacknowledged change to take the master's values; a field the
lead has changed (not yet acknowledged) keeps the lead's value, and if the master
changed it too, a conflict is queued on the lead so nothing is silently lost.
Tombstones delete; records that are no longer in the snapshot (moved out of the lead's
themes, or an action taken out of the lead's action set) leave the copy without a
deletion being recorded, unless the lead has unsent changes to them. A record the lead
has deleted and not yet sent stays deleted (the master decides when the deletion
reaches it), so the master's values wait for it.

A master's value the plan's rules refuse on this copy (it would clash with something
the lead has added and not yet sent) is rejected, item by item, with the form's words;
the rest applies. The writes are logged as the master's, at the time of the snapshot.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Attribution, references_to
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import Plan, record_classes
from ssp_desktop.domain.sync_records import ROLE_LEAD, ROLE_MASTER, SyncProcessed
from ssp_desktop.progress import Progress
from ssp_desktop.services import merge as merging
from ssp_desktop.sync import codec, scope, state
from ssp_desktop.sync.bundle import Bundle
from ssp_desktop.sync.merge_plan import (
    DELETE,
    INSERT,
    NOTHING_CHANGED,
    REMOVE,
    RESTORE,
    UPDATE,
    Conflict,
    MergePlan,
    Op,
    already_imported,
    fk_fields,
    label,
    new_preview,
    queue_conflict,
    same,
)
from ssp_desktop.sync.overlay import Overlay
from ssp_desktop.sync.preview import (
    CONFLICT,
    NEW,
    NOTHING,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ItemReport,
    field_changes,
)


def _pending(
    session: Session, lead_id: uuid.UUID, acked: set[uuid.UUID]
) -> tuple[dict[tuple[uuid.UUID, str], tuple[Any, list[str]]], set[uuid.UUID], set[uuid.UUID]]:
    """The lead's unacknowledged changes: per (record, field) the base value and change
    ids; records with any; records it deleted."""
    fields: dict[tuple[uuid.UUID, str], tuple[Any, list[str]]] = {}
    records: set[uuid.UUID] = set()
    deleted: set[uuid.UUID] = set()
    from ssp_desktop.sync.export import pending_changes

    for row in pending_changes(session, lead_id):
        if row.id in acked or row.entity not in record_classes():
            continue
        records.add(row.record_id)
        if row.op == "delete":
            deleted.add(row.record_id)
        elif row.op == "restore":
            deleted.discard(row.record_id)
        elif row.op == "update" and row.field:
            column = codec.content_columns(record_classes()[row.entity]).get(row.field)
            if column is None:
                continue
            key = (row.record_id, row.field)
            if key in fields:
                fields[key][1].append(str(row.id))
            else:
                old = codec.decode_value(column, None if row.old is None else json.loads(row.old))
                fields[key] = (old, [str(row.id)])
    return fields, records, deleted


def _settle_copy(session: Session, bundle: Bundle, plan: MergePlan, new_store: bool) -> bool:
    """Check the bundle belongs to this copy (or makes it one); fill the plan's store
    settings. True when there is nothing to do (the bundle was imported already)."""
    m = bundle.manifest
    preview = plan.preview
    copy = state.lead_copy(session)
    if state.role(session) == ROLE_MASTER:
        raise BundleError(
            "This bundle is a snapshot for a lead's copy, but this store is the master copy. "
            "Open the lead's copy (or a new store) to import it. " + NOTHING_CHANGED
        )
    if copy is None:
        if not new_store and session.scalar(select(Plan.id).limit(1)) is not None:
            raise BundleError(
                "This store already holds a plan, so it cannot become a lead copy. Import a "
                "starter bundle into a new store. " + NOTHING_CHANGED
            )
        plan.meta = {
            "sync_role": ROLE_LEAD,
            "sync_plan_id": str(m.plan_id),
            "sync_lead_id": str(m.lead_id),
            "sync_person_id": str(m.person_id),
            "sync_themes": json.dumps([str(p) for p in m.scope.priority_ids]),
            "sync_actions": json.dumps([str(a) for a in m.scope.action_ids]),
            "sync_master_store_id": str(m.master_store_id),
            "sync_master_site_id": str(m.sender_site_id),
        }
        return False
    if copy.master_store_id != m.master_store_id:
        raise BundleError(
            "This bundle comes from a different master copy than the one this lead copy "
            "belongs to. " + NOTHING_CHANGED
        )
    if copy.plan_id != m.plan_id:
        raise BundleError("This bundle is for another plan than this copy's. " + NOTHING_CHANGED)
    if copy.lead_id != m.lead_id:
        raise BundleError(
            "This bundle was made for another person's copy of the plan. " + NOTHING_CHANGED
        )
    if already_imported(session, bundle, preview):
        return True
    themes = json.dumps([str(p) for p in m.scope.priority_ids])
    if json.dumps([str(p) for p in copy.themes]) != themes:
        plan.meta["sync_themes"] = themes
        preview.warnings.append(
            "Your themes are now " + (", ".join(m.scope.priority_codes) or "none") + "."
        )
    actions = json.dumps([str(a) for a in m.scope.action_ids])
    if json.dumps([str(a) for a in copy.actions]) != actions:
        # Actions that left the set leave the copy with the rest of what left the scope.
        plan.meta["sync_actions"] = actions
        preview.warnings.append(
            "Your actions are now " + (", ".join(m.scope.action_refs) or "none") + "."
        )
    return False


def plan_snapshot(
    session: Session,
    bundle: Bundle,
    *,
    new_store: bool,
    progress: Progress | None = None,
) -> MergePlan:
    """The plan for bringing this lead copy up to the master's snapshot."""
    m = bundle.manifest
    plan = MergePlan(bundle, new_preview(bundle, session))
    preview = plan.preview
    copy = state.lead_copy(session)
    if _settle_copy(session, bundle, plan, new_store):
        return plan
    lead_id = copy.lead_id if copy is not None else m.lead_id
    plan.meta["sync_master_revision"] = str(m.base_master_revision)
    plan.processed_lead = lead_id
    known = set(
        session.scalars(select(SyncProcessed.change_id).where(SyncProcessed.lead_id == lead_id))
    )
    acked = known | {a.change_id for a in bundle.acks}
    plan.processed = [(a.change_id, a.outcome) for a in bundle.acks if a.change_id not in known]
    rejected = sum(1 for a in bundle.acks if a.change_id not in known and a.outcome == "rejected")
    if rejected:
        preview.warnings.append(
            f"The master copy did not accept {rejected} of your changes (outside your themes "
            "and actions, about records it does not have, or breaking a rule such as text "
            "too long for its field); its values are shown now, and those changes are not "
            "sent again."
        )
    pending_fields, pending_records, pending_deleted = (
        _pending(session, lead_id, acked) if copy is not None else ({}, set(), set())
    )
    # The master's changes, made on its computer by the person who sent the snapshot.
    by = Attribution(m.sender_site_id, m.created_by, None, m.created_at)
    view = Overlay(session)
    if copy is not None:
        wanted: dict[str, set[uuid.UUID]] = {}
        for record_line in bundle.records:
            wanted.setdefault(record_line.entity, set()).add(record_line.id)
        view.preload(wanted)
    deletes: list[codec.RecordLine] = []
    refused: dict[uuid.UUID, str] = {}  # new records not accepted, for their children
    total = len(bundle.records)
    for i, line in enumerate(bundle.records, start=1):
        if progress is not None and i % 500 == 0:
            progress.step(i, total, "Comparing the master's records with this copy…")
        cls = line.cls
        obj = view.get(cls, line.id) if copy is not None else None
        name = label(cls, line.id, line.fields) if obj is None else obj.describe()
        parent = next(
            (refused[v] for k in fk_fields(cls) if (v := line.fields.get(k)) in refused), None
        )
        if obj is None:
            if line.deleted:
                continue
            broken = (
                f"it belongs to {parent}, which was not accepted"
                if parent
                else view.broken_rule(cls, line.id, None, line.fields)
            )
            if broken:
                refused[line.id] = name
                preview.items.append(ItemReport(line.entity, line.id, name, REJECTED, broken))
                continue
            view.add_new(cls, line.id, line.fields)
            plan.ops.append(Op(INSERT, line.entity, line.id, dict(line.fields), by))
            preview.items.append(ItemReport(line.entity, line.id, name, NEW))
            continue
        applied: dict[str, Any] = {}
        here: dict[str, Any] = {}
        outcome = UNCHANGED
        for key, theirs in line.fields.items():
            mine = getattr(obj, key)
            here[key] = mine
            if same(mine, theirs):
                continue
            pending = pending_fields.get((line.id, key))
            if pending is None:
                applied[key] = theirs
                continue
            base, change_ids = pending
            if same(theirs, base):
                continue  # the master has not changed it; the lead's change is on its way
            outcome = CONFLICT
            queue_conflict(
                plan,
                Conflict("field", line.entity, line.id, name, key, base, mine, theirs),
                actor=m.created_by,
                at=m.created_at,
                lead_id=lead_id,
                change_ids=change_ids,
            )
        live = obj.deleted_at is None
        restoring = not line.deleted and not live and line.id not in pending_deleted
        if line.deleted and live:
            if line.id in pending_records:
                preview.warnings.append(
                    f"The master copy deleted {name}, but you have changed it; it is kept "
                    "until the strategy team decides."
                )
            else:
                deletes.append(line)
        if not live and not restoring:
            applied = {}  # a tombstone here keeps its fields (see the module docstring)
        current = view.current(obj)
        broken = view.broken_rule(cls, line.id, None, current) if restoring else None
        if broken is None and applied:
            broken = (
                f"it would belong to {parent}, which was not accepted"
                if parent
                else view.broken_rule(cls, line.id, current, applied)
            )
        if broken:
            preview.items.append(ItemReport(line.entity, line.id, name, REJECTED, broken))
            continue
        if restoring:
            view.bring_back(obj)
            plan.ops.append(Op(RESTORE, line.entity, line.id, by=by))
            outcome = UPDATED if outcome != CONFLICT else outcome
        if applied:
            view.change(obj, applied)
            plan.ops.append(Op(UPDATE, line.entity, line.id, applied, by))
            outcome = UPDATED if outcome != CONFLICT else outcome
        if outcome != UNCHANGED or not line.deleted:
            preview.items.append(
                ItemReport(
                    line.entity,
                    line.id,
                    name,
                    outcome,
                    ", ".join(k.replace("_", " ") for k in applied),
                    field_changes(here, applied),
                )
            )
    deleting: set[uuid.UUID] = set()
    for line in sorted(deletes, key=lambda x: -scope.TABLE_RANK[x.entity]):
        name = label(line.cls, line.id, line.fields)
        kept_by = _live_children(session, line.entity, line.id, deleting)
        if kept_by:
            preview.warnings.append(
                f"The master copy deleted {name}, but {kept_by[0]} (not yet sent) is under "
                "it; it is kept until the strategy team decides."
            )
            continue
        deleting.add(line.id)
        view.take_away(line.cls, line.id)
        plan.ops.append(Op(DELETE, line.entity, line.id, by=by))
        preview.items.append(ItemReport(line.entity, line.id, name, UPDATED, "deleted"))
    if copy is not None:
        snapshot_ids = {line.id for line in bundle.records}
        updates = {op.record_id: op.fields for op in plan.ops if op.kind == UPDATE}
        removals = _departed(session, snapshot_ids, updates, pending_records)
        for entity, record_id in removals:
            merging.expect_gone(session, record_classes()[entity], record_id)
            plan.ops.append(Op(REMOVE, entity, record_id))
        preview.removed = len(removals)
    if not plan.has_writes and not plan.processed and copy is not None:
        preview.status = NOTHING
        preview.message = "This copy already matches the master's snapshot. " + NOTHING_CHANGED
    return plan


def _live_children(
    session: Session, entity: str, record_id: uuid.UUID, deleting: set[uuid.UUID]
) -> list[str]:
    """Live records that refer to this one and are not being deleted with it (an owner's
    link rows go with their owner, so they do not count)."""
    out: list[str] = []
    for ref in references_to(entity):
        if ref.owner and getattr(ref.child, "is_link", False):
            continue
        col = getattr(ref.child, ref.column)
        for child in session.scalars(
            select(ref.child).where(col == record_id, ref.child.deleted_at.is_(None))
        ):
            if child.id not in deleting and child.id != record_id:
                out.append(child.describe())
    return out


def _departed(
    session: Session,
    keep: set[uuid.UUID],
    updates: Mapping[uuid.UUID, Mapping[str, Any]],
    pending: set[uuid.UUID],
) -> list[tuple[str, uuid.UUID]]:
    """Records of this lead copy that are no longer in its scope, children first.

    What a record refers to is judged as it will be once the snapshot's ``updates``
    (the planned field writes, by record) are made: an action the master moved to
    another area no longer keeps its old area here. A record with unsent changes keeps
    what it refers to on this copy as well.
    """
    by_id: dict[uuid.UUID, Record] = {}
    for cls in record_classes().values():
        for obj in session.scalars(select(cls)):
            by_id[obj.id] = obj
    kept = {i for i in by_id if i in keep or i in pending}

    def refers_to(record_id: uuid.UUID) -> Iterator[Any]:
        obj = by_id[record_id]
        written = updates.get(record_id, {})
        for column in type(obj).__table__.columns:
            if column.foreign_keys:
                if column.key in written:
                    yield written[column.key]
                if column.key not in written or record_id in pending:
                    yield getattr(obj, column.key)

    changed = True
    while changed:  # whatever a kept record refers to stays too
        changed = False
        for record_id in list(kept):
            for value in refers_to(record_id):
                if value is not None and value in by_id and value not in kept:
                    kept.add(value)
                    changed = True
    gone = [obj for i, obj in by_id.items() if i not in kept]
    gone.sort(key=lambda o: -scope.TABLE_RANK[type(o).__tablename__])
    return [(type(o).__tablename__, o.id) for o in gone]
