"""The store as it will be once the writes planned so far are made.

A planner reads records through an :class:`Overlay` and records each write it decides
on it, so every later decision of the same merge (does this key clash, is that parent
live, would this change break a rule) sees the store as the import will have left it by
then, without anything being written.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Index, Table, UniqueConstraint, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.records import record_classes
from ssp_desktop.services import merge as merging
from ssp_desktop.sync import codec
from ssp_desktop.sync.merge_plan import references, same


@functools.cache
def _unique_keys(cls: type[Record]) -> list[tuple[list[str], bool, bool]]:
    """(columns, live rows only, current updates only) for each unique key of ``cls``."""
    table = cast(Table, cls.__table__)
    keys: list[tuple[list[str], bool, bool]] = []
    for idx in table.indexes:
        if isinstance(idx, Index) and idx.unique:
            where = str(idx.dialect_options["sqlite"].get("where", ""))
            keys.append(
                ([c.name for c in idx.columns], "deleted_at" in where, "is_current" in where)
            )
    for con in table.constraints:
        if isinstance(con, UniqueConstraint):
            keys.append(([c.name for c in con.columns], False, False))
    return keys


class Overlay:
    """The store as it will be once the writes planned so far are made."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.new: dict[uuid.UUID, tuple[type[Record], dict[str, Any]]] = {}
        self.fields: dict[uuid.UUID, dict[str, Any]] = {}
        self.state: dict[uuid.UUID, str] = {}  # "live" or "deleted"
        # (table, key columns, key values) -> id of a record planned for insertion
        self.new_keys: dict[tuple[str, tuple[str, ...], tuple[Any, ...]], uuid.UUID] = {}
        self.absent: set[uuid.UUID] = set()  # looked up and not in the store
        # Strong references: the session's identity map would let them go and re-query.
        self.loaded: dict[uuid.UUID, Record] = {}
        # (class, key columns) -> (the key values read, stored records by key values)
        self.keys_read: dict[
            tuple[type[Record], tuple[str, ...]],
            tuple[set[tuple[Any, ...]], dict[tuple[Any, ...], list[Record]]],
        ] = {}

    def preload(self, wanted: Mapping[str, Iterable[uuid.UUID]]) -> None:
        """Load these records in a few queries, so later lookups hit the identity map."""
        classes = record_classes()
        for entity, ids in wanted.items():
            self._load(classes[entity], ids)

    def _load(self, cls: type[Record], ids: Iterable[uuid.UUID]) -> None:
        id_list = [i for i in dict.fromkeys(ids) if i not in self.loaded and i not in self.absent]
        for first in range(0, len(id_list), 500):
            chunk = id_list[first : first + 500]
            for record in self.session.scalars(select(cls).where(cls.id.in_(chunk))):
                self.loaded[record.id] = record
            self.absent.update(i for i in chunk if i not in self.loaded)

    def preload_keys(self, cls: type[Record], rows: Sequence[Mapping[str, Any]]) -> None:
        """Read, a few queries per unique key, the stored records whose key values are
        those of ``rows`` (records about to be inserted), so :meth:`clash` asks the
        store once per key rather than once per record. The store does not change while
        a merge is planned, so what is read stays true."""
        table = cast(Table, cls.__table__)
        for cols, _live_only, current_only in _unique_keys(cls):
            wanted: set[tuple[Any, ...]] = set()
            for values in rows:
                if current_only and not values.get("is_current"):
                    continue
                key = tuple(values.get(c) for c in cols)
                if any(v is None for v in key):
                    continue
                try:
                    wanted.add(key)
                except TypeError:  # an unhashable value: clash asks the store for it
                    continue
            if not wanted:
                continue
            # Each key column IN the values it takes in a chunk of keys, and only the
            # ids and key columns read: a row-value IN of the whole keys cost several
            # times as much to build and to run (thousands of parameters, no use of
            # the index), and most keys of new records match nothing. A row holding
            # each column's value of some wanted key but not a wanted key as a whole
            # is left out here; the few records that do hold one are then loaded.
            ordered = list(wanted)
            columns = [table.c[c] for c in cols]
            holders: list[uuid.UUID] = []
            for first in range(0, len(ordered), 500):
                chunk = ordered[first : first + 500]
                where = [
                    column.in_(list(dict.fromkeys(k[i] for k in chunk)))
                    for i, column in enumerate(columns)
                ]
                for row in self.session.execute(select(table.c.id, *columns).where(*where)):
                    if tuple(row[1:]) in wanted:
                        holders.append(row[0])
            self._load(cls, holders)
            found: dict[tuple[Any, ...], list[Record]] = {}
            for record_id in dict.fromkeys(holders):
                record = self.loaded.get(record_id) or self.session.get(cls, record_id)
                if record is None:
                    continue
                self.loaded.setdefault(record_id, record)
                found.setdefault(tuple(getattr(record, c) for c in cols), []).append(record)
            self.keys_read[(cls, tuple(cols))] = (wanted, found)

    # -- reading -------------------------------------------------------------------

    def get(self, cls: type[Record], record_id: uuid.UUID) -> Record | None:
        if record_id in self.absent:
            return None
        found = self.loaded.get(record_id)
        if found is None:
            found = self.session.get(cls, record_id)
            if found is None:
                self.absent.add(record_id)
            else:
                self.loaded[record_id] = found
        return found

    def exists(self, cls: type[Record], record_id: uuid.UUID) -> bool:
        return record_id in self.new or self.get(cls, record_id) is not None

    def live(self, cls: type[Record], record_id: uuid.UUID) -> bool:
        if record_id in self.state:
            return self.state[record_id] == "live"
        if record_id in self.new:
            return True
        obj = self.get(cls, record_id)
        return obj is not None and obj.deleted_at is None

    def value(self, obj: Record, key: str) -> Any:
        planned = self.fields.get(obj.id, {})
        return planned[key] if key in planned else getattr(obj, key)

    def current(self, obj: Record) -> dict[str, Any]:
        return {k: self.value(obj, k) for k in codec.content_columns(type(obj))}

    def clash(
        self, cls: type[Record], record_id: uuid.UUID, values: Mapping[str, Any]
    ) -> tuple[list[str], uuid.UUID, bool] | None:
        """The first unique key on which a record with ``values`` would clash with
        another (as planned): its columns, the other record's id, and whether the key
        is "the current update of a quarter"."""
        for cols, live_only, current_only in _unique_keys(cls):
            if current_only and not values.get("is_current"):
                continue
            key = {c: values.get(c) for c in cols}
            if any(v is None for v in key.values()):
                continue
            if getattr(cls, "make_id", None) is not None and not live_only:
                continue  # the id is derived from this key: the same key is the same record
            candidates = self._stored_with(cls, cols, key, record_id)
            for other in candidates:
                if live_only and not self.live(cls, other.id):
                    continue
                if current_only and not self.value(other, "is_current"):
                    continue
                if all(same(self.value(other, c), v) for c, v in key.items()):
                    return cols, other.id, current_only
            other_id = self.new_keys.get((cls.__tablename__, tuple(cols), tuple(key.values())))
            if other_id is not None and other_id != record_id:
                return cols, other_id, current_only
        return None

    def _stored_with(
        self, cls: type[Record], cols: list[str], key: dict[str, Any], record_id: uuid.UUID
    ) -> Sequence[Record]:
        """Stored records other than ``record_id`` holding these key values."""
        read = self.keys_read.get((cls, tuple(cols)))
        values = tuple(key.values())
        if read is not None:
            wanted, found = read
            try:
                known = values in wanted
            except TypeError:
                known = False
            if known:
                return [r for r in found.get(values, ()) if r.id != record_id]
        table = cast(Table, cls.__table__)
        return self.session.scalars(
            select(cls).where(*(table.c[c] == v for c, v in key.items()), cls.id != record_id)
        ).all()

    def broken_rule(
        self,
        cls: type[Record],
        record_id: uuid.UUID,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any],
    ) -> str | None:
        """What the services' rules would say to writing ``after`` (see
        :func:`ssp_desktop.services.merge.broken_rule`).

        A reference to a record this merge adds, brings back or deletes is judged when
        the record is written, by the same rules: they read the store, which does not
        hold that record as it will be yet (the planner has checked it will exist).
        """
        unseen: set[str] = set()
        for key, parent_cls in references(cls):
            value = after.get(key)
            if value is None:
                continue
            if value in self.new or value in self.state:
                unseen.add(key)
                continue
            target = self.get(parent_cls, value)
            if target is None or target.deleted_at is not None:
                unseen.add(key)
        return merging.broken_rule(self.session, cls, record_id, before, after, unchecked=unseen)

    # -- planning ------------------------------------------------------------------

    def add_new(self, cls: type[Record], record_id: uuid.UUID, fields: dict[str, Any]) -> None:
        self.new[record_id] = (cls, fields)
        for cols, _live_only, current_only in _unique_keys(cls):
            if current_only and not fields.get("is_current"):
                continue
            key = tuple(fields.get(c) for c in cols)
            self.new_keys[(cls.__tablename__, tuple(cols), key)] = record_id
        merging.expect(self.session, cls, record_id, fields)

    def change(self, obj: Record, fields: Mapping[str, Any]) -> None:
        self.fields.setdefault(obj.id, {}).update(fields)
        if self.live(type(obj), obj.id):
            merging.expect(self.session, type(obj), obj.id, self.current(obj))

    def bring_back(self, obj: Record) -> None:
        self.state[obj.id] = "live"
        merging.expect(self.session, type(obj), obj.id, self.current(obj))

    def take_away(self, cls: type[Record], record_id: uuid.UUID) -> None:
        self.state[record_id] = "deleted"
        merging.expect_gone(self.session, cls, record_id)
