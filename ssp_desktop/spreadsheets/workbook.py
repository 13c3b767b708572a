"""The plan as an Excel workbook, for partners who work in spreadsheets.

Sheets: Actions (the tracker), Updates (every current quarterly update), Measures
(definitions and targets), Values (measure data in long form, one column per
comparator) and Funding (allocations and awards). Each starts with the protective
marking and a title line (and "Sample data - illustrative only" for the sample plan),
then one heading row, frozen, with filters; dates are dates, money is money, RAG is a
word on its colour.

The Actions and Values sheets use the headings the importer recognises, so exporting
and importing the workbook again changes nothing.

Text that a spreadsheet could take for a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is written as a text cell with Excel's "quote
prefix" (the hidden leading apostrophe), which Excel and LibreOffice both keep as
text even when the cell is edited; the cell's value is the text itself, so it reads
back unchanged.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import tempfile
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import Rag
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    Action,
    ActionPartner,
    ActionUpdate,
    FundingAllocation,
    FundingAward,
    FundingStream,
    Measure,
    MeasureTarget,
    MeasureValue,
    Organisation,
    Partnership,
    Person,
    Plan,
    Priority,
    PriorityArea,
)
from ssp_desktop.progress import Progress
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.spreadsheets.since_export import REVISION_PROPERTY
from ssp_desktop.store.engine import Store

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["DEFAULT_MARKING", "SAMPLE_NOTE", "ExportResult", "export_workbook", "is_formula_like"]

DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
SAMPLE_NOTE = "Sample data - illustrative only"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "dd/mm/yyyy"
MONEY_FORMAT = '"£"#,##0.00'

# Excel's own "Bad", "Neutral" and "Good" cell styles: the colours people know.
RAG_COLOURS = {
    Rag.RED: ("FFC7CE", "9C0006"),
    Rag.AMBER: ("FFEB9C", "9C5700"),
    Rag.GREEN: ("C6EFCE", "006100"),
}


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    plan_title: str
    sheets: tuple[tuple[str, int], ...]  # (sheet, data rows)

    def summary(self) -> str:
        rows = ", ".join(f"{name} {n:,}" for name, n in self.sheets)
        return f"Wrote {self.path.name} ({self.plan_title}): {rows} rows."


@dataclass
class _Sheet:
    name: str
    description: str
    headings: list[str]
    rows: list[list[Any]]
    # Column kinds: "text", "long" (wrapped narrative), "date", "money", "number", "rag".
    kinds: list[str]


def export_workbook(
    store: Store,
    out: Path,
    *,
    plan_id: uuid.UUID | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> ExportResult:
    """Write the plan to ``out`` (replaced only once the new workbook is complete)."""
    progress = progress or Progress()
    today = today or dt.date.today()
    progress.step(0, 7, "Reading the plan")
    # Read before the plan: a commit in between shows in the workbook and is also
    # "since", which an import then finds the workbook agrees with (nothing lost).
    revision = store.revision()
    with store.session() as session:
        plan = choose_plan(session, plan_id)
        sheets = _read_sheets(session, plan, progress)
        title = plan.title
        period = plan.period_label
        partnership = session.get(Partnership, plan.partnership_id)
        who = partnership.name if partnership else ""
        partnership_id = plan.partnership_id
    marking = store.meta("protective_marking") or DEFAULT_MARKING
    progress.step(5, 7, "Writing the workbook")
    _write(
        out,
        sheets,
        marking=marking,
        sample=store.is_sample,
        title=f"{who} - {title} ({period})".lstrip(" -"),
        today=today,
        progress=progress,
        partnership_id=partnership_id,
        revision=revision,
    )
    progress.step(7, 7, "Done")
    return ExportResult(out, title, tuple((s.name, len(s.rows)) for s in sheets))


PARTNERSHIP_PROPERTY = "ssp-desktop partnership"
_CUSTOM_PROPS = "docProps/custom.xml"
_PROPERTY = re.compile(
    rb'<property\b[^>]*\bname="' + re.escape(PARTNERSHIP_PROPERTY.encode()) + rb'"[^>]*>\s*'
    rb"<vt:lpwstr\b[^>]*>([0-9a-fA-F-]{32,36})</vt:lpwstr>"
)


def exported_partnership(path: Path) -> uuid.UUID | None:
    """The partnership a workbook exported by ssp-desktop belongs to (None: a CSV, a
    tracker made elsewhere, or a workbook from before the property was written).

    Read from the zip's small custom-properties part by pattern, never parsed as XML:
    the file has passed the reader's size and zip checks, and this part is capped too.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(_CUSTOM_PROPS)
            if info.file_size > 64 * 1024:
                return None
            found = _PROPERTY.search(zf.read(info))
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    if found is None:
        return None
    try:
        return uuid.UUID(found.group(1).decode())
    except ValueError:
        return None


