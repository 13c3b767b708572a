"""Declarative base, portable column types and the mixins every record shares.

Everything here must work unchanged on PostgreSQL (DESIGN.md section 3): UUIDs use
SQLAlchemy's portable ``Uuid`` type, timestamps are stored as naive UTC and handed
back timezone-aware, quarters are stored as their canonical text ("2023/24 Q2"),
which sorts correctly as a string on any database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Self

from sqlalchemy import (
    DateTime,
    Double,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    Uuid,
    inspect,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.attributes import instance_state

from ssp_desktop.domain import ids
from ssp_desktop.domain.periods import FinancialYear, Quarter

# Deterministic constraint names: Alembic needs them to alter constraints on SQLite
# (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_record_id() -> uuid.UUID:
    """A new record's id (``domain/ids.py``): a random UUID."""
    return ids.new_id()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, naive UTC in the column."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw text from a hand-edited or foreign store
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]


class QuarterType(TypeDecorator[Quarter]):
    """A financial quarter stored as its label, e.g. "2023/24 Q2"."""

    impl = String(10)
    cache_ok = True

    def process_bind_param(self, value: Quarter | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = Quarter.parse(value)
        return value.label

    def process_result_value(self, value: str | None, dialect: Dialect) -> Quarter | None:
        return None if value is None else Quarter.parse(value)


class FinancialYearType(TypeDecorator[FinancialYear]):
    """A financial year stored as its label, e.g. "2023/24"."""

    impl = String(7)
    cache_ok = True

    def process_bind_param(self, value: FinancialYear | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = FinancialYear.parse(value)
        return value.label

    def process_result_value(self, value: str | None, dialect: Dialect) -> FinancialYear | None:
        return None if value is None else FinancialYear.parse(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's declared class attribute
        uuid.UUID: Uuid(as_uuid=True),
        float: Double(),
        dt.datetime: UTCDateTime(),
        Quarter: QuarterType(),
        FinancialYear: FinancialYearType(),
    }


_COLUMN_KEYS: dict[type[Any], frozenset[str]] = {}
# Record class -> its class manager, once a record of it has been made the ordinary way.
_MANAGERS: dict[type[Any], Any] = {}


def _column_keys(cls: type[Any]) -> frozenset[str]:
    """The mapped column attributes of a record class (not its relationships)."""
    keys = _COLUMN_KEYS.get(cls)
    if keys is None:
        keys = frozenset(attr.key for attr in inspect(cls).column_attrs)
        _COLUMN_KEYS[cls] = keys
    return keys


class Record(Base):
    """A record users create and edit: UUID key, timestamps, tombstone, change-logged.

    ``deleted_at`` makes a deletion a tombstone rather than a row removal, because
    sync must be able to tell a lead that a record has gone (DESIGN.md section 4).
    ``version`` counts the record's changes on this copy (never sent in a bundle).
    """

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_record_id)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Optimistic concurrency: one more on every logged change of the record, whoever
    # makes it (domain/changes.py), so a writer can tell the record moved since it read
    # it (services.core.edit compares what the editor read, field by field).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    def __init__(self, **fields: Any) -> None:
        # The id is made where the record is created, so children built in the same
        # transaction can point at it before anything is flushed.
        if "id" not in fields:  # (not setdefault: that would make an id to throw away)
            fields["id"] = ids.new_id()
        if fields.keys() <= _column_keys(type(self)):
            # A new record belongs to no session yet, so the attribute events of the
            # declarative constructor have nothing to do for plain columns (an INSERT
            # writes what the record holds); skipping them is most of what building
            # thousands of records in an import cost. Relationships, and names that are
            # not columns (refused by the constructor), still take the ordinary path.
            self.__dict__.update(fields)
        else:
            super().__init__(**fields)

    @classmethod
    def new(cls, **fields: Any) -> Self:
        """``cls(**fields)``, for a batch of thousands (an import): a record of plain
        columns is made as the mapper makes a loaded one (its state, then its values)
        rather than through the constructor's init event, which only makes sure the
        mappers are configured (they are, once one record exists). Anything else (a
        relationship, a name that is no column) goes to the constructor."""
        manager = _MANAGERS.get(cls)
        if manager is None or not fields.keys() <= _column_keys(cls):
            record = cls(**fields)
            _MANAGERS[cls] = instance_state(record).manager
            return record
        if "id" not in fields:
            fields["id"] = ids.new_id()
        record = manager.new_instance()
        record.__dict__.update(fields)
        return record

    # Human label used in messages ("action PVP-01"); subclasses override.
    def describe(self) -> str:
        return f"{type(self).__name__.lower()} {self.id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
