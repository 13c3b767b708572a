"""The plan's records as SQLAlchemy 2.0 typed mappings (DESIGN.md section 2).

Conventions the rest of the app relies on:

* every table but the change log and store metadata is a :class:`Record`: UUID key,
  ``created_at``/``updated_at``, a ``deleted_at`` tombstone;
* foreign keys marked ``info={"owner": True}`` are composition (an update belongs to
  its action): deleting the parent with ``cascade=True`` tombstones those children too.
  Every other reference blocks a delete while the referring record is live;
* uniqueness that users rely on (a ref within a plan) is a partial unique index over
  live rows, so a deleted action's ref can be reused; the WHERE clause is given for
  both SQLite and PostgreSQL;
* natural keys (a measure's value for a quarter, a target for a year, an allocation
  for a year) get ids derived from the key, so two people entering the same quarter
  make one record.

The annotations are evaluated as the classes are made (no ``from __future__ import
annotations``): SQLAlchemy reads each ``Mapped[...]``, and handing it objects spares it
parsing some 350 annotation strings every time the app starts.
"""

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import TextClause

from ssp_desktop.domain.base import Base, Record, utcnow
from ssp_desktop.domain.enums import (
    ActionStatus,
    Frequency,
    PackStatus,
    PlanStatus,
    Polarity,
    Rag,
    ToleranceMode,
    Unit,
    UpdateState,
    ValueStatus,
)
from ssp_desktop.domain.periods import FinancialYear, Quarter

# Namespace for ids derived from natural keys; fixed forever (changing it would split
# records that sync must see as the same).
NATURAL_KEY_NAMESPACE = uuid.UUID("5b0f3e54-7a43-4c1e-9a51-2f0c4f7f2d1a")
_NAMESPACE_BYTES = NATURAL_KEY_NAMESPACE.bytes

LIVE = text("deleted_at IS NULL")


def natural_id(kind: str, *parts: object) -> uuid.UUID:
    """The id of a record identified by a natural key (kind + parts)."""
    return uuid.uuid5(NATURAL_KEY_NAMESPACE, "/".join([kind, *map(str, parts)]))


def natural_id_hex(kind: str, *parts: object) -> str:
    """:func:`natural_id` as 32 hex digits, made without a ``uuid.UUID`` (the store
    check works out tens of thousands): a version 5 UUID, as ``uuid.uuid5`` makes it."""
    name = "/".join([kind, *map(str, parts)]).encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


def _enum(cls: type[Any]) -> Enum:
    # Store the enum's value (stable, readable) rather than its Python name; no native
    # database enum type so adding a value never needs an ALTER TYPE on PostgreSQL.
    return Enum(
        cls,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        validate_strings=True,
        length=20,
    )


def _fk(target: str, *, owner: bool = False, nullable: bool = False, indexed: bool = True) -> Any:
    # Deferred to commit: the unit of work may insert a child before its parent within
    # one transaction; integrity is what the committed state must have. ``indexed``:
    # False where another index of the table begins with this column, which serves the
    # same lookups (a second index is only written, never read: each import's rows
    # went into both).
    return mapped_column(
        ForeignKey(target, deferrable=True, initially="DEFERRED"),
        nullable=nullable,
        index=indexed,
        info={"owner": owner},
    )


# Partial unique indexes, each with its condition. The condition is given for SQLite
# here and for PostgreSQL when a store on a server is first opened
# (:func:`give_postgresql_conditions`): naming PostgreSQL's option here would load
# SQLAlchemy's PostgreSQL dialect, with every one of its drivers' modules, each time the
# app starts (a twentieth of a second), on laptops that never see a server.
_PARTIAL_INDEXES: list[tuple[Index, TextClause]] = []


def partial_unique(name: str, *cols: str, where: TextClause) -> Index:
    """A unique index over the rows that meet ``where``, on either engine."""
    index = Index(name, *cols, unique=True, sqlite_where=where)
    _PARTIAL_INDEXES.append((index, where))
    return index


