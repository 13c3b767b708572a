"""The full-text index behind "search the whole plan": SQLite's FTS5, kept here.

One document per record that holds words a person may look for (an action, each
quarterly update's narrative, a measure, each value's note, funding, risks, outcomes,
organisations, people, plans, priorities and areas). :func:`reindex` rewrites the
documents of the records a transaction touched, inside that transaction, so the index
commits (or rolls back) with the change: ``Store.transaction`` calls it for every
write, whether it came from a form, an import, a bundle merge or undo. Migration 0008
makes the table and :func:`rebuild` fills it from what is already stored; since
migration 0013 documents are numbered in the order they are written, and
``search_index_ids`` says whose each is.

Nothing above ``store/`` sees FTS5: :func:`find` takes plain words and returns
:class:`Match` rows. On a database without FTS5 (PostgreSQL later) ``find`` falls back
to a portable case-insensitive LIKE over the same documents' source columns, slower
but correct, and :func:`reindex` has nothing to keep.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import RowWriter, Transaction
from ssp_desktop.domain.events import RecordChange
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    FundingAward,
    FundingStream,
    Measure,
    MeasureValue,
    Organisation,
    Outcome,
    OutcomeFramework,
    Person,
    Plan,
    Priority,
    PriorityArea,
    Risk,
)

TABLE = "search_index"
# FTS5 keeps its data in shadow tables named after the index ("search_index_data",
# ...); the schema check leaves every table with this prefix to this module.
TABLE_PREFIX = TABLE

CREATE_SQL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "kind UNINDEXED, record_id UNINDEXED, target_entity UNINDEXED, target_id UNINDEXED, "
    "plan_id UNINDEXED, period UNINDEXED, label UNINDEXED, title, body, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
)
DROP_SQL = f"DROP TABLE IF EXISTS {TABLE}"
# Which record each document is of (migration 0013): a document is found, replaced and
# removed by its rowid (FTS5's fast path; the index's own columns are not indexed),
# and rowids are given in the order documents are written (see _write_many).
IDS_TABLE = f"{TABLE}_ids"

# Fewer letters than this find nothing (the UI says to type more).
MIN_LETTERS = 2

_MARK_OPEN = "\x02"  # around matched words in snippets; never typed by a user
_MARK_CLOSE = "\x03"


class Document(NamedTuple):
    """What is indexed for one record, and what a match on it opens (a named tuple: an
    import makes ten thousand)."""

    kind: str
    record_id: uuid.UUID
    target_entity: str
    target_id: uuid.UUID
    plan_id: uuid.UUID | None
    period: str
    title: str
    body: str
    # What a result shows as its title when ``title`` is not searched (an update or a
    # value's note is found by its own words, not by its action's or measure's name).
    # Not stored for those: :func:`find` reads it from the action or measure as it is
    # when searched, so renaming an action rewrites its own document only, not every
    # update's (an import renaming 500 actions rewrote 2,000 documents).
    label: str = ""


@dataclass(frozen=True)
class Match:
    """One document that matched: what to open, and the matched words in context.

    ``title`` and ``snippet`` mark each matched word with :data:`MARK_OPEN` and
    :data:`MARK_CLOSE`, for the caller to show as it likes."""

    kind: str
    record_id: uuid.UUID
    target_entity: str
    target_id: uuid.UUID
    plan_id: uuid.UUID | None
    period: str
    title: str
    snippet: str


MARK_OPEN = _MARK_OPEN
MARK_CLOSE = _MARK_CLOSE


def _join(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)


def _live(record: Any) -> bool:
    return getattr(record, "deleted_at", None) is None


class _Related:
    """The records other records' documents show (an update's action, a value's
    measure, an area's priority), each read once however many documents show it.

    :func:`reindex` hands over a whole batch's in one query per class first (an import
    makes thousands of update documents from a few hundred actions); anything not
    handed over is read as it is asked for."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._held: dict[tuple[type[Record], uuid.UUID], Record | None] = {}

    def get(self, cls: type[Record], record_id: uuid.UUID) -> Any:
        key = (cls, record_id)
        try:
            return self._held[key]
        except KeyError:
            found = self.session.get(cls, record_id)
            self._held[key] = found
            return found

    def hold(self, records: Iterable[Record]) -> None:
        """Records already loaded (as :func:`_load` loads them: the session's own)."""
        for record in records:
            self._held[(type(record), record.id)] = record

    def load_parents(self, records: Iterable[Record]) -> None:
        """Read, one query per class, the records these records' documents show."""
        wanted: dict[type[Record], set[uuid.UUID]] = {}
        for record in records:
            parent = _PARENTS.get(type(record))
            if parent is not None:
                cls, column = parent
                parent_id = getattr(record, column)
                if (cls, parent_id) not in self._held:
                    wanted.setdefault(cls, set()).add(parent_id)
        for cls, ids in wanted.items():
            self.hold(_load(self.session, cls, sorted(ids)))
            for missing in ids:  # gone altogether: asked again, still gone
                self._held.setdefault((cls, missing), None)


