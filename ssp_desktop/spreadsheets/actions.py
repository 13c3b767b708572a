"""Importing an action tracker: each row creates an action or updates the one with its ref.

Planning reads the plan's records in a handful of queries, then judges every row in
Python: what it would create or change, or why it is refused. The same planner runs
for the preview (in a read session, writing nothing) and again inside the import's one
transaction, where its operations are carried out; so a row is only written as judged
against the store at that moment, and any refusal or error rolls everything back.

A blank cell leaves the field as it is. A row's "latest update" becomes the action's
update for its quarter (the row's own, or the import's quarter), superseding an
earlier one with different text; the same text again changes nothing, which is what
makes exporting and re-importing a workbook a no-op.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import ActionStatus, Rag, UpdateState
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
from ssp_desktop.progress import Progress
from ssp_desktop.spreadsheets import cells
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.spreadsheets.mapping import IGNORE, Mapping
from ssp_desktop.spreadsheets.plan import ImportPlan, NewRecord, Outcome, RowPlan, Unknown
from ssp_desktop.spreadsheets.reading import Table

__all__ = ["ActionOptions", "plan_actions"]

# Column limits of the records (entities.py), checked here so a row is refused with a
# reason instead of the database refusing the whole import.
REF_MAX = 20
CODE_MAX = 20
NAME_MAX = 200
FLUSH_EVERY = 500


@dataclass(frozen=True)
class ActionOptions:
    """Choices that are not part of the spreadsheet."""

    # The quarter a row's "latest update" is for, when the sheet has no quarter column.
    quarter: Quarter
    written_on: dt.date
    skip_refused: bool = False


# --------------------------------------------------------------------------- context


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class _Context:
    """The plan's records that rows are matched against, loaded once."""

    plan: Plan
    orgs: list[Organisation]
    org_by_name: dict[str, Organisation]
    people: list[Person]
    person_by_name: dict[str, Person]
    priorities: list[Priority]
    priority_by_key: dict[str, Priority]
    areas_by_priority: dict[uuid.UUID, list[PriorityArea]]
    areas_by_title: dict[str, list[PriorityArea]]
    action_by_ref: dict[str, Action]
    partners: dict[uuid.UUID, dict[uuid.UUID, ActionPartner]]
    updates: dict[tuple[uuid.UUID, Quarter], ActionUpdate]
    newest_update: dict[uuid.UUID, Quarter]


def _load(session: Session, plan: Plan) -> _Context:
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
    updates: dict[tuple[uuid.UUID, Quarter], ActionUpdate] = {}
    newest: dict[uuid.UUID, Quarter] = {}
    for update in session.scalars(
        select(ActionUpdate)
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(
            Action.plan_id == plan.id,
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
        )
    ):
        updates[(update.action_id, update.quarter)] = update
        if update.action_id not in newest or update.quarter > newest[update.action_id]:
            newest[update.action_id] = update.quarter
    return _Context(
        plan=plan,
        orgs=orgs,
        org_by_name=org_by_name,
        people=people,
        person_by_name=person_by_name,
        priorities=priorities,
        priority_by_key=priority_by_key,
        areas_by_priority=areas_by_priority,
        areas_by_title=areas_by_title,
        action_by_ref={_fold(a.ref): a for a in actions},
        partners=partners,
        updates=updates,
        newest_update=newest,
    )


# --------------------------------------------------------------------------- new records


@dataclass(eq=False)
class _NewOrg:
    name: str
    obj: Organisation | None = None


@dataclass(eq=False)
class _NewPerson:
    name: str
    org: Organisation | _NewOrg | None
    obj: Person | None = None


@dataclass(eq=False)
class _NewPriority:
    code: str
    title: str
    obj: Priority | None = None


@dataclass(eq=False)
class _NewArea:
    priority: Priority | _NewPriority
    title: str
    obj: PriorityArea | None = None


_K = TypeVar("_K", Organisation, Person)
_N = TypeVar("_N", _NewOrg, _NewPerson)
OrgRef = Organisation | _NewOrg
PersonRef = Person | _NewPerson
AreaRef = PriorityArea | _NewArea


