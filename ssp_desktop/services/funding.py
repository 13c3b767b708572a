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
from ssp_desktop.services.core import create, delete, edit, invariant, restore, service, unique_in
from ssp_desktop.services.numbering import free_name

invariant(FundingStream, "name")(unique_in("partnership_id", "partnership", "name"))


@invariant(FundingAllocation, "amount")
@invariant(FundingAward, "amount")
def _amount_not_negative(session: Session, record: object, value: Decimal | None) -> None:
    """The words the editors' money fields use, wherever the amount comes from."""
    if value is not None and value < 0:
        raise ValidationError("An amount cannot be negative")


@service
def set_allocation(
    tx: Transaction, stream_id: uuid.UUID, year: FinancialYear, amount: Decimal
) -> FundingAllocation:
    """Set (or change) a funding stream's allocation for a financial year."""
    alloc_id = FundingAllocation.make_id(stream_id, year)
    alloc = tx.get(FundingAllocation, alloc_id)
    if alloc is None:
        return create(
            tx, FundingAllocation(id=alloc_id, stream_id=stream_id, year=year, amount=amount)
        )
    if alloc.deleted_at is not None:
        restore(tx, alloc)
    return edit(tx, alloc, amount=amount)


@service
def clear_allocation(
    tx: Transaction, stream_id: uuid.UUID, year: FinancialYear
) -> FundingAllocation | None:
    """The stream has no allocation for the year: its record (if any) is tombstoned."""
    alloc = tx.get(FundingAllocation, FundingAllocation.make_id(stream_id, year))
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
