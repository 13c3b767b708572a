"""A lead's change lines, grouped by the record they change.

The master merges a lead's bundle record by record: a :class:`Group` holds one
record's unprocessed lines, oldest first, and says what the lead did to it (its state
before and after, and each field's steps from the value before the first change to the
value now).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.records import record_classes
from ssp_desktop.sync import codec


@dataclass
class Step:
    old: Any
    new: Any
    line: codec.ChangeLine


@dataclass
class Group:
    entity: str
    record_id: uuid.UUID
    lines: list[codec.ChangeLine] = field(default_factory=list)
    _steps: tuple[int, dict[str, list[Step]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _fields: tuple[int, dict[str, Any]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

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

    def steps(self) -> dict[str, list[Step]]:
        """Each field's steps, oldest first (made once: the planner asks several times;
        lines are only ever added to a group while grouping, so their count says
        whether the steps made before still hold). Read-only for callers."""
        cached = self._steps
        if cached is not None and cached[0] == len(self.lines):
            return cached[1]
        out: dict[str, list[Step]] = {}
        for line in self.lines:
            if line.op == "create":
                for key, value in line.new.items():
                    out.setdefault(key, []).append(Step(None, value, line))
            elif line.op == "update" and line.field is not None:
                out.setdefault(line.field, []).append(Step(line.old, line.new, line))
        self._steps = (len(self.lines), out)
        return out

    def created_fields(self) -> dict[str, Any]:
        """Each field's value after the lead's last change (a new dict each call: callers
        may change it; the values are worked out once, as :meth:`steps` are)."""
        return dict(self.last_values())

    def last_values(self) -> dict[str, Any]:
        """:meth:`created_fields` itself, read-only for callers: each field's last step's
        new value, in the order :meth:`steps` lists the fields (the order each was first
        set), worked out from the lines without making the steps (a new record's group
        has one step per field, and most are never asked for)."""
        cached = self._fields
        if cached is None or cached[0] != len(self.lines):
            out: dict[str, Any] = {}
            for line in self.lines:
                if line.op == "create":
                    out.update(line.new)
                elif line.op == "update" and line.field is not None:
                    out[line.field] = line.new
            cached = self._fields = (len(self.lines), out)
        return cached[1]

    def lead_record(self) -> dict[str, Any] | None:
        for line in reversed(self.lines):
            if line.record is not None:
                return line.record
        return None


def group_changes(lines: Iterable[codec.ChangeLine]) -> list[Group]:
    groups: dict[tuple[str, uuid.UUID], Group] = {}
    for line in sorted(lines, key=lambda x: x.seq):
        key = (line.entity, line.record_id)
        group = groups.get(key)
        if group is None:  # a group made only for a record's first line
            group = groups[key] = Group(line.entity, line.record_id)
        group.lines.append(line)
    return list(groups.values())
