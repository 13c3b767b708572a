"""Measures, their targets and their values: the only code that writes them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, MutableMapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Polarity, Unit, UpdateState, ValueStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Measure,
    MeasureTarget,
    MeasureValue,
    Plan,
)
from ssp_desktop.domain.validation import (
    MAX_DECIMALS,
    ValidationError,
    check_figure,
    check_not_negative,
    check_percentage,
    check_whole_in_range,
)
from ssp_desktop.services import authority
from ssp_desktop.services.core import (
    NOT_READ,
    check_read,
    create,
    delete,
    edit,
    invariant,
    lock_for_check,
    restore,
    service,
    unique_in,
)
from ssp_desktop.services.numbering import free_code, next_position

invariant(Measure, "ref")(unique_in("plan_id", "plan", "ref"))


@invariant(Measure, "baseline_value")
def _in_measure_unit(session: Session, measure: Measure, value: float | None) -> None:
    """A value in a percentage measure's unit is 0 to 100."""
    if value is not None and measure.unit is Unit.PERCENT:
        check_percentage(value)


@invariant(Measure, "tolerance")
def _tolerance_not_negative(session: Session, measure: Measure, value: float | None) -> None:
    if value is not None:
        check_not_negative("Tolerance", value)


@invariant(Measure, "decimals")
def _decimals_in_range(session: Session, measure: Measure, value: int | None) -> None:
    if value is not None:
        check_whole_in_range("Decimals", value, 0, MAX_DECIMALS)


@invariant(Measure, "stable_threshold")
def _threshold_not_negative(session: Session, measure: Measure, value: float | None) -> None:
    if value is not None:
        check_not_negative("Stable threshold", value)


@invariant(Measure, "unit")
def _unit_fits_values(session: Session, measure: Measure, value: Unit) -> None:
    """A measure cannot become a percentage while it holds values over 100."""
    if value is not Unit.PERCENT or measure.unit is Unit.PERCENT:
        return
    over = session.scalar(
        select(func.count())
        .select_from(MeasureValue)
        .where(
            MeasureValue.measure_id == measure.id,
            MeasureValue.deleted_at.is_(None),
            (MeasureValue.value > 100) | (MeasureValue.value < 0),
        )
    )
    if over:
        raise ValidationError(
            f"{over} of this measure's values {'is' if over == 1 else 'are'} not between "
            "0 and 100, so it cannot be a percentage"
        )


@invariant(Measure, "comparator_names")
def _comparators_once_each(session: Session, measure: Measure, value: list[str]) -> None:
    seen: set[str] = set()
    for name in value or []:
        if name.casefold() in seen:
            raise ValidationError(f"{name} is listed twice")
        seen.add(name.casefold())


@invariant(Measure, "comparator_names")
def _comparators_removable(session: Session, measure: Measure, value: list[str]) -> None:
    """Refuse to drop a comparator that still has figures: they would be orphaned."""
    removed = set(measure.comparator_names or []) - set(value or [])
    for name in sorted(removed):
        used = sum(
            1
            for values in session.scalars(
                select(MeasureValue.comparator_values).where(
                    MeasureValue.measure_id == measure.id, MeasureValue.deleted_at.is_(None)
                )
            )
            if values and values.get(name) is not None
        )
        if used:
            raise ValidationError(
                f"{name} has figures for {used} quarter{'s' if used != 1 else ''}; "
                "clear them in the values grid before removing it"
            )


def _measure_of(session: Session, record: Any) -> Measure | None:
    found = session.get(Measure, record.measure_id)
    if found is None:
        found = next(
            (o for o in session.new if isinstance(o, Measure) and o.id == record.measure_id), None
        )
    return found


@invariant(MeasureTarget, "value")
def _target_in_unit(session: Session, record: Any, value: float | None) -> None:
    """A percentage measure's targets are 0 to 100."""
    measure = _measure_of(session, record)
    if value is not None and measure is not None and measure.unit is Unit.PERCENT:
        check_percentage(value)


@invariant(MeasureValue, "value")
def _value_in_unit(session: Session, record: Any, value: float | None) -> None:
    """A percentage is 0 to 100; a count or a rate is not negative."""
    measure = _measure_of(session, record)
    if value is not None and measure is not None:
        check_figure(measure.unit, value)


@invariant(MeasureValue, "comparator_values")
def _comparators_known(session: Session, record: MeasureValue, value: dict[str, Any]) -> None:
    measure = _measure_of(session, record)
    unknown = set(value or {}) - set(measure.comparator_names if measure else [])
    if measure is not None and unknown:
        raise ValidationError(
            f"{measure.describe()} has no comparator {', '.join(sorted(unknown))}; "
            f"it has {', '.join(measure.comparator_names) or 'none'}."
        )
    for figure in (value or {}).values():
        if measure is not None and figure is not None:
            check_figure(measure.unit, figure)


@service
def set_target(
    tx: Transaction, measure: Measure, year: FinancialYear, value: float
) -> MeasureTarget:
    """Set (or change) a measure's target for a financial year."""
    target_id = MeasureTarget.make_id(measure.id, year)
    target = tx.get(MeasureTarget, target_id)
    if target is None:
        return create(
            tx, MeasureTarget(id=target_id, measure_id=measure.id, year=year, value=value)
        )
    if target.deleted_at is not None:
        target.value = value  # checked as a whole record by restore
        restore(tx, target)
    return edit(tx, target, value=value)


