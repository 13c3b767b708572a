"""The change log, written for every create, update, delete and restore, and the guard
that keeps every write on the one governed path.

Writes happen inside :class:`Transaction` (from ``Store.transaction``), and only while a
domain service runs (:func:`governed`, entered by ``services.core.service``): changing
a record's field, adding or deleting a record anywhere else raises
:class:`~ssp_desktop.domain.errors.UngovernedWriteError` at the line that tried. A
``before_flush`` hook turns whatever the ORM is about to write into change-log rows,
so every path - a form, undo, an import, a merge - is logged the same way. It records
who made each change, where and when: the transaction's own context, or the
:class:`Attribution` a merge gives the records it writes (the lead who made the change
on their laptop, with the time the master received it). The hook also refuses a hard
delete (records become tombstones) and a child added under a deleted parent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import threading
import uuid
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from graphlib import TopologicalSorter
from operator import itemgetter
from typing import Any, Final, Protocol, TypeVar, cast

from sqlalchemy import ClauseElement, Connection, event, insert, inspect, select
from sqlalchemy.orm import Mapper, Session, object_session
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE

from ssp_desktop.domain import ids
from ssp_desktop.domain.base import Record, utcnow
from ssp_desktop.domain.errors import (
    DeleteBlockedError,
    DomainError,
    ParentDeletedError,
    UngovernedWriteError,
)
from ssp_desktop.domain.events import RecordChange, merge_changes, record_changes
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import ChangeLog, record_classes

R = TypeVar("R", bound=Record)

# Columns that describe the record's bookkeeping rather than its content.
_BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "deleted_at", "version"})


def to_json_value(value: Any) -> Any:
    """A JSON-ready form of a column value; the inverse is the column's own type."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Quarter | FinancialYear):
        return value.label
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    raise TypeError(f"cannot log a value of type {type(value).__name__}")


def dump(value: Any) -> str:
    return json.dumps(to_json_value(value), sort_keys=True, allow_nan=False, ensure_ascii=False)


# What dump's json.dumps makes of a record's snapshot (a dict of JSON values), without
# making a new encoder for each record: ``JSONEncoder.encode`` makes its C encoder afresh
# at every call (a microsecond of the few a snapshot takes), so the same C encoder, made
# with the same settings, is made once. ``markers`` (None) only looks for containers
# holding themselves, which a snapshot's values never are. Without the C encoder, the
# encoder's own method.
_ENCODER = json.JSONEncoder(sort_keys=True, allow_nan=False, ensure_ascii=False)
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_encode: Callable[[dict[str, Any]], str] = _ENCODER.encode
if _c_encoder is not None:  # CPython's
    _encode_chunks = _c_encoder(
        None,  # markers
        _ENCODER.default,
        json.encoder.encode_basestring,  # ensure_ascii=False
        None,  # indent
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        True,  # sort_keys
        False,  # skipkeys
        False,  # allow_nan
    )

    def _encode(snapshot: dict[str, Any]) -> str:
        return "".join(_encode_chunks(snapshot, 0))


def _same(value: Any) -> Any:
    return value


def _converter(kind: type[Any]) -> Any:
    """What :func:`to_json_value` does to a value of type ``kind``, as one function.

    Its branches depend on the value's type alone, so the branch is found once per type
    (with the same tests in the same order) and a record's snapshot converts each field
    with one dictionary look-up rather than a chain of ``isinstance`` tests."""
    if kind is type(None) or issubclass(kind, bool | int | str | float):
        return _same
    if issubclass(kind, enum.Enum):
        return _enum_value
    if issubclass(kind, uuid.UUID):
        return str
    if issubclass(kind, dt.datetime | dt.date):
        return _isoformat
    if issubclass(kind, Decimal):
        return str
    if issubclass(kind, Quarter | FinancialYear):
        return _label
    return to_json_value  # containers, and the types it refuses


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _isoformat(value: dt.date) -> str:
    return value.isoformat()


def _label(value: Quarter | FinancialYear) -> str:
    return value.label


_CONVERTERS: dict[type[Any], Any] = {}


def _json_value(value: Any) -> Any:
    """:func:`to_json_value`, by the value's type (see :func:`_converter`)."""
    kind = type(value)
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(value)


_CONTENT_KEYS: dict[type[Any], tuple[str, ...]] = {}


def content_keys(cls: type[Record]) -> tuple[str, ...]:
    """The record class's content fields (its columns less the bookkeeping), in order."""
    keys = _CONTENT_KEYS.get(cls)
    if keys is None:
        mapper: Mapper[Any] = inspect(cls)
        keys = tuple(a.key for a in mapper.column_attrs if a.key not in _BOOKKEEPING)
        _CONTENT_KEYS[cls] = keys
    return keys


_EDITABLE: dict[type[Any], frozenset[str]] = {}


def _editable(cls: type[Record]) -> frozenset[str]:
    """The fields :meth:`Transaction.update` may set: the content fields, as a set."""
    keys = _EDITABLE.get(cls)
    if keys is None:
        keys = _EDITABLE[cls] = frozenset(content_keys(cls))
    return keys


def snapshot(obj: Record) -> dict[str, Any]:
    """The record's content fields as JSON-ready values."""
    return {key: to_json_value(getattr(obj, key)) for key in content_keys(type(obj))}


def _new_snapshot(obj: Record) -> dict[str, Any]:
    """:func:`snapshot` of a record about to be inserted: a new record holds every value
    it has in its ``__dict__`` (one it does not hold reads as None, as ``getattr`` on a
    pending record gives), so the attributes' descriptors need not be asked."""
    held = obj.__dict__
    converters = _CONVERTERS
    out: dict[str, Any] = {}
    for key in content_keys(type(obj)):
        value = held.get(key)
        # _json_value, inline: this runs for every field of every record an import adds.
        convert = converters.get(type(value))
        if convert is _same:
            out[key] = value
        else:
            out[key] = convert(value) if convert is not None else _json_value(value)
    return out