def _org_obj(ref: OrgRef | None) -> Organisation | None:
    if isinstance(ref, _NewOrg):
        assert ref.obj is not None
        return ref.obj
    return ref


@dataclass
class _RowOp:
    """What one row does: an existing action's changes, or a new action's fields."""

    row: int
    ref: str
    action: Action | None
    fields: dict[str, Any] = field(default_factory=dict)
    area: AreaRef | None = None
    lead_org: OrgRef | None = None
    lead_person: PersonRef | None = None
    partners_add: list[OrgRef] = field(default_factory=list)
    partners_remove: list[ActionPartner] = field(default_factory=list)
    update: tuple[Quarter, str, Rag | None] | None = None


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


def _shown(key: str, value: Any) -> str:
    if key in _WORDS:
        return _WORDS[key](value)
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


class _Planner:
    def __init__(
        self, ctx: _Context, table: Table, columns: Sequence[str], mapping: Mapping
    ) -> None:
        self.ctx = ctx
        self.table = table
        self.columns = {target: i for i, target in enumerate(columns) if target != IGNORE}
        self.mapping = mapping
        self.org_decisions = {_fold(k): v for k, v in mapping.organisations.items()}
        self.person_decisions = {_fold(k): v for k, v in mapping.people.items()}
        self.new_orgs: dict[str, _NewOrg] = {}
        self.new_people: dict[str, _NewPerson] = {}
        self.new_priorities: dict[str, _NewPriority] = {}
        self.new_areas: dict[tuple[int, str], _NewArea] = {}
        self.unknown_rows: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.unknown_names: dict[tuple[str, str], str] = {}

    # -- cells ---------------------------------------------------------------------

    def cell(self, values: Sequence[Any], target: str) -> Any:
        index = self.columns.get(target)
        return None if index is None else values[index]

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
        make_new: Callable[[], _N],
        made: dict[str, _N],
    ) -> _K | _N | None:
        """An organisation or person named in the sheet: an existing one, the one the
        mapping says the name means, or a new one (listed for the user to confirm)."""
        if len(name) > NAME_MAX:
            what = "the organisation name" if kind == "organisation" else "the person's name"
            reasons.append(f"{what} is longer than {NAME_MAX} characters")
            return None
        found = known.get(_fold(name))
        if found is not None:
            return found
        self._unknown(kind, name, row)
        decision = decisions.get(_fold(name))
        if decision is not None:
            target = known.get(_fold(decision))
            if target is None:
                reasons.append(
                    f"the mapping says {name!r} is the {kind} {decision!r}, "
                    f"but there is no such {kind}"
                )
            return target
        return made.setdefault(_fold(name), make_new())

    def organisation(self, name: str, row: int, reasons: list[str]) -> OrgRef | None:
        return self._named(
            "organisation",
            name,
            row,
            reasons,
            self.ctx.org_by_name,
            self.org_decisions,
            lambda: _NewOrg(name),
            self.new_orgs,
        )

    def person(
        self, name: str, org: OrgRef | None, row: int, reasons: list[str]
    ) -> PersonRef | None:
        return self._named(
            "person",
            name,
            row,
            reasons,
            self.ctx.person_by_name,
            self.person_decisions,
            lambda: _NewPerson(name, org),
            self.new_people,
        )

    def priority(self, text: str, reasons: list[str]) -> Priority | _NewPriority | None:
        ctx = self.ctx
        found = ctx.priority_by_key.get(_fold(text))
        if found is None:
            # "PVP - Protecting vulnerable people", "PVP: Protecting ..."
            m = re.match(r"^\s*([^\s:–-]{1,20})\s*[:–-]\s*(.+)$", text)
            if m:
                found = ctx.priority_by_key.get(_fold(m[1])) or ctx.priority_by_key.get(_fold(m[2]))
        if found is not None:
            return found
        key = _fold(text)
        if key in self.new_priorities:
            return self.new_priorities[key]
        m = re.match(r"^\s*([^\s:–-]{1,20})\s*[:–-]\s*(.+)$", text)
        if m:
            code, title = m[1], m[2].strip()
        elif len(text) <= CODE_MAX and " " not in text.strip():
            code, title = text.strip(), text.strip()
        else:
            code, title = self._code_for(text), text.strip()
        if len(title) > NAME_MAX:
            reasons.append(f"the priority is longer than {NAME_MAX} characters")
            return None
        new = _NewPriority(code, title)
        self.new_priorities[key] = new
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

    def area(
        self,
        area_text: str | None,
        priority: Priority | _NewPriority | None,
        action: Action | None,
        reasons: list[str],
    ) -> AreaRef | None:
        ctx = self.ctx
        if area_text is not None:
            if len(area_text) > NAME_MAX:
                reasons.append(f"the area for action is longer than {NAME_MAX} characters")
                return None
            if isinstance(priority, Priority):
                for existing in ctx.areas_by_priority.get(priority.id, []):
                    if _fold(existing.title) == _fold(area_text):
                        return existing
            if priority is not None:
                return self.new_areas.setdefault(
                    (id(priority), _fold(area_text)), _NewArea(priority, area_text)
                )
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
        if action is not None and isinstance(priority, Priority):
            current = next(
                (
                    a
                    for areas in ctx.areas_by_priority.values()
                    for a in areas
                    if a.id == action.priority_area_id
                ),
                None,
            )
            if current is not None and current.priority_id == priority.id:
                return None  # already under that priority: keep its area
        areas = ctx.areas_by_priority.get(priority.id, []) if isinstance(priority, Priority) else []
        if len(areas) == 1:
            return areas[0]
        if len(areas) > 1:
            reasons.append(
                f"priority {priority.code} has several areas for action: add an Area column "
                "to say which"
            )
            return None
        return self.new_areas.setdefault(
            (id(priority), _fold(priority.title)), _NewArea(priority, priority.title)
        )

    # -- rows ------------------------------------------------------------------------

    def plan_row(
        self, row: int, values: Sequence[Any], duplicate: bool, options: ActionOptions
    ) -> tuple[RowPlan, _RowOp | None]:
        reasons: list[str] = []
        ref = cells.text_of(self.cell(values, "ref"))
        if ref is None:
            return RowPlan(row, "", Outcome.REFUSE, ("no ref: every action needs one",)), None
        if len(ref) > REF_MAX:
            reasons.append(f"the ref is longer than {REF_MAX} characters")
        if duplicate:
            reasons.append(f"the ref {ref} appears on more than one row")
        ctx = self.ctx
        action = ctx.action_by_ref.get(_fold(ref))
        title = cells.text_of(self.cell(values, "title"))
        description = cells.text_of(self.cell(values, "description"))
        start = self.read(values, "start_date", cells.parse_date, reasons, "Start date")
        due = self.read(values, "due_date", cells.parse_date, reasons, "Due date")
        year = self.read(values, "delivery_year", cells.parse_year, reasons, "Delivery year")
        status = self.read(values, "status", cells.parse_status, reasons, "Status")
        rag = self.read(values, "rag", cells.parse_rag, reasons, "RAG")
        quarter = self.read(values, "quarter", cells.parse_period, reasons, "Update quarter")
        narrative = cells.text_of(self.cell(values, "update"))
        if action is None and title is None:
            reasons.append("a new action needs its title (the Action column)")
        # Names: lead organisation (or a person written in the lead column), lead person.
        lead_org: OrgRef | None = None
        lead_person: PersonRef | None = None
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
                lead_org = next((o for o in ctx.orgs if o.id == person.organisation_id), None)
            else:
                lead_org = self.organisation(lead_text, row, reasons)
        if person_text is not None:
            org_for_person = lead_org
            if org_for_person is None and action is not None:
                org_for_person = next(
                    (o for o in ctx.orgs if o.id == action.lead_organisation_id), None
                )
            lead_person = self.person(person_text, org_for_person, row, reasons)
        partner_refs: list[OrgRef] | None = None
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
        # Dates must stay in order once merged with what is kept.
        start_after = start if start is not None else (action.start_date if action else None)
        due_after = due if due is not None else (action.due_date if action else None)
        if start_after and due_after and due_after < start_after:
            reasons.append(
                f"the due date {due_after:%d/%m/%Y} is before the start date {start_after:%d/%m/%Y}"
            )
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
        if action is None:
            op.fields = {k: v for k, v in given.items() if v is not None}
            op.fields["ref"] = ref
        else:
            for key, value in given.items():
                if value is not None and getattr(action, key) != value:
                    op.fields[key] = value
                    old = getattr(action, key)
                    changes.append(
                        f"{_FIELD_LABELS[key]}: {_shown(key, old)} → {_shown(key, value)}"
                    )
        # Area, leads.
        if area is not None and (
            action is None
            or not (isinstance(area, PriorityArea) and area.id == action.priority_area_id)
        ):
            op.area = area
            if action is not None:
                changes.append(f"Area for action: → {area.title}")
        if lead_org is not None and (
            action is None
            or not isinstance(lead_org, Organisation)
            or lead_org.id != action.lead_organisation_id
        ):
            op.lead_org = lead_org
            if action is not None:
                changes.append(f"Lead organisation: → {lead_org.name}")
        if lead_person is not None and (
            action is None
            or not isinstance(lead_person, Person)
            or lead_person.id != action.lead_person_id
        ):
            op.lead_person = lead_person
            if action is not None:
                changes.append(f"Lead person: → {lead_person.name}")
        # Partners: the cell lists them all; others are removed.
        if partner_refs is not None:
            current = ctx.partners.get(action.id, {}) if action is not None else {}
            wanted = {p.id for p in partner_refs if isinstance(p, Organisation)}
            op.partners_add = [
                p for p in partner_refs if not isinstance(p, Organisation) or p.id not in current
            ]
            op.partners_remove = [link for oid, link in current.items() if oid not in wanted]
            if action is not None and (op.partners_add or op.partners_remove):
                names = {o.id: o.name for o in ctx.orgs}
                bits = [f"+{p.name}" for p in op.partners_add]
                bits += [f"−{names.get(link.organisation_id, '?')}" for link in op.partners_remove]
                changes.append(f"Partners: {', '.join(bits)}")
        # The quarterly update.
        if narrative is not None:
            q = quarter or options.quarter
            existing = ctx.updates.get((action.id, q)) if action is not None else None
            if existing is None or existing.narrative.strip() != narrative:
                update_rag = rag
                if update_rag is None:
                    update_rag = existing.rag if existing else (action.rag if action else None)
                op.update = (q, narrative, update_rag)
                if action is not None:
                    verb = "replaced" if existing else "new"
                    changes.append(f"Update for {q}: {verb}")
        if action is None:
            return RowPlan(row, ref, Outcome.CREATE, ("new action",)), op
        if not changes:
            return RowPlan(row, ref, Outcome.UNCHANGED), None
        return RowPlan(row, ref, Outcome.UPDATE, tuple(changes)), op

    # -- results ---------------------------------------------------------------------

    def new_records(self) -> list[NewRecord]:
        out = [NewRecord("organisation", o.name) for o in self.new_orgs.values()]
        out += [
            NewRecord("person", p.name, f"of {p.org.name}" if p.org is not None else "")
            for p in self.new_people.values()
        ]
        out += [NewRecord("priority", p.title, p.code) for p in self.new_priorities.values()]
        out += [
            NewRecord("area for action", a.title, f"under {a.priority.code}")
            for a in self.new_areas.values()
        ]
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
) -> tuple[ImportPlan, _Planner, list[_RowOp]]:
    """Judge every row; nothing is written."""
    check_formulas(table, columns)
    planner = _Planner(_load(session, plan), table, columns, mapping)
    rows = list(_rows(table, columns))
    ref_index = planner.columns["ref"]
    seen: dict[str, int] = defaultdict(int)
    for _row, values in rows:
        ref = cells.text_of(values[ref_index])
        if ref is not None:
            seen[_fold(ref)] += 1
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
        new_records=tuple(planner.new_records()),
        unknowns=tuple(planner.unknowns()),
        notes=tuple(notes),
        revision=revision,
    )
    return result, planner, ops


