"""Importing an action tracker: each row creates an action or updates the one with its ref.

Planning reads the plan's records in a handful of queries, then judges every row in
Python: what it would create or change, or why it is refused. A row is judged by the
domain services' own rules (``services.check_field``), so a rule it breaks is refused
in the preview with the message the form gives. The planner runs for the preview (in a
read session, writing nothing); the import's one transaction carries out the preview's
operations through the services (:func:`rebind` reads the records they change again in
its session) if nothing was committed to the store since the preview, else it plans
again; so a row is only written as judged against the store at that moment, and any
refusal or error rolls everything back.

A blank cell leaves the field as it is. A row's "latest update" becomes the action's
update for its quarter (the row's own, or the import's quarter), written by
``services.write_update``, superseding an earlier one with different text; the same
text again changes nothing, which is what makes exporting and re-importing a workbook
a no-op.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Mapper, Session

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import ActionStatus, Rag, UpdateState
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionPartner,
    ActionUpdate,
    Organisation,
    Person,
    Plan,
    Priority,
    PriorityArea,
)
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.progress import Progress
from ssp_desktop.services.actions import CurrentUpdates, FirstUpdate, NewAction, add_actions
from ssp_desktop.services.core import draft
from ssp_desktop.spreadsheets import cells
from ssp_desktop.spreadsheets.errors import NOTHING_CHANGED, SpreadsheetError
from ssp_desktop.spreadsheets.mapping import IGNORE, Mapping
from ssp_desktop.spreadsheets.plan import (
    CellConflict,
    FieldChange,
    ImportPlan,
    NewRecord,
    Outcome,
    RowPlan,
    Unknown,
)
from ssp_desktop.spreadsheets.reading import Table
from ssp_desktop.spreadsheets.since_export import SinceExport

__all__ = ["ActionOptions", "apply_actions", "plan_actions", "rebind"]

FLUSH_EVERY = 500
# Ids per query when records are read by id (within every engine's limit on the number
# of bound parameters).
_IDS_PER_QUERY = 500
# A priority written as one short word is taken as its code, if the code column holds it.
CODE_MAX: int = getattr(Priority.__table__.columns["code"].type, "length", None) or 20
_CODE_AND_TITLE = re.compile(rf"^\s*([^\s:–-]{{1,{CODE_MAX}}})\s*[:–-]\s*(.+)$")


@dataclass(frozen=True)
class ActionOptions:
    """Choices that are not part of the spreadsheet."""

    # The quarter a row's "latest update" is for, when the sheet has no quarter column.
    quarter: Quarter
    written_on: dt.date
    skip_refused: bool = False
    # Rows whose cells changed both in the workbook and in the store since it was
    # exported, where the officer chose the workbook's values (the rest are refused).
    write_over: frozenset[int] = frozenset()


# --------------------------------------------------------------------------- context


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class _Context:
    """The plan's records that rows are matched against, loaded once."""

    session: Session
    plan: Plan
    orgs: list[Organisation]
    org_by_id: dict[uuid.UUID, Organisation]
    org_by_name: dict[str, Organisation]
    people: list[Person]
    person_by_name: dict[str, Person]
    priorities: list[Priority]
    priority_by_key: dict[str, Priority]
    areas_by_priority: dict[uuid.UUID, list[PriorityArea]]
    areas_by_title: dict[str, list[PriorityArea]]
    area_by_id: dict[uuid.UUID, PriorityArea]
    action_by_ref: dict[str, Action]
    partners: dict[uuid.UUID, dict[uuid.UUID, ActionPartner]]
    # Handed to services.write_update, so it does not query for every row.
    current: CurrentUpdates


