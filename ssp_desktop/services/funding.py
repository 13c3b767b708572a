"""Funding streams, allocations and awards: the only code that writes them."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    FundingAllocation,
    FundingAward,
    FundingStream,
)
from ssp_desktop.domain.validation import ValidationError
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
from ssp_desktop.services.numbering import free_name

invariant(FundingStream, "name")(unique_in("partnership_id", "partnership", "name"))


@invariant(FundingAllocation, "amount")
@invariant(FundingAward, "amount")
def _amount_not_negative(session: Session, record: object, value: Decimal | None) -> None:
    """The words the editors' money fields use, wherever the amount comes from."""
    if value is not None and value < 0:
        raise ValidationError("An amount cannot be negative")


def _check_allocation(
    tx: Transaction,
    stream_id: uuid.UUID,
    alloc: FundingAllocation | None,
    alloc_id: uuid.UUID,
    year: FinancialYear,
    expected: object,
    amount: Decimal | None,
) -> FundingAllocation | None:
    """Refuse (EditConflictError) when the allocation no longer holds what the editor
    showed (None: no allocation) and not already ``amount``; the allocation as it now
    is (read again under the lock)."""
    if expected is NOT_READ:
        return alloc
    if alloc is None:
        # A year with no allocation yet: whoever creates it first holds the stream's
        # row lock, and the other then reads theirs rather than failing on the id.
        lock_for_check(tx, tx.get(FundingStream, stream_id))
        alloc = tx.get(FundingAllocation, alloc_id)
    lock_for_check(tx, alloc)
    check_read(
        tx.session,
        FundingAllocation,
        alloc_id,
        alloc,
        {"amount": expected},
        {"amount": amount},
        describe=f"the {year.label} allocation",
    )
    return alloc


@service
def set_allocation(
    tx: Transaction,
    stream_id: uuid.UUID,
    year: FinancialYear,
    amount: Decimal,
    *,
    expected: object = NOT_READ,
) -> FundingAllocation:
    """Set (or change) a funding stream's allocation for a financial year.
    ``expected``: the amount the editor showed (None: none), checked first."""
    alloc_id = FundingAllocation.make_id(stream_id, year)
    alloc = tx.get(FundingAllocation, alloc_id)
    alloc = _check_allocation(tx, stream_id, alloc, alloc_id, year, expected, amount)
    if alloc is None:
        return create(
            tx, FundingAllocation(id=alloc_id, stream_id=stream_id, year=year, amount=amount)
        )
    if alloc.deleted_at is not None:
        restore(tx, alloc)
    return edit(tx, alloc, amount=amount)


@service
def clear_allocation(
    tx: Transaction,
    stream_id: uuid.UUID,
    year: FinancialYear,
    *,
    expected: object = NOT_READ,
) -> FundingAllocation | None:
    """The stream has no allocation for the year: its record (if any) is tombstoned.
    ``expected``: the amount the editor showed, checked first."""
    alloc_id = FundingAllocation.make_id(stream_id, year)
    alloc = tx.get(FundingAllocation, alloc_id)
    alloc = _check_allocation(tx, stream_id, alloc, alloc_id, year, expected, None)
    if alloc is None or alloc.deleted_at is not None:
        return None
    delete(tx, alloc)
    return alloc


@service
def add_stream(tx: Transaction, partnership_id: uuid.UUID) -> FundingStream:
    """A new funding stream of the partnership, named so no other stream has its name."""
    name = free_name(
        tx.session,
        FundingStream.name,
        "New funding stream",
        FundingStream.partnership_id == partnership_id,
    )
    return create(tx, FundingStream(partnership_id=partnership_id, name=name))


@service
def add_award(tx: Transaction, stream: FundingStream, year: FinancialYear) -> FundingAward:
    """A new award from ``stream`` in ``year`` (a new project of no amount yet)."""
    if stream.deleted_at is not None:
        raise DomainError("The funding stream has been deleted.")
    return create(tx, FundingAward(stream_id=stream.id, year=year, project="New project", amount=0))
