"""The write path every service shares: the ``@service`` mark, the invariant registry,
and the four generic operations (create, edit, delete, restore).

A record changes only inside a function marked :func:`service`; anywhere else the
store refuses the write (``domain.changes.governed``), so no importer, dialog or merge
can go around the rules. Each aggregate module registers its invariants here with
:func:`invariant`; :func:`create` and :func:`edit` run them for every field they set,
so a form, a spreadsheet row and a bundle change are refused with the same message.

Speed for importers comes from the transaction's lookups, not from skipping rules:
uniqueness checks read a per-transaction index of the scope's live values, loaded once
and kept up to date by the writes made here (they are the only writes there are).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Integer, inspect, select
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import instance_state

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction, governed
from ssp_desktop.domain.errors import (
    ChangedSinceReadError,
    DeleteConflictError,
    DomainError,
    EditConflictError,
    FieldConflict,
)
from ssp_desktop.domain.records import ChangeLog, Person
from ssp_desktop.domain.validation import (
    MAX_INTEGER,
    ValidationError,
    check_date_in_range,
    check_text,
    check_whole_in_range,
    format_number,
    text_limit,
)
from ssp_desktop.services import authority

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R", bound=Record)

# (session, record, the value about to be written) -> None, or ValidationError.
Rule = Callable[[Session, Any, Any], None]

_RULES: dict[tuple[type[Record], str], list[Rule]] = {}
_BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "deleted_at", "version"})


def service(fn: F) -> F:
    """Mark a domain operation (its first argument is the Transaction): while it runs,
    that transaction may change records."""

    @functools.wraps(fn)
    def run(tx: Transaction, *args: Any, **kwargs: Any) -> Any:
        with governed(tx.session):
            return fn(tx, *args, **kwargs)

    return cast(F, run)


def invariant(
    cls: type[Record], *fields: str, whole_record: bool = False
) -> Callable[[Rule], Rule]:
    """Register ``rule`` as a check of ``cls``'s ``fields`` (decorator).

    ``whole_record``: the rule judges the record as it is, whatever the value of the
    field it is asked about (a published quarter's lock): judging a new record's fields
    together (:func:`check_record`), it is asked once, at the first of its fields the
    record sets, rather than again for each (the answer could not change)."""

    def register(rule: Rule) -> Rule:
        for name in fields:
            _RULES.setdefault((cls, name), []).append(rule)
        if whole_record:
            _WHOLE_RECORD.add(rule)
        _FIELD_RULES.clear()
        _FIELDS.clear()
        return rule

    return register


# Rules registered with ``whole_record``.
_WHOLE_RECORD: set[Rule] = set()


def rules_for(cls: type[Record], field: str) -> list[Rule]:
    return _RULES.get((cls, field), [])


def label(cls: type[Record], field: str) -> str:
    """The field's name as the editors show it ("Ref", "Due date")."""
    column = cls.__table__.columns.get(field)
    named = column.info.get("label") if column is not None else None
    return str(named or field.removesuffix("_id").replace("_", " ").capitalize())


# The order of a record among its siblings: far more than any list will hold, far less
# than would overflow a column on any database.
MAX_POSITION = 1_000_000


def check_value(cls: type[Record], column: ColumnElement[Any], value: Any) -> None:
    """The rules every field of its type obeys, whoever writes it: text fits its field
    and holds no control characters, a date is one the plan can hold, a whole number
    fits the column on every database. The label is made only when a rule is broken."""
    if isinstance(value, str):
        limit = text_limit(column)
        try:
            check_text("", value, limit)
        except ValidationError:
            check_text(label(cls, str(column.key)), value, limit)
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        try:
            check_date_in_range("", value)
        except ValidationError:
            check_date_in_range(label(cls, str(column.key)), value)
    elif (
        isinstance(value, int) and not isinstance(value, bool) and isinstance(column.type, Integer)
    ):
        low, high = (
            (0, MAX_POSITION)
            if getattr(column, "key", "") == "position"
            else (-MAX_INTEGER, MAX_INTEGER)
        )
        if not low <= value <= high:
            check_whole_in_range(label(cls, str(column.key)), value, low, high)


def check_field(
    session: Session, record: Record, field: str, value: Any, *, plan_judged: bool = False
) -> None:
    """Every rule of ``field``, as :func:`edit` would run them; ValidationError if broken.

    Forms call this to show the reason beside the field before writing anything.
    ``plan_judged``: the caller has judged another field of this record as it is now, so
    "its plan is not archived" is known and not asked again (a merge judging a record's
    fields one after another; see ``authority.check``).
    """
    cls = type(record)
    found = _FIELDS.get((cls, field))
    if found is None:
        column = cls.__table__.columns.get(field)
        if column is None or field in _BOOKKEEPING:
            raise DomainError(f"{cls.__name__} has no editable field {field!r}.")
        found = _FIELDS[(cls, field)] = (
            column,
            not column.nullable and column.default is None,
            tuple(rules_for(cls, field)),
        )
    column, required, rules = found
    authority.check(session, record, field, value, plan_judged=plan_judged)
    # A merge judges every field of every record it plans.
    if _needs_check(value):
        check_value(cls, column, value)
    if required and (value is None or (isinstance(value, str) and not value.strip())):
        raise ValidationError(f"{label(cls, field)} is required")
    for rule in rules:
        rule(session, record, value)


# (record class, field) -> its column, whether a value is required, and its rules:
# worked out once, and again whenever a rule is registered.
_FIELDS: dict[tuple[type[Record], str], tuple[Any, bool, tuple[Rule, ...]]] = {}


# (field, its column, its rules): one content field of a record class.
_FieldRules = tuple[str, Any, tuple[Rule, ...]]
# Record class -> its content fields' rules in the mapper's order, and whether any of
# those rules judges the whole record: worked out once, and again whenever a rule is
# registered.
_FIELD_RULES: dict[type[Record], tuple[tuple[_FieldRules, ...], bool]] = {}


def _field_rules(cls: type[Record]) -> tuple[tuple[_FieldRules, ...], bool]:
    found = _FIELD_RULES.get(cls)
    if found is None:
        mapper: Mapper[Any] = inspect(cls)
        fields = tuple(
            (attr.key, cls.__table__.columns[attr.key], tuple(rules_for(cls, attr.key)))
            for attr in mapper.column_attrs
            if attr.key not in _BOOKKEEPING
        )
        whole = any(rule in _WHOLE_RECORD for _k, _c, rules in fields for rule in rules)
        found = _FIELD_RULES[cls] = (fields, whole)
    return found


def _value_checked(kind: type[Any]) -> bool:
    """Whether :func:`check_value` has anything to check in a value of type ``kind``
    (text, a date, a whole number), by the same tests it makes."""
    return (
        issubclass(kind, str)
        or (issubclass(kind, dt.date) and not issubclass(kind, dt.datetime))
        or (issubclass(kind, int) and not issubclass(kind, bool))
    )


# Value type -> _value_checked(type): a record's ids, flags, periods and figures pass
# check_value untouched, so they are not handed to it.
_CHECKED_TYPES: dict[type[Any], bool] = {}


def _needs_check(value: Any) -> bool:
    """Whether ``value`` is worth handing to :func:`check_value` (by its type)."""
    kind = type(value)
    needs = _CHECKED_TYPES.get(kind)
    if needs is None:
        needs = _CHECKED_TYPES[kind] = _value_checked(kind)
    return needs


def check_record(session: Session, record: Record) -> None:
    """Every rule of every field of a record about to be created."""
    authority.check(session, record, None)
    _check_fields(session, record)


def _check_fields(session: Session, record: Record) -> None:
    """Every field's rules of a record about to be created (after the authority's)."""
    cls = type(record)
    fields, whole = _field_rules(cls)
    # A record never stored holds every value it has in its __dict__ (one it does not
    # hold reads as None); a stored one (being restored) is read through its attributes.
    held = record.__dict__ if instance_state(record).key is None else None
    asked: set[Rule] | None = set() if whole else None
    for key, column, rules in fields:
        value = held.get(key) if held is not None else getattr(record, key)
        if value is None:
            continue
        if _needs_check(value):
            check_value(cls, column, value)
        for rule in rules:
            if asked is not None and rule in _WHOLE_RECORD:
                if rule in asked:
                    continue  # judged the record already, at an earlier field
                asked.add(rule)
            rule(session, record, value)


def draft(cls: type[R], values: Mapping[str, Any]) -> R:
    """A record to judge by the rules and throw away, never added to a session.

    ``values`` are put in place as SQLAlchemy puts a loaded row's, without the attribute
    events of the constructor (which would cost more than judging the record); an
    importer's preview and a merge's plan judge their rows with it.
    """
    make = _NEW_INSTANCE.get(cls)
    if make is None:
        mapper: Mapper[Any] = inspect(cls)
        make = _NEW_INSTANCE[cls] = mapper.class_manager.new_instance
    record: R = make()
    held = record.__dict__
    held.update(values)
    held.setdefault("deleted_at", None)
    return record


# Record class -> how its mapper makes an instance without running the constructor:
# looked up once (a merge drafts a record for every one it judges).
_NEW_INSTANCE: dict[type[Record], Callable[[], Any]] = {}


# --------------------------------------------------------------------------- generic writes


@service
def create(tx: Transaction, record: R) -> R:
    """Add a new record after checking every rule of its fields."""
    check_record(tx.session, record)
    tx.add(record)
    index_after_write(tx.session, record)
    return record


@service
def create_many(tx: Transaction, records: Sequence[R]) -> list[R]:
    """Add new records in order: what :func:`create` of each in turn does (each judged
    by every rule of its fields with those before it added, so the second of two
    records with one ref is refused), with the work they share done once: whose
    authority the transaction has, and each plan found not archived. An importer hands
    over thousands at a time.

    A record refused raises the error :func:`create` raises for it, and is not added,
    nor is any after it; those before it are, as by the calls to :func:`create` before
    it (``record in tx.session`` tells which). Whoever called either rolls the
    transaction back on the error, so nothing is written."""
    if not records:
        return []
    session = tx.session
    judge = authority.CreateCheck(session)  # asks what check() asks at the first record
    for record in records:
        judge(record)
        _check_fields(session, record)
        tx.add(record)
        index_after_write(session, record)
    return list(records)


@service
def edit(
    tx: Transaction,
    record: R,
    *,
    expected: Mapping[str, Any] | None = None,
    **fields: Any,
) -> R:
    """Change fields of a live record; each value is checked first, then written.

    A field that already holds the value is left alone (no change is logged).
    ``expected``: what the editor read of the fields it is writing (a form's shown
    values). If someone else has changed one of them since, the edit is refused with
    :class:`EditConflictError` (who, their value, yours) and nothing is written: the
    optimistic check that keeps a second writer's change from being overwritten
    silently. The record's row is locked for the rest of the transaction first (on
    SQLite the writer lock already is), so nobody can slip a change in after the check.
    """
    if expected:
        tx.session.refresh(record, with_for_update=True)
    if record.deleted_at is not None:
        raise DomainError(
            f"{record.describe().capitalize()} has been deleted, so it cannot be changed."
        )
    if expected:
        check_unchanged(
            tx.session, record, {k: v for k, v in expected.items() if k in fields}, fields
        )
    changed = {k: v for k, v in fields.items() if getattr(record, k, _MISSING) != v}
    if not changed:
        return record
    if len(changed) == 1:
        ((key, value),) = changed.items()
        check_field(tx.session, record, key, value)
        tx.update(record, **changed)
    else:
        # Fields are judged together (moving both dates past the old due date is one
        # valid change): each rule sees the record with the other new values and its
        # own field's old value (a rule about a change compares the two); on refusal
        # every field is put back as it was.
        before = {k: getattr(record, k) for k in changed}
        with tx.session.no_autoflush:
            try:
                for key, value in changed.items():
                    others = {k: v for k, v in changed.items() if k != key}
                    tx.update(record, **others, **{key: before[key]})
                    check_field(tx.session, record, key, value)
                tx.update(record, **changed)
            except Exception:
                tx.update(record, **before)
                raise
    index_after_write(tx.session, record)
    return record


@service
def delete(
    tx: Transaction,
    record: Record,
    *,
    cascade: bool = False,
    read_version: int | None = None,
) -> list[Record]:
    """Tombstone ``record`` (and, with ``cascade``, what it owns); refused while other
    live records refer to it. Who may change it (services/authority.py), then the rules
    registered for ``deleted_at`` (a published quarter's figures, services/locks.py),
    judge each record first.

    ``read_version``: the record's version when the editor read it. If another writer
    has changed it since, the delete is refused with :class:`DeleteConflictError`
    naming who (the record's row is locked first, as for :func:`edit`): nobody deletes
    what they have not seen."""
    if read_version is not None:
        check_version(tx, record, read_version)
    authority.check(tx.session, record, None)
    if any(field == "deleted_at" for _cls, field in _RULES):
        going = delete_plan(tx.session, record, cascade=cascade) if cascade else [record]
        for one in going:
            for rule in rules_for(type(one), "deleted_at"):
                rule(tx.session, one, None)
    doomed = tx.delete(record, cascade=cascade)
    for gone in doomed:
        index_forget(tx.session, gone)
    return doomed


def delete_plan(session: Session, record: Record, *, cascade: bool = False) -> list[Record]:
    """What :func:`delete` would tombstone, read-only; DeleteBlockedError (naming what
    still refers to it) if it would be refused. Lets an editor ask before it offers."""
    return Transaction(session).delete_plan(record, cascade=cascade)


@service
def restore(tx: Transaction, record: Record) -> Record:
    """Bring a tombstoned record back, checking its fields as if it were new."""
    if record.deleted_at is None:
        return record
    check_record(tx.session, record)
    tx.restore(record)
    index_after_write(tx.session, record)
    return record


_MISSING = object()

# An ``expected`` argument not given: the editor did not say what it read, so nothing
# is compared (an import, the sample writer). None is a reading: "it was blank".
NOT_READ: Any = object()


# --------------------------------------------------------------------------- several writers


def who_changed(session: Session, row: ChangeLog) -> str:
    """'Jane Lead (a bundle merge) on 4 Dec 2026 at 14:02', from a change-log row."""
    person = session.get(Person, row.person_id) if row.person_id is not None else None
    name = person.name if person is not None else row.actor
    source = row.source
    how = (
        "an undo"
        if source in ("undo", "redo")
        else "a bundle merge"
        if source.startswith("bundle:")
        else "a spreadsheet import"
        if source.startswith("import:")
        else "a conflict decision"
        if source.startswith("conflict")
        else ""
    )
    when = f"{row.at:%d %b %Y} at {row.at:%H:%M}"
    return f"{name}{f' ({how})' if how else ''} on {when}"


def in_sentence(name: str) -> str:
    """A field's label as a sentence names it: "due date", "RAG rating"."""
    return " ".join(w if w.isupper() else w.lower() for w in name.split())


def in_words(value: Any) -> str:
    """A field's value as a sentence quotes it: "(empty)", 7 Dec 2026, "the title"."""
    if _blank(value):
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"{value:%-d %b %Y}"
    shown = getattr(value, "label", None)
    if isinstance(shown, str):
        return shown
    if isinstance(value, enum.Enum):
        # A choice reads as the editors show it: "Amber", "Final".
        return str(value.value).replace("_", " ").capitalize()
    if isinstance(value, str):
        return f"\u201c{value}\u201d"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {in_words(v)}" for k, v in value.items())
    if isinstance(value, float):
        return format_number(value)  # as the grids show it: 71, not 71.0
    return str(getattr(value, "value", value))


def check_unchanged(
    session: Session, record: Record, read: Mapping[str, Any], writing: Mapping[str, Any]
) -> None:
    """Refuse (EditConflictError) if a field no longer holds what its editor ``read``
    and does not already hold what it would write."""
    check_read(session, type(record), record.id, record, read, writing)


def lock_for_check(tx: Transaction, record: Record | None) -> None:
    """Read ``record`` again with its row locked for the rest of the transaction
    (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's writer lock already serializes),
    so nobody can change it between a compare and the write that follows."""
    if record is not None and inspect(record).persistent:
        tx.session.refresh(record, with_for_update=True)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _same(a: Any, b: Any) -> bool:
    # An editor shows an absent record's fields as blanks: "" and None read the same.
    return bool(a == b) or (_blank(a) and _blank(b))


def _last_change(session: Session, record_id: Any, field: str | None) -> ChangeLog | None:
    query = select(ChangeLog).where(ChangeLog.record_id == record_id)
    if field is not None:
        query = query.where(ChangeLog.field == field)
    return session.scalar(query.order_by(ChangeLog.seq.desc()).limit(1))


def check_read(
    session: Session,
    cls: type[Record],
    record_id: Any,
    record: Record | None,
    read: Mapping[str, Any],
    writing: Mapping[str, Any],
    *,
    describe: str | None = None,
) -> None:
    """Refuse (EditConflictError) a write of ``writing`` when a field no longer holds
    what its editor ``read`` and does not already hold what would be written.

    Also for records with a derived id (a measure's value for a quarter, a year's
    target or allocation): ``record`` may be None or deleted, and then reads as blank,
    so a cell shown empty that someone has filled meanwhile, or one shown filled that
    someone has cleared, is a conflict too. ``describe`` names such a record in the
    message when there is none to ask."""
    live = record is not None and record.deleted_at is None
    for field, was in read.items():
        now = getattr(record, field) if live else None
        mine = writing.get(field)
        if _same(now, was) or _same(now, mine):
            continue
        row = _last_change(session, record_id, field) or _last_change(session, record_id, None)
        by = who_changed(session, row) if row is not None else "another writer"
        raise EditConflictError(
            FieldConflict(
                entity=cls.__tablename__,
                record_id=record_id,
                field=field,
                label=in_sentence(label(cls, field)),
                record=record.describe() if record is not None else (describe or "the record"),
                theirs=now,
                yours=mine,
                theirs_words=in_words(now),
                yours_words=in_words(mine),
                by=by,
            )
        )


def check_version(
    tx: Transaction,
    record: Record,
    read_version: int,
    *,
    error: type[ChangedSinceReadError] = DeleteConflictError,
) -> None:
    """Refuse (``error``: DeleteConflictError, or ChangedSinceReadError for another
    decision) when ``record`` has changed since its editor read it at ``read_version``:
    who changed it, and the last field they changed in words. The row is locked first."""
    lock_for_check(tx, record)
    if record.version == read_version:
        return
    session = tx.session
    row = _last_change(session, record.id, None)
    by = who_changed(session, row) if row is not None else "another writer"
    what = ""
    field = row.field if row is not None else None
    if field and field not in _BOOKKEEPING and hasattr(record, field):
        what = f"its {in_sentence(label(type(record), field))} is now " + in_words(
            getattr(record, field)
        )
    elif record.deleted_at is not None:
        what = "it has been deleted"
    raise error(record.describe(), by, what)


# --------------------------------------------------------------------------- lookups


@dataclass(frozen=True)
class _Scope:
    cls: type[Record]
    scope_field: str
    field: str


@dataclass
class _Keys:
    """One scope's live values: lower-cased value -> record id, and back."""

    by_key: dict[str, uuid.UUID]
    by_id: dict[uuid.UUID, str]

    def forget(self, record_id: uuid.UUID) -> None:
        key = self.by_id.pop(record_id, None)
        if key is not None and self.by_key.get(key) == record_id:
            del self.by_key[key]

    def put(self, record_id: uuid.UUID, key: str) -> None:
        self.forget(record_id)
        self.by_key[key] = record_id
        self.by_id[record_id] = key


_INDEX = "unique_index"


def _key(value: Any) -> str:
    return str(value).strip().lower()


def _indexes(session: Session) -> dict[_Scope, dict[Any, _Keys]]:
    found: dict[_Scope, dict[Any, _Keys]] = session.info.setdefault(_INDEX, {})
    return found


def live_keys(
    session: Session, cls: type[Record], scope_field: str, scope_id: Any, field: str
) -> dict[str, uuid.UUID]:
    """Lower-cased ``field`` -> id of the live ``cls`` records in one scope (one plan,
    one partnership), read once per transaction and kept current by the writes here."""
    by_scope = _indexes(session).setdefault(_Scope(cls, scope_field, field), {})
    found = by_scope.get(scope_id)
    if found is not None:
        return found.by_key
    column: Any = getattr(cls, field)
    rows = session.execute(
        select(cls.id, column).where(
            getattr(cls, scope_field) == scope_id, cls.deleted_at.is_(None)
        )
    ).all()
    keys = _Keys({}, {})
    for rid, value in rows:
        if value is not None:
            keys.put(rid, _key(value))
    by_scope[scope_id] = keys
    return keys.by_key


def index_after_write(session: Session, record: Record) -> None:
    for scope, by_scope in _indexes(session).items():
        if not isinstance(record, scope.cls):
            continue
        for keys in by_scope.values():
            keys.forget(record.id)
        home = by_scope.get(getattr(record, scope.scope_field))
        value = getattr(record, scope.field)
        if home is not None and value is not None and record.deleted_at is None:
            home.put(record.id, _key(value))


def index_forget(session: Session, record: Record) -> None:
    for scope, by_scope in _indexes(session).items():
        if isinstance(record, scope.cls):
            for keys in by_scope.values():
                keys.forget(record.id)


def unique_in(scope_field: str, scope_noun: str, field: str) -> Rule:
    """A rule: no other live record in the same plan / partnership / framework has this
    value of ``field`` (compared without regard to case)."""

    def rule(session: Session, record: Any, value: Any) -> None:
        if value is None:
            return
        scope_id = getattr(record, scope_field)
        keys = live_keys(session, type(record), scope_field, scope_id, field)
        holder = keys.get(_key(value))
        if holder is not None and holder != record.id:
            noun = type(record).__tablename__.replace("_", " ")
            raise ValidationError(
                f"Another {noun} in this {scope_noun} already has the "
                f"{field.replace('_', ' ')} {str(value).strip()}"
            )

    return rule