def _load(session: Session, plan: Plan, refs: set[str]) -> _Context:
    """The plan's records, and the current updates of its actions whose (folded) ref is
    in ``refs``: the sheet's rows name no others."""
    orgs = list(
        session.scalars(
            select(Organisation).where(
                Organisation.partnership_id == plan.partnership_id,
                Organisation.deleted_at.is_(None),
            )
        )
    )
    org_by_name: dict[str, Organisation] = {}
    short_names: dict[str, list[Organisation]] = defaultdict(list)
    for org in orgs:
        org_by_name[_fold(org.name)] = org
        if org.short_name:
            short_names[_fold(org.short_name)].append(org)
    for short, shared in short_names.items():
        if len(shared) == 1:
            org_by_name.setdefault(short, shared[0])
    people = list(
        session.scalars(
            select(Person).where(
                Person.partnership_id == plan.partnership_id, Person.deleted_at.is_(None)
            )
        )
    )
    person_by_name: dict[str, Person] = {}
    by_role: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        person_by_name.setdefault(_fold(person.name), person)
        if person.role_title:
            by_role[_fold(person.role_title)].append(person)
    for role, holders in by_role.items():
        if len(holders) == 1:
            person_by_name.setdefault(role, holders[0])
    priorities = list(
        session.scalars(
            select(Priority)
            .where(Priority.plan_id == plan.id, Priority.deleted_at.is_(None))
            .order_by(Priority.position, Priority.code)
        )
    )
    priority_by_key: dict[str, Priority] = {}
    for p in priorities:
        priority_by_key[_fold(p.code)] = p
        priority_by_key.setdefault(_fold(p.title), p)
    areas_by_priority: dict[uuid.UUID, list[PriorityArea]] = defaultdict(list)
    areas_by_title: dict[str, list[PriorityArea]] = defaultdict(list)
    if priorities:
        for area in session.scalars(
            select(PriorityArea)
            .where(
                PriorityArea.priority_id.in_([p.id for p in priorities]),
                PriorityArea.deleted_at.is_(None),
            )
            .order_by(PriorityArea.position, PriorityArea.title)
        ):
            areas_by_priority[area.priority_id].append(area)
            areas_by_title[_fold(area.title)].append(area)
    actions = list(
        session.scalars(
            select(Action).where(Action.plan_id == plan.id, Action.deleted_at.is_(None))
        )
    )
    partners: dict[uuid.UUID, dict[uuid.UUID, ActionPartner]] = defaultdict(dict)
    for link in session.scalars(
        select(ActionPartner)
        .join(Action, Action.id == ActionPartner.action_id)
        .where(Action.plan_id == plan.id, ActionPartner.deleted_at.is_(None))
    ):
        partners[link.action_id][link.organisation_id] = link
    return _Context(
        session=session,
        plan=plan,
        orgs=orgs,
        org_by_id={o.id: o for o in orgs},
        org_by_name=org_by_name,
        people=people,
        person_by_name=person_by_name,
        priorities=priorities,
        priority_by_key=priority_by_key,
        areas_by_priority=areas_by_priority,
        areas_by_title=areas_by_title,
        area_by_id={a.id: a for areas in areas_by_priority.values() for a in areas},
        action_by_ref={_fold(a.ref): a for a in actions},
        partners=partners,
        current=_current_updates(session, {a.id for a in actions if _fold(a.ref) in refs}),
    )


# --------------------------------------------------------------------------- operations

_K = TypeVar("_K", Organisation, Person)
_R = TypeVar("_R", bound=Record)

# The columns of an action that name another record, which may be new in this import.
_REFERENCES = ("priority_area_id", "lead_organisation_id", "lead_person_id")


@dataclass
class _RowOp:
    """What one row does: an existing action's changed fields, or a new action."""

    row: int
    ref: str
    action: Action | None
    # The fields to set, references to other records included (by id).
    fields: dict[str, Any] = field(default_factory=dict)
    partners_add: list[Organisation] = field(default_factory=list)
    partners_remove: list[ActionPartner] = field(default_factory=list)
    update: tuple[Quarter, str, Rag | None] | None = None
    # Records new in this import that the row refers to (made before the rows).
    uses: set[uuid.UUID] = field(default_factory=set)

    @property
    def only_adds(self) -> bool:
        """The row adds a new action (with its partners and update) and changes no
        stored record: it holds none of the preview's records, only ids."""
        return self.action is None and not self.partners_remove


def _would_be(action: Action, fields: dict[str, Any]) -> Action:
    """A copy of ``action`` with ``fields`` changed, to judge: the rules of one field (the
    due date against the start date) then see the row's other changes as well."""
    mapper: Mapper[Any] = inspect(Action)
    values = {attr.key: getattr(action, attr.key) for attr in mapper.column_attrs}
    values.update(fields)
    return draft(Action, values)


# --------------------------------------------------------------------------- planning


_WORDS: dict[str, Callable[[Any], str]] = {
    "status": lambda s: s.label,
    "rag": lambda r: r.word if r else "none",
    "start_date": lambda d: d.strftime("%d/%m/%Y") if d else "none",
    "due_date": lambda d: d.strftime("%d/%m/%Y") if d else "none",
    "delivery_year": lambda y: y.label if y else "none",
}
_FIELD_LABELS = {
    "title": "Action",
    "description": "Description",
    "start_date": "Start",
    "due_date": "Due",
    "delivery_year": "Delivery year",
    "status": "Status",
    "rag": "RAG",
}


# Columns whose value belongs to one action: a vertical merge there copies another
# row's value (a merged priority or area beside its actions is meant, and filled in).
_OWN_PER_ROW = {"ref": "Ref", "title": "Action", "description": "Description", "update": "Update"}


def _same(old: Any, new: Any) -> bool:
    """A title read from a cell (spaces trimmed) is the stored one if only spaces around
    it differ, so a title kept with a stray space does not read as changed."""
    if isinstance(old, str) and isinstance(new, str):
        return old == new or old.strip() == new
    return bool(old == new)


def _shown(key: str, value: Any) -> str:
    if key in _WORDS:
        return _WORDS[key](value)
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


