"""Funding editors: a stream with its allocation per financial year (through
``services.set_allocation`` and ``funding.clear_allocation``) and its awards; an award
with its recipient and outcomes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    FundingAllocation,
    FundingAward,
    FundingAwardOutcome,
    FundingStream,
    Organisation,
    Plan,
    Priority,
)
from ssp_desktop.services import funding
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import choices as ch
from ssp_desktop.ui.forms.fields import Choice, Kind, money, multiline, reference, text, year
from ssp_desktop.ui.forms.grids import GridColumn, GridModel, GridRow, GridSection
from ssp_desktop.ui.forms.plan import outcome_links
from ssp_desktop.ui.forms.record_form import RecordForm


def _stream_years(session: Session, stream_id: uuid.UUID) -> list[FinancialYear]:
    """Years a stream's money is reckoned in: those with allocations or awards, and the
    years of the partnership's plans, plus the year after the last (to plan ahead)."""
    stream = session.get(FundingStream, stream_id)
    if stream is None:
        return []
    years: set[FinancialYear] = set(
        session.scalars(
            select(FundingAllocation.year).where(
                FundingAllocation.stream_id == stream_id, FundingAllocation.deleted_at.is_(None)
            )
        )
    )
    years.update(
        session.scalars(
            select(FundingAward.year).where(
                FundingAward.stream_id == stream_id, FundingAward.deleted_at.is_(None)
            )
        )
    )
    for plan in session.scalars(
        select(Plan).where(Plan.partnership_id == stream.partnership_id, Plan.deleted_at.is_(None))
    ):
        years.update(
            FinancialYear(y) for y in range(plan.start_year.start, plan.end_year.start + 1)
        )
    if not years:
        return []
    return [FinancialYear(y) for y in range(min(years).start, max(years).start + 2)]


class AllocationsModel(GridModel):
    """A stream's allocation for each financial year, in pounds."""

    watches = frozenset({"funding_allocation", "funding_award", "plan"})

    def __init__(self, document: PlanDocument, stream_id: uuid.UUID) -> None:
        super().__init__(document)
        self.stream_id = stream_id
        self.reload()

    def fetch(self, session: Session) -> tuple[list[GridColumn], list[GridRow]]:
        columns = [GridColumn("Allocation", "amount", Kind.MONEY)]
        rows = []
        for fy in _stream_years(session, self.stream_id):
            alloc = session.get(FundingAllocation, FundingAllocation.make_id(self.stream_id, fy))
            amount = alloc.amount if alloc is not None and alloc.deleted_at is None else None
            rows.append(
                GridRow(
                    key=fy,
                    values={"amount": amount},
                    header=fy.label,
                    record_id=FundingAllocation.make_id(self.stream_id, fy),
                    entity="funding_allocation",
                )
            )
        return columns, rows

    def write(
        self, row: GridRow, column: GridColumn, value: Any, expected: dict[str, Any]
    ) -> str | None:
        fy: FinancialYear = row.key
        stream_id = self.stream_id
        shown = expected.get("amount")

        def work(tx: Transaction) -> None:
            stream = tx.get(FundingStream, stream_id)
            if stream is None or stream.deleted_at is not None:
                raise DomainError("The funding stream has been deleted.")
            if value is None:
                funding.clear_allocation(tx, stream_id, fy, expected=shown)
            else:
                services.set_allocation(tx, stream_id, fy, value, expected=shown)

        verb = "Clear" if value is None else "Set"
        return self.edit(f"{verb} allocation for {fy}", work)


class AwardsModel(GridModel):
    """A stream's awards, newest year first (read-only; each opens in its own editor)."""

    watches = frozenset({"funding_award", "organisation", "priority"})

    def __init__(self, document: PlanDocument, stream_id: uuid.UUID) -> None:
        super().__init__(document)
        self.stream_id = stream_id
        self.editable = False
        self.reload()

    def fetch(self, session: Session) -> tuple[list[GridColumn], list[GridRow]]:
        columns = [
            GridColumn("Year", "year", editable=False),
            GridColumn("Project", "project", editable=False),
            GridColumn("Recipient", "recipient", editable=False),
            GridColumn("Amount", "amount", Kind.MONEY, editable=False),
            GridColumn("Priority", "priority", editable=False),
        ]
        rows = []
        for award in session.scalars(
            select(FundingAward)
            .where(FundingAward.stream_id == self.stream_id, FundingAward.deleted_at.is_(None))
            .order_by(FundingAward.year.desc(), FundingAward.project)
        ):
            org = (
                session.get(Organisation, award.recipient_organisation_id)
                if award.recipient_organisation_id
                else None
            )
            priority = session.get(Priority, award.priority_id) if award.priority_id else None
            rows.append(
                GridRow(
                    key=award.id,
                    values={
                        "year": award.year.label,
                        "project": award.project,
                        "recipient": award.recipient_name
                        or (ch.organisation_label(org) if org else ""),
                        "amount": award.amount,
                        "priority": priority.code if priority else "",
                    },
                    record_id=award.id,
                    entity="funding_award",
                )
            )
        return columns, rows


class FundingStreamEditor(RecordForm):
    record_class = FundingStream
    specs = (
        text("Name", "name", required=True),
        text("Funder", "funder"),
        multiline("Description", "description"),
    )

    def build(self) -> None:
        self.allocations_model = AllocationsModel(self.document, self.record_id)
        self.allocations = GridSection(
            "Allocations",
            self.allocations_model,
            note="The stream's money for each financial year, in pounds. Blank: none.",
        )
        self.add_section(self.allocations)
        self.awards_model = AwardsModel(self.document, self.record_id)
        self.awards = GridSection(
            "Awards", self.awards_model, note="Press Enter or double-click to open an award."
        )
        self.awards.add_button("Add award", self.add_award)
        self.awards.finish_buttons()
        self.awards.record_activated.connect(self.record_activated)
        self.add_section(self.awards)

    def heading_text(self, record: Any) -> str:
        return f"Funding stream: {record.name}"

    def add_award(self) -> uuid.UUID | None:
        stream_id = self.record_id

        def make(tx: Transaction) -> FundingAward:
            stream = tx.get(FundingStream, stream_id)
            if stream is None or stream.deleted_at is not None:
                raise DomainError("The funding stream has been deleted.")
            years = _stream_years(tx.session, stream_id)
            this_year = FinancialYear.of(self.today)
            fy = this_year if not years or this_year in years else years[-1]
            return funding.add_award(tx, stream, fy)

        return self.add_record("Add award", make)


def _award_years(session: Session, award: Any) -> list[Choice]:
    years = _stream_years(session, award.stream_id) or [award.year]
    return [(y.label, y) for y in ch.year_span([*years, award.year], before=2, after=2)]


class FundingAwardEditor(RecordForm):
    record_class = FundingAward
    specs = (
        year("Year", "year", _award_years),
        text("Project", "project", required=True),
        reference("Recipient organisation", "recipient_organisation_id", "organisation"),
        text("Recipient name", "recipient_name"),
        money("Amount", "amount"),
        reference("Priority", "priority_id", "priority"),
        multiline("Description", "description"),
    )

    def build(self) -> None:
        self.outcomes = outcome_links(
            self.document, FundingAward, self.record_id, FundingAwardOutcome
        )
        self.add_section(self.outcomes)

    def heading_text(self, record: Any) -> str:
        return f"Award: {record.project} ({record.year})"
