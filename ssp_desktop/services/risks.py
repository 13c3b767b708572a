"""Risks to the plan's delivery: their rules (the only code that writes them uses these)."""

from __future__ import annotations

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import Plan, Risk
from ssp_desktop.services.core import create, invariant, service, unique_in
from ssp_desktop.services.numbering import free_code

invariant(Risk, "ref")(unique_in("plan_id", "plan", "ref"))


@service
def add_risk(tx: Transaction, plan: Plan) -> Risk:
    """A new risk in ``plan``'s register, with the next free ref (R01, R02, ...)."""
    if plan.deleted_at is not None:
        raise DomainError("The plan has been deleted.")
    ref = free_code(tx.session, Risk.ref, "R", Risk.plan_id == plan.id)
    return create(tx, Risk(plan_id=plan.id, ref=ref, title="New risk"))