class _Planner:
    def __init__(
        self,
        ctx: _Context,
        table: Table,
        columns: Sequence[str],
        mapping: Mapping,
        since: SinceExport | None = None,
    ) -> None:
        self.ctx = ctx
        # The store's changes since the workbook was exported (None: it does not say).
        self.since = since
        self.table = table
        self.columns = {target: i for i, target in enumerate(columns) if target != IGNORE}
        self.mapping = mapping
        self.org_decisions = {_fold(k): v for k, v in mapping.organisations.items()}
        self.person_decisions = {_fold(k): v for k, v in mapping.people.items()}
        # Records the import makes along the way, built when first named so that the
        # services' rules judge them (``problems``: what they break, by id; a row naming
        # one that breaks a rule is refused); made through the services by
        # apply_actions, those the rows written use.
        self.new_orgs: dict[str, Organisation] = {}
        self.new_people: dict[str, Person] = {}
        self.new_priorities: dict[str, Priority] = {}
        self.new_areas: dict[tuple[uuid.UUID, str], PriorityArea] = {}
        self.problems: dict[uuid.UUID, str | None] = {}
        # A new person's organisation, a new area's priority (either may be new too).
        self.parents: dict[uuid.UUID, uuid.UUID | None] = {}
        self.unknown_rows: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.unknown_names: dict[tuple[str, str], str] = {}
        self.area_position: dict[uuid.UUID, int] = {}
        # The id of every new action while it is judged (no record has it).
        self.draft_id = uuid.uuid4()

    def is_new(self, record: Record) -> bool:
        return record.id in self.problems

    # -- cells ---------------------------------------------------------------------

    def cell(self, values: Sequence[Any], target: str) -> Any:
        index = self.columns.get(target)
        return None if index is None else values[index]

    def merged(self, row: int, target: str) -> str | None:
        """The merged range the row's ``target`` cell was filled in from, if it was."""
        index = self.columns.get(target)
        return None if index is None else self.table.merged_from_above(row, index)

    def read(
        self,
        values: Sequence[Any],
        target: str,
        parse: Callable[[Any], Any],
        reasons: list[str],
        label: str,
    ) -> Any:
        raw = self.cell(values, target)
        try:
            return parse(raw)
        except cells.CellError as exc:
            column = self.table.letters[self.columns[target]]
            reasons.append(f"{label} (column {column}): {exc}")
            return None

    # -- new records -----------------------------------------------------------------

    def _vet(self, what: str, name: str, record: Record) -> str | None:
        """A new record's first broken rule (the services'), said once per record."""
        if record.id not in self.problems:
            problem = None
            try:
                services.check_record(self.ctx.session, record)
            except ValidationError as exc:
                short = name if len(name) <= 40 else name[:37] + "..."
                problem = f"{what} {short!r}: {exc}"
            self.problems[record.id] = problem
        return self.problems[record.id]

    # -- names -----------------------------------------------------------------------

    def _unknown(self, kind: str, name: str, row: int) -> None:
        key = (kind, _fold(name))
        self.unknown_rows[key].append(row)
        self.unknown_names.setdefault(key, name)

    def _named(
        self,
        kind: str,
        name: str,
        row: int,
        reasons: list[str],
        known: dict[str, _K],
        decisions: dict[str, str | None],
        make_new: Callable[[], _K],
        made: dict[str, _K],
    ) -> _K | None:
        """An organisation or person named in the sheet: an existing one, the one the
        mapping says the name means, or a new one (listed for the user to confirm)."""
        key = _fold(name)
        found = known.get(key)
        if found is not None:
            return found
        decision = decisions.get(key)
        if decision is None:
            new = made.get(key) or made.setdefault(key, make_new())
            problem = self._vet(f"the {kind}", name, new)
            if problem is not None:
                reasons.append(problem)
                return None
        self._unknown(kind, name, row)
        if decision is not None:
            target = known.get(_fold(decision))
            if target is None:
                reasons.append(
                    f"the mapping says {name!r} is the {kind} {decision!r}, "
                    f"but there is no such {kind}"
                )
            return target
        return new

    def organisation(self, name: str, row: int, reasons: list[str]) -> Organisation | None:
        return self._named(
            "organisation",
            name,
            row,
            reasons,
            self.ctx.org_by_name,
            self.org_decisions,
            lambda: Organisation(partnership_id=self.ctx.plan.partnership_id, name=name),
            self.new_orgs,
        )

    def person(
        self, name: str, org: Organisation | None, row: int, reasons: list[str]
    ) -> Person | None:
        found = self._named(
            "person",
            name,
            row,
            reasons,
            self.ctx.person_by_name,
            self.person_decisions,
            lambda: Person(
                partnership_id=self.ctx.plan.partnership_id,
                name=name,
                organisation_id=org.id if org is not None else None,
            ),
            self.new_people,
        )
        if found is not None and self.is_new(found):
            self.parents[found.id] = found.organisation_id
        return found

    def priority(self, text: str, reasons: list[str]) -> Priority | None:
        ctx = self.ctx
        found = ctx.priority_by_key.get(_fold(text))
        m = _CODE_AND_TITLE.match(text)  # "PVP - Protecting vulnerable people", "PVP: ..."
        if found is None and m:
            found = ctx.priority_by_key.get(_fold(m[1])) or ctx.priority_by_key.get(_fold(m[2]))
        if found is not None:
            return found
        key = _fold(text)
        new = self.new_priorities.get(key)
        if new is None:
            if m:
                code, title = m[1], m[2].strip()
            elif len(text) <= CODE_MAX and " " not in text.strip():
                code, title = text.strip(), text.strip()
            else:
                code, title = self._code_for(text), text.strip()
            position = max((p.position for p in ctx.priorities), default=0)
            new = Priority(
                plan_id=ctx.plan.id,
                code=code,
                title=title,
                position=position + len(self.new_priorities) + 1,
            )
            self.new_priorities[key] = new
        problem = self._vet("the priority", text, new)
        if problem is not None:
            reasons.append(problem)
            return None
        return new

    def _code_for(self, title: str) -> str:
        initials = "".join(w[0] for w in re.findall(r"[A-Za-z0-9]+", title) if w[0].isalnum())
        base = (initials.upper() or "P")[:8]
        taken = {_fold(p.code) for p in self.ctx.priorities} | {
            _fold(p.code) for p in self.new_priorities.values()
        }
        code, n = base, 2
        while _fold(code) in taken:
            code, n = f"{base}{n}", n + 1
        return code

    def _new_area(self, priority: Priority, title: str, reasons: list[str]) -> PriorityArea | None:
        key = (priority.id, _fold(title))
        new = self.new_areas.get(key)
        if new is None:
            siblings = self.ctx.areas_by_priority.get(priority.id, [])
            position = self.area_position.get(priority.id)
            if position is None:
                position = max((a.position for a in siblings), default=0)
            self.area_position[priority.id] = position + 1
            new = PriorityArea(priority_id=priority.id, title=title, position=position + 1)
            self.parents[new.id] = priority.id
            self.new_areas[key] = new
        problem = self._vet("the area for action", title, new)
        if problem is not None:
            reasons.append(problem)
            return None
        return new

    def area(
        self,
        area_text: str | None,
        priority: Priority | None,
        action: Action | None,
        reasons: list[str],
    ) -> PriorityArea | None:
        ctx = self.ctx
        if area_text is not None:
            if priority is not None:
                for existing in ctx.areas_by_priority.get(priority.id, []):
                    if _fold(existing.title) == _fold(area_text):
                        return existing
                return self._new_area(priority, area_text, reasons)
            found = ctx.areas_by_title.get(_fold(area_text), [])
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                codes = sorted(
                    p.code for p in ctx.priorities if p.id in {a.priority_id for a in found}
                )
                reasons.append(
                    f"the area {area_text!r} is under more than one priority "
                    f"({', '.join(codes)}): add a Priority column to say which"
                )
                return None
            reasons.append(
                f"the area {area_text!r} is not in the plan: add a Priority column so the "
                "import knows where to make it"
            )
            return None
        if priority is None:
            if action is None:
                reasons.append("a new action needs an area for action (or a priority)")
            return None
        if action is not None and not self.is_new(priority):
            current = ctx.area_by_id.get(action.priority_area_id)
            if current is not None and current.priority_id == priority.id:
                return None  # already under that priority: keep its area
        areas = ctx.areas_by_priority.get(priority.id, [])
        if len(areas) == 1:
            return areas[0]
        if len(areas) > 1:
            reasons.append(
                f"priority {priority.code} has several areas for action: add an Area column "
                "to say which"
            )
            return None
        return self._new_area(priority, priority.title, reasons)

    # -- rows ------------------------------------------------------------------------

    def plan_row(
        self, row: int, values: Sequence[Any], duplicate: bool, options: ActionOptions
    ) -> tuple[RowPlan, _RowOp | None]:
        reasons: list[str] = []
        ref = cells.text_of(self.cell(values, "ref"))
        if ref is None:
            return RowPlan(row, "", Outcome.REFUSE, ("no ref: every action needs one",)), None
        if duplicate:
            reasons.append(f"the ref {ref} appears on more than one row")
        ctx = self.ctx
        action = ctx.action_by_ref.get(_fold(ref))
        for target, what in _OWN_PER_ROW.items():
            merged = self.merged(row, target)
            if merged is not None:
                reasons.append(
                    f"{what} (column {self.table.letters[self.columns[target]]}) is in merged "
                    f"cells {merged}, so it would copy the row above's: unmerge them and give "
                    "each action its own"
                )
        title = cells.text_of(self.cell(values, "title"))
        description = cells.prose_of(self.cell(values, "description"))
        start = self.read(values, "start_date", cells.parse_date, reasons, "Start date")
        due = self.read(values, "due_date", cells.parse_date, reasons, "Due date")
        year = self.read(values, "delivery_year", cells.parse_year, reasons, "Delivery year")
        status = self.read(values, "status", cells.parse_status, reasons, "Status")
        rag = self.read(values, "rag", cells.parse_rag, reasons, "RAG")
        quarter = self.read(values, "quarter", cells.parse_period, reasons, "Update quarter")
        narrative = cells.prose_of(self.cell(values, "update"))
        if action is None and title is None:
            reasons.append("a new action needs its title (the Action column)")
        # Names: lead organisation (or a person written in the lead column), lead person.
        lead_org: Organisation | None = None
        lead_person: Person | None = None
        lead_text = cells.text_of(self.cell(values, "lead_organisation"))
        person_text = cells.text_of(self.cell(values, "lead_person"))
        if lead_text is not None:
            if (
                _fold(lead_text) not in ctx.org_by_name
                and _fold(lead_text) not in self.org_decisions
                and _fold(lead_text) in ctx.person_by_name
                and person_text is None
            ):
                person = ctx.person_by_name[_fold(lead_text)]
                lead_person = person
                lead_org = (
                    ctx.org_by_id.get(person.organisation_id) if person.organisation_id else None
                )
            else:
                lead_org = self.organisation(lead_text, row, reasons)
        if person_text is not None:
            org_for_person = lead_org
            if org_for_person is None and action is not None:
                org_for_person = (
                    ctx.org_by_id.get(action.lead_organisation_id)
                    if action.lead_organisation_id
                    else None
                )
            lead_person = self.person(person_text, org_for_person, row, reasons)
        partner_refs: list[Organisation] | None = None
        if "partners" in self.columns:
            partner_names = cells.parse_names(self.cell(values, "partners"))
            if partner_names:
                partner_refs = []
                for name in partner_names:
                    org = self.organisation(name, row, reasons)
                    if org is not None and all(org is not p for p in partner_refs):
                        partner_refs.append(org)
        priority_text = cells.text_of(self.cell(values, "priority"))
        area_text = cells.text_of(self.cell(values, "area"))
        priority = self.priority(priority_text, reasons) if priority_text else None
        area = self.area(area_text, priority, action, reasons)
        if reasons:
            return RowPlan(row, ref, Outcome.REFUSE, tuple(reasons)), None

        op = _RowOp(row, ref, action)
        given: dict[str, Any] = {
            "title": title,
            "description": description,
            "start_date": start,
            "due_date": due,
            "delivery_year": year,
            "status": status,
            "rag": rag,
        }
        changes: list[str] = []
        fields: list[FieldChange] = []
        kept: list[str] = []
        conflicts: list[CellConflict] = []
        if action is None:
            op.fields = {k: v for k, v in given.items() if v is not None}
            op.fields["ref"] = ref
            op.fields.setdefault("status", ActionStatus.NOT_STARTED)
        else:
            for key, value in given.items():
                if value is not None and not _same(getattr(action, key), value):
                    old = getattr(action, key)
                    label = _FIELD_LABELS[key]
                    moved = self.since.get(action.id, key) if self.since else None
                    if moved is not None and _same(moved.base, value):
                        # The workbook holds what it was exported with: the store's
                        # newer value (someone changed it since) is kept.
                        kept.append(f"{label}: kept {_shown(key, old)}, changed by {moved.by}")
                        continue
                    if moved is not None:
                        conflict = CellConflict(
                            label, moved.by, _shown(key, old), _shown(key, value)
                        )
                        conflicts.append(conflict)
                        if row not in options.write_over:
                            continue
                    op.fields[key] = value
                    changes.append(f"{label}: {_shown(key, old)} → {_shown(key, value)}")
                    fields.append(FieldChange(label, _shown(key, old), _shown(key, value)))
        # Area, leads.
        if area is not None and (action is None or area.id != action.priority_area_id):
            op.fields["priority_area_id"] = area.id
            if action is not None:
                changes.append(f"Area for action: → {area.title}")
                fields.append(FieldChange("Area for action", "", area.title))
        if lead_org is not None and (action is None or lead_org.id != action.lead_organisation_id):
            op.fields["lead_organisation_id"] = lead_org.id
            if action is not None:
                changes.append(f"Lead organisation: → {lead_org.name}")
                fields.append(FieldChange("Lead organisation", "", lead_org.name))
        if lead_person is not None and (action is None or lead_person.id != action.lead_person_id):
            op.fields["lead_person_id"] = lead_person.id
            if action is not None:
                changes.append(f"Lead person: → {lead_person.name}")
                fields.append(FieldChange("Lead person", "", lead_person.name))
        # Partners: the cell lists them all; others are removed.
        if partner_refs is not None:
            current = ctx.partners.get(action.id, {}) if action is not None else {}
            wanted = {p.id for p in partner_refs}
            op.partners_add = [p for p in partner_refs if p.id not in current]
            op.partners_remove = [link for oid, link in current.items() if oid not in wanted]
            if action is not None and (op.partners_add or op.partners_remove):
                bits = [f"+{p.name}" for p in op.partners_add]
                bits += [
                    f"−{org.name if (org := ctx.org_by_id.get(link.organisation_id)) else '?'}"
                    for link in op.partners_remove
                ]
                changes.append(f"Partners: {', '.join(bits)}")
                fields.append(FieldChange("Partners", "", ", ".join(bits)))
        # The quarterly update.
        if narrative is not None:
            q = quarter or options.quarter
            existing = ctx.current.get(action.id, q) if action is not None else None
            moved_update = self._update_moved(existing)
            label = f"Update for {q}"
            if (
                existing is not None
                and moved_update is not None
                and existing.narrative != narrative
            ):
                base, by = moved_update
                if base == narrative:
                    kept.append(f"{label}: kept the update {by} wrote since")
                    narrative = None
                else:
                    theirs, mine = _shown("update", existing.narrative), _shown("update", narrative)
                    conflicts.append(CellConflict(label, by, theirs, mine))
                    if row not in options.write_over:
                        narrative = None
        if narrative is not None:
            q = quarter or options.quarter
            if existing is None or existing.narrative != narrative:
                update_rag = rag
                if update_rag is None:
                    update_rag = existing.rag if existing else (action.rag if action else None)
                op.update = (q, narrative, update_rag)
                if action is not None:
                    verb = "replaced" if existing else "new"
                    changes.append(f"Update for {q}: {verb}")
                    fields.append(
                        FieldChange(
                            f"Update for {q}", existing.narrative if existing else "", narrative
                        )
                    )
        if conflicts and row not in options.write_over:
            return (
                RowPlan(
                    row,
                    ref,
                    Outcome.REFUSE,
                    tuple(c.reason for c in conflicts),
                    conflicts=tuple(conflicts),
                ),
                None,
            )
        details = tuple(changes) + tuple(kept)
        if action is not None and not changes:
            return RowPlan(row, ref, Outcome.UNCHANGED, tuple(kept), kept=tuple(kept)), None
        broken = self.broken_rules(op)
        if broken:
            return RowPlan(row, ref, Outcome.REFUSE, tuple(broken)), None
        self._note_uses(op)
        if action is None:
            return RowPlan(row, ref, Outcome.CREATE, ("new action",)), op
        return (
            RowPlan(
                row, ref, Outcome.UPDATE, details, tuple(fields), tuple(conflicts), tuple(kept)
            ),
            op,
        )

    def _update_moved(self, existing: ActionUpdate | None) -> tuple[str, str] | None:
        """The quarter's update as the workbook was exported with it (its narrative,
        "" for none) and who has changed it since, if anyone has: a newer update
        written since, or its narrative edited."""
        if self.since is None or existing is None:
            return None
        made_by = self.since.created.get(existing.id)
        if made_by is not None:
            # Written since: the workbook showed the update it superseded (following the
            # chain back past any others written since), or none.
            before: ActionUpdate | None = existing
            while before is not None and before.id in self.since.created:
                before = (
                    self.ctx.session.get(ActionUpdate, before.supersedes_id)
                    if before.supersedes_id is not None
                    else None
                )
            if before is None:
                return "", made_by
            moved = self.since.get(before.id, "narrative")
            return str((moved.base if moved is not None else before.narrative) or ""), made_by
        moved = self.since.get(existing.id, "narrative")
        if moved is not None:
            return str(moved.base or ""), moved.by
        return None

    def broken_rules(self, op: _RowOp) -> list[str]:
        """The services' rules the row's action breaks, each message as the form gives it.

        A new action is judged as the record to be made, a changed one as a copy with
        all the row's changes. A reference to a record new in this import is judged
        when the action is written, in the import's transaction, by the same rules.
        """
        if op.action is None:
            record = draft(Action, {"id": self.draft_id, "plan_id": self.ctx.plan.id, **op.fields})
        else:
            record = _would_be(op.action, op.fields)
        broken: list[str] = []
        for key, value in op.fields.items():
            if key in _REFERENCES and value in self.problems:
                continue
            try:
                services.check_field(self.ctx.session, record, key, value)
            except ValidationError as exc:
                if str(exc) not in broken:
                    broken.append(str(exc))
        return broken

    def _note_uses(self, op: _RowOp) -> None:
        """The new records the row's writes need, their own parents included."""
        if not self.problems:
            return  # the import makes no records along the way
        ids: set[uuid.UUID] = {p.id for p in op.partners_add}
        ids |= {op.fields[key] for key in _REFERENCES if op.fields.get(key) is not None}
        ids |= {parent for i in ids if (parent := self.parents.get(i)) is not None}
        op.uses = {i for i in ids if i in self.problems}

    # -- results ---------------------------------------------------------------------

    def to_make(self, ops: Sequence[_RowOp]) -> list[Record]:
        """The new records the rows to be written use, each before those that refer to it."""
        used: set[uuid.UUID] = set().union(*(op.uses for op in ops))
        groups: list[Iterable[Record]] = [
            self.new_orgs.values(),
            self.new_people.values(),
            self.new_priorities.values(),
            self.new_areas.values(),
        ]
        return [record for group in groups for record in group if record.id in used]

    def new_records(self, made: Sequence[Record]) -> list[NewRecord]:
        org_names = {o.id: o.name for o in [*self.ctx.orgs, *self.new_orgs.values()]}
        codes = {p.id: p.code for p in [*self.ctx.priorities, *self.new_priorities.values()]}
        out: list[NewRecord] = []
        for record in made:
            if isinstance(record, Organisation):
                out.append(NewRecord("organisation", record.name))
            elif isinstance(record, Person):
                org = org_names.get(record.organisation_id) if record.organisation_id else None
                out.append(NewRecord("person", record.name, f"of {org}" if org else ""))
            elif isinstance(record, Priority):
                out.append(NewRecord("priority", record.title, record.code))
            elif isinstance(record, PriorityArea):
                code = codes.get(record.priority_id, "")
                out.append(NewRecord("area for action", record.title, f"under {code}"))
        return out

    def unknowns(self) -> list[Unknown]:
        out = []
        org_names = sorted(o.name for o in self.ctx.orgs)
        person_names = sorted(p.name for p in self.ctx.people)
        for (kind, key), rows in self.unknown_rows.items():
            name = self.unknown_names[(kind, key)]
            choices = org_names if kind == "organisation" else person_names
            close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
            out.append(
                Unknown(
                    kind,
                    name,
                    tuple(sorted(set(rows))),
                    close[0] if close else None,
                    tuple(choices),
                )
            )
        return out


