"""The partnership, its organisations and people: their rules."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import Organisation, Person
from ssp_desktop.domain.validation import check_email
from ssp_desktop.services.core import create, invariant, service, unique_in
from ssp_desktop.services.numbering import free_name

invariant(Organisation, "name")(unique_in("partnership_id", "partnership", "name"))


@invariant(Person, "email")
def _email_shape(session: Session, person: Person, value: str | None) -> None:
    """An address that looks like one (name@example.org), or none."""
    check_email(value)


@service
def add_organisation(tx: Transaction, partnership_id: uuid.UUID) -> Organisation:
    """A new organisation of the partnership, named so no other has its name."""
    name = free_name(
        tx.session,
        Organisation.name,
        "New organisation",
        Organisation.partnership_id == partnership_id,
    )
    return create(tx, Organisation(partnership_id=partnership_id, name=name))


@service
def add_person(
    tx: Transaction, partnership_id: uuid.UUID, *, organisation: Organisation | None = None
) -> Person:
    """A new person of the partnership, working in ``organisation`` if one is given."""
    if organisation is not None and organisation.deleted_at is not None:
        raise DomainError("The organisation has been deleted.")
    return create(
        tx,
        Person(
            partnership_id=partnership_id,
            name="New person",
            organisation_id=organisation.id if organisation is not None else None,
        ),
    )