@dataclasses.dataclass(frozen=True)
class ChangeContext:
    """Who is writing, from where; one change set per transaction."""

    site_id: uuid.UUID
    actor: str
    person_id: uuid.UUID | None = None
    source: str = "local"
    change_set: uuid.UUID = dataclasses.field(default_factory=uuid.uuid4)


@dataclasses.dataclass(frozen=True)
class Attribution:
    """Who made a change elsewhere (a lead on their laptop), recorded instead of the
    account that merged it; the change log also keeps when it arrived here."""

    site_id: uuid.UUID
    actor: str
    person_id: uuid.UUID | None
    at: dt.datetime


# --------------------------------------------------------------------------- the guard

_DEPTH = "service_depth"
_ATTRIBUTION = "attribution"
_REASON = "correction_reason"


class governed:
    """Mark a domain service running on ``session``; writes are allowed only inside.

    A class rather than a generator-based context manager: an import enters it once per
    service call, tens of thousands of times, and this is the cheaper to enter."""

    __slots__ = ("_info",)

    def __init__(self, session: Session) -> None:
        self._info = session.info

    def __enter__(self) -> None:
        info = self._info
        info[_DEPTH] = info.get(_DEPTH, 0) + 1

    def __exit__(self, *_exc: object) -> None:
        self._info[_DEPTH] -= 1


class attributed:
    """Records written inside are logged as ``attribution``'s change (see :class:`Attribution`).

    A class, as :class:`governed` is: a merge enters it once for each record it writes."""

    __slots__ = ("_attribution", "_before", "_info")

    def __init__(self, session: Session, attribution: Attribution | None) -> None:
        self._info = session.info
        self._attribution = attribution
        self._before: Attribution | None = None

    def __enter__(self) -> None:
        info = self._info
        self._before = info.get(_ATTRIBUTION)
        info[_ATTRIBUTION] = self._attribution

    def __exit__(self, *_exc: object) -> None:
        self._info[_ATTRIBUTION] = self._before


@contextmanager
def correcting(session: Session, reason: str) -> Iterator[None]:
    """Changes written inside are a correction of a locked (published) figure: their
    change-log rows carry ``reason``, and the lock lets them through."""
    before = session.info.get(_REASON)
    session.info[_REASON] = reason
    try:
        yield
    finally:
        session.info[_REASON] = before


# A reason for writes whose session the caller does not hold (undo and redo open
# their own transaction): set around the call with :func:`correcting_calls`.
_CALL_REASON: ContextVar[str | None] = ContextVar("correction_reason", default=None)


@contextmanager
def correcting_calls(reason: str) -> Iterator[None]:
    """Whatever is written inside (in this thread) is a correction with ``reason``."""
    token = _CALL_REASON.set(reason)
    try:
        yield
    finally:
        _CALL_REASON.reset(token)


def correction_reason(session: Session) -> str | None:
    """The reason of the correction being written on ``session``, if one is."""
    reason = session.info.get(_REASON) or _CALL_REASON.get()
    return str(reason) if reason else None


def _is_write_session(session: Session | None) -> bool:
    return session is not None and "change_context" in session.info


# Always on. A module attribute only so a test can show it is the guard that refuses.
ENFORCED = True


def _ungoverned(info: dict[Any, Any]) -> bool:
    """Whether a write now is outside the domain services (and the guard is on)."""
    return bool(ENFORCED and info.get(_DEPTH, 0) <= 0 and not info.get("flushing"))


def _ungoverned_write(what: str) -> UngovernedWriteError:
    """The refusal of ``what``, made outside the domain services (:func:`_ungoverned`
    says whether it was; the message is made only then)."""
    return UngovernedWriteError(
        f"{what} outside the domain services: every change to the plan goes through "
        "ssp_desktop.services (docs/architecture.md)."
    )


# session.info key: id(record) -> (record, its Attribution) for the records written in
# an attributed block since the last flush (kept by the session rather than on each
# record's state, so the flush asks one dictionary, not every record's state).
_ATTRIBUTED = "records_attributed"


def _note_attribution(session: Session, obj: Record) -> None:
    attribution = session.info.get(_ATTRIBUTION)
    if attribution is not None:
        session.info.setdefault(_ATTRIBUTED, {})[id(obj)] = (obj, attribution)


def _on_set(target: Record, value: Any, oldvalue: Any, _initiator: Any) -> Any:
    if instance_state(target).session_id is None:
        return value  # in no session (a record being built): nothing to guard
    session = object_session(target)
    if _is_write_session(session):
        assert session is not None
        if _ungoverned(session.info):
            raise _ungoverned_write(f"{type(target).__name__} was changed")
        _note_attribution(session, target)
    return value


# session.info key: (class, id) -> every record added in this transaction. SQLAlchemy's
# identity map does not hold pending records and holds flushed ones only weakly, so
# without it a lookup of a record added a moment ago queries the store, and that query
# first flushes whatever is pending: one flush per imported row.
_ADDED = "records_added"
# session.info key: (entity, record id, op, field) of every change-log row written in
# this transaction, in the order written (which is ``seq`` order).
_LOGGED = "rows_logged"
_HELD = "records_held"
# session.info key: the change-log rows folded so far, a run at a time (Transaction.changes).
_FOLDED = "rows_folded"


def _on_attach(session: Session, obj: Any) -> None:
    if isinstance(obj, Record) and _is_write_session(session):
        if _ungoverned(session.info):
            raise _ungoverned_write(f"A {type(obj).__name__} was added")
        _note_attribution(session, obj)
        session.info.setdefault(_ADDED, {})[(type(obj), obj.id)] = obj