def check_formulas(table: Table, columns: Sequence[str]) -> None:
    """Refuse formulas in the columns an import reads (their results are not stored)."""
    used = [f for f in table.formulas if columns[f.column] != IGNORE]
    if used:
        cells_text = ", ".join(f"{f.ref} ({f.text})" for f in used[:3])
        more = f" and {len(used) - 3} more" if len(used) > 3 else ""
        raise SpreadsheetError(
            f"{table.where}: {cells_text}{more} hold formulas. The import reads values, not "
            "formulas: in Excel, copy those columns and use Paste Special > Values, save, "
            "and import again."
        )


def _rows(table: Table, columns: Sequence[str]) -> Iterable[tuple[int, list[Any]]]:
    used = [i for i, t in enumerate(columns) if t != IGNORE]
    for row, values in zip(table.frame.index, table.frame.itertuples(index=False), strict=True):
        cells_ = list(values)
        if all(cells.is_blank(cells_[i]) for i in used):
            continue
        yield int(row), cells_


def plan_actions(
    session: Session,
    plan: Plan,
    table: Table,
    columns: Sequence[str],
    mapping: Mapping,
    options: ActionOptions,
    revision: int = 0,
    since: SinceExport | None = None,
) -> tuple[ImportPlan, _Planner, list[_RowOp]]:
    """Judge every row; nothing is written. ``since``: the store's changes after the
    workbook was exported (cells it did not change keep them; cells both changed are
    conflicts, refused unless their row is in ``options.write_over``)."""
    check_formulas(table, columns)
    rows = list(_rows(table, columns))
    ref_index = {target: i for i, target in enumerate(columns) if target != IGNORE}["ref"]
    seen: dict[str, int] = defaultdict(int)
    for _row, values in rows:
        ref = cells.text_of(values[ref_index])
        if ref is not None:
            seen[_fold(ref)] += 1
    planner = _Planner(_load(session, plan, set(seen)), table, columns, mapping, since)
    row_plans: list[RowPlan] = []
    ops: list[_RowOp] = []
    for row, values in rows:
        ref = cells.text_of(values[ref_index])
        duplicate = ref is not None and seen[_fold(ref)] > 1
        row_plan, op = planner.plan_row(row, values, duplicate, options)
        row_plans.append(row_plan)
        if op is not None:
            ops.append(op)
    if not row_plans:
        raise SpreadsheetError(
            f"{table.where} has no rows with anything to import in the chosen columns."
        )
    notes = []
    if table.skipped_rows:
        shown = ", ".join(map(str, table.skipped_rows[:10]))
        notes.append(f"Rows read as section headings and skipped: {shown}.")
    result = ImportPlan(
        kind="actions",
        source=table.source,
        plan_title=plan.title,
        rows=tuple(row_plans),
        new_records=tuple(planner.new_records(planner.to_make(ops))),
        unknowns=tuple(planner.unknowns()),
        notes=tuple(notes),
        revision=revision,
    )
    return result, planner, ops


