"""Importing measure data: values per measure and quarter, with comparator series.

Two layouts are read:

* long form, one row per measure and quarter: Measure, Quarter, Value, and optional
  comparator columns (GM average, England), Status and Note;
* wide form, one row per measure and one column per quarter, headed "2023/24 Q2",
  "Q2 2023/24", "Jul-Sep 2023" or a date in the quarter. An optional Series column says
  whether a row holds the measure's own values or a comparator's ("GM", "England").

Measures are matched by ref (or by name when there is no ref column) and are never
created here: a measure's definition (polarity, unit, targets) belongs in the app.
A comparator the measure does not have yet is added to it. A blank cell leaves what
the store holds; a value is one record per measure and quarter (its id comes from
both), so importing the same figures again changes nothing. Figures are judged by the
services' rules (a percentage is 0 to 100) with the message the form gives, and written
by ``services.record_value``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import ValueStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Measure, MeasureValue, Partnership, Plan
from ssp_desktop.domain.validation import ValidationError, check_figure
from ssp_desktop.progress import Progress
from ssp_desktop.services import authority
from ssp_desktop.services.core import draft
from ssp_desktop.spreadsheets import cells
from ssp_desktop.spreadsheets.actions import check_formulas
from ssp_desktop.spreadsheets.errors import NOTHING_CHANGED, SpreadsheetError
from ssp_desktop.spreadsheets.mapping import (
    COMPARATOR,
    IGNORE,
    QUARTER_VALUE,
    Mapping,
    comparator_for,
)
from ssp_desktop.spreadsheets.plan import (
    CellConflict,
    FieldChange,
    ImportPlan,
    NewRecord,
    Outcome,
    RowPlan,
)
from ssp_desktop.spreadsheets.reading import Table
from ssp_desktop.spreadsheets.since_export import SinceExport

__all__ = ["MeasureOptions", "plan_measures"]

FLUSH_EVERY = 500
_OWN_SERIES = frozenset({"value", "values", "actual", "local", "figure"})


@dataclass(frozen=True)
class MeasureOptions:
    skip_refused: bool = False
    # Rows whose cells both the workbook and the store (since its export) changed,
    # where the officer chose the workbook's values.
    write_over: frozenset[int] = frozenset()


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


# A slot is one thing a cell says about a measure's quarter: its value, one comparator's
# value, its status or its note.
Slot = tuple[uuid.UUID, Quarter, str]


@dataclass
class _Entry:
    """What the sheet says about one measure's quarter, merged over its rows."""

    measure: Measure
    quarter: Quarter
    value: float | None = None
    comparators: dict[str, float] = field(default_factory=dict)
    status: ValueStatus | None = None
    note: str | None = None
    comparator_significant: bool | None = None
    rank: str | None = None
    rows: set[int] = field(default_factory=set)


@dataclass
class _Change:
    """One value record to write: ``fields`` are record_value's arguments, what the
    sheet says merged over what the store holds."""

    entry: _Entry
    fields: dict[str, Any]
    new_comparators: list[str]


