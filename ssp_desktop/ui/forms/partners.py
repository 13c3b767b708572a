"""Editors of the partnership's people and agencies: the partnership itself, its
organisations and the people (theme leads, action owners) who work in them."""

from __future__ import annotations

import uuid
from typing import Any

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import Organisation, Partnership, Person
from ssp_desktop.services import people
from ssp_desktop.ui.forms.fields import email, flag, multiline, reference, text
from ssp_desktop.ui.forms.record_form import RecordForm


class PartnershipEditor(RecordForm):
    record_class = Partnership
    can_delete = False  # a store holds one partnership; deleting it is not a form's job
    specs = (
        text("Name", "name", required=True),
        text("Area", "area"),
        multiline("Description", "description"),
    )

    def heading_text(self, record: Any) -> str:
        return f"Partnership: {record.name}"


class OrganisationEditor(RecordForm):
    record_class = Organisation
    specs = (
        text("Name", "name", required=True),
        text("Short name", "short_name"),
        text("Sector", "sector"),
        flag(
            "Responsible authority",
            "responsible_authority",
            help="A statutory partner under the Crime and Disorder Act 1998",
        ),
    )

    def build(self) -> None:
        self.add_button("Add person", self.add_person)

    def heading_text(self, record: Any) -> str:
        return f"Organisation: {record.name}"

    def add_person(self) -> uuid.UUID | None:
        org_id = self.record_id

        def make(tx: Transaction) -> Person:
            org = tx.get(Organisation, org_id)
            if org is None or org.deleted_at is not None:
                raise DomainError("The organisation has been deleted.")
            return people.add_person(tx, org.partnership_id, organisation=org)

        return self.add_record("Add person", make)


class PersonEditor(RecordForm):
    record_class = Person
    specs = (
        text("Name", "name", required=True),
        text("Role title", "role_title"),
        reference("Organisation", "organisation_id", "organisation"),
        email("Email", "email"),
    )

    def heading_text(self, record: Any) -> str:
        return f"Person: {record.name}"