def lookup(session: Session, cls: type[R], record_id: Any) -> R | None:
    """A record by id, including one added in this transaction and not yet flushed,
    without flushing: a record that is neither added here nor in the identity map is
    read from the store as it was at the last flush, which is where it is, because
    records are never removed and a pending change of one keeps it in the map.

    What it finds stays held for the session's life (it is what the rules look up:
    parents, plans), so a rule asking again finds it in the identity map."""
    info = session.info
    added: dict[tuple[type[Any], Any], Any] = info.get(_ADDED, {})
    found = added.get((cls, record_id))
    if found is not None:
        return cast(R, found)
    held: dict[tuple[type[Any], Any], Any] = info.setdefault(_HELD, {})
    found = held.get((cls, record_id))
    if found is not None:
        return cast(R, found)
    with session.no_autoflush:
        found = session.get(cls, record_id)
    if found is not None:
        held[(cls, record_id)] = found
    return found


def _watch_attributes() -> None:
    for cls in record_classes().values():
        mapper: Mapper[Any] = inspect(cls)
        for attr in mapper.column_attrs:
            event.listen(getattr(cls, attr.key), "set", _on_set, retval=True)
        for rel in mapper.relationships:
            event.listen(getattr(cls, rel.key), "set", _on_set, retval=True)


_WATCHING = False
_WATCHING_LOCK = threading.Lock()


def begin_writing(session: Session, context: ChangeContext) -> None:
    """Make ``session`` a write session, writing as ``context`` says: the change-log
    hook logs its flushes, and the write guard lets only services change records in it.

    The guard's listener on every attribute of every record (some six hundred) is
    attached the first time a session begins writing, not when the store opens: it acts
    only on records in a write session, and a window showing its first view, or a
    command that only reads, has none (attaching them was a tenth of the time from a
    painted window to a usable one)."""
    global _WATCHING
    if not _WATCHING:
        with _WATCHING_LOCK:  # an import in a worker thread may be first
            if not _WATCHING:
                _watch_attributes()
                _WATCHING = True
    session.info["change_context"] = context


@dataclasses.dataclass(frozen=True)
class Reference:
    """A foreign key from ``child`` (column ``column``) to some parent table."""

    child: type[Record]
    column: str
    owner: bool


def _references() -> dict[str, list[Reference]]:
    """Parent table name -> the foreign keys that point at it."""
    refs: dict[str, list[Reference]] = {}
    for cls in record_classes().values():
        for col in cls.__table__.columns:
            for fk in col.foreign_keys:
                refs.setdefault(fk.column.table.name, []).append(
                    Reference(cls, col.key, bool(col.info.get("owner")))
                )
    return refs


_REFS: dict[str, list[Reference]] | None = None


def references_to(table: str) -> list[Reference]:
    global _REFS
    if _REFS is None:
        _REFS = _references()
    return _REFS.get(table, [])


_FOREIGN_KEYS: dict[type[Any], tuple[tuple[str, type[Record]], ...]] = {}


def _foreign_keys(cls: type[Record]) -> tuple[tuple[str, type[Record]], ...]:
    """(column, parent class) of each foreign key of a record class, worked out once."""
    found = _FOREIGN_KEYS.get(cls)
    if found is None:
        classes = record_classes()
        found = tuple(
            (col.key, classes[fk.column.table.name])
            for col in cls.__table__.columns
            for fk in col.foreign_keys
        )
        _FOREIGN_KEYS[cls] = found
    return found


def _parents(obj: Record, *, new: bool = False) -> Iterable[tuple[str, type[Record], uuid.UUID]]:
    # A new record holds its values in its __dict__ (see _new_snapshot).
    held = obj.__dict__
    for key, parent_cls in _foreign_keys(type(obj)):
        value = held.get(key) if new else getattr(obj, key)
        if value is not None:
            yield key, parent_cls, value


_DEFAULTS: dict[type[Any], tuple[tuple[str, Any], ...]] = {}


# Set by _log_changes itself, to the flush's time, as it logs a new record.
_STAMPED = frozenset({"created_at", "updated_at"})


def _defaults(cls: type[Record]) -> tuple[tuple[str, Any], ...]:
    """(column, its Python-side default: scalar or callable) of a record class, less the
    timestamps the flush stamps (``_STAMPED``) and scalar defaults of None (nothing to
    fill in)."""
    found = _DEFAULTS.get(cls)
    if found is None:
        found = tuple(
            (col.key, col.default)
            for col in cls.__table__.columns
            if col.default is not None
            and col.key not in _STAMPED
            and (
                getattr(col.default, "is_callable", False)
                or (getattr(col.default, "is_scalar", False) and col.default.arg is not None)
            )
        )
        _DEFAULTS[cls] = found
    return found


def _fill_defaults(obj: Record) -> None:
    # Python-side defaults are normally applied at INSERT, after this hook; applying
    # them now makes the logged snapshot the record as stored, and gives it its id.
    # The record is new (about to be inserted, and the INSERT writes what it holds), so
    # the values go straight in, without the attribute events a change would need.
    held = obj.__dict__
    for key, default in _defaults(type(obj)):
        if held.get(key) is None:
            value = default.arg(None) if default.is_callable else default.arg
            if value is not None:
                held[key] = value


def _row_base(
    ctx: ChangeContext, by: Attribution | None, now: dt.datetime, reason: str | None
) -> dict[str, Any]:
    """The columns of a change-log row that say who made the change, when and why
    (``by``: a merge's attribution of the change to whoever made it elsewhere)."""
    return {
        "change_set": ctx.change_set,
        "site_id": by.site_id if by else ctx.site_id,
        "actor": by.actor if by else ctx.actor,
        "person_id": by.person_id if by else ctx.person_id,
        "at": by.at if by else now,
        "received_at": now if by else None,
        "source": ctx.source,
        "reason": reason,
    }


