"""Merging a bundle into a store: first planned (the preview), then applied as planned.

The planner reads the store and decides every write; nothing is written until
:func:`apply_plan` runs the plan inside one transaction. The preview the user sees is
the plan's :class:`~ssp_desktop.sync.preview.Preview`, so what they approve is what is
written.

**A lead's changes, on the master** (:func:`plan_changes`). The lead's change-log rows
are grouped by record; rows the master has already processed are skipped (so a later
bundle that repeats them changes nothing twice). For each field the lead changed:
``before`` is the value before its first unprocessed change and ``after`` its value
now. Then, per field (three-way, DESIGN.md section 4):

* ``after == before`` (the lead changed it and changed it back), or the master's
  current value is already ``after``: nothing;
* current ``== before``: the lead's value is applied;
* otherwise a conflict is queued (base, master's value, lead's value, who and when);
  the master's value stays until a person resolves it. A later bundle from the same
  lead that changes the field again updates the waiting conflict instead of adding one.

Whole records:

* a new record is inserted (same id: natural keys such as a measure's value for a
  quarter have ids derived from the key, so two leads entering it meet in one record);
  a natural-key record that already exists is merged field by field, with nothing as
  the base;
* a record the lead deleted is deleted only if the master has not changed it since the
  lead's base and nothing new hangs under it; otherwise it is kept and a conflict
  ("delete_edit" or "delete_child") says so;
* a record the master deleted and the lead changed is restored and changed, with an
  "edit_delete" conflict (default: keep the record; "keep mine" deletes it again);
* a child the lead added under a record the master deleted restores that parent (a
  "delete_child" conflict on it): a child is never dropped;
* a new record whose key clashes with another (two leads adding ``PVP-07``) is kept
  under a marked key (``PVP-07~2``) with a "duplicate" conflict; a link that already
  exists is simply unchanged.

Scope: a record the lead may not change (see :mod:`ssp_desktop.sync.scope`), or a
change that would move a record out of the lead's themes, is rejected and reported;
the rest of the bundle still applies. Time stamps never decide anything: a sender
whose clock is far ahead is reported, and its conflicts are flagged.

**The master's snapshot, on a lead** (:func:`plan_snapshot`). Records the lead has no
unacknowledged change to take the master's values; a field the lead has changed (not
yet acknowledged) keeps the lead's value, and if the master changed it too, a conflict
is queued on the lead so nothing is silently lost. Tombstones delete; records that
are no longer in the snapshot (moved out of the lead's themes) leave the copy without
a deletion being recorded, unless the lead has unsent changes to them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Index, Table, UniqueConstraint, delete, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record, utcnow
from ssp_desktop.domain.changes import Transaction, dump, references_to
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import ChangeLog, Plan, record_classes
from ssp_desktop.domain.sync_records import (
    ROLE_LEAD,
    ROLE_MASTER,
    SyncBundle,
    SyncConflict,
    SyncLead,
    SyncProcessed,
)
from ssp_desktop.progress import Progress
from ssp_desktop.sync import codec, scope, state
from ssp_desktop.sync.bundle import Bundle
from ssp_desktop.sync.preview import (
    CONFLICT,
    DUPLICATE,
    NEW,
    NOTHING,
    OLDER,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ConflictReport,
    ItemReport,
    Preview,
)

# A sender's clock this far ahead of ours is reported (laptops drift by minutes, not days).
CLOCK_AHEAD = dt.timedelta(hours=12)
_NOTHING = "Nothing was changed."


def _same(a: Any, b: Any) -> bool:
    return bool(a == b)


def _text(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
    try:
        return dump(value)
    except TypeError:
        return str(value)


def _json_text(value: Any) -> str:
    return dump(value)


def _label(cls: type[Record], record_id: uuid.UUID, fields: Mapping[str, Any]) -> str:
    try:
        return cls(id=record_id, **fields).describe()
    except Exception:  # a label must never stop an import
        return f"{cls.__tablename__.replace('_', ' ')} {record_id}"


@dataclass
class Op:
    """One write of the plan, in the order it must happen."""

    kind: str  # insert | update | restore | delete | remove
    entity: str
    record_id: uuid.UUID
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class MergePlan:
    bundle: Bundle
    preview: Preview
    ops: list[Op] = field(default_factory=list)
    conflicts: list[SyncConflict] = field(default_factory=list)
    superseded: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)
    processed: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    processed_lead: uuid.UUID | None = None
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def has_writes(self) -> bool:
        return bool(self.ops or self.conflicts or self.superseded)


# --------------------------------------------------------------------------- helpers


@functools.cache
def _unique_keys(cls: type[Record]) -> list[tuple[list[str], bool, bool]]:
    """(columns, live rows only, current updates only) for each unique key of ``cls``."""
    table = cast(Table, cls.__table__)
    keys: list[tuple[list[str], bool, bool]] = []
    for idx in table.indexes:
        if isinstance(idx, Index) and idx.unique:
            where = str(idx.dialect_options["sqlite"].get("where", ""))
            keys.append(
                ([c.name for c in idx.columns], "deleted_at" in where, "is_current" in where)
            )
    for con in table.constraints:
        if isinstance(con, UniqueConstraint):
            keys.append(([c.name for c in con.columns], False, False))
    return keys


class _Overlay:
    """The store as it will be once the writes planned so far are made."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.new: dict[uuid.UUID, tuple[type[Record], dict[str, Any]]] = {}
        self.fields: dict[uuid.UUID, dict[str, Any]] = {}
        self.state: dict[uuid.UUID, str] = {}  # "live" or "deleted"
        # (table, key columns, key values) -> id of a record planned for insertion
        self.new_keys: dict[tuple[str, tuple[str, ...], tuple[Any, ...]], uuid.UUID] = {}
        self.absent: set[uuid.UUID] = set()  # looked up and not in the store
        # Strong references: the session's identity map would let them go and re-query.
        self.loaded: dict[uuid.UUID, Record] = {}

    def preload(self, wanted: Mapping[str, Iterable[uuid.UUID]]) -> None:
        """Load these records in a few queries, so later lookups hit the identity map."""
        classes = record_classes()
        for entity, ids in wanted.items():
            cls = classes[entity]
            id_list = list(ids)
            for first in range(0, len(id_list), 500):
                chunk = id_list[first : first + 500]
                for record in self.session.scalars(select(cls).where(cls.id.in_(chunk))):
                    self.loaded[record.id] = record
                self.absent.update(i for i in chunk if i not in self.loaded)

    def add_new(self, cls: type[Record], record_id: uuid.UUID, fields: dict[str, Any]) -> None:
        self.new[record_id] = (cls, fields)
        for cols, _live_only, current_only in _unique_keys(cls):
            if current_only and not fields.get("is_current"):
                continue
            key = tuple(fields.get(c) for c in cols)
            self.new_keys[(cls.__tablename__, tuple(cols), key)] = record_id

    def get(self, cls: type[Record], record_id: uuid.UUID) -> Record | None:
        if record_id in self.absent:
            return None
        found = self.loaded.get(record_id)
        if found is None:
            found = self.session.get(cls, record_id)
            if found is None:
                self.absent.add(record_id)
            else:
                self.loaded[record_id] = found
        return found

    def exists(self, cls: type[Record], record_id: uuid.UUID) -> bool:
        return record_id in self.new or self.get(cls, record_id) is not None

    def live(self, cls: type[Record], record_id: uuid.UUID) -> bool:
        if record_id in self.state:
            return self.state[record_id] == "live"
        if record_id in self.new:
            return True
        obj = self.get(cls, record_id)
        return obj is not None and obj.deleted_at is None

    def value(self, obj: Record, key: str) -> Any:
        planned = self.fields.get(obj.id, {})
        return planned[key] if key in planned else getattr(obj, key)

    def current(self, obj: Record) -> dict[str, Any]:
        return {k: self.value(obj, k) for k in codec.content_columns(type(obj))}

    def clash(
        self, cls: type[Record], record_id: uuid.UUID, values: Mapping[str, Any]
    ) -> tuple[list[str], uuid.UUID, bool] | None:
        """The first unique key on which a record with ``values`` would clash with
        another (as planned): its columns, the other record's id, and whether the key
        is "the current update of a quarter"."""
        for cols, live_only, current_only in _unique_keys(cls):
            if current_only and not values.get("is_current"):
                continue
            key = {c: values.get(c) for c in cols}
            if any(v is None for v in key.values()):
                continue
            if getattr(cls, "make_id", None) is not None and not live_only:
                continue  # the id is derived from this key: the same key is the same record
            table = cast(Table, cls.__table__)
            candidates = self.session.scalars(
                select(cls).where(*(table.c[c] == v for c, v in key.items()), cls.id != record_id)
            ).all()
            for other in candidates:
                if live_only and not self.live(cls, other.id):
                    continue
                if current_only and not self.value(other, "is_current"):
                    continue
                if all(_same(self.value(other, c), v) for c, v in key.items()):
                    return cols, other.id, current_only
            other_id = self.new_keys.get((cls.__tablename__, tuple(cols), tuple(key.values())))
            if other_id is not None and other_id != record_id:
                return cols, other_id, current_only
        return None


