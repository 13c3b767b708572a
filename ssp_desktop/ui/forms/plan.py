"""Editors of the plan's structure: the plan (with its approval trail), its priorities
and their priority areas."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QInputDialog
from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import PlanStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import (
    Plan,
    PlanApproval,
    PlanFramework,
    Priority,
    PriorityArea,
    PriorityOutcome,
)
from ssp_desktop.services import (
    actions,
    authority,
    funding,
    measures,
    outcomes,
    people,
    review,
    risks,
)
from ssp_desktop.services import plan as plan_services
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import choices as ch
from ssp_desktop.ui.forms.fields import (
    Choice,
    Kind,
    choice,
    date,
    multiline,
    reference,
    text,
    whole,
    year,
)
from ssp_desktop.ui.forms.grids import GridColumn, GridModel, GridRow, GridSection
from ssp_desktop.ui.forms.link_lists import LinkListModel, LinkSection
from ssp_desktop.ui.forms.record_form import RecordForm, run_edit


def _plan_year_span(session: Session, plan: Any) -> list[Choice]:
    # A plan's period can move a few years either way; further is a new plan.
    years = ch.year_span([plan.start_year, plan.end_year], before=5, after=5)
    return [(y.label, y) for y in years]


class ApprovalsModel(GridModel):
    """A plan's approval trail: which body approved it, when, under which decision."""

    watches = frozenset({"plan_approval"})

    def __init__(self, document: PlanDocument, plan_id: uuid.UUID) -> None:
        super().__init__(document)
        self.plan_id = plan_id
        self.reload()

    def fetch(self, session: Session) -> tuple[list[GridColumn], list[GridRow]]:
        columns = [
            GridColumn("Body", "body", required=True, max_length=200),
            GridColumn("Meeting date", "meeting_date", Kind.DATE, required=True),
            GridColumn("Decision ref", "decision_ref", max_length=60),
            GridColumn("Resolution", "resolution"),
        ]
        rows = [
            GridRow(
                key=a.id,
                values={
                    "body": a.body,
                    "meeting_date": a.meeting_date,
                    "decision_ref": a.decision_ref,
                    "resolution": a.resolution,
                },
                record_id=a.id,
                entity="plan_approval",
                extra={"version": a.version},
            )
            for a in session.scalars(
                select(PlanApproval)
                .where(PlanApproval.plan_id == self.plan_id, PlanApproval.deleted_at.is_(None))
                .order_by(PlanApproval.meeting_date, PlanApproval.position)
            )
        ]
        return columns, rows

    def write(
        self, row: GridRow, column: GridColumn, value: Any, expected: dict[str, Any]
    ) -> str | None:
        approval_id = row.record_id

        def work(tx: Transaction) -> None:
            approval = tx.get(PlanApproval, approval_id) if approval_id else None
            if approval is None or approval.deleted_at is not None:
                raise DomainError("That approval has been removed.")
            services.edit(tx, approval, expected=expected, **{column.key: value})

        return self.edit(f"Change approval {column.header.lower()}", work)