def live_unique(name: str, *cols: str) -> Index:
    return partial_unique(name, *cols, where=LIVE)


def give_postgresql_conditions() -> None:
    """Give each partial unique index its condition on PostgreSQL too (the PostgreSQL
    backend calls this before it first connects; calling it again changes nothing)."""
    for index, where in _PARTIAL_INDEXES:
        index.dialect_options["postgresql"]["where"] = where


# --------------------------------------------------------------------------- partnership


class Partnership(Record):
    __tablename__ = "partnership"

    name: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    def describe(self) -> str:
        return f"partnership {self.name}"


class Organisation(Record):
    __tablename__ = "organisation"
    __table_args__ = (live_unique("uq_organisation_name", "partnership_id", "name"),)

    partnership_id: Mapped[uuid.UUID] = _fk("partnership.id", owner=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(40), default="")
    sector: Mapped[str] = mapped_column(String(60), default="")
    # Statutory "responsible authority" under the Crime and Disorder Act 1998.
    responsible_authority: Mapped[bool] = mapped_column(Boolean, default=False)

    def describe(self) -> str:
        return f"organisation {self.short_name or self.name}"


class Person(Record):
    __tablename__ = "person"

    partnership_id: Mapped[uuid.UUID] = _fk("partnership.id", owner=True)
    name: Mapped[str] = mapped_column(String(200))
    role_title: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[uuid.UUID | None] = _fk("organisation.id", nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), default=None)

    organisation: Mapped[Organisation | None] = relationship()

    def describe(self) -> str:
        return f"person {self.name}"


# --------------------------------------------------------------------------- frameworks


class OutcomeFramework(Record):
    __tablename__ = "outcome_framework"

    partnership_id: Mapped[uuid.UUID] = _fk("partnership.id", owner=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60), default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    def describe(self) -> str:
        return f"outcome framework {self.short_name or self.name}"


class Outcome(Record):
    __tablename__ = "outcome"
    __table_args__ = (live_unique("uq_outcome_code", "framework_id", "code"),)

    framework_id: Mapped[uuid.UUID] = _fk("outcome_framework.id", owner=True)
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    group_name: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    framework: Mapped[OutcomeFramework] = relationship()

    def describe(self) -> str:
        return f"outcome {self.code}"


# --------------------------------------------------------------------------- plan


def plan_period_label(start_year: FinancialYear, end_year: FinancialYear) -> str:
    """The way council papers write a plan's period: "2022-25"."""
    return f"{start_year.start}-{(end_year.start + 1) % 100:02d}"


class Plan(Record):
    __tablename__ = "plan"
    __table_args__ = (
        live_unique("uq_plan_title", "partnership_id", "title"),
        CheckConstraint("end_year >= start_year", name="period_order"),
    )

    partnership_id: Mapped[uuid.UUID] = _fk("partnership.id", owner=True)
    title: Mapped[str] = mapped_column(String(200))
    start_year: Mapped[FinancialYear]
    end_year: Mapped[FinancialYear]
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus), default=PlanStatus.DRAFT)
    in_force_from: Mapped[dt.date | None] = mapped_column(default=None)
    vision: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    # Why the status last changed when someone had to say (reopening an archived plan).
    status_reason: Mapped[str] = mapped_column(Text, default="")

    partnership: Mapped[Partnership] = relationship()

    @property
    def period_label(self) -> str:
        """The way council papers write a plan period: "2022-25"."""
        return plan_period_label(self.start_year, self.end_year)

    def describe(self) -> str:
        return f"plan {self.title}"