_LOG_INSERT = insert(cast(Any, ChangeLog.__table__))


def _write_log(session: Session, rows: list[dict[str, Any]]) -> None:
    """The flush's change-log rows in one executemany, in the order they were made (so
    ``seq`` follows it, as it did when each row was an ORM object of the flush): a
    change-log row is never read back as an object in the transaction that wrote it.

    A Core insert of the table: every row names every column it sets (a None is a NULL,
    as the columns it can be have no default), so the ORM's bulk insert, which sorts
    the rows into groups by the keys they hold, has nothing to add."""
    if rows:
        insert_rows(session.connection(), _LOG_INSERT, rows, session.info.get(ROW_WRITER))
        # What Transaction.changes reports, kept as written rather than read back.
        session.info.setdefault(_LOGGED, []).extend(
            (row["entity"], row["record_id"], row["op"], row["field"]) for row in rows
        )


def _preload_parents(
    session: Session, records: list[Record], pending: dict[tuple[type[Any], Any], Record]
) -> list[Record]:
    """Read, a few queries per table, the parents of ``records`` that are neither
    pending nor in the identity map (the caller keeps the list so they stay there):
    a flush of a whole import then checks its parents without a query per record."""
    wanted: dict[type[Record], set[Any]] = {}
    identity_map = session.identity_map
    seen: set[tuple[type[Record], Any]] = set()
    for obj in records:
        for _column, parent_cls, parent_id in _parents(obj, new=True):
            key = (parent_cls, parent_id)
            if key in seen:
                continue
            seen.add(key)
            if key in pending:
                continue
            if identity_map.get((parent_cls, (parent_id,), None)) is not None:
                continue
            wanted.setdefault(parent_cls, set()).add(parent_id)
    loaded: list[Record] = []
    for parent_cls, parent_ids in wanted.items():
        if len(parent_ids) < 2:
            continue  # one lookup is one query either way
        ordered = list(parent_ids)
        for first in range(0, len(ordered), 500):
            loaded.extend(
                session.scalars(
                    select(parent_cls).where(parent_cls.id.in_(ordered[first : first + 500]))
                )
            )
    return loaded


def _check_parents_live(
    session: Session,
    obj: Record,
    pending: dict[tuple[type[Any], Any], Record],
    *,
    new: bool = False,
    live: set[tuple[type[Record], Any]] | None = None,
) -> None:
    """Refuse a record whose parent does not exist or has been deleted. ``live``: the
    parents this flush has already found live (a flush changes no parent's tombstone
    while it logs, so an import's thousands of children of one parent ask once)."""
    identity_map = session.identity_map
    held = obj.__dict__  # a new record holds its values in its __dict__ (_new_snapshot)
    for column, parent_cls in _foreign_keys(type(obj)):
        parent_id = held.get(column) if new else getattr(obj, column)
        if parent_id is None or (live is not None and (parent_cls, parent_id) in live):
            continue
        parent = (
            pending.get((parent_cls, parent_id))
            or identity_map.get((parent_cls, (parent_id,), None))
            or session.get(parent_cls, parent_id)
        )
        if parent is None:
            raise DomainError(
                f"Cannot save {obj.describe()}: its {column.removesuffix('_id')} "
                f"({parent_id}) does not exist."
            )
        if parent.deleted_at is not None and parent is not obj:
            raise ParentDeletedError(
                f"Cannot save {obj.describe()} under {parent.describe()}: "
                f"{parent.describe()} has been deleted. Restore it first."
            )
        if live is not None and parent.deleted_at is None:
            live.add((parent_cls, parent_id))


def _before_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    ctx: ChangeContext | None = session.info.get("change_context")
    records_new = [o for o in session.new if isinstance(o, Record)]
    records_dirty = [o for o in session.dirty if isinstance(o, Record)]
    records_deleted = [o for o in session.deleted if isinstance(o, Record)]
    if not (records_new or records_dirty or records_deleted):
        return
    if records_deleted:
        raise DomainError(
            "Records are never removed from the store; delete them with "
            "Transaction.delete, which keeps a tombstone."
        )
    if ctx is None:
        raise DomainError("Changes to the plan must be made inside Store.transaction().")
    session.info["flushing"] = True
    try:
        _log_changes(session, ctx, records_new, records_dirty)
    finally:
        session.info["flushing"] = False
    if records_new and BULK_INSERTS:
        _insert_new(session, records_new, records_dirty)


# --------------------------------------------------------------------------- bulk insert
#
# A flush of an import holds thousands of new records. The ORM's unit of work would
# sort them, work out each one's INSERT parameters, post-fetch and register each; here
# each table's new records are written with one Core executemany instead (as the unit of
# work itself would group them), then handed to the session as persistent, exactly as
# its own flush does at the end (``Session._register_persistent``). The rows written
# are the same: the parameters are made by the unit of work's own rules (below), in the
# same order (the order the records were added), in the same executemany groups.
#
# A table is left to the unit of work when this flush also updates records of it (the
# unit of work writes a table's UPDATEs before its INSERTs, which a unique index over
# live records may need: a ref given up by one record and taken by a new one), or when
# one of its new records needs more than its own values: a relationship set to an
# object (the foreign key comes from that object during the flush), a SQL expression as
# a value, or a column default left for the INSERT to fill. Foreign keys are checked
# at commit (records.py), so the order of the tables does not matter.


# Always on. A module attribute so a test can write the same changes both ways and
# compare the stores (tests/domain/test_bulk_writes.py).
BULK_INSERTS = True


