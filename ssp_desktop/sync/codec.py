"""Payload lines: what each line of a bundle's JSON Lines members holds, strictly checked.

Records travel as their content fields (every column except the id and bookkeeping
timestamps) in the JSON form the change log uses (``changes.to_json_value``). Reading
turns each value back into the column's Python value, refusing anything a writer never
produces: an unknown entity or field, a value of the wrong type, a missing field, a
natural-key record whose id does not match its key. One bad line refuses the bundle:
nothing is applied from a file that is not what this app writes.

* ``changes.jsonl`` (lead -> master): one line per change-log row of the lead copy not
  yet acknowledged: :class:`ChangeLine`.
* ``records.jsonl`` (master -> lead): one line per record of the lead's scope, deleted
  ones included (tombstones): :class:`RecordLine`.
* ``acks.jsonl`` (master -> lead): one line per lead change the master has processed:
  :class:`AckLine`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Double,
    Enum,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
)

from ssp_desktop.domain.base import FinancialYearType, QuarterType, Record, UTCDateTime
from ssp_desktop.domain.changes import from_json_value, to_json_value
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import record_classes

BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "deleted_at", "version"})
OPS = frozenset({"create", "update", "delete", "restore"})
OUTCOMES = frozenset({"applied", "unchanged", "conflict", "rejected", "superseded"})
MAX_TEXT = 100_000


class LineError(ValueError):
    """One value or line is not what a bundle writer produces."""


@functools.cache
def content_columns(cls: type[Record]) -> Mapping[str, Column[Any]]:
    """The columns a bundle carries for ``cls``, by attribute name."""
    table = cast(Table, cls.__table__)
    return {c.key: c for c in table.columns if c.key not in BOOKKEEPING}


def entity_class(name: Any) -> type[Record]:
    if not isinstance(name, str) or name not in record_classes():
        raise LineError(f"unknown kind of record {name!r}")
    return record_classes()[name]


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (not isinstance(value, float) or math.isfinite(value))
    )


def _check_json_column(key: str, value: Any) -> None:
    if key == "comparator_names":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise LineError("comparator names should be a list of text")
    elif key == "comparator_values":
        if not isinstance(value, dict) or not all(_is_number(v) for v in value.values()):
            raise LineError("comparator values should map names to numbers")
    elif key == "sections":
        if not isinstance(value, list) or not all(
            isinstance(v, dict) and isinstance(v.get("key"), str) for v in value
        ):
            raise LineError("sections should be a list of objects with a key")
    elif not isinstance(value, list | dict):
        raise LineError(f"{key} should be a list or an object")


def decode_value(column: Column[Any], value: Any) -> Any:
    """The Python value of one column from its JSON form; :class:`LineError` if wrong."""
    key = column.key
    if value is None:
        if not column.nullable:
            raise LineError(f"{key} may not be empty")
        return None
    ctype = column.type
    try:
        if isinstance(ctype, Boolean):
            if not isinstance(value, bool):
                raise LineError(f"{key} should be true or false")
            return value
        if isinstance(ctype, Integer):
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**62:
                raise LineError(f"{key} should be a whole number")
            return value
        if isinstance(ctype, Double | Float):
            if not _is_number(value):
                raise LineError(f"{key} should be a number")
            return float(value)
        if isinstance(ctype, Numeric):
            if not isinstance(value, str) or len(value) > 40:
                raise LineError(f"{key} should be an amount written as text")
            amount = decimal.Decimal(value)
            if not amount.is_finite():
                raise LineError(f"{key} should be a finite amount")
            return amount
        if isinstance(ctype, JSON):
            _check_json_column(key, value)
            return value
        if not isinstance(value, str):
            raise LineError(f"{key} should be text")
        if len(value) > MAX_TEXT:
            raise LineError(f"{key} is longer than any field may be")
        if isinstance(ctype, Enum) and ctype.enum_class is not None:
            return ctype.enum_class(value)
        if isinstance(ctype, QuarterType):
            return Quarter.parse(value)
        if isinstance(ctype, FinancialYearType):
            return FinancialYear.parse(value)
        if isinstance(ctype, Uuid | UTCDateTime | Date):
            return from_json_value(ctype, value)
        if isinstance(ctype, String | Text):
            return value
    except LineError:
        raise
    except (ValueError, TypeError, decimal.InvalidOperation, ArithmeticError) as exc:
        raise LineError(f"{key} has a value this app cannot read ({value!r})") from exc
    raise LineError(f"{key} has a type this app does not send")  # pragma: no cover


def decode_fields(cls: type[Record], fields: Any, *, complete: bool) -> dict[str, Any]:
    """Python values for a record's content fields (all of them when ``complete``)."""
    if not isinstance(fields, dict):
        raise LineError("the record's fields should be an object")
    columns = content_columns(cls)
    unknown = set(fields) - set(columns)
    if unknown:
        raise LineError(f"{cls.__tablename__} has no field {sorted(unknown)[0]!r}")
    if complete:
        missing = set(columns) - set(fields)
        if missing:
            raise LineError(f"{cls.__tablename__} is missing {sorted(missing)[0]!r}")
    return {key: decode_value(columns[key], value) for key, value in fields.items()}


def check_natural_id(cls: type[Record], record_id: uuid.UUID, fields: Mapping[str, Any]) -> None:
    make_id = getattr(cls, "make_id", None)
    if make_id is None:
        return
    parent_key, key = {
        "measure_value": ("measure_id", "period"),
        "measure_target": ("measure_id", "year"),
        "funding_allocation": ("stream_id", "year"),
    }[cls.__tablename__]
    if (
        parent_key in fields
        and key in fields
        and make_id(fields[parent_key], fields[key]) != record_id
    ):
        raise LineError(f"the {cls.__tablename__} id does not match its natural key")