def _plan_of_area(related: _Related, area: PriorityArea) -> uuid.UUID | None:
    priority = related.get(Priority, area.priority_id)
    return priority.plan_id if priority is not None else None


def _action_doc(related: _Related, r: Action) -> Document:
    return Document(
        "action", r.id, "action", r.id, r.plan_id, "", f"{r.ref} {r.title}", r.description
    )


def _name(ref: str, name: str) -> str:
    """How an action or a measure is named in a result: "PVP-01 Fund IDVAs"."""
    return f"{ref} {name}"


def _update_doc(related: _Related, r: ActionUpdate) -> Document | None:
    if not r.is_current or not r.narrative.strip():
        return None
    action = related.get(Action, r.action_id)
    if action is None or not _live(action):
        return None
    return Document(
        "update",
        r.id,
        "action",
        action.id,
        action.plan_id,
        r.quarter.label,
        "",
        r.narrative,
        label=_name(action.ref, action.title),
    )


def _measure_doc(related: _Related, r: Measure) -> Document:
    return Document(
        "measure",
        r.id,
        "measure",
        r.id,
        r.plan_id,
        "",
        f"{r.ref} {r.name}",
        _join(r.definition, r.data_source),
    )


def _value_doc(related: _Related, r: MeasureValue) -> Document | None:
    if not r.note.strip():
        return None
    measure = related.get(Measure, r.measure_id)
    if measure is None or not _live(measure):
        return None
    return Document(
        "value",
        r.id,
        "measure",
        measure.id,
        measure.plan_id,
        r.period.label,
        "",
        r.note,
        label=_name(measure.ref, measure.name),
    )


def _stream_doc(related: _Related, r: FundingStream) -> Document:
    return Document(
        "funding", r.id, "funding_stream", r.id, None, "", r.name, _join(r.funder, r.description)
    )


def _award_doc(related: _Related, r: FundingAward) -> Document:
    return Document(
        "funding",
        r.id,
        "funding_award",
        r.id,
        None,
        "",
        r.project,
        _join(r.recipient_name, r.description),
    )


def _risk_doc(related: _Related, r: Risk) -> Document:
    return Document(
        "risk",
        r.id,
        "risk",
        r.id,
        r.plan_id,
        "",
        f"{r.ref} {r.title}",
        _join(r.description, r.mitigation),
    )


def _framework_doc(related: _Related, r: OutcomeFramework) -> Document:
    name = f"{r.name} ({r.short_name})" if r.short_name else r.name
    return Document(
        "outcome", r.id, "outcome_framework", r.id, None, "", name, _join(r.owner, r.description)
    )


def _outcome_doc(related: _Related, r: Outcome) -> Document:
    return Document(
        "outcome",
        r.id,
        "outcome",
        r.id,
        None,
        "",
        f"{r.code} {r.title}",
        _join(r.group_name, r.description),
    )


def _org_doc(related: _Related, r: Organisation) -> Document:
    name = f"{r.name} ({r.short_name})" if r.short_name else r.name
    return Document("person", r.id, "organisation", r.id, None, "", name, r.sector)


def _person_doc(related: _Related, r: Person) -> Document:
    return Document("person", r.id, "person", r.id, None, "", r.name, _join(r.role_title, r.email))


def _plan_doc(related: _Related, r: Plan) -> Document:
    return Document("plan", r.id, "plan", r.id, r.id, "", r.title, _join(r.vision, r.summary))