@dataclasses.dataclass(frozen=True)
class _TableWrite:
    """What writing one record class's new rows needs, worked out once per class."""

    table: Any
    insert: Any
    relationships: tuple[str, ...]
    defaulted: tuple[str, ...]  # attribute keys of columns with any default
    # (attribute key, column key, whether a None is written: the mapper's columns that
    # evaluate None) of each column, and the column keys written as None when a record
    # does not hold them (the mapper's "as none" columns).
    params: tuple[tuple[str, str, bool], ...]
    nulls: tuple[str, ...]


_TABLE_WRITES: dict[type[Any], _TableWrite | None] = {}


def _table_write(cls: type[Record]) -> _TableWrite | None:
    if cls in _TABLE_WRITES:
        return _TABLE_WRITES[cls]
    mapper: Mapper[Any] = inspect(cls)
    found: _TableWrite | None = None
    tables = list(mapper._pks_by_table)
    if (
        len(tables) == 1
        and mapper.version_id_col is None
        and not mapper.dispatch.before_insert
        and not mapper.dispatch.after_insert
    ):
        table: Any = tables[0]
        columns = tuple(mapper._propkey_to_col[table].items())
        evaluating_none = frozenset(mapper._insert_cols_evaluating_none[table])
        found = _TableWrite(
            table=table,
            insert=table.insert(),
            relationships=tuple(r.key for r in mapper.relationships),
            defaulted=tuple(
                key
                for key, col in columns
                if col.default is not None
                or col.server_default is not None
                or col.onupdate is not None
                or col.server_onupdate is not None
            ),
            params=tuple((key, col.key, col in evaluating_none) for key, col in columns),
            nulls=tuple(sorted(mapper._insert_cols_as_none[table])),
        )
    _TABLE_WRITES[cls] = found
    return found


_EXPRESSION_TYPES: dict[type[Any], bool] = {}


def _is_expression(value: Any) -> bool:
    """Whether a value is a SQL expression the INSERT must render (by its type)."""
    kind = type(value)
    found = _EXPRESSION_TYPES.get(kind)
    if found is None:
        found = _EXPRESSION_TYPES[kind] = hasattr(value, "__clause_element__") or isinstance(
            value, ClauseElement
        )
    return found


def _insert_params(write: _TableWrite, obj: Record) -> dict[str, Any] | None:
    """The INSERT parameters the unit of work would use for ``obj``
    (``persistence._collect_insert_commands``), or None if it must do the insert."""
    held = obj.__dict__
    for key in write.relationships:
        if key in held:
            return None
    for key in write.defaulted:
        if held.get(key) is None:
            return None
    params: dict[str, Any] = {}
    expressions = _EXPRESSION_TYPES
    for key, column_key, keeps_none in write.params:
        if key not in held:
            continue
        value = held[key]
        if value is None:
            if keeps_none:
                params[column_key] = None
            continue
        # _is_expression, by the value's type once known (every value of every record).
        expression = expressions.get(type(value))
        if expression is None:
            expression = _is_expression(value)
        if expression:
            return None
        params[column_key] = value
    for column_key in write.nulls:
        if column_key not in params:
            params[column_key] = None
    return params


def _insert_new(session: Session, records_new: list[Record], records_dirty: list[Record]) -> None:
    """Write the flush's new records (those it can, see above) with Core executemany."""
    updated = {type(o) for o in records_dirty}
    by_class: dict[type[Record], list[Record]] = {}
    for obj in records_new:
        by_class.setdefault(type(obj), []).append(obj)
    written: set[Any] = set()
    connection = None
    writer = session.info.get(ROW_WRITER)
    for cls, objs in by_class.items():
        if cls in updated:
            continue
        write = _table_write(cls)
        if write is None:
            continue
        rows = []
        for obj in objs:
            params = _insert_params(write, obj)
            if params is None:
                break
            rows.append(params)
        else:
            if connection is None:
                connection = session.connection()
            # Consecutive rows with the same keys in one executemany, as the unit of
            # work groups them.
            group: list[dict[str, Any]] = []
            for params in rows:
                if group and params.keys() != group[0].keys():
                    insert_rows(connection, write.insert, group, writer)
                    group = []
                group.append(params)
            insert_rows(connection, write.insert, group, writer)
            written.update(instance_state(o) for o in objs)
    if written:
        # What the unit of work does with the records it has inserted: identity keys,
        # the identity map, committed state, and out of the session's new records.
        session._register_persistent(written)
        session.info["wrote"] = True


# --------------------------------------------------------------------------- driver executemany
#
# Core's executemany works out each row's parameters afresh (``construct_params``, then
# every value through its type's bind processor, looked up by name) and that, not
# SQLite, was most of a large flush. The rows of one INSERT all name the same columns,
# so the statement is compiled once per (dialect, table, columns), its bind processors
# are put in the driver's parameter order once, and each row becomes the driver's tuple
# (or dict, for a named paramstyle) in one pass; ``exec_driver_sql`` hands the rows to
# the cursor's executemany on the session's own connection, so they are written in its
# transaction, fire the engine's events and raise SQLAlchemy's errors as before. The
# values are the ones Core would send: the same compiled statement's own processors.


# Always on. A module attribute so a test can write the same changes both ways and
# compare the stores (tests/domain/test_bulk_writes.py).
DRIVER_EXECUTEMANY = True


@dataclasses.dataclass(frozen=True)
class _DriverInsert:
    """One INSERT as the driver takes it: its SQL, and per parameter in the driver's
    order the row key it comes from, its bind processor (or None) and, for a named
    paramstyle, its name in the SQL."""

    sql: str
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    names: tuple[str, ...] | None  # None: a positional paramstyle


_DRIVER_INSERTS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, frozenset[str]], Any]] = (
    weakref.WeakKeyDictionary()
)