def encode_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_json_value(v) for k, v in values.items()}


def record_fields(obj: Record) -> dict[str, Any]:
    """The content fields of ``obj`` as Python values."""
    return {key: getattr(obj, key) for key in content_columns(type(obj))}


# --------------------------------------------------------------------------- lines


def _obj(line: Any, keys: frozenset[str], optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(line, dict):
        raise LineError("each line should be an object")
    unknown = set(line) - keys - optional
    missing = keys - set(line)
    if unknown:
        raise LineError(f"unexpected key {sorted(unknown)[0]!r}")
    if missing:
        raise LineError(f"missing key {sorted(missing)[0]!r}")
    return line


def _uuid(value: Any, what: str) -> uuid.UUID:
    if not isinstance(value, str) or len(value) > 36:
        raise LineError(f"{what} should be an id")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise LineError(f"{what} should be an id") from exc


def _when(value: Any, what: str) -> dt.datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise LineError(f"{what} should be a date and time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise LineError(f"{what} should be a date and time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ChangeLine:
    """One change the lead made: a create (``new`` holds every field), one field's update
    (``old`` -> ``new``), a delete (``record`` holds the fields as the lead had them) or a
    restore."""

    id: uuid.UUID
    seq: int
    at: dt.datetime
    actor: str
    entity: str
    record_id: uuid.UUID
    op: str
    field: str | None
    old: Any
    new: Any
    record: dict[str, Any] | None

    @property
    def cls(self) -> type[Record]:
        return record_classes()[self.entity]


_CHANGE_KEYS = frozenset(
    {"id", "seq", "at", "actor", "entity", "record_id", "op", "field", "old", "new"}
)


def change_to_json(line: ChangeLine) -> dict[str, Any]:
    out = {
        "id": str(line.id),
        "seq": line.seq,
        "at": line.at.isoformat(),
        "actor": line.actor,
        "entity": line.entity,
        "record_id": str(line.record_id),
        "op": line.op,
        "field": line.field,
        "old": to_json_value(line.old),
        "new": encode_fields(line.new) if line.op == "create" else to_json_value(line.new),
    }
    if line.record is not None:
        out["record"] = encode_fields(line.record)
    return out


def parse_change(raw: Any) -> ChangeLine:
    line = _obj(raw, _CHANGE_KEYS, frozenset({"record"}))
    cls = entity_class(line["entity"])
    op = line["op"]
    if not isinstance(op, str) or op not in OPS:
        raise LineError(f"unknown change {op!r}")
    seq = line["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq < 2**62:
        raise LineError("seq should be a positive whole number")
    actor = line["actor"]
    if not isinstance(actor, str) or len(actor) > 254:
        raise LineError("actor should be short text")
    record_id = _uuid(line["record_id"], "record_id")
    field = line["field"]
    old: Any = None
    new: Any = None
    record: dict[str, Any] | None = None
    if op == "update":
        columns = content_columns(cls)
        if not isinstance(field, str) or field not in columns:
            raise LineError(f"{cls.__tablename__} has no field {field!r}")
        old = decode_value(columns[field], line["old"])
        new = decode_value(columns[field], line["new"])
    else:
        if field is not None or line["old"] is not None:
            raise LineError(f"a {op} names no field and no old value")
        if op == "create":
            new = decode_fields(cls, line["new"], complete=True)
            check_natural_id(cls, record_id, new)
        elif line["new"] is not None:
            raise LineError(f"a {op} has no new value")
    if "record" in line and line["record"] is not None:
        record = decode_fields(cls, line["record"], complete=True)
    return ChangeLine(
        id=_uuid(line["id"], "id"),
        seq=seq,
        at=_when(line["at"], "at"),
        actor=actor,
        entity=cls.__tablename__,
        record_id=record_id,
        op=op,
        field=field,
        old=old,
        new=new,
        record=record,
    )


@dataclass(frozen=True)
class RecordLine:
    """One record of a lead's scope as the master has it (``deleted``: a tombstone)."""

    entity: str
    id: uuid.UUID
    deleted: bool
    fields: dict[str, Any]

    @property
    def cls(self) -> type[Record]:
        return record_classes()[self.entity]


def record_to_json(line: RecordLine) -> dict[str, Any]:
    return {
        "entity": line.entity,
        "id": str(line.id),
        "deleted": line.deleted,
        "fields": encode_fields(line.fields),
    }


def parse_record(raw: Any) -> RecordLine:
    line = _obj(raw, frozenset({"entity", "id", "deleted", "fields"}))
    cls = entity_class(line["entity"])
    if not isinstance(line["deleted"], bool):
        raise LineError("deleted should be true or false")
    record_id = _uuid(line["id"], "id")
    fields = decode_fields(cls, line["fields"], complete=True)
    check_natural_id(cls, record_id, fields)
    return RecordLine(cls.__tablename__, record_id, line["deleted"], fields)


@dataclass(frozen=True)
class AckLine:
    """A lead change the master has processed, and what became of it."""

    change_id: uuid.UUID
    outcome: str


def parse_ack(raw: Any) -> AckLine:
    line = _obj(raw, frozenset({"change_id", "outcome"}))
    if not isinstance(line["outcome"], str) or line["outcome"] not in OUTCOMES:
        raise LineError(f"unknown outcome {line['outcome']!r}")
    return AckLine(_uuid(line["change_id"], "change_id"), line["outcome"])


def ack_to_json(line: AckLine) -> dict[str, Any]:
    return {"change_id": str(line.change_id), "outcome": line.outcome}


def refuse(member: str, number: int, exc: LineError) -> BundleError:
    return BundleError(
        f"Line {number} of the bundle's {member} is not valid ({exc}). The file was not "
        "made by this app or was changed afterwards. Nothing was changed."
    )