class PlanEditor(RecordForm):
    """The plan: title, period, status, vision; its approval trail; adds what it holds."""

    record_class = Plan
    specs = (
        text("Title", "title", required=True),
        year("First year", "start_year", _plan_year_span),
        year("Last year", "end_year", _plan_year_span),
        choice("Status", "status", PlanStatus),
        date("In force from", "in_force_from"),
        multiline("Vision", "vision"),
        multiline("Summary", "summary"),
    )

    def build(self) -> None:
        self.approvals = ApprovalsModel(self.document, self.record_id)
        self.approvals.setParent(self)
        self.approvals_section = GridSection(
            "Approval trail",
            self.approvals,
            note="Each body that approved the plan. Double-click a cell to change it.",
        )
        self.approvals_section.add_button("Add approval", self.add_approval)
        self.approvals_section.add_button("Remove approval", self.remove_approval)
        self.approvals_section.finish_buttons()
        self.approvals_section.writes = PlanApproval
        self.add_section(self.approvals_section)
        frameworks = LinkListModel(
            self.document,
            owner_cls=Plan,
            owner_id=self.record_id,
            link_cls=PlanFramework,
            candidates=lambda s, plan: ch.frameworks(s, ch.scope_of(s, plan)),
            noun="framework",
            watches=frozenset({"outcome_framework"}),
        )
        self.frameworks = LinkSection(
            "Aligned frameworks",
            frameworks,
            note="Tick each outcomes framework the plan is aligned to.",
        )
        self.frameworks.writes = PlanFramework
        self.add_section(self.frameworks)
        self.add_button("Add priority", self.add_priority)
        self.add_button("Add measure", self.add_measure)
        self.add_button("Add risk", self.add_risk)
        # The partnership's own records: the plan is where a partnership is edited from.
        self.add_button("Add organisation", self.add_organisation, group=1)
        self.add_button("Add person", self.add_person, group=1)
        self.add_button("Add funding stream", self.add_funding_stream, group=1)
        self.add_button("Add outcome framework", self.add_framework, group=1)
        # Only for an archived plan, on the master copy (everything else is read-only).
        self.reopen_button = self.add_button("Reopen plan…", self.reopen, group=2)
        self.reopen_button.setAccessibleName("Reopen plan")
        # Asks for the reason; replaceable, so tests can answer for the user.
        self.ask_reason: Callable[[], str | None] = self._ask_reason

    def loaded(self, session: Session, record: Any) -> None:
        can_reopen = (
            record.status is PlanStatus.ARCHIVED
            and authority.copy_role(session) == authority.MASTER
        )
        self._can_reopen = can_reopen

    def reload(self) -> None:
        super().reload()
        self.reopen_button.setVisible(getattr(self, "_can_reopen", False))
        self.reopen_button.setEnabled(getattr(self, "_can_reopen", False))

    def _ask_reason(self) -> str | None:
        text, ok = QInputDialog.getMultiLineText(
            self,
            "Reopen plan",
            "Why is the archived plan being reopened? The reason is kept in its history.",
        )
        return text if ok else None

    def reopen(self) -> bool:
        """Make the archived plan editable again (approved), with the user's reason."""
        reason = self.ask_reason()
        if reason is None:
            return False
        refused = run_edit(
            self.document,
            "Reopen plan",
            lambda tx: review.reopen_plan(tx, self._plan(tx), reason, to=PlanStatus.APPROVED),
        )
        if refused is not None:
            self.message.show_error(refused)
            return False
        self.message.clear_error()
        return True

    def heading_text(self, record: Any) -> str:
        period = record.period_label
        return f"Plan: {record.title}" + ("" if period in record.title else f" ({period})")

    def _plan(self, tx: Transaction) -> Plan:
        plan = tx.get(Plan, self.record_id)
        if plan is None or plan.deleted_at is not None:
            raise DomainError("The plan has been deleted.")
        return plan

    def add_approval(self) -> uuid.UUID | None:
        new_id = self.add_record(
            "Add approval", lambda tx: plan_services.add_approval(tx, self._plan(tx), self.today)
        )
        if new_id is not None:
            row = next(i for i, r in enumerate(self.approvals.rows) if r.record_id == new_id)
            index = self.approvals.index(row, 0)
            self.approvals_section.view.setCurrentIndex(index)
        return new_id

    def remove_approval(self) -> bool:
        row = self.approvals_section.selected_row()
        if row is None or row.record_id is None:
            self.approvals_section.error.show_error("Select the approval to remove first")
            return False
        approval_id = row.record_id
        # The version the list showed: an approval someone has changed since is not
        # removed unseen (the refusal names who; the list then shows theirs).
        read_version = row.extra.get("version")

        def work(tx: Transaction) -> None:
            approval = tx.get(PlanApproval, approval_id)
            if approval is not None and approval.deleted_at is None:
                services.delete(tx, approval, read_version=read_version)

        reason = self.approvals.edit(f"Remove approval by {row.values['body']}", work)
        if reason is not None:
            self.approvals_section.error.show_error(reason)
            # Refused because someone changed it meanwhile: show what they wrote, so
            # the user decides on what is there now.
            self.approvals.reload()
            return False
        self.approvals_section.error.clear_error()
        return True

    def _add_to_plan(
        self, text: str, add: Callable[[Transaction, Plan], Record]
    ) -> uuid.UUID | None:
        return self.add_record(text, lambda tx: add(tx, self._plan(tx)))

    def add_priority(self) -> uuid.UUID | None:
        return self._add_to_plan("Add priority", plan_services.add_priority)

    def add_measure(self) -> uuid.UUID | None:
        return self._add_to_plan("Add measure", measures.add_measure)

    def add_risk(self) -> uuid.UUID | None:
        return self._add_to_plan("Add risk", risks.add_risk)

    def add_organisation(self) -> uuid.UUID | None:
        return self._add_to_plan(
            "Add organisation", lambda tx, plan: people.add_organisation(tx, plan.partnership_id)
        )

    def add_person(self) -> uuid.UUID | None:
        return self._add_to_plan(
            "Add person", lambda tx, plan: people.add_person(tx, plan.partnership_id)
        )

    def add_funding_stream(self) -> uuid.UUID | None:
        return self._add_to_plan(
            "Add funding stream", lambda tx, plan: funding.add_stream(tx, plan.partnership_id)
        )

    def add_framework(self) -> uuid.UUID | None:
        return self._add_to_plan(
            "Add outcome framework",
            lambda tx, plan: outcomes.add_framework(tx, plan.partnership_id),
        )


