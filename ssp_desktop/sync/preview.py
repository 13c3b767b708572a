"""What an import would do, worked out before anything is written.

A :class:`Preview` lists every record the bundle touches with its outcome (``new``,
``updated``, ``unchanged``, ``conflict``, ``rejected``), the conflicts it would queue,
and warnings (a sender's clock far ahead, records kept although the other side deleted
them). The same planner (``merge.plan_import``) makes the preview and drives the apply,
so what the user approved is what is written. :func:`describe` is its plain-text form
for the command line and the import wizard.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

NEW = "new"
UPDATED = "updated"
UNCHANGED = "unchanged"
CONFLICT = "conflict"
REJECTED = "rejected"
OUTCOMES = (NEW, UPDATED, UNCHANGED, CONFLICT, REJECTED)

# Whole-bundle statuses.
READY = "ready"  # there is something to apply
NOTHING = "nothing"  # nothing to do (every change already here)
DUPLICATE = "duplicate"  # this very bundle was imported before
OLDER = "older"  # a newer bundle from the same sender was imported already
HELD = "held"  # a lead's bundle deleting many records, waiting for the master's say-so


@dataclass(frozen=True)
class ItemReport:
    entity: str
    record_id: uuid.UUID
    label: str
    outcome: str
    detail: str = ""
    # The fields an update changes: (field, value here now, value the bundle brings),
    # as shown to a person (see :func:`shown`).
    changes: tuple[tuple[str, str, str], ...] = ()


def shown(value: object) -> str:
    """A field's value as the preview shows it."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, uuid.UUID):
        return f"record {value.hex[:8]}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def field_changes(
    before: Mapping[str, object], after: Mapping[str, object]
) -> tuple[tuple[str, str, str], ...]:
    """(field, before, after) for each field in ``after``, in words."""
    return tuple(
        (key.replace("_", " "), shown(before.get(key)), shown(value))
        for key, value in after.items()
    )


@dataclass(frozen=True)
class ConflictReport:
    kind: str
    entity: str
    record_id: uuid.UUID
    label: str
    field: str | None
    base: str
    local: str
    incoming: str
    incoming_actor: str
    incoming_at: str


@dataclass
class Preview:
    kind: str  # "changes" (a lead's changes, on the master) or "snapshot" (on a lead)
    bundle_id: uuid.UUID
    sender: str
    sequence: int
    status: str = READY
    message: str = ""
    items: list[ItemReport] = field(default_factory=list)
    conflicts: list[ConflictReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    removed: int = 0  # records that left a lead's scope (removed from its copy)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(item.outcome for item in self.items)
        return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def rejected(self) -> list[ItemReport]:
        return [i for i in self.items if i.outcome == REJECTED]

    @property
    def changes_anything(self) -> bool:
        c = self.counts
        return bool(c[NEW] or c[UPDATED] or c[CONFLICT] or self.removed)

    def summary(self) -> dict[str, object]:
        return {
            "status": self.status,
            "counts": self.counts,
            "conflicts": len(self.conflicts),
            "removed": self.removed,
            "warnings": list(self.warnings),
            "rejected": [f"{i.label}: {i.detail}" for i in self.rejected][:200],
        }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe(preview: Preview, *, limit: int = 50) -> str:
    """The preview as lines of text a user can read."""
    lines = [f"Bundle {preview.bundle_id} from {preview.sender} (number {preview.sequence})."]
    if preview.status in (DUPLICATE, OLDER, NOTHING) and preview.message:
        lines.append(preview.message)
        return "\n".join(lines)
    c = preview.counts
    lines.append(
        f"{c[NEW]} new, {c[UPDATED]} updated, {c[UNCHANGED]} unchanged, "
        f"{c[CONFLICT]} conflicting, {c[REJECTED]} rejected."
    )
    if preview.status == HELD and preview.message:
        lines.append(f"Held: {preview.message}")
    if preview.removed:
        lines.append(
            f"{_plural(preview.removed, 'record')} no longer in your themes or actions will "
            "leave this copy (they are not deleted from the plan)."
        )
    for warning in preview.warnings:
        lines.append(f"Warning: {warning}")
    shown = [i for i in preview.items if i.outcome in (NEW, UPDATED, REJECTED)]
    for item in shown[:limit]:
        detail = f" ({item.detail})" if item.detail else ""
        lines.append(f"  {item.outcome:<9} {item.label}{detail}")
    if len(shown) > limit:
        lines.append(f"  ... and {len(shown) - limit} more")
    if preview.conflicts:
        lines.append(f"{_plural(len(preview.conflicts), 'conflict')} to resolve:")
        for conflict in preview.conflicts[:limit]:
            lines.append("  " + describe_conflict(conflict))
        if len(preview.conflicts) > limit:
            lines.append(f"  ... and {len(preview.conflicts) - limit} more")
    return "\n".join(lines)


KIND_TEXT = {
    "field": "both changed",
    "edit_delete": "changed there, deleted here (kept)",
    "delete_edit": "deleted there, changed here (kept)",
    "delete_child": "deleted, but a new record was added under it (kept)",
    "duplicate": "clashes with a record already here",
}


def describe_conflict(c: ConflictReport) -> str:
    what = f"{c.label}, {c.field.replace('_', ' ')}" if c.field else c.label
    return (
        f"{what}: {KIND_TEXT.get(c.kind, c.kind)}; base {c.base}, here {c.local}, "
        f"incoming {c.incoming} ({c.incoming_actor}, {c.incoming_at})"
    )