def _priority_doc(related: _Related, r: Priority) -> Document:
    return Document(
        "plan", r.id, "priority", r.id, r.plan_id, "", f"{r.code} {r.title}", r.description
    )


def _area_doc(related: _Related, r: PriorityArea) -> Document:
    return Document(
        "plan", r.id, "priority_area", r.id, _plan_of_area(related, r), "", r.title, r.description
    )


# Each indexed record class, how to make its document, and its searchable columns (for
# the portable fallback).
_Maker = Callable[[_Related, Any], Document | None]
SOURCES: dict[type[Record], tuple[_Maker, tuple[str, ...]]] = {
    Action: (_action_doc, ("ref", "title", "description")),
    ActionUpdate: (_update_doc, ("narrative",)),
    Measure: (_measure_doc, ("ref", "name", "definition", "data_source")),
    MeasureValue: (_value_doc, ("note",)),
    FundingStream: (_stream_doc, ("name", "funder", "description")),
    FundingAward: (_award_doc, ("project", "recipient_name", "description")),
    Risk: (_risk_doc, ("ref", "title", "description", "mitigation")),
    OutcomeFramework: (_framework_doc, ("name", "short_name", "owner", "description")),
    Outcome: (_outcome_doc, ("code", "title", "group_name", "description")),
    Organisation: (_org_doc, ("name", "short_name", "sector")),
    Person: (_person_doc, ("name", "role_title", "email")),
    Plan: (_plan_doc, ("title", "vision", "summary")),
    Priority: (_priority_doc, ("code", "title", "description")),
    PriorityArea: (_area_doc, ("title", "description")),
}
_BY_TABLE: dict[str, type[Record]] = {cls.__tablename__: cls for cls in SOURCES}
# What names a result whose document has no title (Document.label), by its target.
_NAMES: dict[str, tuple[type[Record], Any]] = {
    "action": (Action, Action.title),
    "measure": (Measure, Measure.name),
}
# A record whose plan and liveness show in other records' documents (an action's in its
# updates'): those are rewritten when it is deleted, restored or moved to another plan.
# Only those that can have a document are read (a superseded update or a value without
# a note has none, and lost any it had when it changed), and only the columns their
# documents are made from: deleting a few hundred actions touches thousands of update
# documents, and loading those as records cost more than making the documents.
_DEPENDANTS: dict[type[Record], tuple[type[Record], str, ColumnElement[bool], tuple[str, ...]]] = {
    Action: (
        ActionUpdate,
        "action_id",
        ActionUpdate.is_current.is_(True),
        ("id", "action_id", "is_current", "narrative", "quarter", "deleted_at"),
    ),
    Measure: (
        MeasureValue,
        "measure_id",
        MeasureValue.note != "",
        ("id", "measure_id", "note", "period", "deleted_at"),
    ),
}
# The record whose words a record's document shows, by the column that names it.
_PARENTS: dict[type[Record], tuple[type[Record], str]] = {
    ActionUpdate: (Action, "action_id"),
    MeasureValue: (Measure, "measure_id"),
    PriorityArea: (Priority, "priority_id"),
}


