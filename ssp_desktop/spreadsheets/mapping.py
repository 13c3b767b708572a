"""Which column of a spreadsheet means what: recognised headings and saved mappings.

A :class:`Mapping` says, for each heading, which field it fills (or ``ignore``), and
remembers the user's answers about names the store did not know ("GMP" is the
organisation "Greater Manchester Police"). It is saved as a small JSON file and reused
next quarter (``--mapping FILE.json``); headings it does not mention are recognised
afresh, so a tracker that gained a column still imports.

Targets are plain strings so the JSON reads well: ``ref``, ``due_date``...; for measure
data ``comparator:GM average`` (a comparator series) and ``quarter_value`` (a "wide"
column whose heading is the quarter, e.g. "2023/24 Q2", holding that quarter's values).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from ssp_desktop.spreadsheets.cells import CellError, parse_period
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.strict_json import reject_constant, reject_duplicate_keys

__all__ = [
    "ACTION_TARGETS",
    "IGNORE",
    "KINDS",
    "MEASURE_TARGETS",
    "Kind",
    "Mapping",
    "column_targets",
    "mapping_problems",
    "recognise",
    "target_label",
]

Kind = Literal["actions", "measures"]
KINDS: Final = ("actions", "measures")
IGNORE: Final = "ignore"
QUARTER_VALUE: Final = "quarter_value"
COMPARATOR: Final = "comparator:"
FORMAT: Final = "ssp-desktop spreadsheet mapping"
MAX_MAPPING_BYTES: Final = 1024 * 1024

# (target, label shown to the user, headings that mean it)
ACTION_TARGETS: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("ref", "Ref", ("ref", "reference", "ref no", "ref number", "action ref", "action no",
                    "action number", "action id", "id", "no", "number")),
    ("title", "Action", ("action", "actions", "action title", "title", "activity",
                         "what we will do", "action name")),
    ("description", "Description", ("description", "details", "detail", "action description",
                                    "description of action")),
    ("priority", "Priority or theme", ("priority", "theme", "strategic priority", "priority code",
                                       "theme code", "strand", "workstream", "strategic theme")),
    ("area", "Area for action", ("area", "area for action", "areas for action", "priority area",
                                 "focus area", "sub theme", "subtheme")),
    ("lead_organisation", "Lead organisation", ("lead", "lead organisation", "lead organization",
                                                "lead agency", "lead partner", "organisation",
                                                "agency", "responsible organisation")),
    ("lead_person", "Lead person", ("lead person", "lead officer", "owner", "action owner",
                                    "responsible officer", "officer", "lead name")),
    ("partners", "Partners", ("partners", "partner agencies", "supporting partners",
                              "partner organisations", "key partners", "other partners",
                              "supporting agencies")),
    ("start_date", "Start date", ("start", "start date", "starts", "date started")),
    ("due_date", "Due date", ("due", "due date", "deadline", "target date", "completion date",
                              "end date", "target completion date", "by when", "timescale")),
    ("delivery_year", "Delivery year", ("delivery year", "financial year", "year")),
    ("status", "Status", ("status", "action status", "delivery status", "progress status")),
    ("rag", "RAG", ("rag", "rag status", "rag rating", "rating", "rag rated")),
    ("update", "Latest update", ("latest update", "update", "progress", "progress update",
                                 "latest progress", "progress narrative", "narrative",
                                 "commentary", "comments", "update narrative")),
    ("quarter", "Update quarter", ("update quarter", "quarter", "reporting quarter",
                                   "reporting period", "period")),
)  # fmt: skip

MEASURE_TARGETS: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("measure_ref", "Measure ref", ("measure ref", "ref", "reference", "measure id", "kpi ref",
                                    "pi ref", "indicator ref", "code", "measure code")),
    ("measure_name", "Measure name", ("measure", "measure name", "indicator", "kpi",
                                      "performance indicator", "name", "pi", "indicator name")),
    ("period", "Quarter (long form)", ("period", "quarter", "reporting period", "time period",
                                       "date", "reporting quarter")),
    ("value", "Value (long form)", ("value", "actual", "figure", "result", "outturn",
                                    "performance", "data")),
    ("status", "Value status", ("status", "value status")),
    ("note", "Note", ("note", "notes", "comment", "comments", "commentary")),
    ("comparator_significant", "Significantly different from the comparator",
     ("significantly different", "significance", "statistically significant",
      "significant vs comparator", "significantly different from comparator")),
    ("rank", "Rank among comparators", ("rank", "ranking", "gm rank", "position")),
    ("series", "Series (value or comparator)", ("series", "geography", "comparison",
                                                "area")),
)  # fmt: skip

# Headings people give the usual comparator series, and what they mean.
_COMPARATOR_ALIASES: Final = {
    "gm": "GM",
    "gm average": "GM",
    "gm avg": "GM",
    "greater manchester": "GM",
    "greater manchester average": "GM",
    "england": "England",
    "england average": "England",
    "national": "England",
    "national average": "England",
    "england and wales": "England and Wales",
    "north west": "North West",
    "msg": "Most similar group",
    "most similar group": "Most similar group",
}


def _norm(text: str) -> str:
    # "Ref.", "RAG Status", "Lead Officer(s)" and "Partners" compare as plain words;
    # a trailing plural s is dropped on both sides so "Partner" finds "partners".
    words = re.sub(r"[^0-9a-z]+", " ", text.casefold().replace("(s)", "s")).split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def _synonyms(kind: Kind) -> dict[str, str]:
    table = ACTION_TARGETS if kind == "actions" else MEASURE_TARGETS
    return {_norm(s): key for key, _label, words in table for s in words}


_SYNONYMS: Final[dict[str, dict[str, str]]] = {
    "actions": _synonyms("actions"),
    "measures": _synonyms("measures"),
}


def targets(kind: Kind) -> list[tuple[str, str]]:
    """(target, label) pairs a user may choose for a column, ``ignore`` first."""
    table = ACTION_TARGETS if kind == "actions" else MEASURE_TARGETS
    out = [(IGNORE, "(not imported)")] + [(key, label) for key, label, _w in table]
    if kind == "measures":
        out.append((QUARTER_VALUE, "Values for the quarter in the heading (wide form)"))
    return out


def target_label(kind: Kind, target: str) -> str:
    if target.startswith(COMPARATOR):
        return f"Comparator: {target.removeprefix(COMPARATOR)}"
    return dict(targets(kind)).get(target, target)


def comparator_for(heading: str, known: Sequence[str]) -> str | None:
    """The comparator series a heading names: one the plan already has, else an alias."""
    norm = _norm(heading)
    for name in known:
        if _norm(name) == norm:
            return name
    canonical = _COMPARATOR_ALIASES.get(norm)
    if canonical is None:
        return None
    for name in known:
        if _norm(name).startswith(_norm(canonical)):
            return name
    return "GM average" if canonical == "GM" else canonical


def recognise(heading: str, kind: Kind, comparators: Sequence[str] = ()) -> str:
    """The target a heading most likely means, or ``ignore``."""
    norm = _norm(heading)
    found = _SYNONYMS[kind].get(norm)
    if found is not None:
        return found
    if kind == "measures":
        comparator = comparator_for(heading, comparators)
        if comparator is not None:
            return COMPARATOR + comparator
        try:
            if parse_period(heading) is not None:
                return QUARTER_VALUE
        except CellError:
            pass
    return IGNORE


def header_score(kind: Kind) -> Any:
    """How many headings of a row are recognised: picks the heading row of a sheet."""

    def score(cells: Sequence[str]) -> int:
        return sum(1 for c in cells if c and recognise(c, kind) != IGNORE)

    return score


@dataclass
class Mapping:
    """Column targets by heading, plus the user's answers about unknown names."""

    kind: Kind
    columns: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None
    header_row: int | None = None
    # Name as written in the sheet -> existing record's name, or None to create it.
    organisations: dict[str, str | None] = field(default_factory=dict)
    people: dict[str, str | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "version": 1, "kind": self.kind}
        if self.sheet is not None:
            out["sheet"] = self.sheet
        if self.header_row is not None:
            out["header_row"] = self.header_row
        out["columns"] = dict(self.columns)
        out["organisations"] = dict(self.organisations)
        out["people"] = dict(self.people)
        return out

    def save(self, path: Path) -> None:
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        tmp = path.with_name(f".{path.name}.partial")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SpreadsheetError(
                f"Could not save the mapping to {path}: {exc.strerror or exc}."
            ) from None

    @classmethod
    def load(cls, path: Path) -> Mapping:
        """Read a saved mapping, refusing anything that is not one."""
        try:
            size = path.stat().st_size
            if size > MAX_MAPPING_BYTES:
                raise SpreadsheetError(f"{path.name} is too big to be a saved mapping.")
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpreadsheetError(f"There is no mapping file at {path}.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpreadsheetError(f"Cannot read the mapping {path}: {exc}.") from None
        try:
            data = json.loads(
                text, object_pairs_hook=reject_duplicate_keys, parse_constant=reject_constant
            )
        except ValueError as exc:
            raise SpreadsheetError(
                f"{path.name} is not a saved mapping: it is not valid JSON ({exc})."
            ) from None
        try:
            return cls.from_json(data)
        except SpreadsheetError as exc:
            raise SpreadsheetError(f"{path.name} is not a usable mapping: {exc}") from None

    @classmethod
    def from_json(cls, data: object) -> Mapping:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SpreadsheetError(f'it does not say "format": "{FORMAT}".')
        if data.get("version") != 1:
            raise SpreadsheetError(
                f"it is version {data.get('version')!r}; this app reads version 1."
            )
        unknown = set(data) - {
            "format", "version", "kind", "sheet", "header_row", "columns", "organisations",
            "people",
        }  # fmt: skip
        if unknown:
            raise SpreadsheetError(f"it has unknown keys: {', '.join(sorted(unknown))}.")
        kind = data.get("kind")
        if kind not in KINDS:
            raise SpreadsheetError('"kind" must be "actions" or "measures".')
        sheet = data.get("sheet")
        if sheet is not None and not isinstance(sheet, str):
            raise SpreadsheetError('"sheet" must be text.')
        header_row = data.get("header_row")
        if header_row is not None and (
            not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1
        ):
            raise SpreadsheetError('"header_row" must be a row number.')
        columns = _str_dict(data.get("columns", {}), "columns", allow_none=False)
        allowed = {t for t, _l in targets(kind)}
        for heading, target in columns.items():
            if target not in allowed and not (
                kind == "measures" and target.startswith(COMPARATOR) and len(target) > 11
            ):
                raise SpreadsheetError(
                    f"the column {heading!r} is mapped to {target!r}, which is not one of "
                    f"{', '.join(sorted(allowed))}."
                )
        return cls(
            kind=kind,
            columns={k: v for k, v in columns.items() if v is not None},
            sheet=sheet,
            header_row=header_row,
            organisations=_str_dict(data.get("organisations", {}), "organisations"),
            people=_str_dict(data.get("people", {}), "people"),
        )


def _str_dict(value: object, name: str, *, allow_none: bool = True) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpreadsheetError(f'"{name}" must be an object of names.')
    for key, item in value.items():
        if not (isinstance(item, str) or (allow_none and item is None)):
            raise SpreadsheetError(f'"{name}" -> {key!r} must be text{" or null" * allow_none}.')
    return dict(value)


def column_targets(
    headers: Sequence[str], mapping: Mapping, comparators: Sequence[str] = ()
) -> list[str]:
    """The target of each column: the mapping's choice, else the recognised one.

    A target chosen for two columns keeps the first (left-most) one; the others are
    ignored, so a tracker with two "Status" columns does not import both.
    """
    out: list[str] = []
    taken: set[str] = set()
    explicit = {h.casefold(): t for h, t in mapping.columns.items()}
    for heading in headers:
        target = explicit.get(heading.casefold())
        chosen = target is not None
        if target is None:
            target = recognise(heading, mapping.kind, comparators)
        if target != IGNORE and target != QUARTER_VALUE and target in taken and not chosen:
            target = IGNORE
        taken.add(target)
        out.append(target)
    return out


def mapping_problems(kind: Kind, headers: Sequence[str], columns: Sequence[str]) -> list[str]:
    """Why a column mapping cannot be imported (empty when it can)."""
    problems: list[str] = []
    counts: dict[str, list[str]] = {}
    for heading, target in zip(headers, columns, strict=True):
        if target not in (IGNORE, QUARTER_VALUE):
            counts.setdefault(target, []).append(heading)
    for target, heads in counts.items():
        if len(heads) > 1:
            problems.append(
                f"{target_label(kind, target)} is chosen for more than one column "
                f"({', '.join(heads)}): choose it for one only."
            )
    chosen = set(counts)
    if kind == "actions":
        if "ref" not in chosen:
            problems.append(
                "No column is the action's Ref. Every row needs a ref: it is how the import "
                "tells a new action from one already in the plan."
            )
    else:
        if not chosen & {"measure_ref", "measure_name"}:
            problems.append("No column names the measure (its ref or its name).")
        wide = QUARTER_VALUE in columns
        long = bool(chosen & {"period", "value"})
        if wide and long:
            problems.append(
                "Choose one layout: either a Quarter and a Value column (long form), or one "
                "column per quarter (wide form), not both."
            )
        elif long and not {"period", "value"} <= chosen:
            missing = "Quarter" if "period" not in chosen else "Value"
            problems.append(f"Long-form measure data needs a {missing} column too.")
        elif not wide and not long:
            problems.append(
                "No column holds values: choose a Quarter and a Value column, or headings "
                "that are quarters (such as 2023/24 Q2)."
            )
        if "series" in chosen and not wide:
            problems.append("A Series column is only used with one column per quarter.")
    return problems


def describe_mapping(kind: Kind, headers: Iterable[str], columns: Iterable[str]) -> list[str]:
    """ "Heading -> Target" lines for a dry run."""
    return [
        f"{heading} -> {target_label(kind, target)}"
        for heading, target in zip(headers, columns, strict=False)
    ]


def as_names(values: MappingABC[str, str | None]) -> dict[str, str | None]:
    return {k.casefold(): v for k, v in values.items()}