def _driver_insert(dialect: Any, statement: Any, keys: frozenset[str]) -> _DriverInsert | None:
    """``statement`` (a table's plain INSERT) for rows holding ``keys``, compiled for
    ``dialect`` once; None when Core must run it (it would compute a default per row,
    expand a parameter, or its parameters are not exactly the rows' keys)."""
    by_statement = _DRIVER_INSERTS.get(dialect)
    if by_statement is None:
        by_statement = _DRIVER_INSERTS[dialect] = {}
    cache_key = (statement, keys)
    if cache_key in by_statement:
        return cast(_DriverInsert | None, by_statement[cache_key])
    compiled: Any = statement.compile(
        dialect=dialect, column_keys=sorted(keys), for_executemany=True
    )
    found: _DriverInsert | None = None
    if not (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.implicit_returning
        or compiled.effective_returning
    ):
        names = (
            list(compiled.positiontup)
            if compiled.positional
            else list(compiled.bind_names.values())
        )
        binds = compiled.binds
        row_keys = tuple(binds[name].key for name in names)
        if sorted(row_keys) == sorted(keys):
            processors = compiled._bind_processors
            escaped = compiled.escaped_bind_names
            found = _DriverInsert(
                sql=compiled.string,
                keys=row_keys,
                processors=tuple(processors.get(name) for name in names),
                names=None
                if compiled.positional
                else tuple(escaped.get(name, name) for name in names),
            )
    by_statement[cache_key] = found
    return found


_UNSEEN = object()


# session.info key: a bulk transaction's writer of plain INSERTs (store/background.py),
# which runs them on a thread of its own while the import goes on. Put in place by the
# store for an import's transaction; absent otherwise.
ROW_WRITER: Final = "ssp.row_writer"


# session.info key: what the store does for a bulk transaction's batch of writes as soon
# as the writer says it is done (Transaction.batch_written), called with the
# transaction; absent otherwise.
AFTER_BATCH: Final = "ssp.after_batch"


class RowWriter(Protocol):
    def write(self, sql: str, rows: list[tuple[Any, ...]]) -> bool:
        """Take ``sql`` for each of ``rows`` (driver parameters) to run in order before
        the next statement on the connection; False if it cannot (the caller runs it)."""
        ...


def insert_rows(
    connection: Connection,
    statement: Any,
    rows: list[dict[str, Any]],
    writer: RowWriter | None = None,
) -> None:
    """``connection.execute(statement, rows)`` for rows that all hold the same keys (a
    table's plain INSERT), written through the driver's executemany (see above), or
    handed to ``writer`` (a bulk transaction's, :data:`ROW_WRITER`) to write."""
    if not rows:
        return
    found = (
        _driver_insert(connection.dialect, statement, frozenset(rows[0]))
        if DRIVER_EXECUTEMANY
        else None
    )
    if found is None:
        connection.execute(statement, rows)
        return
    values_of = itemgetter(*found.keys)
    single = len(found.keys) == 1
    # The processed parameters' indexes and processors, and per parameter the last
    # value it was given with what its processor made of it. The rows of a flush share
    # many values as the very same objects (the change set, the site, the time, a
    # plan's id), and a processor is a function of its value alone, so the same object
    # is not processed again.
    slots = [i for i, process in enumerate(found.processors) if process is not None]
    processors = [cast(Callable[[Any], Any], found.processors[i]) for i in slots]
    given: list[Any] = [_UNSEEN] * len(slots)
    made: list[Any] = [None] * len(slots)
    numbered = list(enumerate(slots))
    converted: list[tuple[Any, ...]] = []
    for row in rows:
        values = values_of(row)
        if single:
            values = (values,)
        if slots:
            values = list(values)
            for n, i in numbered:
                value = values[i]
                if value is given[n]:
                    values[i] = made[n]
                else:
                    given[n] = value
                    values[i] = made[n] = processors[n](value)
            values = tuple(values)
        converted.append(values)
    if found.names is None:
        if writer is None or not writer.write(found.sql, converted):
            connection.exec_driver_sql(found.sql, converted)
    else:
        names = found.names
        connection.exec_driver_sql(found.sql, [dict(zip(names, v, strict=True)) for v in converted])


_LOGGED_COLUMNS: dict[type[Any], tuple[str, ...]] = {}


def _logged_columns(cls: type[Record]) -> tuple[str, ...]:
    """The columns whose changes an update logs (all but the timestamps and the
    version the flush sets), in the mapper's order: worked out once per class."""
    keys = _LOGGED_COLUMNS.get(cls)
    if keys is None:
        mapper: Mapper[Any] = inspect(cls)
        keys = tuple(
            a.key
            for a in mapper.column_attrs
            if a.key not in ("created_at", "updated_at", "version")
        )
        _LOGGED_COLUMNS[cls] = keys
    return keys