# --------------------------------------------------------------------------- lead changes


@dataclass
class _Step:
    old: Any
    new: Any
    line: codec.ChangeLine


@dataclass
class _Group:
    entity: str
    record_id: uuid.UUID
    lines: list[codec.ChangeLine] = field(default_factory=list)

    @property
    def cls(self) -> type[Record]:
        return record_classes()[self.entity]

    @property
    def change_ids(self) -> list[uuid.UUID]:
        return [line.id for line in self.lines]

    @property
    def first_seq(self) -> int:
        return self.lines[0].seq

    @property
    def life(self) -> list[codec.ChangeLine]:
        return [line for line in self.lines if line.op != "update"]

    @property
    def before_state(self) -> str:
        life = self.life
        if not life:
            return "live"
        return {"create": "absent", "delete": "live", "restore": "deleted"}[life[0].op]

    @property
    def after_state(self) -> str:
        life = self.life
        if not life:
            return "live"
        return "deleted" if life[-1].op == "delete" else "live"

    def steps(self) -> dict[str, list[_Step]]:
        out: dict[str, list[_Step]] = {}
        for line in self.lines:
            if line.op == "create":
                for key, value in line.new.items():
                    out.setdefault(key, []).append(_Step(None, value, line))
            elif line.op == "update" and line.field is not None:
                out.setdefault(line.field, []).append(_Step(line.old, line.new, line))
        return out

    def created_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key, steps in self.steps().items():
            fields[key] = steps[-1].new
        return fields

    def lead_record(self) -> dict[str, Any] | None:
        for line in reversed(self.lines):
            if line.record is not None:
                return line.record
        return None


