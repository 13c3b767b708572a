"""Funding streams, allocations and awards: the only code that writes them."""

from __future__ import annotations

import uuid
from decimal import Decimal

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    FundingAllocation,
)


def set_allocation(
    tx: Transaction, stream_id: uuid.UUID, year: FinancialYear, amount: Decimal
) -> FundingAllocation:
    alloc_id = FundingAllocation.make_id(stream_id, year)
    alloc = tx.get(FundingAllocation, alloc_id)
    if alloc is None:
        return tx.add(FundingAllocation(id=alloc_id, stream_id=stream_id, year=year, amount=amount))
    alloc.deleted_at = None
    if alloc.amount != amount:
        alloc.amount = amount
    return alloc
