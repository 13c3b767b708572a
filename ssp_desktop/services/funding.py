"""Funding streams, allocations and awards: the only code that writes them."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    FundingAllocation,
    FundingStream,
)
from ssp_desktop.domain.validation import check_not_negative
from ssp_desktop.services.core import create, edit, invariant, restore, service, unique_in

invariant(FundingStream, "name")(unique_in("partnership_id", "partnership", "name"))


@invariant(FundingAllocation, "amount")
def _amount_not_negative(session: Session, alloc: FundingAllocation, value: Decimal) -> None:
    if value is not None:
        check_not_negative("Amount", value)


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