class _Planner:
    def __init__(self, session: Session, plan: Plan, table: Table, columns: Sequence[str]):
        self.session = session
        self.plan = plan
        self.table = table
        self.columns = columns
        self.index = {t: i for i, t in enumerate(columns) if t not in (IGNORE, QUARTER_VALUE)}
        self.measures = list(
            session.scalars(
                select(Measure).where(Measure.plan_id == plan.id, Measure.deleted_at.is_(None))
            )
        )
        self.by_ref = {_fold(m.ref): m for m in self.measures}
        by_name: dict[str, list[Measure]] = defaultdict(list)
        for m in self.measures:
            by_name[_fold(m.name)].append(m)
        self.by_name = by_name
        # Every value record of the plan's measures by id, tombstones too: handed to
        # services.record_value, so it does not ask the store for each.
        self.values: dict[uuid.UUID, MeasureValue] = {}
        self.by_quarter: dict[tuple[uuid.UUID, Quarter], MeasureValue] = {}
        ids = [m.id for m in self.measures]
        for start in range(0, len(ids), 500):
            for v in session.scalars(
                select(MeasureValue).where(MeasureValue.measure_id.in_(ids[start : start + 500]))
            ):
                self.values[v.id] = v
                self.by_quarter[(v.measure_id, v.period)] = v
        partnership = session.get(Partnership, plan.partnership_id)
        self.own_series = set(_OWN_SERIES)
        if partnership is not None:
            self.own_series |= {_fold(partnership.name)}
            if partnership.area:
                self.own_series.add(_fold(partnership.area))
        self.known_comparators = sorted({c for m in self.measures for c in m.comparator_names})
        self.wide = [
            (i, cells.parse_period(table.headers[i]))
            for i, t in enumerate(columns)
            if t == QUARTER_VALUE
        ]

    def _cell(self, values: Sequence[Any], target: str) -> Any:
        i = self.index.get(target)
        return None if i is None else values[i]

    def _letter(self, target: str) -> str:
        return self.table.letters[self.index[target]]

    def measure(self, values: Sequence[Any], reasons: list[str]) -> Measure | None:
        ref = cells.text_of(self._cell(values, "measure_ref"))
        name = cells.text_of(self._cell(values, "measure_name"))
        if ref is not None:
            found = self.by_ref.get(_fold(ref))
            if found is None:
                reasons.append(
                    f"there is no measure with the ref {ref!r} in {self.plan.title}: add it "
                    "in the app first (an import adds values, not measures)"
                )
            return found
        if name is not None:
            matches = self.by_name.get(_fold(name), [])
            if len(matches) == 1:
                return matches[0]
            if matches:
                reasons.append(f"more than one measure is called {name!r}: give its ref")
            else:
                reasons.append(
                    f"there is no measure called {name!r} in {self.plan.title}: add it in "
                    "the app first (an import adds values, not measures)"
                )
            return None
        reasons.append("no measure named (ref or name)")
        return None

    def number(
        self,
        raw: Any,
        measure: Measure,
        quarter: Quarter,
        label: str,
        reasons: list[str],
        *,
        own: bool = True,
    ) -> float | None:
        """A figure of ``measure`` for ``quarter``: its own value, judged by the services'
        rules as the form judges it (a value the record already holds is not judged
        again, as the form and ``services.edit`` leave it alone), or a comparator's."""
        try:
            number = cells.parse_float(raw)
            if number is not None:
                if own:
                    record = self._record(measure, quarter)
                    if record.deleted_at is not None or record.value != number:
                        services.check_field(self.session, record, "value", number)
                else:
                    check_figure(measure.unit, number)  # the rule services hold comparators to
        except (cells.CellError, ValidationError) as exc:
            reasons.append(f"{label}: {exc}")
            return None
        return number

    def _record(self, measure: Measure, quarter: Quarter) -> MeasureValue:
        """The value record the figure goes into, or the one it would make."""
        found = self.by_quarter.get((measure.id, quarter))
        if found is None:
            value_id = MeasureValue.make_id(measure.id, quarter)
            found = draft(
                MeasureValue, {"id": value_id, "measure_id": measure.id, "period": quarter}
            )
        return found

    def contributions(
        self, row: int, values: Sequence[Any], reasons: list[str]
    ) -> tuple[str, list[tuple[Slot, Any]]]:
        """The slots a row fills, and a key to show for the row."""
        measure = self.measure(values, reasons)
        status = note = None
        if "status" in self.index:
            try:
                status = cells.parse_value_status(self._cell(values, "status"))
            except cells.CellError as exc:
                reasons.append(f"Status (column {self._letter('status')}): {exc}")
        if "note" in self.index:
            note = cells.prose_of(self._cell(values, "note"))
        # Significance against the comparator and rank, as a survey report states them.
        about: list[tuple[str, Any]] = []
        if "comparator_significant" in self.index:
            try:
                flag = cells.parse_yes_no(self._cell(values, "comparator_significant"))
            except cells.CellError as exc:
                letter = self._letter("comparator_significant")
                reasons.append(f"Significantly different (column {letter}): {exc}")
            else:
                if flag is not None:
                    about.append(("comparator_significant", flag))
        if "rank" in self.index:
            rank = cells.text_of(self._cell(values, "rank"))
            if rank is not None and len(" ".join(rank.split())) > 60:
                reasons.append(
                    f"Rank (column {self._letter('rank')}): at most 60 characters, "
                    'e.g. "3rd of 10 in GM"'
                )
            elif rank is not None:
                about.append(("rank", " ".join(rank.split())))
        if status is ValueStatus.WITHHELD and "note" in self.index and not note:
            reasons.append("a withheld value needs its reason in the Note column")
        if measure is None:
            return cells.text_of(self._cell(values, "measure_ref")) or "", []
        out: list[tuple[Slot, Any]] = []
        if self.wide:
            series_text = cells.text_of(self._cell(values, "series"))
            slot_name = "value"
            if series_text is not None and _fold(series_text) not in self.own_series:
                comparator = comparator_for(series_text, [*measure.comparator_names])
                if comparator is None:
                    comparator = comparator_for(series_text, self.known_comparators)
                if comparator is None:
                    have = ", ".join(measure.comparator_names) or "none yet"
                    reasons.append(
                        f"the series {series_text!r} is neither the measure's own figures "
                        f"(write Value) nor one of its comparators ({have}): add the "
                        "comparator to the measure in the app first"
                    )
                    return measure.ref, []
                slot_name = COMPARATOR + comparator
            key = measure.ref if slot_name == "value" else f"{measure.ref} ({series_text})"
            for column, quarter in self.wide:
                assert quarter is not None
                raw = values[column]
                if cells.is_blank(raw):
                    continue
                label = f"{quarter} (column {self.table.letters[column]})"
                own = slot_name == "value"
                number = self.number(raw, measure, quarter, label, reasons, own=own)
                if number is not None:
                    out.append(((measure.id, quarter, slot_name), number))
                    if slot_name == "value":
                        if status is not None:
                            out.append(((measure.id, quarter, "status"), status))
                        if note is not None:
                            out.append(((measure.id, quarter, "note"), note))
                        out += [((measure.id, quarter, name), v) for name, v in about]
            return key, out
        try:
            quarter = cells.parse_period(self._cell(values, "period"))
        except cells.CellError as exc:
            reasons.append(f"Quarter (column {self._letter('period')}): {exc}")
            return measure.ref, []
        if quarter is None:
            reasons.append("no quarter given")
            return measure.ref, []
        key = f"{measure.ref} {quarter}"
        raw_value = self._cell(values, "value")
        label = f"Value (column {self._letter('value')})"
        number = self.number(raw_value, measure, quarter, label, reasons)
        if number is not None:
            out.append(((measure.id, quarter, "value"), number))
        for target, i in self.index.items():
            if target.startswith(COMPARATOR):
                label = f"{target.removeprefix(COMPARATOR)} (column {self.table.letters[i]})"
                comp = self.number(values[i], measure, quarter, label, reasons, own=False)
                if comp is not None:
                    out.append(((measure.id, quarter, target), comp))
        if status is not None:
            out.append(((measure.id, quarter, "status"), status))
        if note is not None:
            out.append(((measure.id, quarter, "note"), note))
        out += [((measure.id, quarter, name), v) for name, v in about]
        return key, out