def _by_id(session: Session, cls: type[_R], ids: set[uuid.UUID]) -> dict[uuid.UUID, _R]:
    found: dict[uuid.UUID, _R] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        chunk = wanted[start : start + _IDS_PER_QUERY]
        column = cls.__table__.columns["id"]
        found.update((r.id, r) for r in session.scalars(select(cls).where(column.in_(chunk))))
    return found


def _current_updates(session: Session, action_ids: set[uuid.UUID]) -> CurrentUpdates:
    """The current updates of these actions (what ``CurrentUpdates.of_plan`` holds for
    them), a query per few hundred actions."""
    wanted = sorted(action_ids)
    found: list[ActionUpdate] = []
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        found.extend(
            session.scalars(
                select(ActionUpdate).where(
                    ActionUpdate.action_id.in_(wanted[start : start + _IDS_PER_QUERY]),
                    ActionUpdate.is_current.is_(True),
                    ActionUpdate.deleted_at.is_(None),
                )
            )
        )
    return CurrentUpdates(found)


def rebind(
    session: Session, planner: _Planner, ops: Sequence[_RowOp]
) -> tuple[_Planner, list[_RowOp]] | None:
    """A plan made in another session (the preview's), ready to be carried out in
    ``session``: the records its writes change (the actions the rows update, the partner
    links they remove) and the plan's current updates are read there, a query for each
    kind; what the rows were judged to write stays as judged. The caller has made sure
    the store has not changed since the plan was made; None if a record is missing all
    the same (the rows are then judged again)."""
    action_ids = {op.action.id for op in ops if op.action is not None}
    link_ids = {link.id for op in ops for link in op.partners_remove}
    actions = _by_id(session, Action, action_ids)
    links = _by_id(session, ActionPartner, link_ids)
    plan = session.get(Plan, planner.ctx.plan.id)
    if plan is None or len(actions) != len(action_ids) or len(links) != len(link_ids):
        return None
    # services.write_update reads an action's current updates (the quarter's, to
    # supersede; the newest, for the action's RAG): those of the actions whose rows
    # write one are all it needs. A new action has none.
    updated = {op.action.id for op in ops if op.action is not None and op.update}
    ctx = dataclasses.replace(
        planner.ctx, session=session, plan=plan, current=_current_updates(session, updated)
    )
    rebound = copy.copy(planner)
    rebound.ctx = ctx
    # The preview's operations are left as they were: copies carry this session's records.
    # A row that only adds holds none of the preview's records, so it is used as is.
    rows = [
        op
        if op.only_adds
        else dataclasses.replace(
            op,
            action=actions[op.action.id] if op.action is not None else None,
            partners_remove=[links[link.id] for link in op.partners_remove],
        )
        for op in ops
    ]
    return rebound, rows


