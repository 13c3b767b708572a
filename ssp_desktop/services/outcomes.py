"""Outcome frameworks and their outcomes: adding them (their rules are in
:mod:`ssp_desktop.services.plan`)."""

from __future__ import annotations

import uuid

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import Outcome, OutcomeFramework
from ssp_desktop.services.core import create, service
from ssp_desktop.services.numbering import free_code, next_position


@service
def add_framework(tx: Transaction, partnership_id: uuid.UUID) -> OutcomeFramework:
    """A new outcomes framework of the partnership."""
    return create(tx, OutcomeFramework(partnership_id=partnership_id, name="New outcome framework"))


@service
def add_outcome(tx: Transaction, framework: OutcomeFramework) -> Outcome:
    """A new outcome at the end of ``framework``, coded after its short name
    ("ST-03"), or O01, O02... for a framework without one."""
    if framework.deleted_at is not None:
        raise DomainError("The outcome framework has been deleted.")
    where = Outcome.framework_id == framework.id
    prefix = f"{framework.short_name}-" if framework.short_name else "O"
    code = free_code(tx.session, Outcome.code, prefix, where)
    position = next_position(tx.session, Outcome.position, where)
    return create(
        tx, Outcome(framework_id=framework.id, code=code, title="New outcome", position=position)
    )