def _log_changes(
    session: Session, ctx: ChangeContext, records_new: list[Record], records_dirty: list[Record]
) -> None:
    now = utcnow()
    reason = correction_reason(session)  # the same for every row of one flush
    for obj in records_new:
        _fill_defaults(obj)
    # A new record holds its id in its __dict__ (given, or filled in just above).
    pending: dict[tuple[type[Any], Any], Record] = {
        (type(o), o.__dict__["id"]): o for o in records_new
    }
    parents = _preload_parents(session, records_new, pending)
    rows: list[dict[str, Any]] = []
    live: set[tuple[type[Record], Any]] = set()
    # A create row differs from the flush's others only in its id, record and snapshot
    # (unless a merge's attribution says who made it: then its who and when do too).
    create_row = _row_base(ctx, None, now, reason)
    create_row.update(op="create", field=None, old=None)
    attributed = session.info.get(_ATTRIBUTED)
    row_ids = iter(ids.new_ids(len(records_new)))  # the create rows' own ids, at once
    make_id = ids.new_id
    for obj in records_new:
        _check_parents_live(session, obj, pending, new=True, live=live)
        held = obj.__dict__
        held["created_at"] = held["updated_at"] = now  # new: see _fill_defaults
        new_values = _encode(_new_snapshot(obj))
        noted = attributed.get(id(obj)) if attributed else None
        if noted is not None and noted[0] is obj:
            # A merge's record: its row says who made it, on which site, when.
            row = _row_base(ctx, noted[1], now, reason)
            row["op"] = "create"
            row["field"] = row["old"] = None
        else:
            row = create_row.copy()
        row["id"] = next(row_ids)
        row["entity"] = obj.__tablename__
        row["record_id"] = held["id"]
        row["new"] = new_values
        rows.append(row)
    for obj in records_dirty:
        # A column's history has changes only when the record holds its value from
        # before (``committed_state``, kept by the attribute as it is first set since
        # the last flush): the columns it holds none for are passed over without asking
        # their history (what ``session.is_modified`` and ``state.attrs`` would make
        # for every attribute of the record), in the mapper's order as before.
        state = instance_state(obj)
        committed = state.committed_state
        if not committed:
            continue
        changed: list[tuple[str, Any, Any]] = []
        for key in _logged_columns(type(obj)):
            if key not in committed:
                continue
            hist = state.get_history(key, PASSIVE_NO_INITIALIZE)
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if key != "deleted_at" and to_json_value(old) == to_json_value(new):
                continue
            changed.append((key, old, new))
        if not changed:
            continue
        obj.updated_at = now
        obj.version = (obj.version or 1) + 1
        # Who, when and why: the same for every row of this record, so worked out
        # once, after the stamps above (setting them may note the record's
        # attribution, as it did when each row worked it out).
        now_attributed = session.info.get(_ATTRIBUTED)
        noted = now_attributed.get(id(obj)) if now_attributed else None
        by: Attribution | None = noted[1] if noted is not None and noted[0] is obj else None
        record_row = _row_base(ctx, by, now, reason)
        record_row.update(entity=obj.__tablename__, record_id=obj.id)
        fk_changed = False
        for key, old, new in changed:
            if key == "id":
                raise DomainError(f"The id of {obj.describe()} cannot change.")
            row = record_row.copy()
            row["id"] = make_id()
            if key == "deleted_at":
                op = "delete" if new is not None else "restore"
                fk_changed = fk_changed or op == "restore"
                row.update(op=op, field=None, old=None, new=None)
            else:
                fk_changed = fk_changed or bool(type(obj).__table__.columns[key].foreign_keys)
                row.update(op="update", field=key, old=dump(old), new=dump(new))
            rows.append(row)
        if fk_changed and obj.deleted_at is None:
            _check_parents_live(session, obj, pending, live=live)
    _write_log(session, rows)
    if attributed:
        for obj in (*records_new, *records_dirty):
            attributed.pop(id(obj), None)
    del parents  # held until here so the identity map kept them for the checks


def _after_flush(session: Session, _flush_context: Any) -> None:
    # Anything written at all, plan records or bookkeeping (a conflict decided, a key
    # trusted): the store announces the commit even when the change log is silent.
    if session.new or session.dirty or session.deleted:
        session.info["wrote"] = True


def install(session_factory: Any) -> None:
    """Attach the change-log hook and the write guard to a sessionmaker (the guard's
    attribute listeners follow when a session first writes: :func:`begin_writing`)."""
    event.listen(session_factory, "before_flush", _before_flush)
    event.listen(session_factory, "after_flush", _after_flush)
    event.listen(session_factory, "before_attach", _on_attach)