def choose_plan(session: Session, plan_id: uuid.UUID | None) -> Plan:
    """The plan asked for, or the newest one that is not archived."""
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        if plan is None or plan.deleted_at is not None:
            raise SpreadsheetError("That plan is not in this store (it may have been deleted).")
        return plan
    plans = plan_queries.plans(session)
    if not plans:
        raise SpreadsheetError(
            "The store has no plan yet. Start one in the app (File > Start a new plan) first."
        )
    live = [p for p in plans if p.status.value != "archived"]
    return (live or list(plans))[0]


# --------------------------------------------------------------------------- reading


def _names(session: Session, cls: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    out = {}
    id_list = list(ids)
    for start in range(0, len(id_list), 500):
        for obj in session.scalars(select(cls).where(cls.id.in_(id_list[start : start + 500]))):
            out[obj.id] = obj
    return out


def _read_sheets(session: Session, plan: Plan, progress: Progress) -> list[_Sheet]:
    priorities = {
        p.id: p
        for p in session.scalars(
            select(Priority).where(Priority.plan_id == plan.id, Priority.deleted_at.is_(None))
        )
    }
    areas = {
        a.id: a
        for a in session.scalars(
            select(PriorityArea).where(PriorityArea.priority_id.in_(list(priorities)))
        )
    }
    orgs = {
        o.id: o
        for o in session.scalars(
            select(Organisation).where(Organisation.partnership_id == plan.partnership_id)
        )
    }
    people = {
        p.id: p
        for p in session.scalars(select(Person).where(Person.partnership_id == plan.partnership_id))
    }
    rows = plan_queries.actions_with_latest_update(session, plan.id)
    partners: dict[uuid.UUID, list[str]] = defaultdict(list)
    for link in session.scalars(
        select(ActionPartner)
        .join(Action, Action.id == ActionPartner.action_id)
        .where(Action.plan_id == plan.id, ActionPartner.deleted_at.is_(None))
    ):
        org = orgs.get(link.organisation_id)
        if org is not None:
            partners[link.action_id].append(org.name)

    def name_of(table: dict[uuid.UUID, Any], key: uuid.UUID | None) -> str:
        obj = table.get(key) if key is not None else None
        return str(obj.name) if obj is not None else ""

    actions = _Sheet(
        "Actions",
        "action tracker",
        [
            "Ref", "Action", "Description", "Priority", "Area for action", "Lead organisation",
            "Lead person", "Partners", "Start date", "Due date", "Delivery year", "Status",
            "RAG", "Latest update", "Update quarter",
        ],
        [],
        ["text", "long", "long", "text", "text", "text", "text", "text", "date", "date",
         "text", "text", "rag", "long", "text"],
    )  # fmt: skip
    for r in rows:
        a = r.action
        area = areas.get(a.priority_area_id)
        priority = priorities.get(area.priority_id) if area else None
        actions.rows.append(
            [
                a.ref,
                a.title,
                a.description,
                priority.code if priority else "",
                area.title if area else "",
                name_of(orgs, a.lead_organisation_id),
                name_of(people, a.lead_person_id),
                "; ".join(sorted(partners.get(a.id, []), key=str.casefold)),
                a.start_date,
                a.due_date,
                a.delivery_year.label if a.delivery_year else "",
                a.status.label,
                a.rag,
                r.latest.narrative if r.latest else "",
                r.latest.quarter.label if r.latest and r.latest.narrative.strip() else "",
            ]
        )
    progress.step(1, 7, "Reading the updates")
    refs = {r.action.id: r.action.ref for r in rows}
    updates = _Sheet(
        "Updates",
        "quarterly updates",
        ["Ref", "Quarter", "RAG", "Update", "State", "Written on", "Author"],
        [],
        ["text", "text", "rag", "long", "text", "date", "text"],
    )
    for u in session.scalars(
        select(ActionUpdate)
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(
            Action.plan_id == plan.id,
            Action.deleted_at.is_(None),
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
        )
    ):
        updates.rows.append(
            [
                refs.get(u.action_id, ""),
                u.quarter.label,
                u.rag,
                u.narrative,
                u.state.value.capitalize(),
                u.written_on,
                name_of(people, u.author_person_id),
            ]
        )
    updates.rows.sort(key=lambda row: (str(row[0]).casefold(), row[1]))
    progress.step(2, 7, "Reading the measures")
    measures = list(
        session.scalars(
            select(Measure)
            .where(Measure.plan_id == plan.id, Measure.deleted_at.is_(None))
            .order_by(Measure.position, Measure.ref)
        )
    )
    years = [FinancialYear(y) for y in range(plan.start_year.start, plan.end_year.start + 1)]
    targets: dict[tuple[uuid.UUID, FinancialYear], float] = {}
    values: list[MeasureValue] = []
    measure_ids = [m.id for m in measures]
    for start in range(0, len(measure_ids), 500):
        chunk = measure_ids[start : start + 500]
        for t in session.scalars(
            select(MeasureTarget).where(
                MeasureTarget.measure_id.in_(chunk), MeasureTarget.deleted_at.is_(None)
            )
        ):
            targets[(t.measure_id, t.year)] = t.value
        values.extend(
            session.scalars(
                select(MeasureValue).where(
                    MeasureValue.measure_id.in_(chunk), MeasureValue.deleted_at.is_(None)
                )
            )
        )
    measure_sheet = _Sheet(
        "Measures",
        "measures and targets",
        [
            "Ref", "Measure", "Priority", "Definition", "Unit", "Polarity", "Frequency",
            "Data source", "Owner", "Baseline", "Baseline period", "Tolerance", "Comparators",
            *[f"Target {y.label}" for y in years], "Illustrative figures",
        ],
        [],
        ["text", "long", "text", "long", "text", "text", "text", "text", "text", "number",
         "text", "number", "text", *["number"] * len(years), "text"],
    )  # fmt: skip
    for m in measures:
        priority = priorities.get(m.priority_id) if m.priority_id else None
        measure_sheet.rows.append(
            [
                m.ref,
                m.name,
                priority.code if priority else "",
                m.definition,
                m.unit.label,
                m.polarity.label,
                m.frequency.value.replace("_", " ").capitalize(),
                m.data_source,
                name_of(people, m.owner_person_id),
                m.baseline_value,
                m.baseline_period,
                m.tolerance,
                "; ".join(m.comparator_names),
                *[targets.get((m.id, y)) for y in years],
                "Yes" if m.illustrative else "No",
            ]
        )
    progress.step(3, 7, "Reading the measure values")
    comparators: list[str] = []
    for m in measures:
        for name in m.comparator_names:
            if name not in comparators:
                comparators.append(name)
    by_id = {m.id: m for m in measures}
    order = {m.id: i for i, m in enumerate(measures)}
    values.sort(key=lambda v: (order[v.measure_id], v.period))
    value_sheet = _Sheet(
        "Values",
        "measure values",
        ["Measure ref", "Measure", "Quarter", "Value", *comparators, "Status", "Note"],
        [],
        ["text", "long", "text", "number", *["number"] * len(comparators), "text", "long"],
    )
    for v in values:
        m = by_id[v.measure_id]
        value_sheet.rows.append(
            [
                m.ref,
                m.name,
                v.period.label,
                v.value,
                *[v.comparator_values.get(c) for c in comparators],
                v.status.value.capitalize(),
                v.note,
            ]
        )
    progress.step(4, 7, "Reading the funding")
    funding = _Sheet(
        "Funding",
        "funding allocations and awards",
        ["Stream", "Funder", "Year", "Type", "Project", "Recipient", "Priority", "Amount"],
        [],
        ["text", "text", "text", "text", "long", "text", "text", "money"],
    )
    streams = {
        s.id: s
        for s in session.scalars(
            select(FundingStream).where(
                FundingStream.partnership_id == plan.partnership_id,
                FundingStream.deleted_at.is_(None),
            )
        )
    }
    if streams:
        for alloc in session.scalars(
            select(FundingAllocation).where(
                FundingAllocation.stream_id.in_(list(streams)),
                FundingAllocation.deleted_at.is_(None),
            )
        ):
            s = streams[alloc.stream_id]
            funding.rows.append(
                [s.name, s.funder, alloc.year.label, "Allocation", "", "", "", alloc.amount]
            )
        for award in session.scalars(
            select(FundingAward).where(
                FundingAward.stream_id.in_(list(streams)), FundingAward.deleted_at.is_(None)
            )
        ):
            s = streams[award.stream_id]
            recipient = name_of(orgs, award.recipient_organisation_id) or award.recipient_name
            priority = priorities.get(award.priority_id) if award.priority_id else None
            funding.rows.append(
                [
                    s.name,
                    s.funder,
                    award.year.label,
                    "Award",
                    award.project,
                    recipient,
                    priority.code if priority else "",
                    award.amount,
                ]
            )
    funding.rows.sort(key=lambda r: (r[0].casefold(), r[2], r[3] != "Allocation", r[4]))
    return [actions, updates, measure_sheet, value_sheet, funding]


# --------------------------------------------------------------------------- writing


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _write(
    out: Path,
    sheets: Sequence[_Sheet],
    *,
    marking: str,
    sample: bool,
    title: str,
    today: dt.date,
    progress: Progress,
    partnership_id: uuid.UUID | None = None,
    revision: int | None = None,
) -> None:
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    out = out.expanduser().absolute()
    if out.is_dir():
        raise SpreadsheetError(f"{out} is a folder; give the name of the workbook to write.")
    if not out.parent.is_dir():
        raise SpreadsheetError(f"The folder {out.parent} does not exist.")
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    wb.properties.title = title
    wb.properties.creator = "ssp-desktop"
    wb.properties.subject = marking
    if sample:
        wb.properties.keywords = SAMPLE_NOTE
    if partnership_id is not None:
        # Which partnership's plan this is, so that a store holding several refuses it
        # back into another one (Excel keeps custom properties when the file is saved).
        wb.custom_doc_props.append(  # type: ignore[attr-defined]
            StringProperty(name=PARTNERSHIP_PROPERTY, value=str(partnership_id))
        )
    if revision is not None:
        # The store revision the workbook was read at: an import of it back keeps what
        # others changed since in cells the workbook did not (spreadsheets/since_export).
        wb.custom_doc_props.append(  # type: ignore[attr-defined]
            StringProperty(name=REVISION_PROPERTY, value=str(revision))
        )
    for sheet in sheets:
        progress.check()
        ws = wb.create_sheet(sheet.name)
        _fill(ws, sheet, marking=marking, sample=sample, title=title, today=today)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        progress.check()
        wb.save(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        reason = "the disk is full" if exc.errno == 28 else exc.strerror or str(exc)
        raise SpreadsheetError(
            f"Could not write {out}: {reason}. If the workbook is open in Excel, close it "
            "and try again."
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _fill(
    ws: Worksheet, sheet: _Sheet, *, marking: str, sample: bool, title: str, today: dt.date
) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    ws["A1"] = marking
    ws["A1"].font = Font(bold=True, size=12)
    ws["A2"] = f"{title}: {sheet.description}, exported {today:%d %B %Y} from ssp-desktop"
    header = 3
    if sample:
        ws["A3"] = SAMPLE_NOTE
        ws["A3"].font = Font(bold=True, color="9C0006")
        header = 4
    header_fill = PatternFill("solid", fgColor="D9E1F2")
    underline = Border(bottom=Side(style="thin"))
    for col, heading in enumerate(sheet.headings, 1):
        cell: Any = ws.cell(row=header, column=col, value=heading)
        cell.font = bold
        cell.fill = header_fill
        cell.border = underline
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    fills = {rag: PatternFill("solid", fgColor=bg) for rag, (bg, _fg) in RAG_COLOURS.items()}
    fonts = {rag: Font(color=fg, bold=True) for rag, (_bg, fg) in RAG_COLOURS.items()}
    wrap = Alignment(vertical="top", wrap_text=True)
    top = Alignment(vertical="top")
    widths = [len(h) + 2 for h in sheet.headings]
    # Setting a style looks it up in the workbook's style tables (slow, per cell); a
    # cell styled like an earlier one copies that cell's style ids instead.
    styles: dict[tuple[object, ...], Any] = {}
    for r, values in enumerate(sheet.rows, header + 1):
        for c, (value, kind) in enumerate(zip(values, sheet.kinds, strict=True), 1):
            if value is None or value == "":
                continue
            cell = ws.cell(row=r, column=c)
            if kind == "rag" and isinstance(value, Rag):
                cell.value = value.word
                key: tuple[object, ...] = (kind, value)
            elif isinstance(value, dt.date):
                cell.value = value
                key = (kind, "date")
            elif isinstance(value, Decimal):
                cell.value = value
                key = (kind, "money")
            elif isinstance(value, str):
                # XML cannot carry most control characters. The store refuses them now,
                # but a store written before that may hold one: it shows as U+FFFD
                # rather than stopping the whole export.
                cell.value = _NOT_XML.sub("\ufffd", value)
                # Stored as text whatever it starts with: never run as a formula.
                cell.data_type = "s"
                key = (kind, "text", is_formula_like(value))
            else:
                cell.value = value
                key = (kind, "other")
            style = styles.get(key)
            if style is not None:
                cell._style = copy.copy(style)
            else:
                if key[0] == "rag" and isinstance(value, Rag):
                    cell.fill = fills[value]
                    cell.font = fonts[value]
                elif key[1] == "date":
                    cell.number_format = DATE_FORMAT
                elif key[1] == "money":
                    cell.number_format = MONEY_FORMAT
                elif key[1] == "text" and key[2]:
                    cell.quotePrefix = True
                cell.alignment = wrap if kind == "long" else top
                styles[key] = copy.copy(cell._style)
            if r - header <= 200:  # widths from the first rows are enough
                longest = max((len(line) for line in str(value).splitlines()), default=0)
                widths[c - 1] = max(widths[c - 1], min(longest + 2, 120))
    for c, kind in enumerate(sheet.kinds, 1):
        limit = 60 if kind == "long" else 40
        width = 12 if kind in ("date", "money") else min(max(widths[c - 1], 8), limit)
        ws.column_dimensions[get_column_letter(c)].width = width
    last_col = get_column_letter(len(sheet.headings))
    last_row = header + max(len(sheet.rows), 1)
    ws.freeze_panes = f"A{header + 1}"
    ws.auto_filter.ref = f"A{header}:{last_col}{last_row}"
    ws.print_title_rows = f"{header}:{header}"
    # Printed pages carry the marking too.
    if ws.oddHeader is not None:
        ws.oddHeader.center.text = marking
    if ws.oddFooter is not None:
        ws.oddFooter.center.text = marking
