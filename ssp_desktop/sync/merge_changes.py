"""Planning the merge of a lead's changes into the master copy (:func:`plan_changes`).

The lead's change-log rows are grouped by record; rows the master has already
processed are skipped (so a later bundle that repeats them changes nothing twice). For
each field the lead changed: ``before`` is the value before its first unprocessed
change and ``after`` its value now. Then, per field (three-way, DESIGN.md section 4):

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

Rejected, and reported item by item while the rest of the bundle applies: a record the
lead may not change (see :mod:`ssp_desktop.sync.scope`: outside its themes and its
action set), a change that would move a record out of the lead's scope, and a change
the plan's rules refuse (a ref another action has, a due date before the start date),
with the words the form would use.
Time stamps never decide anything: a sender whose clock is far ahead is reported, and
its conflicts are flagged. Every write is attributed to the lead: their person, their
site and the time on their laptop.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record, utcnow
from ssp_desktop.domain.changes import Attribution, references_to
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import Action, Person, Plan, Priority
from ssp_desktop.domain.sync_records import ROLE_LEAD, SyncConflict, SyncLead, SyncProcessed
from ssp_desktop.progress import Progress
from ssp_desktop.services import authority
from ssp_desktop.sync import codec, scope, state
from ssp_desktop.sync.bundle import Bundle
from ssp_desktop.sync.change_groups import Group, Step, group_changes
from ssp_desktop.sync.merge_plan import (
    CLOCK_AHEAD,
    DELETE,
    INSERT,
    NOTHING_CHANGED,
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
    references,
    same,
)
from ssp_desktop.sync.overlay import Overlay
from ssp_desktop.sync.preview import (
    CONFLICT,
    HELD,
    NEW,
    NOTHING,
    OLDER,
    READY,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ItemReport,
    field_changes,
)

# More deletions than this in one lead's bundle wait for the master's confirmation.
# A quarter's tidying deletes a handful; hundreds is a theme emptied.
MASS_DELETION = 20


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
        self.scope = scope.LeadScope.of(lead.plan_id, lead.themes, lead.actions)
        self.view = Overlay(session)
        self.writable = scope.writable_ids(session, self.scope)
        self.scope_text = _scope_words(session, self.scope)
        self.progress = progress
        self.plan = MergePlan(bundle, new_preview(bundle, session))
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
        self.deletes: list[Group] = []
        self.deleting: set[uuid.UUID] = set()
        self.refused: set[uuid.UUID] = set()
        self.confirm_deletions = False

    # -- reporting and writing ----------------------------------------------------

    def _item(
        self,
        g: Group,
        outcome: str,
        label: str,
        detail: str = "",
        changes: tuple[tuple[str, str, str], ...] = (),
    ) -> None:
        self.plan.preview.items.append(
            ItemReport(g.entity, g.record_id, label, outcome, detail, changes)
        )
        processed = {
            NEW: "applied",
            UPDATED: "applied",
            UNCHANGED: "unchanged",
            CONFLICT: "conflict",
            REJECTED: "rejected",
        }[outcome]
        self.plan.processed.extend((cid, processed) for cid in g.change_ids)

    def _op(self, kind: str, g: Group, line: codec.ChangeLine, **fields: Any) -> None:
        """Plan a write of the lead's change ``line`` (made by them, on their laptop)."""
        m = self.bundle.manifest
        by = Attribution(m.sender_site_id, line.actor, m.person_id, line.at)
        self.plan.ops.append(Op(kind, g.entity, g.record_id, dict(fields), by))

    def _conflict(
        self,
        g: Group,
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
        queue_conflict(
            self.plan,
            Conflict(
                kind, g.entity, g.record_id, label, fieldname, base, local, incoming, base_absent
            ),
            actor=line.actor,
            at=line.at,
            lead_id=self.lead.id,
            change_ids=[str(c) for c in g.change_ids],
            clock_ahead=self.clock_ahead,
            # The lead changed the field again: the waiting conflict shows the newest value.
            waiting=self.open_conflicts.get((g.record_id, fieldname, kind)),
        )

    # -- parents ----------------------------------------------------------------

    def _ensure_parents(
        self, g: Group, cls: type[Record], values: Mapping[str, Any], label: str
    ) -> str | None:
        """Plan restores of deleted records ``values`` refer to; a reason if impossible."""
        for key, parent_cls in references(cls):
            value = values.get(key)
            if value is None or value == g.record_id:
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

    def _restore(self, g: Group, obj: Record, why: str) -> str | None:
        values = self.view.current(obj)
        reason = self._ensure_parents(g, type(obj), values, obj.describe())
        if reason:
            return reason
        broken = self.view.broken_rule(type(obj), obj.id, None, values)
        if broken:
            return f"{obj.describe()}, which it needs, cannot come back: {broken}"
        self.view.bring_back(obj)
        parent = Group(type(obj).__tablename__, obj.id, g.lines)
        self._op(RESTORE, parent, g.lines[-1])
        if obj.id != g.record_id:
            self._conflict(
                parent,
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

    def _in_another_name(self, entity: str, fields: Mapping[str, Any]) -> str | None:
        """Why a lead's update may not be written as it is: a lead's copy writes
        quarterly updates in its own lead's name only (the signature proves who sent the
        bundle; the author field is whatever their copy wrote)."""
        if entity != "action_update" or "author_person_id" not in fields:
            return None
        author = fields["author_person_id"]
        if author is None or author == self.bundle.manifest.person_id:
            return None
        person = self.session.get(Person, author)
        who = person.name if person is not None else "someone else"
        return f"it is written in the name of {who}, but a lead's copy writes updates as its lead"

    def _scope_text(self) -> str:
        return self.scope_text

    def plan_group(self, g: Group) -> None:
        cls = g.cls
        obj = self.view.get(cls, g.record_id)
        before, after = g.before_state, g.after_state
        if obj is None:
            fields = g.created_fields()
            name = label(cls, g.record_id, fields) if fields else label(cls, g.record_id, {})
            if before != "absent" and g.record_id in self.refused:
                self._item(g, UNCHANGED, name, "this copy refused the record before")
            elif before != "absent":
                self._item(g, REJECTED, name, "the master copy has no such record")
            elif after == "deleted":
                self._item(g, UNCHANGED, name, "added and deleted again on the lead's copy")
            else:
                self._insert(g, fields, name)
            return
        steps = g.steps()
        name = obj.describe()
        current = self.view.current(obj)
        if g.entity not in scope.WRITABLE or not self._in_scope(g.entity, g.record_id, current):
            self._item(g, REJECTED, name, self._scope_text())
            return
        master_state = "live" if self.view.live(cls, obj.id) else "deleted"
        if after == "deleted":
            if before == "absent" or master_state == "deleted":
                self._item(g, UNCHANGED, name, "deleted on both copies")
            else:
                self.deletes.append(g)
            return
        # The record lives on the lead: merge its fields. A field only the master sets
        # is refused on its own, with the words the lead's editor shows; the rest of
        # the lead's change still counts.
        g, steps = self._refuse_master_owned(g, name, steps)
        if not g.lines:
            return
        applied: dict[str, Any] = {}
        conflicts: list[tuple[str, Step, Any, Any]] = []
        for key, field_steps in steps.items():
            base, theirs = field_steps[0].old, field_steps[-1].new
            mine = current[key]
            if same(base, theirs) or same(mine, theirs):
                continue
            if same(mine, base):
                applied[key] = theirs
            else:
                conflicts.append((key, field_steps[-1], base, mine))
        final = {**current, **applied}
        if not self._in_scope(g.entity, g.record_id, final):
            self._item(g, REJECTED, name, "the change would move it " + self._scope_text())
            return
        impostor = self._in_another_name(g.entity, applied)
        if impostor:
            self._item(g, REJECTED, name, impostor)
            return
        restoring = master_state == "deleted" and (
            applied or conflicts or (before == "deleted" and after == "live")
        )
        if master_state == "deleted" and not restoring:
            self._item(g, UNCHANGED, name, "deleted on the master copy; no change to keep")
            return
        clash = self.view.clash(cls, g.record_id, final) if applied else None
        if clash is not None:
            cols = clash[0]
            for col in cols:
                if col in applied:
                    step = steps[col][-1]
                    conflicts.append((col, step, steps[col][0].old, current[col]))
                    del applied[col]
        # The rules, as the services will apply them: the restore judges the record as
        # it is, the change judges the changed fields together.
        broken = self.view.broken_rule(cls, obj.id, None, current) if restoring else None
        if broken is None and applied:
            broken = self.view.broken_rule(cls, obj.id, current, applied)
        if broken:
            self._item(g, REJECTED, name, broken)
            return
        if restoring:
            reason = self._ensure_parents(g, cls, final, name)
            if reason:
                self._item(g, REJECTED, name, reason)
                return
            self.view.bring_back(obj)
            self._op(RESTORE, g, g.lines[-1])
            lead_wanted_back = before == "deleted"
            if not lead_wanted_back:
                changed = dict(applied) or {c[0]: c[1].new for c in conflicts}
                self._conflict(
                    g, name, "edit_delete", None, "live", "deleted", changed, g.lines[-1]
                )
        elif any(k in applied for k in fk_fields(cls)):
            reason = self._ensure_parents(g, cls, final, name)
            if reason:
                self._item(g, REJECTED, name, reason)
                return
        shown_changes = field_changes(current, applied)
        if applied:
            self.view.change(obj, applied)
            newest = max((steps[k][-1].line for k in applied), key=lambda line: line.seq)
            self._op(UPDATE, g, newest, **applied)
        for key, step, base, mine in conflicts:
            self._conflict(
                g,
                name,
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
        self._item(g, outcome, name, detail, shown_changes)

    def _refuse_master_owned(
        self, g: Group, name: str, steps: dict[str, list[Step]]
    ) -> tuple[Group, dict[str, list[Step]]]:
        """Reject the lead's changes to fields only the master sets, one item per field;
        the group and steps that remain to merge."""
        refused: set[uuid.UUID] = set()
        kept: dict[str, list[Step]] = {}
        for key, field_steps in steps.items():
            if same(field_steps[0].old, field_steps[-1].new):
                kept[key] = field_steps
                continue
            refusal = authority.master_only(g.cls, key, field_steps[-1].new)
            if refusal is None:
                kept[key] = field_steps
                continue
            lines = [step.line for step in field_steps]
            refused.update(line.id for line in lines)
            field_name = key.removesuffix("_id").replace("_", " ")
            self._item(
                Group(g.entity, g.record_id, lines), REJECTED, name, f"{field_name}: {refusal}"
            )
        if not refused:
            return g, steps
        return Group(g.entity, g.record_id, [x for x in g.lines if x.id not in refused]), kept

    def _refuse_master_owned_values(
        self, g: Group, name: str, fields: dict[str, Any]
    ) -> tuple[Group, dict[str, Any] | None]:
        """A new record whose later changes set what only the master sets (a lead
        accepting their own new update): those changes are rejected, each on its own,
        and the record is added as it was created; None if even that is refused."""
        kept = dict(fields)
        refused: set[uuid.UUID] = set()
        for key, last in g.last_values().items():
            if authority.master_only(g.cls, key, last) is None:
                continue
            field_steps = g.steps()[key]
            first = field_steps[0]
            if first.line.op != "create" or authority.master_only(g.cls, key, first.new):
                self._item(g, REJECTED, name, authority.master_only(g.cls, key, first.new) or "")
                return g, None
            later = [step.line for step in field_steps[1:]]
            refused.update(line.id for line in later)
            kept[key] = first.new
            field_name = key.removesuffix("_id").replace("_", " ")
            refusal = authority.master_only(g.cls, key, field_steps[-1].new)
            part = Group(g.entity, g.record_id, later)
            self._item(part, REJECTED, name, f"{field_name}: {refusal}")
        if not refused:
            return g, kept
        return Group(g.entity, g.record_id, [x for x in g.lines if x.id not in refused]), kept

    def _insert(self, g: Group, fields: dict[str, Any], name: str) -> None:
        cls = g.cls
        if self.refused:
            refs = fk_fields(cls)
            fields = {
                k: None if k in refs and cls.__table__.c[k].nullable and v in self.refused else v
                for k, v in fields.items()
            }
        if g.entity not in scope.WRITABLE or g.entity == "priority":
            self._item(g, REJECTED, name, "a lead copy cannot add this kind of record")
            return
        refusal = authority.master_only(cls, None)
        if refusal is not None:
            self._item(g, REJECTED, name, refusal)
            return
        g, allowed = self._refuse_master_owned_values(g, name, fields)
        if allowed is None:
            return
        fields = allowed
        if not self._in_scope(g.entity, g.record_id, fields):
            self._item(g, REJECTED, name, self._scope_text())
            return
        impostor = self._in_another_name(g.entity, fields)
        if impostor:
            self._item(g, REJECTED, name, impostor)
            return
        clash = self.view.clash(cls, g.record_id, fields)
        duplicate: tuple[str, Any] | None = None
        if clash is not None:
            cols, _other, current_only = clash
            if getattr(cls, "is_link", False):
                self._item(g, UNCHANGED, name, "the master copy already has this link")
                return
            if current_only:
                # Two current updates for one quarter: the incoming one is kept as an
                # earlier version until a person says which is current.
                fields = {**fields, "is_current": False}
                duplicate = ("is_current", True)
            else:
                text_cols = [
                    c for c in cols if isinstance(fields.get(c), str) and c not in fk_fields(cls)
                ]
                if not text_cols:
                    self._item(g, REJECTED, name, "it clashes with a record already here")
                    return
                col = text_cols[0]
                original = fields[col]
                n = 2
                while self.view.clash(cls, g.record_id, {**fields, col: f"{original}~{n}"}):
                    n += 1
                fields = {**fields, col: f"{original}~{n}"}
                duplicate = (col, original)
        broken = self.view.broken_rule(cls, g.record_id, None, fields)
        if broken:
            self._item(g, REJECTED, name, broken)
            return
        reason = self._ensure_parents(g, cls, fields, name)
        if reason:
            self._item(g, REJECTED, name, reason)
            return
        self.view.add_new(cls, g.record_id, fields)
        written = self.writable.get(g.entity)
        if written is not None:
            written.add(g.record_id)
        self._op(INSERT, g, g.lines[-1], **fields)
        if duplicate is not None:
            col, wanted = duplicate
            self._conflict(
                g, name, "duplicate", col, None, fields[col], wanted, g.lines[-1], base_absent=True
            )
            self._item(g, CONFLICT, name, f"kept with {col.replace('_', ' ')} {fields[col]!r}")
        else:
            self._item(g, NEW, name)

    def plan_delete(self, g: Group) -> None:
        cls = g.cls
        obj = self.view.get(cls, g.record_id)
        assert obj is not None
        name = obj.describe()
        refusal = authority.master_only(cls, None)
        if refusal is not None:
            self._item(g, REJECTED, name, refusal)
            return
        current = self.view.current(obj)
        lead_record = g.lead_record() or current
        steps = g.steps()
        base = {k: (steps[k][0].old if k in steps else lead_record.get(k)) for k in current}
        edited = {k: v for k, v in current.items() if not same(v, base[k])}
        if edited:
            self._conflict(g, name, "delete_edit", None, "live", edited, "deleted", g.lines[-1])
            self._item(g, CONFLICT, name, "deleted on the lead's copy, changed on the master")
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
                children.append(label(new_cls, new_id, new_fields))
        if children:
            self._conflict(
                g,
                name,
                "delete_child",
                None,
                "live",
                "new: " + "; ".join(children[:5]),
                "deleted",
                g.lines[-1],
            )
            self._item(
                g, CONFLICT, name, "deleted on the lead's copy, but has new records under it"
            )
            return
        self.deleting.add(obj.id)
        self.view.take_away(cls, obj.id)
        self._op(DELETE, g, g.lines[-1])
        self._item(g, UPDATED, name, "deleted")

    def _preload_for(self, groups: list[Group]) -> None:
        """Read up front, a few queries per table, what judging the groups will look up
        in the store: the records holding the unique keys the added and changed records
        will have (:meth:`Overlay.clash`), and the records their references point to
        (the rules and :meth:`_ensure_parents`). A lookup this does not foresee (a key
        made of some lead's values and some of the master's) still asks the store."""
        keyed: dict[type[Record], list[dict[str, Any]]] = {}
        referred: dict[str, set[uuid.UUID]] = {}
        for g in groups:
            cls = g.cls
            obj = self.view.get(cls, g.record_id)
            theirs = g.created_fields()
            if obj is None:
                if g.before_state != "absent":
                    continue
                rows = [theirs]
            else:
                if g.after_state == "deleted":
                    continue
                current = self.view.current(obj)
                rows = [current, {**current, **theirs}]
            keyed.setdefault(cls, []).extend(rows)
            for key, parent_cls in references(cls):
                for values in rows:
                    value = values.get(key)
                    if isinstance(value, uuid.UUID):
                        referred.setdefault(parent_cls.__tablename__, set()).add(value)
        for cls, rows in keyed.items():
            self.view.preload_keys(cls, rows)
        self.view.preload(referred)

    def run(self, changes: list[codec.ChangeLine]) -> MergePlan:
        groups = group_changes(changes)
        groups.sort(key=lambda g: (scope.TABLE_RANK[g.entity], g.first_seq))
        wanted: dict[str, set[uuid.UUID]] = {}
        for g in groups:
            wanted.setdefault(g.entity, set()).add(g.record_id)
        self.view.preload(wanted)
        self._preload_for(groups)
        total = len(groups)
        for i, g in enumerate(groups, start=1):
            self.plan_group(g)
            if self.progress is not None and i % 500 == 0:
                self.progress.step(i, total, "Comparing the changes with this copy…")
        for g in sorted(self.deletes, key=lambda g: (-scope.TABLE_RANK[g.entity], -g.first_seq)):
            self.plan_delete(g)
        deleting = sum(1 for op in self.plan.ops if op.kind == DELETE)
        if deleting > MASS_DELETION and not self.confirm_deletions:
            preview = self.plan.preview
            preview.status = HELD
            preview.message = (
                f"This bundle deletes {deleting} records of {self._themes_text()}: more than "
                f"the {MASS_DELETION} a lead's bundle deletes without the strategy team's "
                "say-so (a whole theme emptied by mistake, or by someone else). Nothing was "
                "changed. Check with the lead; to go ahead, import it again and confirm the "
                "deletions (Delete them in the import dialog, or --confirm-deletions)."
            )
        return self.plan

    def _themes_text(self) -> str:
        codes = self.bundle.manifest.scope.priority_codes
        if not codes:
            return "the lead's themes"
        return f"the theme{'s' if len(codes) > 1 else ''} {', '.join(codes)}"


def _scope_words(session: Session, lead_scope: scope.LeadScope) -> str:
    """How a rejection names the sender's scope, as the master records it (the lead's
    own bundle does not get to say what its scope is)."""
    codes = sorted(
        session.scalars(select(Priority.code).where(Priority.id.in_(list(lead_scope.themes))))
    )
    refs = sorted(
        session.scalars(select(Action.ref).where(Action.id.in_(list(lead_scope.actions))))
    )
    if not refs:
        return f"outside the sender's themes ({', '.join(codes) or 'none'})"
    if not codes:
        return f"outside the sender's scope (actions {', '.join(refs)})"
    return f"outside the sender's scope (themes {', '.join(codes)}; actions {', '.join(refs)})"


def plan_changes(
    session: Session,
    bundle: Bundle,
    *,
    store_id: uuid.UUID,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    confirm_deletions: bool = False,
) -> MergePlan:
    """The plan for merging a lead's changes into this (master) store.

    A bundle that would delete more than ``MASS_DELETION`` records is held (status
    ``held``, nothing written) unless ``confirm_deletions``."""
    m = bundle.manifest
    if state.role(session) == ROLE_LEAD:
        raise BundleError(
            "This bundle holds a lead's changes for the master copy, but this store is a "
            "lead copy. Import it into the master copy. " + NOTHING_CHANGED
        )
    if m.master_store_id != store_id:
        raise BundleError(
            "This bundle was made for a different master copy of the plan (not this store). "
            "Check you opened the right store. " + NOTHING_CHANGED
        )
    lead = session.get(SyncLead, m.lead_id)
    if lead is None:
        raise BundleError(
            "This bundle comes from a lead copy this store did not issue. Make a starter "
            "bundle for the person first (Export bundle for a person). " + NOTHING_CHANGED
        )
    plan = session.get(Plan, m.plan_id)
    if lead.plan_id != m.plan_id or plan is None:
        raise BundleError(
            "This bundle belongs to another plan than the one its lead copy was made for. "
            + NOTHING_CHANGED
        )
    if state.site_used_by_another_lead(session, m.sender_site_id, lead.id):
        raise BundleError(
            "This bundle says it comes from another copy of the plan (its site id is this "
            "master copy's, or one that another lead's bundles carry), though it is signed "
            "by this lead. It may have been altered; ask the lead to export a new bundle. "
            + NOTHING_CHANGED
        )
    planner = _ChangesPlanner(session, bundle, lead, now or utcnow(), progress)
    planner.confirm_deletions = confirm_deletions
    older = already_imported(session, bundle, planner.plan.preview)
    if older and planner.plan.preview.status != OLDER:
        return planner.plan
    outcomes: dict[uuid.UUID, str] = {
        change_id: outcome
        for change_id, outcome in session.execute(
            select(SyncProcessed.change_id, SyncProcessed.outcome).where(
                SyncProcessed.lead_id == lead.id
            )
        )
    }
    processed = set(outcomes)
    # Records the lead added that this copy refused before (their acknowledgement may
    # not have reached the lead yet): later changes to them are no news, and a new record
    # that only mentions one (a new update superseding a refused one) is taken without
    # the mention, so one refused change never blocks the lead's later ones.
    planner.refused = {
        c.record_id for c in bundle.changes if c.op == "create" and outcomes.get(c.id) == "rejected"
    }
    remaining = [c for c in bundle.changes if c.id not in processed]
    if older:
        if not remaining:
            return planner.plan
        # A number already used, but changes never seen: the lead's copy was restored
        # from a backup and numbers its bundles again. Each change is merged once (by
        # its id) and three-way, so taking them is safe; dropping them would lose work.
        preview = planner.plan.preview
        preview.status, preview.message = READY, ""
        preview.warnings.append(
            f"This is bundle number {m.sequence} from this lead, a number already used by "
            "an earlier bundle, but it holds changes not seen before: their copy may have "
            "been restored from a backup. Those changes are merged as usual; ask the lead "
            "to check their copy."
        )
    result = planner.run(remaining)
    if not result.has_writes and not result.processed:
        result.preview.status = NOTHING
        result.preview.message = (
            "Every change in this bundle was already merged. " + NOTHING_CHANGED
            if bundle.changes
            else "This bundle holds no changes. " + NOTHING_CHANGED
        )
    return result