def apply_actions(
    tx: Transaction,
    planner: _Planner,
    ops: Sequence[_RowOp],
    options: ActionOptions,
    progress: Progress,
) -> None:
    """Carry out a plan's operations in ``tx`` (the planner must have run in its session)."""
    ctx = planner.ctx
    plan = ctx.plan
    for new_org in planner.new_orgs.values():
        new_org.obj = tx.add(Organisation(partnership_id=plan.partnership_id, name=new_org.name))
    for new_person in planner.new_people.values():
        org = _org_obj(new_person.org)
        new_person.obj = tx.add(
            Person(
                partnership_id=plan.partnership_id,
                name=new_person.name,
                organisation_id=org.id if org else None,
            )
        )
    position = max((p.position for p in ctx.priorities), default=0)
    for new_priority in planner.new_priorities.values():
        position += 1
        new_priority.obj = tx.add(
            Priority(
                plan_id=plan.id,
                code=new_priority.code,
                title=new_priority.title,
                position=position,
            )
        )
    for new_area in planner.new_areas.values():
        parent = new_area.priority
        parent_obj = parent.obj if isinstance(parent, _NewPriority) else parent
        assert parent_obj is not None
        siblings = ctx.areas_by_priority.get(parent_obj.id, [])
        new_area.obj = tx.add(
            PriorityArea(
                priority_id=parent_obj.id,
                title=new_area.title,
                position=max((a.position for a in siblings), default=0) + 1,
            )
        )
    tx.flush()
    total = len(ops)
    for done, op in enumerate(ops):
        if done % 100 == 0:
            progress.step(done, total, f"Importing actions: {done:,} of {total:,}")
        _apply_row(tx, ctx, op, options)
        if done % FLUSH_EVERY == FLUSH_EVERY - 1:
            tx.flush()
    progress.step(total, total, "Saving the import")
    tx.flush()


