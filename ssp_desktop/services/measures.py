"""Measures, their targets and their values: the only code that writes them."""

from __future__ import annotations

from collections.abc import Mapping

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import ValueStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Measure,
    MeasureTarget,
    MeasureValue,
)


def set_target(
    tx: Transaction, measure: Measure, year: FinancialYear, value: float
) -> MeasureTarget:
    """Set (or change) a measure's target for a financial year."""
    target_id = MeasureTarget.make_id(measure.id, year)
    target = tx.get(MeasureTarget, target_id)
    if target is None:
        return tx.add(MeasureTarget(id=target_id, measure_id=measure.id, year=year, value=value))
    if target.deleted_at is not None:
        target.deleted_at = None
    if target.value != value:
        target.value = value
    return target


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
) -> MeasureValue:
    """Enter a measure's value for a quarter. There is one record per measure and
    quarter (its id comes from both), so entering it again changes that record."""
    unknown = set(comparators or {}) - set(measure.comparator_names)
    if unknown:
        raise DomainError(
            f"{measure.describe()} has no comparator {', '.join(sorted(unknown))}; "
            f"it has {', '.join(measure.comparator_names) or 'none'}."
        )
    value_id = MeasureValue.make_id(measure.id, period)
    fields = {
        "value": value,
        "comparator_values": dict(comparators or {}),
        "status": status,
        "note": note,
        "significant": significant,
        "comparator_significant": comparator_significant,
    }
    existing = tx.get(MeasureValue, value_id)
    if existing is None:
        return tx.add(MeasureValue(id=value_id, measure_id=measure.id, period=period, **fields))
    if existing.deleted_at is not None:
        existing.deleted_at = None
    for key, new in fields.items():
        if getattr(existing, key) != new:
            setattr(existing, key, new)
    return existing
