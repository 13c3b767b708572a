"""Editors of the plan's structure: the plan (with its approval trail), its priorities
and their priority areas."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import PlanStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import (
    Action,
    FundingStream,
    Measure,
    Organisation,
    OutcomeFramework,
    Person,
    Plan,
    PlanApproval,
    PlanFramework,
    Priority,
    PriorityArea,
    PriorityOutcome,
    Risk,
)
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import checks
from ssp_desktop.ui.forms import choices as ch
from ssp_desktop.ui.forms.base import (
    Choice,
    Kind,
    RecordForm,
    choice,
    date,
    multiline,
    reference,
    text,
    whole,
    year,
)
from ssp_desktop.ui.forms.grids import (
    GridColumn,
    GridModel,
    GridRow,
    GridSection,
    LinkListModel,
    LinkSection,
)


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
            )
            for a in session.scalars(
                select(PlanApproval)
                .where(PlanApproval.plan_id == self.plan_id, PlanApproval.deleted_at.is_(None))
                .order_by(PlanApproval.meeting_date, PlanApproval.position)
            )
        ]
        return columns, rows

    def write(self, row: GridRow, column: GridColumn, value: Any) -> str | None:
        approval_id = row.record_id

        def work(tx: Transaction) -> None:
            approval = tx.get(PlanApproval, approval_id) if approval_id else None
            if approval is None or approval.deleted_at is not None:
                raise DomainError("That approval has been removed.")
            tx.update(approval, **{column.key: value})

        return self.edit(f"Change approval {column.header.lower()}", work)


class PlanEditor(RecordForm):
    """The plan: title, period, status, vision; its approval trail; adds what it holds."""

    record_class = Plan
    specs = (
        text("Title", "title", required=True).checked(
            checks.unique_in("partnership_id", "partnership", "title")
        ),
        year("First year", "start_year", _plan_year_span).checked(checks.first_year),
        year("Last year", "end_year", _plan_year_span).checked(checks.last_year),
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
        self.add_section(self.approvals_section)
        frameworks = LinkListModel(
            self.document,
            owner_cls=Plan,
            owner_id=self.record_id,
            link_cls=PlanFramework,
            owner_field="plan_id",
            target_field="framework_id",
            candidates=lambda s, plan: ch.frameworks(s, ch.scope_of(s, plan)),
            noun="framework",
            watches=frozenset({"outcome_framework"}),
        )
        self.frameworks = LinkSection(
            "Aligned frameworks",
            frameworks,
            note="Tick each outcomes framework the plan is aligned to.",
        )
        self.add_section(self.frameworks)
        self.add_button("Add priority", self.add_priority)
        self.add_button("Add measure", self.add_measure)
        self.add_button("Add risk", self.add_risk)
        # The partnership's own records: the plan is where a partnership is edited from.
        self.add_button("Add organisation", self.add_organisation, group=1)
        self.add_button("Add person", self.add_person, group=1)
        self.add_button("Add funding stream", self.add_funding_stream, group=1)
        self.add_button("Add outcome framework", self.add_framework, group=1)

    def heading_text(self, record: Any) -> str:
        period = record.period_label
        return f"Plan: {record.title}" + ("" if period in record.title else f" ({period})")

    def _plan(self, tx: Transaction) -> Plan:
        plan = tx.get(Plan, self.record_id)
        if plan is None or plan.deleted_at is not None:
            raise DomainError("The plan has been deleted.")
        return plan

    def add_approval(self) -> uuid.UUID | None:
        def make(tx: Transaction) -> PlanApproval:
            plan = self._plan(tx)
            position = ch.next_position(
                tx.session, PlanApproval.position, PlanApproval.plan_id == plan.id
            )
            return tx.add(
                PlanApproval(
                    plan_id=plan.id, body="New approval", meeting_date=self.today, position=position
                )
            )

        new_id = self.add_record("Add approval", make)
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

        def work(tx: Transaction) -> None:
            approval = tx.get(PlanApproval, approval_id)
            if approval is not None and approval.deleted_at is None:
                tx.delete(approval)

        reason = self.approvals.edit(f"Remove approval by {row.values['body']}", work)
        if reason is not None:
            self.approvals_section.error.show_error(reason)
            return False
        self.approvals_section.error.clear_error()
        return True

    def add_priority(self) -> uuid.UUID | None:
        def make(tx: Transaction) -> Priority:
            plan = self._plan(tx)
            codes = ch.live_values(tx.session, Priority.code, Priority.plan_id == plan.id)
            position = ch.next_position(tx.session, Priority.position, Priority.plan_id == plan.id)
            return tx.add(
                Priority(
                    plan_id=plan.id,
                    code=ch.next_code(codes, "P", width=1),
                    title="New priority",
                    position=position,
                )
            )

        return self.add_record("Add priority", make)

    def add_measure(self) -> uuid.UUID | None:
        def make(tx: Transaction) -> Measure:
            plan = self._plan(tx)
            refs = ch.live_values(tx.session, Measure.ref, Measure.plan_id == plan.id)
            position = ch.next_position(tx.session, Measure.position, Measure.plan_id == plan.id)
            return tx.add(
                Measure(
                    plan_id=plan.id,
                    ref=ch.next_code(refs, "M"),
                    name="New measure",
                    position=position,
                )
            )

        return self.add_record("Add measure", make)

    def add_risk(self) -> uuid.UUID | None:
        def make(tx: Transaction) -> Risk:
            plan = self._plan(tx)
            refs = ch.live_values(tx.session, Risk.ref, Risk.plan_id == plan.id)
            return tx.add(Risk(plan_id=plan.id, ref=ch.next_code(refs, "R"), title="New risk"))

        return self.add_record("Add risk", make)

    def add_organisation(self) -> uuid.UUID | None:
        def make(tx: Transaction) -> Organisation:
            plan = self._plan(tx)
            taken = ch.live_values(
                tx.session, Organisation.name, Organisation.partnership_id == plan.partnership_id
            )
            return tx.add(
                Organisation(
                    partnership_id=plan.partnership_id,
                    name=ch.unique_text(taken, "New organisation"),
                )
            )

        return self.add_record("Add organisation", make)

    def add_person(self) -> uuid.UUID | None:
        def make(tx: Transaction) -> Person:
            plan = self._plan(tx)
            return tx.add(Person(partnership_id=plan.partnership_id, name="New person"))

        return self.add_record("Add person", make)

    def add_funding_stream(self) -> uuid.UUID | None:
        def make(tx: Transaction) -> FundingStream:
            plan = self._plan(tx)
            taken = ch.live_values(
                tx.session, FundingStream.name, FundingStream.partnership_id == plan.partnership_id
            )
            return tx.add(
                FundingStream(
                    partnership_id=plan.partnership_id,
                    name=ch.unique_text(taken, "New funding stream"),
                )
            )

        return self.add_record("Add funding stream", make)

    def add_framework(self) -> uuid.UUID | None:
        def make(tx: Transaction) -> OutcomeFramework:
            plan = self._plan(tx)
            return tx.add(
                OutcomeFramework(partnership_id=plan.partnership_id, name="New outcome framework")
            )

        return self.add_record("Add outcome framework", make)


def outcome_links(
    document: PlanDocument,
    owner_cls: Any,
    owner_id: uuid.UUID,
    link_cls: Any,
    owner_field: str,
) -> LinkSection:
    """The outcomes a record contributes to, as a checkable list of every outcome of the
    partnership's frameworks."""
    model = LinkListModel(
        document,
        owner_cls=owner_cls,
        owner_id=owner_id,
        link_cls=link_cls,
        owner_field=owner_field,
        target_field="outcome_id",
        candidates=lambda session, owner: ch.outcomes(session, ch.scope_of(session, owner)),
        noun="outcome",
        watches=frozenset({"outcome", "outcome_framework"}),
    )
    return LinkSection("Outcomes", model, note="Tick each outcome this contributes to.")