def _group(lines: Iterable[codec.ChangeLine]) -> list[_Group]:
    groups: dict[tuple[str, uuid.UUID], _Group] = {}
    for line in sorted(lines, key=lambda x: x.seq):
        groups.setdefault((line.entity, line.record_id), _Group(line.entity, line.record_id))
        groups[(line.entity, line.record_id)].lines.append(line)
    return list(groups.values())


class _ChangesPlanner:
    def __init__(
        self,
        session: Session,
        bundle: Bundle,
        lead: SyncLead,
        now: dt.datetime,
        progress: Progress | None,
    ) -> None:
        m = bundle.manifest
        self.session = session
        self.bundle = bundle
        self.lead = lead
        self.themes = [uuid.UUID(t) for t in lead.themes]
        self.view = _Overlay(session)
        self.writable = scope.writable_ids(session, lead.plan_id, self.themes)
        self.progress = progress
        self.plan = MergePlan(bundle, _preview(bundle, session))
        self.plan.processed_lead = lead.id
        latest = max([m.created_at, *(c.at for c in bundle.changes)])
        self.clock_ahead = latest - now > CLOCK_AHEAD
        if self.clock_ahead:
            days = (latest - now).days
            self.plan.preview.warnings.append(
                f"The sender's clock is about {days} day{'s' if days != 1 else ''} ahead of "
                f"this computer's (changes dated up to {latest:%d %B %Y}). Their times are "
                "not trusted: nothing was decided by time, and their conflicts are flagged."
            )
        self.open_conflicts = {
            (c.record_id, c.field, c.kind): c
            for c in session.scalars(
                select(SyncConflict).where(
                    SyncConflict.status == "open", SyncConflict.lead_id == lead.id
                )
            )
        }

    # -- reporting --------------------------------------------------------------

    def _item(self, g: _Group, outcome: str, label: str, detail: str = "") -> None:
        self.plan.preview.items.append(ItemReport(g.entity, g.record_id, label, outcome, detail))
        processed = {
            NEW: "applied",
            UPDATED: "applied",
            UNCHANGED: "unchanged",
            CONFLICT: "conflict",
            REJECTED: "rejected",
        }[outcome]
        self.plan.processed.extend((cid, processed) for cid in g.change_ids)

    def _conflict(
        self,
        g: _Group,
        label: str,
        kind: str,
        fieldname: str | None,
        base: Any,
        local: Any,
        incoming: Any,
        line: codec.ChangeLine,
        *,
        base_absent: bool = False,
    ) -> None:
        m = self.bundle.manifest
        base_json = None if base_absent else _json_text(base)
        existing = self.open_conflicts.get((g.record_id, fieldname, kind))
        values = {
            "base_value": base_json,
            "local_value": _json_text(local),
            "incoming_value": _json_text(incoming),
            "incoming_actor": line.actor,
            "incoming_at": line.at,
            "incoming_site_id": m.sender_site_id,
            "clock_ahead": self.clock_ahead,
            "bundle_id": m.bundle_id,
            "change_ids": [str(c) for c in g.change_ids],
        }
        if existing is not None:
            # The lead changed the field again: the waiting conflict shows the newest value.
            self.plan.superseded.append((existing.id, values))
        else:
            self.plan.conflicts.append(
                SyncConflict(
                    id=uuid.uuid4(),
                    kind=kind,
                    entity=g.entity,
                    record_id=g.record_id,
                    field=fieldname,
                    lead_id=self.lead.id,
                    **values,
                )
            )
        self.plan.preview.conflicts.append(
            ConflictReport(
                kind=kind,
                entity=g.entity,
                record_id=g.record_id,
                label=label,
                field=fieldname,
                base="(none)" if base_absent else _text(base),
                local=_text(local),
                incoming=_text(incoming),
                incoming_actor=line.actor,
                incoming_at=f"{line.at:%d %b %Y %H:%M}"
                + (" - sender's clock ahead" if self.clock_ahead else ""),
            )
        )

    # -- parents ----------------------------------------------------------------

    def _ensure_parents(
        self, g: _Group, cls: type[Record], values: Mapping[str, Any], label: str
    ) -> str | None:
        """Plan restores of deleted records ``values`` refer to; a reason if impossible."""
        for column in cls.__table__.columns:
            value = values.get(column.key)
            if value is None or not column.foreign_keys:
                continue
            (fk,) = column.foreign_keys
            parent_cls = record_classes()[fk.column.table.name]
            if value == g.record_id:
                continue
            if not self.view.exists(parent_cls, value):
                return (
                    f"it refers to a {parent_cls.__tablename__.replace('_', ' ')} the master "
                    "copy does not have"
                )
            if not self.view.live(parent_cls, value):
                parent = self.view.get(parent_cls, value)
                assert parent is not None
                reason = self._restore(g, parent, f"{label} was added or changed under it")
                if reason:
                    return reason
        return None

    def _restore(self, g: _Group, obj: Record, why: str) -> str | None:
        values = self.view.current(obj)
        reason = self._ensure_parents(g, type(obj), values, obj.describe())
        if reason:
            return reason
        self.view.state[obj.id] = "live"
        self.plan.ops.append(Op("restore", type(obj).__tablename__, obj.id))
        if obj.id != g.record_id:
            self._conflict(
                _Group(type(obj).__tablename__, obj.id, g.lines),
                obj.describe(),
                "delete_child",
                None,
                "live",
                "deleted",
                why,
                g.lines[-1],
            )
        return None

    # -- one group ----------------------------------------------------------------

    def _in_scope(self, entity: str, record_id: uuid.UUID, values: Mapping[str, Any]) -> bool:
        plan_id = self.lead.plan_id
        return scope.in_scope(entity, record_id, values, plan_id, self.writable)

    def _scope_text(self) -> str:
        codes = ", ".join(self.bundle.manifest.scope.priority_codes) or "none"
        return f"outside the sender's themes ({codes})"

    def plan_group(self, g: _Group) -> None:
        cls = g.cls
        obj = self.view.get(cls, g.record_id)
        before, after = g.before_state, g.after_state
        steps = g.steps()
        if obj is None:
            fields = g.created_fields()
            label = _label(cls, g.record_id, fields) if fields else _label(cls, g.record_id, {})
            if before != "absent":
                self._item(g, REJECTED, label, "the master copy has no such record")
            elif after == "deleted":
                self._item(g, UNCHANGED, label, "added and deleted again on the lead's copy")
            else:
                self._insert(g, fields, label)
            return
        label = obj.describe()
        current = self.view.current(obj)
        if g.entity not in scope.WRITABLE or not self._in_scope(g.entity, g.record_id, current):
            self._item(g, REJECTED, label, self._scope_text())
            return
        master_state = "live" if self.view.live(cls, obj.id) else "deleted"
        if after == "deleted":
            if before == "absent" or master_state == "deleted":
                self._item(g, UNCHANGED, label, "deleted on both copies")
            else:
                self.deletes.append(g)
            return
        # The record lives on the lead: merge its fields.
        applied: dict[str, Any] = {}
        conflicts: list[tuple[str, _Step, Any, Any]] = []
        for key, field_steps in steps.items():
            base, theirs = field_steps[0].old, field_steps[-1].new
            mine = current[key]
            if _same(base, theirs) or _same(mine, theirs):
                continue
            if _same(mine, base):
                applied[key] = theirs
            else:
                conflicts.append((key, field_steps[-1], base, mine))
        final = {**current, **applied}
        if not self._in_scope(g.entity, g.record_id, final):
            self._item(g, REJECTED, label, "the change would move it " + self._scope_text())
            return
        restoring = master_state == "deleted" and (
            applied or conflicts or (before == "deleted" and after == "live")
        )
        if master_state == "deleted" and not restoring:
            self._item(g, UNCHANGED, label, "deleted on the master copy; no change to keep")
            return
        clash = self.view.clash(cls, g.record_id, final) if applied else None
        if clash is not None:
            cols = clash[0]
            for col in cols:
                if col in applied:
                    step = steps[col][-1]
                    conflicts.append((col, step, steps[col][0].old, current[col]))
                    del applied[col]
        if restoring:
            reason = self._ensure_parents(g, cls, final, label)
            if reason:
                self._item(g, REJECTED, label, reason)
                return
            self.view.state[obj.id] = "live"
            self.plan.ops.append(Op("restore", g.entity, g.record_id))
            lead_wanted_back = before == "deleted"
            if not lead_wanted_back:
                changed = {k: v for k, v in applied.items()} or {c[0]: c[1].new for c in conflicts}
                self._conflict(
                    g, label, "edit_delete", None, "live", "deleted", changed, g.lines[-1]
                )
        elif any(k in applied for k in _fk_fields(cls)):
            reason = self._ensure_parents(g, cls, final, label)
            if reason:
                self._item(g, REJECTED, label, reason)
                return
        if applied:
            self.view.fields.setdefault(obj.id, {}).update(applied)
            self.plan.ops.append(Op("update", g.entity, g.record_id, applied))
        for key, step, base, mine in conflicts:
            self._conflict(
                g,
                label,
                "duplicate" if clash and key in clash[0] else "field",
                key,
                base,
                mine,
                step.new,
                step.line,
                base_absent=before == "absent",
            )
        if conflicts or (restoring and before != "deleted"):
            outcome = CONFLICT
        elif applied or restoring:
            outcome = UPDATED
        else:
            outcome = UNCHANGED
        detail = ", ".join(k.replace("_", " ") for k in applied)
        self._item(g, outcome, label, detail)

    def _insert(self, g: _Group, fields: dict[str, Any], label: str) -> None:
        cls = g.cls
        if g.entity not in scope.WRITABLE or g.entity == "priority":
            self._item(g, REJECTED, label, "a lead copy cannot add this kind of record")
            return
        if not self._in_scope(g.entity, g.record_id, fields):
            self._item(g, REJECTED, label, self._scope_text())
            return
        reason = self._ensure_parents(g, cls, fields, label)
        if reason:
            self._item(g, REJECTED, label, reason)
            return
        clash = self.view.clash(cls, g.record_id, fields)
        duplicate: tuple[str, Any] | None = None
        if clash is not None:
            cols, _other, current_only = clash
            if getattr(cls, "is_link", False):
                self._item(g, UNCHANGED, label, "the master copy already has this link")
                return
            if current_only:
                # Two current updates for one quarter: the incoming one is kept as an
                # earlier version until a person says which is current.
                fields = {**fields, "is_current": False}
                duplicate = ("is_current", True)
            else:
                text_cols = [
                    c for c in cols if isinstance(fields.get(c), str) and c not in _fk_fields(cls)
                ]
                if not text_cols:
                    self._item(g, REJECTED, label, "it clashes with a record already here")
                    return
                col = text_cols[0]
                original = fields[col]
                n = 2
                while self.view.clash(cls, g.record_id, {**fields, col: f"{original}~{n}"}):
                    n += 1
                fields = {**fields, col: f"{original}~{n}"}
                duplicate = (col, original)
        self.view.add_new(cls, g.record_id, fields)
        written = self.writable.get(g.entity)
        if written is not None:
            written.add(g.record_id)
        self.plan.ops.append(Op("insert", g.entity, g.record_id, fields))
        if duplicate is not None:
            col, wanted = duplicate
            self._conflict(
                g, label, "duplicate", col, None, fields[col], wanted, g.lines[-1], base_absent=True
            )
            self._item(g, CONFLICT, label, f"kept with {col.replace('_', ' ')} {fields[col]!r}")
        else:
            self._item(g, NEW, label)

    def plan_delete(self, g: _Group) -> None:
        cls = g.cls
        obj = self.view.get(cls, g.record_id)
        assert obj is not None
        label = obj.describe()
        current = self.view.current(obj)
        lead_record = g.lead_record() or current
        steps = g.steps()
        base = {k: (steps[k][0].old if k in steps else lead_record.get(k)) for k in current}
        edited = {k: v for k, v in current.items() if not _same(v, base[k])}
        if edited:
            self._conflict(g, label, "delete_edit", None, "live", edited, "deleted", g.lines[-1])
            self._item(g, CONFLICT, label, "deleted on the lead's copy, changed on the master")
            return
        children: list[str] = []
        for ref in references_to(g.entity):
            col = getattr(ref.child, ref.column)
            for child in self.session.scalars(
                select(ref.child).where(col == obj.id, ref.child.deleted_at.is_(None))
            ):
                if self.view.live(ref.child, child.id) and child.id not in self.deleting:
                    if getattr(ref.child, "is_link", False) and ref.owner:
                        continue  # an owner's links go with it
                    children.append(child.describe())
        for new_id, (new_cls, new_fields) in self.view.new.items():
            if any(
                new_fields.get(c.key) == obj.id for c in new_cls.__table__.columns if c.foreign_keys
            ):
                children.append(_label(new_cls, new_id, new_fields))
        if children:
            self._conflict(
                g,
                label,
                "delete_child",
                None,
                "live",
                "new: " + "; ".join(children[:5]),
                "deleted",
                g.lines[-1],
            )
            self._item(
                g, CONFLICT, label, "deleted on the lead's copy, but has new records under it"
            )
            return
        self.deleting.add(obj.id)
        self.view.state[obj.id] = "deleted"
        self.plan.ops.append(Op("delete", g.entity, g.record_id))
        self._item(g, UPDATED, label, "deleted")

    def run(self, changes: list[codec.ChangeLine]) -> MergePlan:
        groups = _group(changes)
        groups.sort(key=lambda g: (scope.TABLE_RANK[g.entity], g.first_seq))
        wanted: dict[str, set[uuid.UUID]] = {}
        for g in groups:
            wanted.setdefault(g.entity, set()).add(g.record_id)
        self.view.preload(wanted)
        self.deletes: list[_Group] = []
        self.deleting: set[uuid.UUID] = set()
        total = len(groups)
        for i, g in enumerate(groups, start=1):
            self.plan_group(g)
            if self.progress is not None and i % 500 == 0:
                self.progress.step(i, total, "Comparing the changes with this copy…")
        for g in sorted(self.deletes, key=lambda g: (-scope.TABLE_RANK[g.entity], -g.first_seq)):
            self.plan_delete(g)
        return self.plan