def _fmt(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def plan_measures(
    session: Session,
    plan: Plan,
    table: Table,
    columns: Sequence[str],
    mapping: Mapping,
    options: MeasureOptions,
    revision: int = 0,
    since: SinceExport | None = None,
) -> tuple[ImportPlan, dict[uuid.UUID, MeasureValue], list[_Change]]:
    """Judge every row; nothing is written. ``since``: the store's changes after the
    workbook was exported: a value, status or note the workbook did not change keeps
    the store's newer one; one both changed is a conflict, refused unless its rows are
    in ``options.write_over``."""
    del mapping  # decisions about names are for actions; kept for a uniform signature
    check_formulas(table, columns)
    planner = _Planner(session, plan, table, columns)
    for i, quarter in planner.wide:
        if quarter is None:  # pragma: no cover - recognise() only maps readable headings
            raise SpreadsheetError(f"The heading {table.headers[i]!r} is not a quarter.")
    used = [i for i, t in enumerate(columns) if t != IGNORE]
    row_keys: dict[int, str] = {}
    refused: dict[int, list[str]] = {}
    slots: dict[Slot, list[tuple[int, Any]]] = defaultdict(list)
    measures_by_id = {m.id: m for m in planner.measures}
    for row_number, row_values in zip(
        table.frame.index, table.frame.itertuples(index=False), strict=True
    ):
        row = int(row_number)
        values = list(row_values)
        if all(cells.is_blank(values[i]) for i in used):
            continue
        reasons: list[str] = []
        key, contributions = planner.contributions(row, values, reasons)
        row_keys[row] = key
        if reasons:
            refused[row] = reasons
            continue
        for slot, value in contributions:
            slots[slot].append((row, value))
    if not row_keys:
        raise SpreadsheetError(
            f"{table.where} has no rows with anything to import in the chosen columns."
        )
    for (measure_id, quarter, name), found in slots.items():
        if len({row for row, _v in found}) > 1 or len(found) > 1:
            rows = sorted({row for row, _v in found})
            what = "value" if name == "value" else name.removeprefix(COMPARATOR)
            for row in rows:
                others = ", ".join(str(r) for r in rows if r != row)
                where = f"also in row {others}" if others else "in two columns of this row"
                refused.setdefault(row, []).append(
                    f"{measures_by_id[measure_id].ref} {quarter} {what} is given {where}"
                )
    entries: dict[tuple[uuid.UUID, Quarter], _Entry] = {}
    for (measure_id, quarter, name), found in slots.items():
        live = [(row, v) for row, v in found if row not in refused]
        if not live:
            continue
        row, value = live[0]
        entry = entries.setdefault(
            (measure_id, quarter), _Entry(measures_by_id[measure_id], quarter)
        )
        entry.rows.add(row)
        if name == "value":
            entry.value = value
        elif name == "status":
            entry.status = value
        elif name == "note":
            entry.note = value
        elif name == "comparator_significant":
            entry.comparator_significant = value
        elif name == "rank":
            entry.rank = value
        else:
            entry.comparators[name.removeprefix(COMPARATOR)] = value
    changes: list[_Change] = []
    row_changes: dict[int, list[str]] = defaultdict(list)
    row_fields: dict[int, list[FieldChange]] = defaultdict(list)
    row_creates: set[int] = set()
    row_kept: dict[int, list[str]] = defaultdict(list)
    row_conflicts: dict[int, list[CellConflict]] = defaultdict(list)
    new_comparators: dict[tuple[uuid.UUID, str], NewRecord] = {}

    def judged(
        entry: _Entry, existing: MeasureValue | None, name: str, what: str, mine: Any
    ) -> bool:
        """Whether the sheet's ``mine`` for the field may be written: not when the
        store changed the field since export and the sheet still holds the exported
        value (kept), nor when both changed it and the officer did not choose the
        workbook's (a conflict)."""
        if since is None or existing is None:
            return True
        created = since.created.get(existing.id)
        moved = since.get(existing.id, name)
        if created is not None:
            base, by = None, created
        elif moved is not None:
            base, by = moved.base, moved.by
        else:
            return True
        theirs = existing.value if name == "value" else getattr(existing, name)
        show: Callable[[Any], str] = (
            _fmt if name == "value" else _yes_no if name == "comparator_significant" else _words
        )
        shown_theirs, shown_mine = show(theirs), show(mine)
        if base == mine:
            for row in entry.rows:
                row_kept[row].append(f"{what}: kept {shown_theirs}, changed by {by}")
            return False
        for row in entry.rows:
            row_conflicts[row].append(CellConflict(what, by, shown_theirs, shown_mine))
        return entry.rows <= options.write_over

    def judged_comparator(
        entry: _Entry, existing: MeasureValue, name: str, what: str, mine: float | None
    ) -> bool:
        """:func:`judged` for one comparator's figure. The store keeps every comparator
        of a value in one field (``comparator_values``), so a change since export to
        another comparator's figure is not a change to this one."""
        if since is None:
            return True
        created = since.created.get(existing.id)
        moved = since.get(existing.id, "comparator_values")
        theirs = existing.comparator_values.get(name)
        if created is not None:
            base, by = None, created
        elif moved is not None:
            base, by = (moved.base or {}).get(name), moved.by
            if base == theirs:
                return True
        else:
            return True
        if base == mine:
            for row in entry.rows:
                row_kept[row].append(f"{what}: kept {_fmt(theirs)}, changed by {by}")
            return False
        for row in entry.rows:
            row_conflicts[row].append(CellConflict(what, by, _fmt(theirs), _fmt(mine)))
        return entry.rows <= options.write_over

    for (measure_id, quarter), entry in sorted(entries.items(), key=lambda kv: kv[1].quarter):
        existing = planner.by_quarter.get((measure_id, quarter))
        measure = entry.measure
        missing = [c for c in entry.comparators if c not in measure.comparator_names]
        locked = (
            authority.read_only_reason(session, measure, "comparator_names") if missing else None
        )
        if locked is not None:
            # A new comparator series changes the measure's definition: on a lead copy
            # the master's to make, so the row is refused and the rest still imported.
            for row in entry.rows:
                refused.setdefault(row, []).append(
                    f"{measure.ref} has no comparator {', '.join(missing)} and {lower(locked)}"
                )
            continue
        for name in missing:
            new_comparators.setdefault(
                (measure_id, name), NewRecord("comparator", name, f"for measure {measure.ref}")
            )
        if existing is None or existing.deleted_at is not None:
            fields: dict[str, Any] = {
                "value": entry.value,
                "comparators": dict(entry.comparators),
                "status": entry.status or ValueStatus.PROVISIONAL,
                "note": entry.note or "",
                "comparator_significant": entry.comparator_significant,
                "rank": entry.rank or "",
            }
            changes.append(_Change(entry, fields, missing))
            for row in entry.rows:
                row_creates.add(row)
                row_changes[row].append(f"{measure.ref} {quarter}: new value {_fmt(entry.value)}")
            continue
        # What the store holds, with what the sheet says over it (a blank keeps it).
        fields = {
            "value": existing.value,
            "comparators": dict(existing.comparator_values),
            "status": existing.status,
            "note": existing.note,
            "significant": existing.significant,
            "comparator_significant": existing.comparator_significant,
        }
        said: list[str] = []
        label = f"{quarter}"
        shown: list[FieldChange] = []
        if (
            entry.value is not None
            and entry.value != existing.value
            and judged(entry, existing, "value", f"Value {label}", entry.value)
        ):
            fields["value"] = entry.value
            said.append(f"{_fmt(existing.value)} → {_fmt(entry.value)}")
            shown.append(FieldChange(f"Value {label}", _fmt(existing.value), _fmt(entry.value)))
        merged = fields["comparators"]
        for name, comp in entry.comparators.items():
            if merged.get(name) != comp and judged_comparator(
                entry, existing, name, f"{name} {label}", comp
            ):
                said.append(f"{name} {_fmt(merged.get(name))} → {_fmt(comp)}")
                shown.append(FieldChange(f"{name} {label}", _fmt(merged.get(name)), _fmt(comp)))
                merged[name] = comp
        if (
            entry.status is not None
            and entry.status != existing.status
            and judged(entry, existing, "status", f"Status {label}", entry.status)
        ):
            fields["status"] = entry.status
            said.append(f"status → {entry.status.value}")
            shown.append(FieldChange(f"Status {label}", existing.status.value, entry.status.value))
        if (
            entry.note is not None
            and entry.note != existing.note
            and judged(entry, existing, "note", f"Note {label}", entry.note)
        ):
            fields["note"] = entry.note
            said.append("note changed")
            shown.append(FieldChange(f"Note {label}", existing.note, entry.note))
        if (
            entry.comparator_significant is not None
            and entry.comparator_significant != existing.comparator_significant
            and judged(
                entry,
                existing,
                "comparator_significant",
                f"Significantly different {label}",
                entry.comparator_significant,
            )
        ):
            fields["comparator_significant"] = entry.comparator_significant
            said.append(
                "significantly different from the comparator"
                if entry.comparator_significant
                else "not significantly different from the comparator"
            )
            shown.append(
                FieldChange(
                    f"Significantly different {label}",
                    _yes_no(existing.comparator_significant),
                    _yes_no(entry.comparator_significant),
                )
            )
        if (
            entry.rank is not None
            and entry.rank != existing.rank
            and judged(entry, existing, "rank", f"Rank {label}", entry.rank)
        ):
            fields["rank"] = entry.rank
            said.append(f"rank → {entry.rank}")
            shown.append(FieldChange(f"Rank {label}", existing.rank, entry.rank))
        if said:
            changes.append(_Change(entry, fields, missing))
            for row in entry.rows:
                row_changes[row].append(f"{measure.ref} {quarter}: {', '.join(said)}")
                row_fields[row].extend(shown)
    for row, cell_conflicts in row_conflicts.items():
        if row not in options.write_over:
            refused.setdefault(row, []).extend(c.reason for c in cell_conflicts)
    # A row refused for one of its quarters writes none of them: the preview says
    # refused, so nothing of it may be written.
    changes = [c for c in changes if not c.entry.rows & refused.keys()]
    row_plans = []
    for row, key in row_keys.items():
        conflicts: tuple[CellConflict, ...] = tuple(row_conflicts.get(row, []))
        kept: tuple[str, ...] = tuple(row_kept.get(row, []))
        if row in refused:
            row_plans.append(
                RowPlan(row, key, Outcome.REFUSE, tuple(refused[row]), conflicts=conflicts)
            )
        elif row in row_changes:
            outcome = Outcome.CREATE if row in row_creates else Outcome.UPDATE
            row_plans.append(
                RowPlan(
                    row,
                    key,
                    outcome,
                    tuple(row_changes[row]) + kept,
                    tuple(row_fields[row]),
                    conflicts,
                    kept,
                )
            )
        else:
            row_plans.append(RowPlan(row, key, Outcome.UNCHANGED, kept, kept=kept))
    notes = []
    if planner.wide:
        notes.append(
            "Quarter columns: "
            + ", ".join(f"{table.headers[i]} = {q}" for i, q in planner.wide[:12])
            + (" ..." if len(planner.wide) > 12 else "")
        )
    result = ImportPlan(
        kind="measures",
        source=table.source,
        plan_title=plan.title,
        rows=tuple(row_plans),
        new_records=tuple(new_comparators.values()),
        notes=tuple(notes),
        revision=revision,
    )
    return result, planner.values, changes


def _words(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, ValueStatus):
        return value.value
    return repr(str(value))


def _yes_no(flag: bool | None) -> str:
    return "" if flag is None else ("Yes" if flag else "No")


def lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def apply_measures(
    tx: Transaction,
    values: dict[uuid.UUID, MeasureValue],
    changes: Sequence[_Change],
    progress: Progress,
) -> None:
    """Write the changes in ``tx`` through the services (``values`` is the planner's
    lookup of the plan's value records, read in ``tx``'s session)."""
    total = len(changes)
    for done, change in enumerate(changes):
        if done % 200 == 0:
            progress.step(done, total, f"Importing values: {done:,} of {total:,}")
        entry = change.entry
        measure = entry.measure
        try:
            if change.new_comparators:
                names = [*measure.comparator_names]
                names += [c for c in change.new_comparators if c not in names]
                services.edit(tx, measure, comparator_names=names)
            services.record_value(tx, measure, entry.quarter, known=values, **change.fields)
        except DomainError as exc:
            # Judged fine a moment ago; a rule only the write could check refused it.
            rows = ", ".join(str(r) for r in sorted(entry.rows))
            raise SpreadsheetError(
                f"{measure.ref} {entry.quarter} (row {rows}) cannot be imported: {exc}. "
                f"{NOTHING_CHANGED}"
            ) from exc
        if done % FLUSH_EVERY == FLUSH_EVERY - 1:
            tx.batch_written()
    progress.step(total, total, "Saving the import")
    tx.batch_written()