class PriorityEditor(RecordForm):
    record_class = Priority
    specs = (
        text("Code", "code", required=True).checked(checks.unique_in_plan("code")),
        text("Title", "title", required=True),
        multiline("Description", "description"),
        reference("Lead", "lead_person_id", "person"),
        whole("Position", "position", help="Order in the plan: lower comes first"),
    )

    def build(self) -> None:
        self.outcomes = outcome_links(
            self.document, Priority, self.record_id, PriorityOutcome, "priority_id"
        )
        self.add_section(self.outcomes)
        self.add_button("Add priority area", self.add_area)

    def heading_text(self, record: Any) -> str:
        return f"Priority {record.code}: {record.title}"

    def add_area(self) -> uuid.UUID | None:
        priority_id = self.record_id

        def make(tx: Transaction) -> PriorityArea:
            position = ch.next_position(
                tx.session, PriorityArea.position, PriorityArea.priority_id == priority_id
            )
            return tx.add(
                PriorityArea(priority_id=priority_id, title="New priority area", position=position)
            )

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

        def make(tx: Transaction) -> Action:
            area = tx.get(PriorityArea, area_id)
            priority = tx.get(Priority, area.priority_id) if area is not None else None
            if area is None or priority is None:
                raise DomainError("The priority area has been deleted.")
            refs = ch.live_values(tx.session, Action.ref, Action.plan_id == priority.plan_id)
            position = ch.next_position(
                tx.session, Action.position, Action.priority_area_id == area_id
            )
            return services.add_action(
                tx,
                area,
                ref=ch.next_code(refs, f"{priority.code}-"),
                title="New action",
                position=position,
            )

        return self.add_record("Add action", make)
