"""What an import will do, row by row: the preview a user approves before anything is written.

An :class:`ImportPlan` is plain values (no ORM objects), so the UI can hold it, show it
and hand it across threads. It is computed without writing. Beside its values it may
carry the preview's own work (``work``: the operations judged, opaque to all but
``importing``), which applying carries out if the store has not changed since; else
applying recomputes the plan inside the import's one transaction. Either way what is
written is judged against the store as it is at that moment.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from ssp_desktop.store.backup import BackupReport


class Outcome(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REFUSE = "refuse"

    @property
    def word(self) -> str:
        return {
            Outcome.CREATE: "New",
            Outcome.UPDATE: "Update",
            Outcome.UNCHANGED: "Unchanged",
            Outcome.REFUSE: "Refused",
        }[self]


@dataclass(frozen=True)
class FieldChange:
    """One field a row changes: its label, and the value before and after, as shown."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class CellConflict:
    """A cell the workbook changed that someone also changed in the store after the
    workbook was exported: who (and when), the store's value and the workbook's."""

    field: str
    by: str
    theirs: str
    workbook: str

    @property
    def reason(self) -> str:
        return (
            f"{self.field} was changed in the store by {self.by} after this workbook was "
            f"exported: theirs is {self.theirs}, the workbook's is {self.workbook}. "
            "Choose to write the workbook's, or leave the row out"
        )


@dataclass(frozen=True)
class RowPlan:
    """One spreadsheet row: what happens to it and why (reasons or changes), and the
    field changes one by one (for the preview's table)."""

    row: int
    key: str
    outcome: Outcome
    details: tuple[str, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    # Cells changed both here and in the store since export (the row is refused unless
    # the officer chose the workbook's values for it).
    conflicts: tuple[CellConflict, ...] = ()
    # Cells the workbook did not change whose store value someone changed since export:
    # kept, as "Action: kept 'Fund IDVAs and ISVAs', changed by Jane Lead on ...".
    kept: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "; ".join(self.details)


@dataclass(frozen=True)
class NewRecord:
    """A record the import makes along the way (an organisation, a priority...)."""

    kind: str
    name: str
    detail: str = ""


@dataclass(frozen=True)
class Unknown:
    """A name the store does not know: the user may create it or map it to a record."""

    kind: str  # "organisation" or "person"
    name: str
    rows: tuple[int, ...]
    suggestion: str | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportPlan:
    kind: str
    source: str
    plan_title: str
    rows: tuple[RowPlan, ...]
    new_records: tuple[NewRecord, ...] = ()
    unknowns: tuple[Unknown, ...] = ()
    notes: tuple[str, ...] = ()
    revision: int = 0
    # The preview's own work, for ``importing.apply`` to carry out (opaque; None once
    # applied, and for a plan that cannot be carried over).
    work: object = field(default=None, compare=False, repr=False)
    _counts: Counter[Outcome] = field(
        default_factory=Counter, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        self._counts.update(r.outcome for r in self.rows)

    def count(self, outcome: Outcome) -> int:
        return self._counts[outcome]

    @property
    def refused(self) -> tuple[RowPlan, ...]:
        if not self._counts[Outcome.REFUSE]:
            return ()  # (counted as the plan was made: no need to look through its rows)
        return tuple(r for r in self.rows if r.outcome is Outcome.REFUSE)

    @property
    def changes_anything(self) -> bool:
        return bool(self.count(Outcome.CREATE) or self.count(Outcome.UPDATE))

    def summary(self) -> str:
        parts = [
            f"{self.count(Outcome.CREATE)} new",
            f"{self.count(Outcome.UPDATE)} updated",
            f"{self.count(Outcome.UNCHANGED)} unchanged",
            f"{self.count(Outcome.REFUSE)} refused",
        ]
        what = "rows" if self.kind == "measures" else "actions"
        text = f"{what.capitalize()}: {', '.join(parts)}."
        if self.new_records:
            kinds = Counter(n.kind for n in self.new_records)
            made = ", ".join(f"{n} {_plural(k, n)}" for k, n in sorted(kinds.items()))
            text += f" Also new: {made}."
        return text


_PLURALS = {"person": "people", "priority": "priorities", "area for action": "areas for action"}


def _plural(noun: str, n: int) -> str:
    return noun if n == 1 else _PLURALS.get(noun, f"{noun}s")


@dataclass(frozen=True)
class ImportResult:
    """What an applied import did, for the summary a user reads."""

    plan: ImportPlan
    applied: bool
    change_set: str | None = None
    skipped: int = 0
    # Where the pre-import backup is and the space import backups use (None: no backup,
    # as when nothing changed).
    backups: BackupReport | None = None

    def summary(self) -> str:
        if not self.applied:
            return "Nothing was imported; the store is as it was."
        text = self.plan.summary()
        if self.skipped:
            text += f" {self.skipped} refused row(s) were left out."
        return text