def _fk_fields(cls: type[Record]) -> set[str]:
    return {c.key for c in cls.__table__.columns if c.foreign_keys}


def _preview(bundle: Bundle, session: Session) -> Preview:
    m = bundle.manifest
    sender = m.created_by
    if m.kind == "changes":
        from ssp_desktop.domain.records import Person

        person = session.get(Person, m.person_id)
        if person is not None:
            sender = f"{person.name} ({m.created_by})"
    else:
        sender = f"the master copy ({m.created_by})"
    return Preview(kind=m.kind, bundle_id=m.bundle_id, sender=sender, sequence=m.sequence)


def _idempotency(session: Session, bundle: Bundle, preview: Preview) -> bool:
    """Mark the preview and return True when the bundle has nothing new by its number."""
    m = bundle.manifest
    seen = session.get(SyncBundle, m.bundle_id)
    if seen is not None and seen.direction == "in":
        preview.status = DUPLICATE
        preview.message = (
            f"This bundle was already imported on {seen.received_at:%d %B %Y at %H:%M}. " + _NOTHING
        )
        return True
    last = state.last_imported(session, m.sender_site_id)
    if m.sequence <= last:
        preview.status = OLDER
        preview.message = (
            f"This is bundle number {m.sequence} from this sender, but number {last} was "
            "already imported and includes everything in it. " + _NOTHING
        )
        return True
    return False


