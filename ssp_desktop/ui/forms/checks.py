"""Field checks that need the rest of the record or the store (no Qt here).

Each returns a :data:`~ssp_desktop.ui.forms.base.Check`: ``(session, record, value)``,
raising :class:`~ssp_desktop.domain.validation.ValidationError` in plain English. The
form runs it before writing and again inside the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import Unit
from ssp_desktop.domain.records import MeasureValue, Priority, PriorityArea
from ssp_desktop.domain.validation import (
    ValidationError,
    check_dates,
    check_not_negative,
    check_percentage,
    check_unique,
    check_years,
)

Check = Callable[[Session, Any, Any], None]


def unique_in(scope_field: str, scope_noun: str, field: str) -> Check:
    """No other live record in the same plan / partnership / framework has this value."""

    def check(session: Session, record: Any, value: Any) -> None:
        check_unique(
            session,
            type(record),
            scope_field=scope_field,
            scope_id=getattr(record, scope_field),
            scope_noun=scope_noun,
            field=field,
            value=str(value),
            record_id=record.id,
        )

    return check


def unique_in_plan(field: str) -> Check:
    return unique_in("plan_id", "plan", field)


def start_date(session: Session, record: Any, value: Any) -> None:
    check_dates(value, record.due_date)


def due_date(session: Session, record: Any, value: Any) -> None:
    check_dates(record.start_date, value)


def first_year(session: Session, record: Any, value: Any) -> None:
    check_years(value, record.end_year)


def last_year(session: Session, record: Any, value: Any) -> None:
    check_years(record.start_year, value)


def not_negative(label: str) -> Check:
    def check(session: Session, record: Any, value: Any) -> None:
        if value is not None:
            check_not_negative(label, value)

    return check


def in_measure_unit(session: Session, record: Any, value: Any) -> None:
    """A value in a percentage measure's unit is 0 to 100."""
    if value is not None and record.unit is Unit.PERCENT:
        check_percentage(value)


def unit_fits_values(session: Session, record: Any, value: Any) -> None:
    """A measure cannot become a percentage while it holds values over 100."""
    if value is not Unit.PERCENT:
        return
    over = session.scalar(
        select(func.count())
        .select_from(MeasureValue)
        .where(
            MeasureValue.measure_id == record.id,
            MeasureValue.deleted_at.is_(None),
            (MeasureValue.value > 100) | (MeasureValue.value < 0),
        )
    )
    if over:
        raise ValidationError(
            f"{over} of this measure's values {'is' if over == 1 else 'are'} not between "
            "0 and 100, so it cannot be a percentage"
        )


def comparators_removable(session: Session, record: Any, value: Any) -> None:
    """Refuse to drop a comparator that still has figures: they would be orphaned."""
    removed = set(record.comparator_names) - set(value)
    if not removed:
        return
    for name in sorted(removed):
        used = sum(
            1
            for values in session.scalars(
                select(MeasureValue.comparator_values).where(
                    MeasureValue.measure_id == record.id, MeasureValue.deleted_at.is_(None)
                )
            )
            if values and values.get(name) is not None
        )
        if used:
            raise ValidationError(
                f"{name} has figures for {used} quarter{'s' if used != 1 else ''}; "
                "clear them in the values grid before removing it"
            )


def area_in_plan(session: Session, record: Any, value: Any) -> None:
    """An action may move to another area of its own plan only (its ref is unique there)."""
    area = session.get(PriorityArea, value)
    priority = session.get(Priority, area.priority_id) if area is not None else None
    if area is None or area.deleted_at is not None or priority is None:
        raise ValidationError("That priority area is not in the store any more")
    if priority.plan_id != record.plan_id:
        raise ValidationError("An action can only move to a priority area of its own plan")