def apply_actions(
    tx: Transaction,
    planner: _Planner,
    ops: Sequence[_RowOp],
    options: ActionOptions,
    progress: Progress,
) -> None:
    """Carry out a plan's operations in ``tx`` (the planner must have run in its session),
    every write through the services."""
    for record in planner.to_make(ops):
        services.create(tx, record)
    tx.flush()
    ctx = planner.ctx
    # What every row's writes share, worked out once rather than per row.
    plan_id = ctx.plan.id
    written_on = options.written_on
    current = ctx.current
    total = len(ops)
    # Rows that add a new action (with its partners and first update) are written a
    # run at a time, through services.add_actions: the same records, judged by the same
    # rules and added in the same order as row by row, with the work they share done
    # once. Any other row is written on its own, between runs.
    run: list[_RowOp] = []

    def write_run() -> None:
        if not run:
            return
        refused: list[int] = []
        try:
            add_actions(
                tx,
                [_new_action(plan_id, written_on, op) for op in run],
                current=current,
                refused=refused.append,
            )
        except DomainError as exc:
            raise _refusal(run[refused[0]], exc) from exc
        run.clear()

    for done, op in enumerate(ops):
        if done % 100 == 0:
            progress.step(done, total, f"Importing actions: {done:,} of {total:,}")
        if BATCHES and op.only_adds:
            run.append(op)
        else:
            write_run()
            _apply_row_or_refuse(tx, plan_id, current, written_on, op)
        if done % FLUSH_EVERY == FLUSH_EVERY - 1:
            write_run()
            tx.batch_written()
    write_run()
    progress.step(total, total, "Saving the import")
    tx.batch_written()


