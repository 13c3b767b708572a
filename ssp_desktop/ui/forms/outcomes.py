"""Editors of outcome frameworks (GM "Standing Together", the Borough Plan) and their
outcomes. Links to outcomes are made from the priority, action, measure and award
editors, as checkable lists."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import Outcome, OutcomeFramework
from ssp_desktop.services import outcomes as outcome_services
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms.fields import multiline, text, whole
from ssp_desktop.ui.forms.grids import GridColumn, GridModel, GridRow, GridSection
from ssp_desktop.ui.forms.record_form import RecordForm


class OutcomesModel(GridModel):
    """A framework's outcomes in the framework's order (read-only)."""

    watches = frozenset({"outcome"})

    def __init__(self, document: PlanDocument, framework_id: uuid.UUID) -> None:
        super().__init__(document)
        self.framework_id = framework_id
        self.editable = False
        self.reload()

    def fetch(self, session: Session) -> tuple[list[GridColumn], list[GridRow]]:
        columns = [
            GridColumn("Code", "code", editable=False),
            GridColumn("Title", "title", editable=False),
            GridColumn("Group", "group", editable=False),
        ]
        rows = [
            GridRow(
                key=o.id,
                values={"code": o.code, "title": o.title, "group": o.group_name},
                record_id=o.id,
                entity="outcome",
            )
            for o in session.scalars(
                select(Outcome)
                .where(Outcome.framework_id == self.framework_id, Outcome.deleted_at.is_(None))
                .order_by(Outcome.position, Outcome.code)
            )
        ]
        return columns, rows


class OutcomeFrameworkEditor(RecordForm):
    record_class = OutcomeFramework
    specs = (
        text("Name", "name", required=True),
        text("Short name", "short_name"),
        text("Owner", "owner"),
        multiline("Description", "description"),
    )

    def build(self) -> None:
        self.outcomes_model = OutcomesModel(self.document, self.record_id)
        self.outcomes = GridSection(
            "Outcomes", self.outcomes_model, note="Press Enter or double-click to open one."
        )
        self.outcomes.add_button("Add outcome", self.add_outcome)
        self.outcomes.finish_buttons()
        self.outcomes.record_activated.connect(self.record_activated)
        self.add_section(self.outcomes)

    def heading_text(self, record: Any) -> str:
        return f"Outcome framework: {record.name}"

    def add_outcome(self) -> uuid.UUID | None:
        framework_id = self.record_id

        def make(tx: Transaction) -> Outcome:
            framework = tx.get(OutcomeFramework, framework_id)
            if framework is None or framework.deleted_at is not None:
                raise DomainError("The outcome framework has been deleted.")
            return outcome_services.add_outcome(tx, framework)

        return self.add_record("Add outcome", make)


class OutcomeEditor(RecordForm):
    record_class = Outcome
    specs = (
        text("Code", "code", required=True),
        text("Title", "title", required=True),
        text("Group", "group_name"),
        multiline("Description", "description"),
        whole("Position", "position", help="Order in the framework: lower comes first"),
    )

    def heading_text(self, record: Any) -> str:
        return f"Outcome {record.code}: {record.title}"