class PlanApproval(Record):
    """One step of a plan's approval trail: board, scrutiny, cabinet, council."""

    __tablename__ = "plan_approval"

    plan_id: Mapped[uuid.UUID] = _fk("plan.id", owner=True)
    body: Mapped[str] = mapped_column(String(200))
    meeting_date: Mapped[dt.date]
    decision_ref: Mapped[str] = mapped_column(String(60), default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    def describe(self) -> str:
        return f"approval by {self.body} on {self.meeting_date:%d %B %Y}"


class PlanFramework(Record):
    """A plan aligned to an external outcomes framework."""

    __tablename__ = "plan_framework"
    is_link: ClassVar[bool] = True
    __table_args__ = (live_unique("uq_plan_framework", "plan_id", "framework_id"),)

    plan_id: Mapped[uuid.UUID] = _fk("plan.id", owner=True)
    framework_id: Mapped[uuid.UUID] = _fk("outcome_framework.id")


class Priority(Record):
    __tablename__ = "priority"
    __table_args__ = (live_unique("uq_priority_code", "plan_id", "code"),)

    plan_id: Mapped[uuid.UUID] = _fk("plan.id", owner=True)
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    lead_person_id: Mapped[uuid.UUID | None] = _fk("person.id", nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    lead: Mapped[Person | None] = relationship()

    def describe(self) -> str:
        return f"priority {self.code}"


class PriorityArea(Record):
    __tablename__ = "priority_area"

    priority_id: Mapped[uuid.UUID] = _fk("priority.id", owner=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    priority: Mapped[Priority] = relationship()

    def describe(self) -> str:
        return f"priority area {self.title}"


class Action(Record):
    __tablename__ = "action"
    __table_args__ = (
        live_unique("uq_action_ref", "plan_id", "ref"),
        CheckConstraint(
            "due_date IS NULL OR start_date IS NULL OR due_date >= start_date",
            name="due_after_start",
        ),
    )

    # plan_id repeats what the area implies so that "ref unique within a plan" is a
    # constraint the database enforces; the domain API keeps the two consistent.
    plan_id: Mapped[uuid.UUID] = _fk("plan.id")
    priority_area_id: Mapped[uuid.UUID] = _fk("priority_area.id", owner=True)
    ref: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    lead_organisation_id: Mapped[uuid.UUID | None] = _fk("organisation.id", nullable=True)
    lead_person_id: Mapped[uuid.UUID | None] = _fk("person.id", nullable=True)
    start_date: Mapped[dt.date | None] = mapped_column(default=None)
    due_date: Mapped[dt.date | None] = mapped_column(default=None)
    delivery_year: Mapped[FinancialYear | None] = mapped_column(default=None)
    status: Mapped[ActionStatus] = mapped_column(
        _enum(ActionStatus), default=ActionStatus.NOT_STARTED
    )
    rag: Mapped[Rag | None] = mapped_column(_enum(Rag), default=None, info={"label": "RAG rating"})
    position: Mapped[int] = mapped_column(Integer, default=0)

    priority_area: Mapped[PriorityArea] = relationship()
    lead_organisation: Mapped[Organisation | None] = relationship()
    lead_person: Mapped[Person | None] = relationship()

    def describe(self) -> str:
        return f"action {self.ref}"


class ActionUpdate(Record):
    """A quarterly progress update. Append-only: an edit makes a new update that
    supersedes the old one (``is_current`` false), so history is never erased."""

    __tablename__ = "action_update"
    __table_args__ = (
        partial_unique(
            "uq_action_update_current",
            "action_id",
            "quarter",
            where=text("is_current AND deleted_at IS NULL"),
        ),
        # SQLite's planner cannot match "is_current IS 1" to the partial index above, so
        # "this action's update for this quarter" needs a plain index of its own.
        Index("ix_action_update_action_quarter", "action_id", "quarter"),
    )

    # Looked up by ix_action_update_action_quarter, which begins with it (migration 0014).
    action_id: Mapped[uuid.UUID] = _fk("action.id", owner=True, indexed=False)
    quarter: Mapped[Quarter] = mapped_column(index=True)  # "all updates for 2024/25 Q2"
    rag: Mapped[Rag | None] = mapped_column(_enum(Rag), default=None, info={"label": "RAG rating"})
    narrative: Mapped[str] = mapped_column(Text, default="")
    author_person_id: Mapped[uuid.UUID | None] = _fk("person.id", nullable=True)
    written_on: Mapped[dt.date]
    state: Mapped[UpdateState] = mapped_column(_enum(UpdateState), default=UpdateState.DRAFT)
    # The strategy team's reason when it returned the update to its lead.
    review_note: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[uuid.UUID | None] = _fk("action_update.id", nullable=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)

    action: Mapped[Action] = relationship()

    def describe(self) -> str:
        return f"update for {self.quarter}"


# --------------------------------------------------------------------------- measures


class Measure(Record):
    __tablename__ = "measure"
    __table_args__ = (
        live_unique("uq_measure_ref", "plan_id", "ref"),
        CheckConstraint("tolerance >= 0", name="tolerance_not_negative"),
    )

    plan_id: Mapped[uuid.UUID] = _fk("plan.id", owner=True)
    priority_id: Mapped[uuid.UUID | None] = _fk("priority.id", nullable=True)
    ref: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[Unit] = mapped_column(_enum(Unit), default=Unit.COUNT)
    rate_basis: Mapped[str] = mapped_column(String(100), default="")
    polarity: Mapped[Polarity] = mapped_column(_enum(Polarity), default=Polarity.HIGHER_BETTER)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency), default=Frequency.QUARTERLY)
    data_source: Mapped[str] = mapped_column(String(300), default="")
    owner_person_id: Mapped[uuid.UUID | None] = _fk("person.id", nullable=True)
    baseline_value: Mapped[float | None] = mapped_column(default=None)
    baseline_period: Mapped[str] = mapped_column(String(40), default="")
    tolerance: Mapped[float] = mapped_column(default=0.0)
    tolerance_mode: Mapped[ToleranceMode] = mapped_column(
        _enum(ToleranceMode), default=ToleranceMode.ABSOLUTE
    )
    # Change below which direction of travel reads "stable" (in the measure's unit);
    # None means the domain default (a share of the previous value).
    stable_threshold: Mapped[float | None] = mapped_column(default=None)
    decimals: Mapped[int] = mapped_column(Integer, default=1)
    # Names of comparator series, e.g. ["GM average"]; values live on MeasureValue.
    comparator_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Figures made up for the sample plan are marked so that every output says so.
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    priority: Mapped[Priority | None] = relationship()

    def describe(self) -> str:
        return f"measure {self.ref}"


class MeasureTarget(Record):
    """The target for one financial year. Id derived from (measure, year)."""

    __tablename__ = "measure_target"
    __table_args__ = (UniqueConstraint("measure_id", "year"),)

    measure_id: Mapped[uuid.UUID] = _fk("measure.id", owner=True)
    year: Mapped[FinancialYear]
    value: Mapped[float]

    @staticmethod
    def make_id(measure_id: uuid.UUID, year: FinancialYear) -> uuid.UUID:
        return natural_id("measure_target", measure_id, year.label)

    def describe(self) -> str:
        return f"target for {self.year}"


class MeasureValue(Record):
    """A measure's value for one quarter. Id derived from (measure, period)."""

    __tablename__ = "measure_value"
    __table_args__ = (UniqueConstraint("measure_id", "period"),)

    # Looked up by the unique index over (measure_id, period) (migration 0014).
    measure_id: Mapped[uuid.UUID] = _fk("measure.id", owner=True, indexed=False)
    period: Mapped[Quarter]
    value: Mapped[float | None] = mapped_column(default=None)
    # {"GM average": 88.0}; keys are the measure's comparator_names.
    comparator_values: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    status: Mapped[ValueStatus] = mapped_column(_enum(ValueStatus), default=ValueStatus.PROVISIONAL)
    note: Mapped[str] = mapped_column(Text, default="")
    # A survey's own significance flags, where it gives them: is the change since the
    # previous period significant, and is the value significantly different from the
    # comparator ("92% ... statistically significantly higher than GM (88%)").
    significant: Mapped[bool | None] = mapped_column(Boolean, default=None)
    comparator_significant: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # Review, as for action updates: only accepted values reach the board pack.
    state: Mapped[UpdateState] = mapped_column(_enum(UpdateState), default=UpdateState.ACCEPTED)
    review_note: Mapped[str] = mapped_column(Text, default="")
    # The value's rank among its comparators as the source states it: "3rd of 10 in GM".
    rank: Mapped[str] = mapped_column(String(60), default="")

    measure: Mapped[Measure] = relationship()

    @staticmethod
    def make_id(measure_id: uuid.UUID, period: Quarter) -> uuid.UUID:
        return natural_id("measure_value", measure_id, period.label)

    def describe(self) -> str:
        return f"value for {self.period}"


# --------------------------------------------------------------------------- links


class ActionPartner(Record):
    __tablename__ = "action_partner"
    is_link: ClassVar[bool] = True
    __table_args__ = (live_unique("uq_action_partner", "action_id", "organisation_id"),)

    action_id: Mapped[uuid.UUID] = _fk("action.id", owner=True)
    organisation_id: Mapped[uuid.UUID] = _fk("organisation.id")


class ActionOutcome(Record):
    __tablename__ = "action_outcome"
    is_link: ClassVar[bool] = True
    __table_args__ = (live_unique("uq_action_outcome", "action_id", "outcome_id"),)

    action_id: Mapped[uuid.UUID] = _fk("action.id", owner=True)
    outcome_id: Mapped[uuid.UUID] = _fk("outcome.id")


class ActionMeasure(Record):
    __tablename__ = "action_measure"
    is_link: ClassVar[bool] = True
    __table_args__ = (live_unique("uq_action_measure", "action_id", "measure_id"),)

    action_id: Mapped[uuid.UUID] = _fk("action.id", owner=True)
    measure_id: Mapped[uuid.UUID] = _fk("measure.id")


class PriorityOutcome(Record):
    __tablename__ = "priority_outcome"
    is_link: ClassVar[bool] = True
    __table_args__ = (live_unique("uq_priority_outcome", "priority_id", "outcome_id"),)

    priority_id: Mapped[uuid.UUID] = _fk("priority.id", owner=True)
    outcome_id: Mapped[uuid.UUID] = _fk("outcome.id")


class MeasureOutcome(Record):
    __tablename__ = "measure_outcome"
    is_link: ClassVar[bool] = True
    __table_args__ = (live_unique("uq_measure_outcome", "measure_id", "outcome_id"),)

    measure_id: Mapped[uuid.UUID] = _fk("measure.id", owner=True)
    outcome_id: Mapped[uuid.UUID] = _fk("outcome.id")


# --------------------------------------------------------------------------- funding


class FundingStream(Record):
    __tablename__ = "funding_stream"
    __table_args__ = (live_unique("uq_funding_stream_name", "partnership_id", "name"),)

    partnership_id: Mapped[uuid.UUID] = _fk("partnership.id", owner=True)
    name: Mapped[str] = mapped_column(String(200))
    funder: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    def describe(self) -> str:
        return f"funding stream {self.name}"


class FundingAllocation(Record):
    """A stream's allocation for one financial year, in GBP. Id from (stream, year)."""

    __tablename__ = "funding_allocation"
    __table_args__ = (
        UniqueConstraint("stream_id", "year"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    stream_id: Mapped[uuid.UUID] = _fk("funding_stream.id", owner=True)
    year: Mapped[FinancialYear]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    @staticmethod
    def make_id(stream_id: uuid.UUID, year: FinancialYear) -> uuid.UUID:
        return natural_id("funding_allocation", stream_id, year.label)

    def describe(self) -> str:
        return f"allocation for {self.year}"


class FundingAward(Record):
    __tablename__ = "funding_award"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    stream_id: Mapped[uuid.UUID] = _fk("funding_stream.id", owner=True)
    year: Mapped[FinancialYear]
    project: Mapped[str] = mapped_column(String(300))
    recipient_organisation_id: Mapped[uuid.UUID | None] = _fk("organisation.id", nullable=True)
    # Free text for recipients that are not partner organisations (small VCS groups).
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    priority_id: Mapped[uuid.UUID | None] = _fk("priority.id", nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")

    def describe(self) -> str:
        return f"award {self.project}"


class FundingAwardOutcome(Record):
    __tablename__ = "funding_award_outcome"
    is_link: ClassVar[bool] = True
    __table_args__ = (live_unique("uq_funding_award_outcome", "award_id", "outcome_id"),)

    award_id: Mapped[uuid.UUID] = _fk("funding_award.id", owner=True)
    outcome_id: Mapped[uuid.UUID] = _fk("outcome.id")


# --------------------------------------------------------------------------- risks


class Risk(Record):
    __tablename__ = "risk"
    __table_args__ = (
        live_unique("uq_risk_ref", "plan_id", "ref"),
        CheckConstraint("likelihood BETWEEN 1 AND 5", name="likelihood_range"),
        CheckConstraint("impact BETWEEN 1 AND 5", name="impact_range"),
    )

    plan_id: Mapped[uuid.UUID] = _fk("plan.id", owner=True)
    priority_id: Mapped[uuid.UUID | None] = _fk("priority.id", nullable=True)
    ref: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_person_id: Mapped[uuid.UUID | None] = _fk("person.id", nullable=True)
    likelihood: Mapped[int] = mapped_column(Integer, default=3)
    impact: Mapped[int] = mapped_column(Integer, default=3)
    mitigation: Mapped[str] = mapped_column(Text, default="")
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    def describe(self) -> str:
        return f"risk {self.ref}"


# --------------------------------------------------------------------------- board


class BoardMeeting(Record):
    __tablename__ = "board_meeting"

    partnership_id: Mapped[uuid.UUID] = _fk("partnership.id", owner=True)
    title: Mapped[str] = mapped_column(String(200))
    meeting_date: Mapped[dt.date]
    venue: Mapped[str] = mapped_column(String(200), default="")

    def describe(self) -> str:
        return f"meeting {self.title} on {self.meeting_date:%d %B %Y}"


DEFAULT_PACK_SECTIONS: list[dict[str, Any]] = [
    {"key": key, "enabled": True}
    for key in (
        "cover",
        "contents",
        "at_a_glance",
        "changes",
        "scorecard",
        "priorities",
        "outcomes",
        "funding",
        "risks",
        "appendix",
    )
]


class BoardPack(Record):
    """A quarterly board pack: cover-sheet fields and which sections, in what order."""

    __tablename__ = "board_pack"

    meeting_id: Mapped[uuid.UUID] = _fk("board_meeting.id", owner=True)
    plan_id: Mapped[uuid.UUID] = _fk("plan.id")
    quarter: Mapped[Quarter]
    status: Mapped[PackStatus] = mapped_column(_enum(PackStatus), default=PackStatus.DRAFT)
    subject: Mapped[str] = mapped_column(String(300), default="")
    report_of: Mapped[str] = mapped_column(String(300), default="")
    key_decision: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    contact_officer: Mapped[str] = mapped_column(String(300), default="")
    protective_marking: Mapped[str] = mapped_column(String(60), default="OFFICIAL")
    # The rest of the council's cover sheet (blank: the pack says "Not given" or "None").
    agenda_item: Mapped[str] = mapped_column(String(60), default="")
    scrutiny_committee: Mapped[str] = mapped_column(String(300), default="")
    background_papers: Mapped[str] = mapped_column(Text, default="")
    wards_affected: Mapped[str] = mapped_column(String(300), default="")
    equality_impact: Mapped[str] = mapped_column(Text, default="")
    forward_plan_ref: Mapped[str] = mapped_column(String(100), default="")
    sections: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=lambda: [dict(s) for s in DEFAULT_PACK_SECTIONS]
    )

    def describe(self) -> str:
        return f"board pack for {self.quarter}"


class PackExport(Record):
    """One exported PDF: its checksum and the data snapshot it was made from."""

    __tablename__ = "pack_export"

    pack_id: Mapped[uuid.UUID] = _fk("board_pack.id", owner=True)
    exported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # The change-log sequence number the export saw: the data snapshot it came from.
    snapshot_seq: Mapped[int] = mapped_column(Integer)
    # What the PDF was made with, so that it can be made again byte for byte: the
    # builder's choice of showing updates awaiting review, whether it was encrypted
    # (a password-protected file is never reproducible: its keys are random), and the
    # app version that drew it. ``exported_at`` is the production time it prints.
    include_awaiting_review: Mapped[bool] = mapped_column(Boolean, default=False)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    app_version: Mapped[str] = mapped_column(String(40), default="")
    # Set when the pack is published (final): who and when. Publishing locks the
    # quarter's updates and values (services/locks.py).
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    published_by: Mapped[str] = mapped_column(String(254), default="")

    def describe(self) -> str:
        return f"export {self.file_name}"


# --------------------------------------------------------------------------- log & meta


class ChangeLog(Base):
    """Who changed which field of which record, from what to what, when, on which site.

    One row per changed field for an update; one row for a create (``new`` holds the
    whole record), a delete or a restore. Values are JSON text.
    """

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_record", "record_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    change_set: Mapped[uuid.UUID] = mapped_column(index=True)
    site_id: Mapped[uuid.UUID]
    actor: Mapped[str] = mapped_column(String(254))
    person_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # When the change was made, on the site that made it (a lead's laptop for a merged
    # change); ``received_at``: when this store merged it, None for changes made here.
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID]
    op: Mapped[str] = mapped_column(String(10))
    field: Mapped[str | None] = mapped_column(String(60), default=None)
    old: Mapped[str | None] = mapped_column(Text, default=None)
    new: Mapped[str | None] = mapped_column(Text, default=None)
    # "local", "sample", "bundle:<id>", "import:<file>": where the change came from.
    source: Mapped[str] = mapped_column(String(200), default="local")
    # Why a locked (published) figure was changed; None for ordinary changes.
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    # The store revision of the commit that wrote the row (StoreRevision): set as the
    # transaction commits, so rows ordered by it are in commit order on any database,
    # which ``seq`` (handed out as rows are written) is not under concurrent writers.
    revision: Mapped[int | None] = mapped_column(Integer, default=None, index=True)


class StoreRevision(Base):
    """The store's revision: one row, raised by every commit that logs a change.

    Raised inside the writing transaction just before it commits, so its row lock
    (PostgreSQL) or the writer lock (SQLite) orders the numbers as the commits happen;
    a new revision is never below the transaction's own newest change-log ``seq``, so on
    a single writer it is exactly the newest ``seq`` (what the revision always was).
    """

    __tablename__ = "store_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer)


class PartnershipRole(Base):
    """Which database role may read which partnership (PostgreSQL row-level security,
    migration 0011): a partnership officers' role names its partnership; a regional
    role (``partnership_id`` None) reads every partnership. Unused on SQLite, where the
    file is the boundary. Not change-logged: it is the server's access list, kept by
    its administrator, not part of the plan."""

    __tablename__ = "partnership_role"

    role_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    partnership_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)


class StoreMeta(Base):
    """Key/value facts about this store file: its id, site, role, sample flag."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


@functools.cache
def record_classes() -> Mapping[str, type[Record]]:
    """Every change-logged entity by table name (built once: mappers never change)."""
    return {
        mapper.class_.__tablename__: mapper.class_
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, Record)
    }