def plan_changes(
    session: Session,
    bundle: Bundle,
    *,
    store_id: uuid.UUID,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> MergePlan:
    """The plan for merging a lead's changes into this (master) store."""
    m = bundle.manifest
    if state.role(session) == ROLE_LEAD:
        raise BundleError(
            "This bundle holds a lead's changes for the master copy, but this store is a "
            "lead copy. Import it into the master copy. " + _NOTHING
        )
    if m.master_store_id != store_id:
        raise BundleError(
            "This bundle was made for a different master copy of the plan (not this store). "
            "Check you opened the right store. " + _NOTHING
        )
    lead = session.get(SyncLead, m.lead_id)
    if lead is None:
        raise BundleError(
            "This bundle comes from a lead copy this store did not issue. Make a starter "
            "bundle for the person first (Export bundle for a person). " + _NOTHING
        )
    plan = session.get(Plan, m.plan_id)
    if lead.plan_id != m.plan_id or plan is None:
        raise BundleError(
            "This bundle belongs to another plan than the one its lead copy was made for. "
            + _NOTHING
        )
    planner = _ChangesPlanner(session, bundle, lead, now or utcnow(), progress)
    if _idempotency(session, bundle, planner.plan.preview):
        return planner.plan
    processed = set(
        session.scalars(select(SyncProcessed.change_id).where(SyncProcessed.lead_id == lead.id))
    )
    remaining = [c for c in bundle.changes if c.id not in processed]
    result = planner.run(remaining)
    if not result.has_writes and not result.processed:
        result.preview.status = NOTHING
        result.preview.message = (
            "Every change in this bundle was already merged. " + _NOTHING
            if bundle.changes
            else "This bundle holds no changes. " + _NOTHING
        )
    return result


# --------------------------------------------------------------------------- snapshots


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


def plan_snapshot(
    session: Session,
    bundle: Bundle,
    *,
    new_store: bool,
    progress: Progress | None = None,
) -> MergePlan:
    """The plan for bringing this lead copy up to the master's snapshot."""
    m = bundle.manifest
    plan = MergePlan(bundle, _preview(bundle, session))
    preview = plan.preview
    role = state.role(session)
    copy = state.lead_copy(session)
    if role == ROLE_MASTER:
        raise BundleError(
            "This bundle is a snapshot for a lead's copy, but this store is the master copy. "
            "Open the lead's copy (or a new store) to import it. " + _NOTHING
        )
    if copy is None:
        if not new_store and session.scalar(select(Plan.id).limit(1)) is not None:
            raise BundleError(
                "This store already holds a plan, so it cannot become a lead copy. Import a "
                "starter bundle into a new store. " + _NOTHING
            )
        plan.meta = {
            "sync_role": ROLE_LEAD,
            "sync_plan_id": str(m.plan_id),
            "sync_lead_id": str(m.lead_id),
            "sync_person_id": str(m.person_id),
            "sync_themes": json.dumps([str(p) for p in m.scope.priority_ids]),
            "sync_master_store_id": str(m.master_store_id),
            "sync_master_site_id": str(m.sender_site_id),
        }
        lead_id = m.lead_id
    else:
        if copy.master_store_id != m.master_store_id:
            raise BundleError(
                "This bundle comes from a different master copy than the one this lead copy "
                "belongs to. " + _NOTHING
            )
        if copy.plan_id != m.plan_id:
            raise BundleError("This bundle is for another plan than this copy's. " + _NOTHING)
        if copy.lead_id != m.lead_id:
            raise BundleError(
                "This bundle was made for another person's copy of the plan. " + _NOTHING
            )
        lead_id = copy.lead_id
        if _idempotency(session, bundle, preview):
            return plan
        if json.dumps([str(p) for p in copy.themes]) != json.dumps(
            [str(p) for p in m.scope.priority_ids]
        ):
            plan.meta["sync_themes"] = json.dumps([str(p) for p in m.scope.priority_ids])
            preview.warnings.append(
                "Your themes are now " + (", ".join(m.scope.priority_codes) or "none") + "."
            )
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
            "or about records it does not have); its values are shown now."
        )
    pending_fields, pending_records, pending_deleted = (
        _pending(session, lead_id, acked) if copy is not None else ({}, set(), set())
    )
    view = _Overlay(session)
    if copy is not None:
        wanted: dict[str, set[uuid.UUID]] = {}
        for record_line in bundle.records:
            wanted.setdefault(record_line.entity, set()).add(record_line.id)
        view.preload(wanted)
    deletes: list[codec.RecordLine] = []
    snapshot_ids: set[uuid.UUID] = set()
    total = len(bundle.records)
    for i, line in enumerate(bundle.records, start=1):
        if progress is not None and i % 500 == 0:
            progress.step(i, total, "Comparing the master's records with this copy…")
        snapshot_ids.add(line.id)
        cls = line.cls
        obj = view.get(cls, line.id) if copy is not None else None
        label = _label(cls, line.id, line.fields) if obj is None else obj.describe()
        if obj is None:
            if line.deleted:
                continue
            view.add_new(cls, line.id, line.fields)
            plan.ops.append(Op("insert", line.entity, line.id, dict(line.fields)))
            preview.items.append(ItemReport(line.entity, line.id, label, NEW))
            continue
        applied: dict[str, Any] = {}
        outcome = UNCHANGED
        for key, theirs in line.fields.items():
            mine = getattr(obj, key)
            if _same(mine, theirs):
                continue
            pending = pending_fields.get((line.id, key))
            if pending is None:
                applied[key] = theirs
                continue
            base, change_ids = pending
            if _same(theirs, base):
                continue  # the master has not changed it; the lead's change is on its way
            outcome = CONFLICT
            plan.conflicts.append(
                SyncConflict(
                    id=uuid.uuid4(),
                    kind="field",
                    entity=line.entity,
                    record_id=line.id,
                    field=key,
                    base_value=_json_text(base),
                    local_value=_json_text(mine),
                    incoming_value=_json_text(theirs),
                    incoming_actor=m.created_by,
                    incoming_at=m.created_at,
                    incoming_site_id=m.sender_site_id,
                    bundle_id=m.bundle_id,
                    lead_id=lead_id,
                    change_ids=change_ids,
                )
            )
            preview.conflicts.append(
                ConflictReport(
                    "field",
                    line.entity,
                    line.id,
                    label,
                    key,
                    _text(base),
                    _text(mine),
                    _text(theirs),
                    m.created_by,
                    f"{m.created_at:%d %b %Y %H:%M}",
                )
            )
        live = obj.deleted_at is None
        if line.deleted and live:
            if line.id in pending_records:
                preview.warnings.append(
                    f"The master copy deleted {label}, but you have changed it; it is kept "
                    "until the strategy team decides."
                )
            else:
                deletes.append(line)
        elif not line.deleted and not live and line.id not in pending_deleted:
            plan.ops.append(Op("restore", line.entity, line.id))
            outcome = UPDATED if outcome != CONFLICT else outcome
        if applied:
            plan.ops.append(Op("update", line.entity, line.id, applied))
            outcome = UPDATED if outcome != CONFLICT else outcome
        if outcome != UNCHANGED or not line.deleted:
            preview.items.append(
                ItemReport(
                    line.entity,
                    line.id,
                    label,
                    outcome,
                    ", ".join(k.replace("_", " ") for k in applied),
                )
            )
    deleting: set[uuid.UUID] = set()
    for line in sorted(deletes, key=lambda x: -scope.TABLE_RANK[x.entity]):
        label = _label(line.cls, line.id, line.fields)
        kept_by = _live_children(session, line.entity, line.id, deleting)
        if kept_by:
            preview.warnings.append(
                f"The master copy deleted {label}, but {kept_by[0]} (not yet sent) is under "
                "it; it is kept until the strategy team decides."
            )
            continue
        deleting.add(line.id)
        plan.ops.append(Op("delete", line.entity, line.id))
        preview.items.append(ItemReport(line.entity, line.id, label, UPDATED, "deleted"))
    if copy is not None:
        removals = _departed(session, snapshot_ids, pending_records)
        for entity, record_id in removals:
            plan.ops.append(Op("remove", entity, record_id))
        preview.removed = len(removals)
    if not plan.has_writes and not plan.processed and copy is not None:
        preview.status = NOTHING
        preview.message = "This copy already matches the master's snapshot. " + _NOTHING
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
    session: Session, keep: set[uuid.UUID], pending: set[uuid.UUID]
) -> list[tuple[str, uuid.UUID]]:
    """Records of this lead copy that are no longer in its scope, children first."""
    by_id: dict[uuid.UUID, Record] = {}
    for cls in record_classes().values():
        for obj in session.scalars(select(cls)):
            by_id[obj.id] = obj
    kept = {i for i in by_id if i in keep or i in pending}
    changed = True
    while changed:  # whatever a kept record refers to stays too
        changed = False
        for record_id in list(kept):
            obj = by_id[record_id]
            for column in type(obj).__table__.columns:
                if column.foreign_keys:
                    value = getattr(obj, column.key)
                    if value is not None and value in by_id and value not in kept:
                        kept.add(value)
                        changed = True
    gone = [obj for i, obj in by_id.items() if i not in kept]
    gone.sort(key=lambda o: -scope.TABLE_RANK[type(o).__tablename__])
    return [(type(o).__tablename__, o.id) for o in gone]