class Transaction:
    """The domain API's handle for one atomic change to the store."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def context(self) -> ChangeContext:
        ctx: ChangeContext = self.session.info["change_context"]
        return ctx

    def add(self, obj: R) -> R:
        session = self.session
        write = _table_write(type(obj)) if isinstance(obj, Record) else None
        state = instance_state(obj)
        if (
            write is not None
            and state.key is None
            and state.session_id is None
            and not session._warn_on_events  # adding inside a flush: let add() warn
        ):
            held = obj.__dict__
            if held.keys().isdisjoint(write.relationships):
                # A new record holding no related objects: Session.add would only look
                # through its relationships for objects to cascade to, and find none.
                state._orphaned_outside_of_session = False
                session._save_or_update_impl(state)
                return obj
        session.add(obj)
        return obj

    def add_all(self, objs: Iterable[Record]) -> None:
        self.session.add_all(list(objs))

    def get(self, cls: type[R], id_: uuid.UUID) -> R | None:
        """A record by id, including one added in this transaction and not yet flushed."""
        return lookup(self.session, cls, id_)

    def update(self, obj: R, **fields: Any) -> R:
        editable = _editable(type(obj))
        for key, value in fields.items():
            if key not in editable:
                raise DomainError(f"{type(obj).__name__} has no editable field {key!r}.")
            setattr(obj, key, value)
        return obj

    def flush(self) -> None:
        self.session.flush()

    def batch_written(self) -> None:
        """A bulk writer (an import) has made a batch of its writes: flush them, and let
        the store do for them now what it would otherwise do for every write at the
        commit (:data:`AFTER_BATCH`: a SQLite store's search index), while the writer
        goes on to its next batch."""
        self.session.flush()
        after = self.session.info.get(AFTER_BATCH)
        if after is not None:
            after(self)

    def changes(self, since: int = 0) -> tuple[RecordChange, ...]:
        """What this transaction has changed so far, one entry per record (flushes).

        ``since``: only what its change-log rows after the first ``since`` say (a count
        :meth:`logged` gave earlier: a bulk writer's batch, see :meth:`batch_written`).

        The rows are folded a run at a time, each run once: the runs asked for since a
        mark, then what is new, and the whole is made from the runs (the batches of an
        import are folded as it goes, and the commit's whole from them)."""
        self.session.flush()
        info = self.session.info
        logged: list[tuple[str, uuid.UUID, str, str | None]] = info.get(_LOGGED, [])
        # (end, changes) of each run of rows folded, in order from the first row.
        runs: list[tuple[int, tuple[RecordChange, ...]]] = info.setdefault(_FOLDED, [])
        folded = runs[-1][0] if runs else 0
        if since not in (0, folded):
            return record_changes(logged[since:])  # from a mark of its own
        if len(logged) > folded:
            runs.append((len(logged), record_changes(logged[folded:])))
        if since:
            return runs[-1][1] if runs[-1][0] > since else ()
        return merge_changes([changes for _end, changes in runs])

    def logged(self) -> int:
        """How many change-log rows this transaction has written (as of its last flush)."""
        return len(self.session.info.get(_LOGGED, ()))

    # -- delete and restore ----------------------------------------------------------

    def _owned_subtree(self, obj: Record) -> list[Record]:
        out: list[Record] = []
        stack = [obj]
        while stack:
            current = stack.pop()
            out.append(current)
            for ref in references_to(type(current).__tablename__):
                if not ref.owner or (ref.child is type(current) and ref.column == "supersedes_id"):
                    continue
                col = getattr(ref.child, ref.column)
                stack.extend(
                    self.session.scalars(
                        select(ref.child).where(col == current.id, ref.child.deleted_at.is_(None))
                    )
                )
        return out

    def delete_plan(self, obj: Record, *, cascade: bool = False) -> list[Record]:
        """The records a delete would tombstone; raises if anything blocks it."""
        self.session.flush()
        if cascade:
            doomed = self._owned_subtree(obj)
        else:
            doomed = [obj]
            # Link rows (an action's partners) are part of their owner: they go with it.
            for ref in references_to(type(obj).__tablename__):
                if ref.owner and getattr(ref.child, "is_link", False):
                    col = getattr(ref.child, ref.column)
                    doomed.extend(
                        self.session.scalars(
                            select(ref.child).where(col == obj.id, ref.child.deleted_at.is_(None))
                        )
                    )
        doomed_ids = {d.id for d in doomed}
        blockers: list[Record] = []
        for record in doomed:
            for ref in references_to(type(record).__tablename__):
                col = getattr(ref.child, ref.column)
                for child in self.session.scalars(
                    select(ref.child).where(col == record.id, ref.child.deleted_at.is_(None))
                ):
                    if child.id not in doomed_ids:
                        blockers.append(child)
        if blockers:
            raise DeleteBlockedError(
                f"Cannot delete {obj.describe()}: {_summarise(blockers)} still "
                f"{'refers' if len(blockers) == 1 else 'refer'} to it. "
                "Change or delete those first."
            )
        return doomed

    def delete(self, obj: Record, *, cascade: bool = False) -> list[Record]:
        """Tombstone ``obj`` (and, with ``cascade``, everything it owns).

        Refuses, changing nothing, while any live record still refers to it. Records
        are tombstoned dependents first, one flush each, so the change log lists them
        in an order whose reverse (undo) restores every parent before its children.
        """
        doomed = self.delete_plan(obj, cascade=cascade)
        now = utcnow()
        for record in reversed(parents_first(doomed)):
            record.deleted_at = now
            self.session.flush()
        return doomed

    def restore(self, obj: Record) -> None:
        obj.deleted_at = None
        self.session.flush()


def parents_first(records: list[Record]) -> list[Record]:
    """``records`` ordered so that each comes after every record of the list it refers to
    (an update after the update it supersedes, as well as after its action)."""
    by_id = {r.id: r for r in records}
    graph: dict[uuid.UUID, set[uuid.UUID]] = {}
    for record in records:
        referred: set[uuid.UUID] = set()
        for column in type(record).__table__.columns:
            if column.foreign_keys:
                value = getattr(record, column.key)
                if value in by_id and value != record.id:
                    referred.add(value)
        graph[record.id] = referred
    return [by_id[i] for i in TopologicalSorter(graph).static_order()]


def _summarise(records: Sequence[Record]) -> str:
    kinds = Counter(type(r).__tablename__.replace("_", " ") for r in records)
    parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(kinds.items())]
    examples = ", ".join(r.describe() for r in records[:3])
    return f"{' and '.join(parts)} ({examples}{', ...' if len(records) > 3 else ''})"


def history(session: Session, record_id: uuid.UUID) -> list[ChangeLog]:
    """The change log of one record, oldest first."""
    return list(
        session.scalars(
            select(ChangeLog).where(ChangeLog.record_id == record_id).order_by(ChangeLog.seq)
        )
    )


# --------------------------------------------------------------------------- replaying


def from_json_value(column_type: Any, value: Any) -> Any:
    """The column value a logged JSON value stands for (inverse of :func:`to_json_value`)."""
    from sqlalchemy import Date, DateTime, Enum, Float, Numeric, Uuid

    from ssp_desktop.domain.base import FinancialYearType, QuarterType, UTCDateTime

    if value is None:
        return None
    if isinstance(column_type, QuarterType):
        return Quarter.parse(value)
    if isinstance(column_type, FinancialYearType):
        return FinancialYear.parse(value)
    if isinstance(column_type, UTCDateTime | DateTime):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(column_type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column_type, Enum) and column_type.enum_class is not None:
        return column_type.enum_class(value)
    if isinstance(column_type, Uuid):
        return uuid.UUID(value)
    if isinstance(column_type, Numeric) and not isinstance(column_type, Float):
        return Decimal(value)
    return value