def outcome_links(
    document: PlanDocument,
    owner_cls: Any,
    owner_id: uuid.UUID,
    link_cls: Any,
) -> LinkSection:
    """The outcomes a record contributes to, as a checkable list of every outcome of the
    partnership's frameworks."""
    model = LinkListModel(
        document,
        owner_cls=owner_cls,
        owner_id=owner_id,
        link_cls=link_cls,
        candidates=lambda session, owner: ch.outcomes(session, ch.scope_of(session, owner)),
        noun="outcome",
        watches=frozenset({"outcome", "outcome_framework"}),
    )
    return LinkSection("Outcomes", model, note="Tick each outcome this contributes to.")


class PriorityEditor(RecordForm):
    record_class = Priority
    specs = (
        text("Code", "code", required=True),
        text("Title", "title", required=True),
        multiline("Description", "description"),
        reference("Lead", "lead_person_id", "person"),
        whole("Position", "position", help="Order in the plan: lower comes first"),
    )

    def build(self) -> None:
        self.outcomes = outcome_links(self.document, Priority, self.record_id, PriorityOutcome)
        self.outcomes.writes = PriorityOutcome
        self.add_section(self.outcomes)
        self.add_button("Add priority area", self.add_area)

    def heading_text(self, record: Any) -> str:
        return f"Priority {record.code}: {record.title}"

    def add_area(self) -> uuid.UUID | None:
        priority_id = self.record_id

        def make(tx: Transaction) -> PriorityArea:
            priority = tx.get(Priority, priority_id)
            if priority is None:
                raise DomainError("The priority has been deleted.")
            return plan_services.add_area(tx, priority)

        return self.add_record("Add priority area", make)


class PriorityAreaEditor(RecordForm):
    record_class = PriorityArea
    specs = (
        text("Title", "title", required=True),
        multiline("Description", "description"),
        whole("Position", "position", help="Order under its priority: lower comes first"),
    )

    def build(self) -> None:
        self.add_button("Add action", self.add_action)

    def heading_text(self, record: Any) -> str:
        return f"Priority area: {record.title}"

    def add_action(self) -> uuid.UUID | None:
        area_id = self.record_id

        def make(tx: Transaction) -> Record:
            area = tx.get(PriorityArea, area_id)
            if area is None:
                raise DomainError("The priority area has been deleted.")
            return actions.add_action_to_area(tx, area)

        return self.add_record("Add action", make)