def has_index(session: Session) -> bool:
    """True on SQLite (the index is kept); False elsewhere (``find`` scans instead)."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"


def _document(related: _Related, record: Record) -> Document | None:
    return _make(related, type(record), record)


def _make(related: _Related, cls: type[Record], record: Any) -> Document | None:
    """``record``: a record of ``cls``, or a row of the columns its document needs."""
    if not _live(record):
        return None
    maker, _columns = SOURCES[cls]
    return maker(related, record)


def _write_many(
    session: Session,
    docs: dict[uuid.UUID, Document | None],
    fresh: Collection[uuid.UUID] = frozenset(),
    indexer: Indexer | None = None,
) -> None:
    """Replace the documents of these records (None: remove it), one executemany for
    the removals and one for the new documents, however many records a change touched.

    ``fresh``: records created in the transaction being indexed, which have no document
    to remove yet (an import's new records are most of what it touches).

    A document's rowid is given when it is written, one more than the highest in the
    index, and :data:`IDS_TABLE` says which record's document it is. Written in
    ascending rowid order, a transaction's documents are appended: FTS5 keeps its
    documents' text and sizes in tables keyed by rowid, and rowids made from the
    record ids (as before migration 0013) scattered an import's ten thousand new
    documents over every page of those tables, so that its write-ahead log carried most
    of the index again (34 MB against 11 MB, and a third of a second, for a 10,000-change
    bundle). FTS5 also gathers a transaction's new postings in memory in rowid order;
    a rowid lower than the last one written makes it write them out as a segment of
    their own first, and merging thousands of those was once most of an import's cost
    for its index."""
    if not docs:
        return
    # Rows as tuples, in _COLUMNS' order, handed to the driver as they are: SQLAlchemy's
    # per-row parameter processing for an import's ten thousand documents cost nearly
    # as much as FTS5's own writing of them.
    wanted: dict[uuid.UUID, tuple[Any, ...] | None] = {
        record_id: (
            (
                doc.kind,
                doc.record_id.hex,
                doc.target_entity,
                doc.target_id.hex,
                doc.plan_id.hex if doc.plan_id else "",
                doc.period,
                doc.title,  # the label column: see Document.label
                doc.title,
                doc.body,
            )
            if doc is not None
            else None
        )
        for record_id, doc in docs.items()
    }
    stored = _stored(session, [r for r in docs if r not in fresh])
    # A document already as it should be is left alone: most of what an import or a
    # merge changes (a date, a RAG rating, a figure) is not in any document, and FTS5
    # pays for a removal and an insertion by re-reading and re-tokenizing the text.
    removed = sorted(
        (rowid, record_id) for record_id, (rowid, row) in stored.items() if wanted[record_id] != row
    )
    rows = [
        (record_id, row)
        for record_id, row in wanted.items()
        if row is not None and (record_id not in stored or stored[record_id][1] != row)
    ]
    connection = session.connection()
    if removed:
        connection.exec_driver_sql(
            f"DELETE FROM {TABLE} WHERE rowid = ?", [(rowid,) for rowid, _r in removed]
        )
        connection.exec_driver_sql(
            f"DELETE FROM {IDS_TABLE} WHERE record_id = ?",
            [(record_id.bytes,) for _rowid, record_id in removed],
        )
    if rows:
        first = indexer.rowids(len(rows)) if indexer is not None else _last_rowid(connection) + 1
        numbered = list(enumerate(rows, start=first))
        writes = [
            (_INSERT_DOCS, [(rowid, *row) for rowid, (_id, row) in numbered]),
            (_INSERT_IDS, [(record_id.bytes, rowid) for rowid, (record_id, _row) in numbered]),
        ]
        for sql, values in writes:
            # A bulk transaction's insert thread writes them while the import goes on.
            if indexer is None or not indexer.writer.write(sql, values):
                connection.exec_driver_sql(sql, values)


def _last_rowid(connection: Any) -> int:
    """The index's highest rowid (0 when empty): FTS5 finds it by reading its documents
    backwards, one step."""
    last = connection.exec_driver_sql(
        f"SELECT rowid FROM {TABLE} ORDER BY rowid DESC LIMIT 1"
    ).scalar()
    return int(last or 0)


_COLUMNS = ("kind", "record_id", "target_entity", "target_id", "plan_id", "period", "label",
            "title", "body")  # fmt: skip
_INSERT_DOCS = (
    f"INSERT INTO {TABLE} (rowid, {', '.join(_COLUMNS)}) VALUES (?{', ?' * len(_COLUMNS)})"
)
_INSERT_IDS = f"INSERT INTO {IDS_TABLE} (record_id, doc) VALUES (?, ?)"


def _stored(
    session: Session, record_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, tuple[Any, ...]]]:
    """The stored documents of these records: each one's rowid and its row, as
    :func:`_write_many` writes it."""
    found: dict[uuid.UUID, tuple[int, tuple[Any, ...]]] = {}
    listed = ", ".join(f"d.{c}" for c in _COLUMNS)
    connection = session.connection()
    for first in range(0, len(record_ids), 500):
        chunk = [r.bytes for r in record_ids[first : first + 500]]
        for row in connection.exec_driver_sql(
            f"SELECT i.record_id, d.rowid, {listed} FROM {IDS_TABLE} AS i "
            f"JOIN {TABLE} AS d ON d.rowid = i.doc "
            f"WHERE i.record_id IN ({', '.join('?' * len(chunk))})",
            tuple(chunk),
        ):
            found[uuid.UUID(bytes=row[0])] = (row[1], tuple(row[2:]))
    return found


def _load(session: Session, cls: type[Record], ids: list[uuid.UUID]) -> list[Record]:
    """Records by id: those the session holds as stored (the transaction has just
    written them, and flushed), the rest in a few queries (a big import touches
    thousands). A query would hand back the same held objects, after reading and
    converting their rows again."""
    found: list[Record] = []
    missing: list[uuid.UUID] = []
    identity_map = session.identity_map
    for record_id in ids:
        held = identity_map.get((cls, (record_id,), None))
        if held is not None and not instance_state(held).expired_attributes:
            found.append(held)
        else:
            missing.append(record_id)
    for first in range(0, len(missing), 500):
        found.extend(session.scalars(select(cls).where(cls.id.in_(missing[first : first + 500]))))
    return found


def reindex(
    session: Session, touched: Iterable[RecordChange], indexer: Indexer | None = None
) -> None:
    """Rewrite the documents of the records a transaction touched (and of records whose
    documents carry their plan and liveness: an action's updates). Each document is
    made afresh and compared with the stored one: only those that differ are written
    (``indexer``: handed to its transaction's insert thread to write)."""
    if not has_index(session):
        return
    wanted: list[tuple[type[Record], RecordChange]] = []
    by_class: dict[type[Record], list[uuid.UUID]] = {}
    # Created in this transaction: the index is written once, as it commits, so no
    # document of theirs exists yet.
    fresh: set[uuid.UUID] = set()
    for change in touched:
        cls = _BY_TABLE.get(change.entity)
        if cls is not None:
            wanted.append((cls, change))
            by_class.setdefault(cls, []).append(change.record_id)
            if "create" in change.ops:
                fresh.add(change.record_id)
    # Loaded together and held here, so each is read once, not once per record.
    records = {r.id: r for cls, ids in by_class.items() for r in _load(session, cls, ids)}
    related = _Related(session)
    related.hold(records.values())
    parents: dict[type[Record], list[uuid.UUID]] = {}
    for cls, change in wanted:
        # Their documents carry its plan and exist only while it is live; its name is
        # read when a search shows them (Document.label), so a rename leaves them be.
        if cls in _DEPENDANTS and (
            change.fields & {"plan_id", "deleted_at"}
            or "delete" in change.ops
            or "restore" in change.ops
        ):
            parents.setdefault(cls, []).append(change.record_id)
    # (class, row) pairs: a row has the record's attributes its document is made from.
    # Read as plain rows on the transaction's connection (everything is flushed by now):
    # the same columns, converted by their types, without the ORM's statement handling.
    children: list[tuple[type[Record], Any]] = []
    connection = session.connection() if parents else None
    for parent_cls, parent_ids in parents.items():
        assert connection is not None
        child_cls, column, can_show, made_from = _DEPENDANTS[parent_cls]
        table = child_cls.__table__
        listed = [table.c[name] for name in made_from]
        for first in range(0, len(parent_ids), 500):
            for row in connection.execute(
                select(*listed).where(
                    table.c[column].in_(parent_ids[first : first + 500]), can_show
                )
            ):
                children.append((child_cls, row))
    related.load_parents(records.values())  # the children's parents are among them
    # Made first and written together: nothing here changes what they are made from.
    docs: dict[uuid.UUID, Document | None] = {}
    for _cls, change in wanted:
        record = records.get(change.record_id)
        docs[change.record_id] = _document(related, record) if record else None
    for child_cls, row in children:
        _parent_cls, column = _PARENTS[child_cls]
        parent = records.get(getattr(row, column))
        docs[row.id] = _make(related, child_cls, row) if parent else None
    _write_many(session, docs, fresh, indexer)


class Indexer:
    """The search index kept up with a bulk transaction as it goes, a batch at a time.

    :func:`reindex` at the commit makes the documents of everything the transaction
    touched, and then FTS5 reads and tokenizes them all, with nothing left to overlap
    that work. A bulk transaction on a SQLite file (an import) has one of these in place
    instead (``changes.AFTER_BATCH``): each time its writer says a batch is written
    (``Transaction.batch_written``), the documents of what that batch touched are made
    and their rows handed to the transaction's insert thread (``changes.ROW_WRITER``,
    store/background.py), which writes them while the import judges and builds its next
    batch. At the commit only what came after the last batch is left to index.

    The index comes out as one :func:`reindex` at the commit makes it: a document is
    made from its record, and from its parent's plan and liveness (``_PARENTS``), and
    a change to those rewrites the parent's children (``_DEPENDANTS``) in the batch
    that makes it; a record touched again in a later batch has its document made afresh
    and compared with the one written, as :func:`reindex` compares with the stored one.
    Only rowids can differ, where a later batch rewrites a document (it is appended)."""

    def __init__(self, writer: RowWriter, connection: Any) -> None:
        self.writer = writer
        self._indexed = 0  # change-log rows whose records are indexed
        # Read as the transaction begins, before any insert is handed to the thread (a
        # read waits for those). It holds SQLite's writer lock: nobody else adds any.
        self._next_rowid = _last_rowid(connection) + 1

    def __call__(self, tx: Transaction) -> None:
        """Index what the transaction has touched since the last call."""
        touched = tx.changes(since=self._indexed)
        self._indexed = tx.logged()
        reindex(tx.session, touched, self)

    def rowids(self, count: int) -> int:
        """The first of ``count`` new documents' rowids (one more than any before)."""
        first = self._next_rowid
        self._next_rowid += count
        return first


# store_meta key set by migration 0008: fill the index once the schema is at its head.
REBUILD_KEY = "search_index_rebuild"


def rebuild(session: Session) -> int:
    """Empty the index and fill it from every stored record; returns the documents made."""
    session.execute(text(f"DELETE FROM {TABLE}"))
    session.execute(text(f"DELETE FROM {IDS_TABLE}"))
    docs: dict[uuid.UUID, Document | None] = {}
    related = _Related(session)
    for cls in SOURCES:
        for record in session.scalars(select(cls)):
            doc = _document(related, record)
            if doc is not None:
                docs[record.id] = doc
    # Written together (see _write_many) into the emptied index, each class's in turn.
    _write_many(session, docs, fresh=docs.keys())
    return len(docs)


# -------------------------------------------------------------------------- finding

_WORD = re.compile(r"\w+", re.UNICODE)


def words(typed: str) -> list[str]:
    """The words of what was typed (FTS5's own syntax is never passed through)."""
    return _WORD.findall(typed)


def find(
    session: Session, typed: str, *, plan_id: uuid.UUID | None = None, limit: int = 60
) -> list[Match]:
    """Documents holding every word typed (the last one as a prefix, as one types),
    best first. ``plan_id`` keeps to one plan's records and the partnership-wide ones
    (people, funding, outcomes); None searches every plan."""
    terms = words(typed)
    if len("".join(terms)) < MIN_LETTERS:
        return []  # one letter matches most of a region's plans: nothing worth ranking
    if len(terms) > 1 and len(terms[-1]) < MIN_LETTERS:
        # "domestic a": the next word has only begun; its one letter would match nearly
        # every word. Show what the finished words find until it has two.
        terms = terms[:-1]
    if not has_index(session):
        return _scan(session, terms, plan_id=plan_id, limit=limit)
    query = (" ".join(f'"{t}"' for t in terms[:-1]) + f' "{terms[-1]}"*').strip()
    # Titles first (what a person most likely means), then the words in the text.
    found: dict[uuid.UUID, Match] = {}
    for match in (f"title : ({query})", query):
        for hit in _ranked(session, match, plan_id, limit):
            found.setdefault(hit.record_id, hit)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


# How many matching documents are ranked. A word in most of a region's documents
# ("quarter") matches tens of thousands, and ranking them all took a tenth of a second a
# keystroke; past this many, matches are shown newest first (the index's own order
# backwards: documents are numbered as they are written, so the latest quarter's words
# come first and no sorting is needed) until more letters narrow them.
RANKED = 1500
# bm25 over the columns: the unindexed ones weigh nothing, a word in the title four
# times a word in the text.
RANK_FUNCTION = "bm25(0, 0, 0, 0, 0, 0, 0, 4.0, 1.0)"


def _ranked(session: Session, query: str, plan_id: uuid.UUID | None, limit: int) -> list[Match]:
    where = f"{TABLE} MATCH :query"
    params: dict[str, object] = {"query": query, "limit": limit}
    if plan_id is not None:
        where += " AND (plan_id = :plan OR plan_id = '')"
        params["plan"] = plan_id.hex
    many = session.execute(
        text(f"SELECT count(*) FROM (SELECT rowid FROM {TABLE} WHERE {where} LIMIT :cap)"),
        {**params, "cap": RANKED + 1},
    ).scalar_one()
    if not many:
        return []
    order = "ORDER BY rowid DESC "
    if many <= RANKED:
        # FTS5 sorts by its own rank column inside the index, so SQLite's sorter never
        # carries the result columns: the highlight and snippet are made only for the
        # rows shown, not for every match (ordering by bm25() made both for up to
        # RANKED rows to show 60).
        where += " AND rank MATCH :rank"
        params["rank"] = RANK_FUNCTION
        order = "ORDER BY rank "
    rows = session.execute(
        text(
            f"SELECT kind, record_id, target_entity, target_id, plan_id, period, label, "
            f"highlight({TABLE}, 7, :open, :close), "
            f"snippet({TABLE}, 8, :open, :close, '…', 12) "
            f"FROM {TABLE} WHERE {where} {order}LIMIT :limit"
        ),
        {**params, "open": _MARK_OPEN, "close": _MARK_CLOSE},
    ).all()
    found = [
        Match(
            kind,
            uuid.UUID(record_id),
            target_entity,
            uuid.UUID(target_id),
            uuid.UUID(plan) if plan else None,
            period,
            title or label,
            snippet,
        )
        for kind, record_id, target_entity, target_id, plan, period, label, title, snippet in rows
    ]
    return _named(session, found)


def _named(session: Session, matches: list[Match]) -> list[Match]:
    """Matches with no title of their own (an update, a value's note) named by their
    action or measure as it is now (:attr:`Document.label`), one query per kind."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for match in matches:
        if not match.title and match.target_entity in _NAMES:
            wanted.setdefault(match.target_entity, set()).add(match.target_id)
    if not wanted:
        return matches
    names: dict[uuid.UUID, str] = {}
    for entity, ids in wanted.items():
        cls, name_column = _NAMES[entity]
        for record_id, ref, name in session.execute(
            select(cls.id, cls.ref, name_column).where(cls.id.in_(sorted(ids)))  # type: ignore[attr-defined]
        ):
            names[record_id] = _name(ref, name)
    return [
        dataclasses.replace(m, title=names.get(m.target_id, "")) if not m.title else m
        for m in matches
    ]


def _mark(textual: str, terms: Sequence[str]) -> str:
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    return pattern.sub(lambda m: f"{_MARK_OPEN}{m.group(0)}{_MARK_CLOSE}", textual)


def _scan(
    session: Session, terms: list[str], *, plan_id: uuid.UUID | None, limit: int
) -> list[Match]:
    """The portable fallback: every word somewhere in a record's searchable columns."""
    found: list[Match] = []
    related = _Related(session)
    for cls, (_maker, columns) in SOURCES.items():
        stmt = select(cls)
        for term in terms:
            stmt = stmt.where(or_(*(getattr(cls, c).ilike(f"%{term}%") for c in columns)))
        for record in session.scalars(stmt.limit(limit)):
            doc = _document(related, record)
            if doc is None or (plan_id is not None and doc.plan_id not in (None, plan_id)):
                continue
            body = doc.body if any(t.lower() in doc.body.lower() for t in terms) else ""
            found.append(
                Match(
                    doc.kind,
                    doc.record_id,
                    doc.target_entity,
                    doc.target_id,
                    doc.plan_id,
                    doc.period,
                    _mark(doc.title, terms) if doc.title else doc.label,
                    _mark(body[:200], terms),
                )
            )
    return found[:limit]