# --------------------------------------------------------------------------- applying


def apply_plan(
    tx: Transaction,
    plan: MergePlan,
    *,
    file_name: str = "",
    progress: Progress | None = None,
) -> None:
    """Make the plan's writes in ``tx`` (the caller's one transaction)."""
    session = tx.session
    classes = record_classes()
    m = plan.bundle.manifest
    if plan.meta:
        state.put_meta(session, **plan.meta)
    total = len(plan.ops)
    last_entity = ""
    for i, op in enumerate(plan.ops, start=1):
        if progress is not None and i % 250 == 0:
            progress.step(i, total, "Applying the changes…")
        cls = classes[op.entity]
        if op.entity != last_entity:
            tx.flush()  # one table at a time, parents before children
            last_entity = op.entity
        if op.kind == "insert":
            tx.add(cls(id=op.record_id, **op.fields))
        elif op.kind == "update":
            obj = tx.get(cls, op.record_id)
            if obj is None:
                raise BundleError(f"The {op.entity} to change vanished during the import.")
            for key, value in op.fields.items():
                setattr(obj, key, value)
            if op.entity == "action_update":
                tx.flush()  # "current" moves from one update to another one step at a time
        elif op.kind == "restore":
            obj = tx.get(cls, op.record_id)
            if obj is not None and obj.deleted_at is not None:
                tx.restore(obj)
        elif op.kind == "delete":
            obj = tx.get(cls, op.record_id)
            if obj is not None and obj.deleted_at is None:
                tx.delete(obj)
        elif op.kind == "remove":
            # Not a deletion: the record left this lead's themes. The plan still has it.
            tx.flush()
            session.execute(delete(cls).where(cls.id == op.record_id))
    tx.flush()
    for conflict in plan.conflicts:
        session.add(conflict)
    for conflict_id, values in plan.superseded:
        row = session.get(SyncConflict, conflict_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
    if plan.processed_lead is not None:
        lead_id = plan.processed_lead
        known = set(
            session.scalars(select(SyncProcessed.change_id).where(SyncProcessed.lead_id == lead_id))
        )
        for change_id, outcome in plan.processed:
            if change_id not in known:
                known.add(change_id)
                session.add(
                    SyncProcessed(
                        lead_id=lead_id, change_id=change_id, bundle_id=m.bundle_id, outcome=outcome
                    )
                )
    session.add(
        SyncBundle(
            id=m.bundle_id,
            direction="in",
            kind=m.kind,
            plan_id=m.plan_id,
            sender_site_id=m.sender_site_id,
            lead_id=m.lead_id,
            sequence=m.sequence,
            created_at=m.created_at,
            file_name=file_name,
            summary=plan.preview.summary(),
        )
    )
    tx.flush()


def touched_records(session: Session, change_set: uuid.UUID) -> list[tuple[str, uuid.UUID]]:
    """(entity, id) of every record one transaction changed, for refreshing views."""
    rows = session.execute(
        select(ChangeLog.entity, ChangeLog.record_id)
        .where(ChangeLog.change_set == change_set)
        .order_by(ChangeLog.seq)
    ).all()
    return list(dict.fromkeys((e, r) for e, r in rows))