# Always on. A module attribute so a test can import the same tracker both ways (runs
# of new actions as batches, every row on its own) and compare the stores.
BATCHES = True


def _new_action(plan_id: uuid.UUID, written_on: dt.date, op: _RowOp) -> NewAction:
    """A row that adds an action, as services.add_actions takes it (what _apply_row
    writes for it)."""
    fields = {"plan_id": plan_id, **op.fields}
    first = None
    if op.update is not None:
        quarter, narrative, rag = op.update
        first = FirstUpdate(
            quarter,
            rag,
            narrative,
            written_on,
            author_person_id=fields.get("lead_person_id"),
            state=UpdateState.SUBMITTED if rag is not None else UpdateState.DRAFT,
        )
    return NewAction(fields, [partner.id for partner in op.partners_add], first)


def _apply_row_or_refuse(
    tx: Transaction,
    plan_id: uuid.UUID,
    current: CurrentUpdates,
    written_on: dt.date,
    op: _RowOp,
) -> None:
    try:
        _apply_row(tx, plan_id, current, written_on, op)
    except DomainError as exc:
        raise _refusal(op, exc) from exc


def _refusal(op: _RowOp, exc: DomainError) -> SpreadsheetError:
    # Judged fine a moment ago; a rule only the write could check refused it.
    return SpreadsheetError(f"Row {op.row} ({op.ref}) cannot be imported: {exc}. {NOTHING_CHANGED}")