@service
def record_value(
    tx: Transaction,
    measure: Measure,
    period: Quarter,
    value: float | None,
    *,
    comparators: Mapping[str, float] | None = None,
    status: ValueStatus = ValueStatus.PROVISIONAL,
    note: str = "",
    significant: bool | None = None,
    comparator_significant: bool | None = None,
    known: MutableMapping[uuid.UUID, MeasureValue] | None = None,
    state: UpdateState | None = None,
    rank: str | None = None,
    expected: Mapping[str, Any] | None = None,
) -> MeasureValue:
    """Enter a measure's value for a quarter. There is one record per measure and
    quarter (its id comes from both), so entering it again changes that record.

    ``known``, when given, holds the measure's value records already read, by id
    (tombstones too): one not in it is new, so the store is not asked; the record
    made is added to it. An import of many values passes its plan's.

    ``state`` (review) defaults by who writes: a value entered on the master copy is
    the strategy team's own, so it is accepted (an existing value keeps its state); a
    lead's new or changed value is a draft until they submit it (a returned one stays
    returned, with its reason, until they do).

    A withheld value (``status`` WITHHELD) needs its reason in ``note``: the pack prints
    it where the value would stand. ``rank`` is the value's rank among its comparators
    as the source states it ("3rd of 10 in GM"); None keeps the one recorded (a lead
    entering a value does not see it).

    ``expected``: what the editor showed of the fields it writes (blanks when the
    quarter had no value); one someone else has changed since is refused with
    :class:`~ssp_desktop.domain.errors.EditConflictError` and nothing is written.
    """
    if status is ValueStatus.WITHHELD and not note.strip():
        raise DomainError(
            f"Say why the {period.label} value is withheld: the reason goes in its note."
        )
    if rank is not None:
        rank = " ".join(rank.split())
    if rank is not None and len(rank) > 60:
        raise DomainError('A rank is at most 60 characters, e.g. "3rd of 10 in GM".')
    value_id = MeasureValue.make_id(measure.id, period)
    fields: dict[str, Any] = {
        "value": value,
        "comparator_values": dict(comparators or {}),
        "status": status,
        "note": note,
        "significant": significant,
        "comparator_significant": comparator_significant,
    }
    if rank is not None:
        fields["rank"] = rank
    if expected:
        # The measure's row first: two officers entering the same empty quarter take
        # turns, so the second sees the first's value (its id is the same) and is
        # refused rather than failing on the duplicate.
        lock_for_check(tx, measure)
    existing = tx.get(MeasureValue, value_id) if known is None else known.get(value_id)
    if expected:
        # What the editor showed (blanks for a quarter with no value yet): another
        # writer's value entered or changed since is refused, not overwritten.
        lock_for_check(tx, existing)
        check_read(
            tx.session,
            MeasureValue,
            value_id,
            existing,
            {k: v for k, v in expected.items() if k in fields},
            fields,
            describe=f"the {period.label} value of {measure.describe()}",
        )
    lead = authority.authority(tx.session) == authority.LEAD
    if state is not None:
        fields["state"] = state
    elif existing is None:
        fields["state"] = UpdateState.DRAFT if lead else UpdateState.ACCEPTED
    elif (
        lead
        and existing.state in (UpdateState.ACCEPTED, UpdateState.SUBMITTED)
        and any(getattr(existing, k) != v for k, v in fields.items())
    ):
        fields["state"] = UpdateState.DRAFT
    if existing is None:
        made = create(tx, MeasureValue(id=value_id, measure_id=measure.id, period=period, **fields))
        if known is not None:
            known[value_id] = made
        return made
    if existing.deleted_at is not None:
        restore(tx, existing)
    return edit(tx, existing, **fields)


@service
def add_measure(tx: Transaction, plan: Plan) -> Measure:
    """A new measure at the end of ``plan``'s list, with the next free ref (M01, M02, ...)."""
    if plan.deleted_at is not None:
        raise DomainError("The plan has been deleted.")
    where = Measure.plan_id == plan.id
    ref = free_code(tx.session, Measure.ref, "M", where)
    position = next_position(tx.session, Measure.position, where)
    return create(tx, Measure(plan_id=plan.id, ref=ref, name="New measure", position=position))


@service
def clear_target(tx: Transaction, measure: Measure, year: FinancialYear) -> MeasureTarget | None:
    """The year has no target: its record (if any) is tombstoned, so undo brings it back."""
    target = tx.get(MeasureTarget, MeasureTarget.make_id(measure.id, year))
    if target is None or target.deleted_at is not None:
        return None
    delete(tx, target)
    return target


@service
def enter_target(
    tx: Transaction,
    measure: Measure,
    year: FinancialYear,
    value: float | None,
    *,
    expected: object = NOT_READ,
) -> MeasureTarget | None:
    """A target typed into the targets grid: set (or cleared, with no value) for the
    year. A tracker is monitored without a target, so it takes none.

    ``expected``: the target the grid showed (None: none). If someone else has set,
    changed or cleared it since, the edit is refused (EditConflictError)."""
    if measure.deleted_at is not None:
        raise DomainError("The measure has been deleted, so it cannot be changed.")
    if measure.polarity is Polarity.TRACKER:
        raise DomainError("A tracker has no targets.")
    if expected is not NOT_READ:
        lock_for_check(tx, measure)  # a year with no target yet: creators take turns
        target_id = MeasureTarget.make_id(measure.id, year)
        target = tx.get(MeasureTarget, target_id)
        lock_for_check(tx, target)
        check_read(
            tx.session,
            MeasureTarget,
            target_id,
            target,
            {"value": expected},
            {"value": value},
            describe=f"the {year.label} target of {measure.describe()}",
        )
    if value is None:
        return clear_target(tx, measure, year)
    return set_target(tx, measure, year, value)
