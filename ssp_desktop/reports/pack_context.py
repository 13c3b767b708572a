"""What the board pack's sections read from the store, fetched once per pack.

:class:`PackContext` holds the pack, its meeting and plan, the scorecard and RAG counts
as at the pack's quarter (from the same queries as the app's screens), and each action
with its lead and update for the quarter; the section builders only read it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import ActionStatus, Rag, UpdateState
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    BoardMeeting,
    BoardPack,
    Organisation,
    Partnership,
    Person,
    Plan,
    Priority,
    PriorityArea,
)
from ssp_desktop.queries.performance import (
    PriorityPerformance,
    ScorecardRow,
    Standing,
    action_standings,
    quarter_updates,
    rag_by_priority,
    scorecard,
)
from ssp_desktop.queries.quarter_changes import QuarterChanges, quarter_changes
from ssp_desktop.queries.revisions import Revisions, revisions_since_published
from ssp_desktop.reports.pack_source import Provenance
from ssp_desktop.reports.pack_text import long_date

AWAITING_REVIEW = "Awaiting review"
"""The words that mark an update or value printed before the strategy team accepted it."""


@dataclass(frozen=True)
class ActionInfo:
    """One action as the pack prints it: its lead, dates and update for the quarter."""

    id: uuid.UUID
    ref: str
    title: str
    priority_id: uuid.UUID
    area: str
    lead: str
    start: dt.date | None
    due: dt.date | None
    status: ActionStatus
    closed: bool
    standing: Standing
    rag: Rag | None
    narrative: str
    complete: bool
    # Its update was submitted and not yet accepted: printed only when the builder
    # asks, and then marked wherever it is printed.
    awaiting_review: bool = False


@dataclass(frozen=True)
class PriorityInfo:
    """One strategic priority with its lead's name."""

    id: uuid.UUID
    code: str
    title: str
    description: str
    lead: str


class PackContext:
    """Everything the sections read, fetched once."""

    def __init__(
        self,
        session: Session,
        pack: BoardPack,
        is_sample: bool,
        provenance: Provenance | None = None,
    ) -> None:
        self.session = session
        self.pack = pack
        self.is_sample = is_sample
        self.provenance = provenance
        meeting = session.get(BoardMeeting, pack.meeting_id)
        plan = session.get(Plan, pack.plan_id)
        if meeting is None or plan is None or plan.deleted_at is not None:
            raise DomainError(
                "This board pack's meeting or plan is no longer in the store, so the pack "
                "cannot be made. Choose another plan or meeting."
            )
        self.meeting = meeting
        self.plan = plan
        partnership = session.get(Partnership, plan.partnership_id)
        self.partnership = partnership.name if partnership is not None else ""
        self.quarter: Quarter = pack.quarter
        # "Today" for the flags (past due, ...) is the day the pack was produced, or the
        # day after the quarter for a pack showing the plan as at the quarter's end: a
        # pack made again later must say the same.
        if provenance is None:
            self.today = dt.date.today()
        elif provenance.plan_as_at is not None:
            self.today = provenance.plan_as_at + dt.timedelta(days=1)
        else:
            self.today = provenance.produced_at.date()
        self.rows: list[ScorecardRow] = scorecard(session, plan.id, self.quarter)
        self.performance: list[PriorityPerformance] = rag_by_priority(
            session, plan.id, self.quarter, self.rows
        )
        self.people = {p.id: (p.role_title or p.name) for p in session.scalars(select(Person))}
        self.orgs = {o.id: (o.short_name or o.name) for o in session.scalars(select(Organisation))}
        self.priorities = [
            PriorityInfo(
                p.id,
                p.code,
                p.title,
                p.description,
                self.people.get(p.lead_person_id, "") if p.lead_person_id else "",
            )
            for p in session.scalars(
                select(Priority)
                .where(Priority.plan_id == plan.id, Priority.deleted_at.is_(None))
                .order_by(Priority.position, Priority.code)
            )
        ]
        self.actions = self._actions()
        self._changes: QuarterChanges | None = None

    @property
    def meeting_text(self) -> str:
        return f"{self.meeting.title}, {long_date(self.meeting.meeting_date)}"

    @property
    def revisions(self) -> Revisions:
        """Corrections of published figures since the plan's last published pack."""
        return revisions_since_published(self.session, self.plan.id, exclude_pack=self.pack.id)

    @property
    def changes(self) -> QuarterChanges:
        if self._changes is None:
            self._changes = quarter_changes(
                self.session,
                self.plan.id,
                self.quarter,
                until=self.meeting.meeting_date,
                rows=self.rows,
            )
        return self._changes

    def _actions(self) -> list[ActionInfo]:
        standings = action_standings(self.session, self.plan.id, self.quarter)
        updates = {
            u.action_id: u
            for u in self.session.scalars(quarter_updates(self.plan.id, self.quarter, ActionUpdate))
        }
        out = []
        for action, area_title in self.session.execute(
            select(Action, PriorityArea.title)
            .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
            .where(Action.plan_id == self.plan.id, Action.deleted_at.is_(None))
            .order_by(PriorityArea.position, Action.position, Action.ref)
        ).tuples():
            priority_id, standing = standings[action.id]
            update = updates.get(action.id)
            awaiting = update is not None and update.state is UpdateState.SUBMITTED
            narrative = update.narrative.strip() if update is not None else ""
            if awaiting:
                # The marking is part of the text, so print, tags and screen readers
                # all carry it.
                narrative = f"{AWAITING_REVIEW}: {narrative or 'no commentary given.'}"
            lead = " – ".join(
                x
                for x in (
                    self.orgs.get(action.lead_organisation_id, "")
                    if action.lead_organisation_id
                    else "",
                    self.people.get(action.lead_person_id, "") if action.lead_person_id else "",
                )
                if x
            )
            out.append(
                ActionInfo(
                    id=action.id,
                    ref=action.ref,
                    title=action.title,
                    priority_id=priority_id,
                    area=area_title,
                    lead=lead,
                    start=action.start_date,
                    due=action.due_date,
                    status=action.status,
                    closed=action.status.is_closed,
                    standing=standing,
                    rag=update.rag if update is not None else None,
                    narrative=narrative,
                    complete=action.status is ActionStatus.COMPLETE,
                    awaiting_review=awaiting,
                )
            )
        out.sort(key=lambda a: ref_key(a.ref))
        return out


def ref_key(ref: str) -> tuple[Any, ...]:
    # "PVP-10" after "PVP-9": compare the digits as numbers.
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", ref))