def _apply_row(
    tx: Transaction,
    plan_id: uuid.UUID,
    current: CurrentUpdates,
    written_on: dt.date,
    op: _RowOp,
) -> None:
    create = services.create
    if op.action is None:
        action = create(tx, Action(plan_id=plan_id, **op.fields))
    else:
        action = services.edit(tx, op.action, **op.fields)
    # The action's id and lead, read once through its attributes for all the row's writes.
    action_id = action.id
    for link in op.partners_remove:
        services.delete(tx, link)
    for partner in op.partners_add:
        create(tx, ActionPartner(action_id=action_id, organisation_id=partner.id))
    if op.update is not None:
        quarter, narrative, rag = op.update
        services.write_update(
            tx,
            action,
            quarter,
            rag=rag,
            narrative=narrative,
            written_on=written_on,
            author_person_id=action.lead_person_id,
            state=UpdateState.SUBMITTED if rag is not None else UpdateState.DRAFT,
            current=current,
        )


def quarter_choices(plan: Plan) -> list[Quarter]:
    first, last = plan.start_year.quarters()[0], plan.end_year.quarters()[-1]
    return list(reversed(Quarter.range(first, last)))


def years_of(plan: Plan) -> list[FinancialYear]:
    return [FinancialYear(y) for y in range(plan.start_year.start, plan.end_year.start + 1)]