def _resolve(ref: Any) -> Any:
    if isinstance(ref, _NewOrg | _NewPerson | _NewArea | _NewPriority):
        assert ref.obj is not None
        return ref.obj
    return ref


def _apply_row(tx: Transaction, ctx: _Context, op: _RowOp, options: ActionOptions) -> None:
    fields = dict(op.fields)
    if op.area is not None:
        fields["priority_area_id"] = _resolve(op.area).id
    if op.lead_org is not None:
        fields["lead_organisation_id"] = _resolve(op.lead_org).id
    if op.lead_person is not None:
        fields["lead_person_id"] = _resolve(op.lead_person).id
    action = op.action
    if action is None:
        fields.setdefault("status", ActionStatus.NOT_STARTED)
        action = tx.add(Action(plan_id=ctx.plan.id, **fields))
    else:
        for key, value in fields.items():
            setattr(action, key, value)
    for link in op.partners_remove:
        link.deleted_at = dt.datetime.now(dt.UTC)
    for partner in op.partners_add:
        tx.add(ActionPartner(action_id=action.id, organisation_id=_resolve(partner).id))
    if op.update is not None:
        quarter, narrative, rag = op.update
        previous = ctx.updates.get((action.id, quarter)) if op.action is not None else None
        if previous is not None:
            previous.is_current = False
        update = tx.add(
            ActionUpdate(
                action_id=action.id,
                quarter=quarter,
                rag=rag,
                narrative=narrative,
                written_on=options.written_on,
                author_person_id=action.lead_person_id,
                state=UpdateState.SUBMITTED if rag is not None else UpdateState.DRAFT,
                supersedes_id=previous.id if previous is not None else None,
                is_current=True,
            )
        )
        ctx.updates[(action.id, quarter)] = update
        newest = ctx.newest_update.get(action.id)
        # As domain.write_update: the action's RAG follows its newest quarter's update,
        # unless the row gave the action's RAG itself.
        if (newest is None or quarter >= newest) and "rag" not in op.fields:
            action.rag = rag
        if newest is None or quarter > newest:
            ctx.newest_update[action.id] = quarter


def quarter_choices(plan: Plan) -> list[Quarter]:
    first, last = plan.start_year.quarters()[0], plan.end_year.quarters()[-1]
    return list(reversed(Quarter.range(first, last)))


def years_of(plan: Plan) -> list[FinancialYear]:
    return [FinancialYear(y) for y in range(plan.start_year.start, plan.end_year.start + 1)]
