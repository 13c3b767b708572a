"""Board meetings and their quarterly packs: making a pack (with its meeting) and the
fields a new pack starts with.

A pack's cover fields and sections are changed with :func:`ssp_desktop.services.edit`;
this module makes the records, so the standing fields carried over from the previous
pack are the same whether the pack is made from the window or the command line.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import BoardMeeting, BoardPack, Partnership, Plan
from ssp_desktop.services.core import create, service


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[:1].isupper())


def default_meeting_title(session: Session, partnership_id: uuid.UUID) -> str:
    """The title of the partnership's latest meeting, else e.g. "SSP Board"."""
    title = session.scalar(
        select(BoardMeeting.title)
        .where(BoardMeeting.partnership_id == partnership_id, BoardMeeting.deleted_at.is_(None))
        .order_by(BoardMeeting.meeting_date.desc())
        .limit(1)
    )
    if title:
        return str(title)
    partnership = session.get(Partnership, partnership_id)
    short = _initials(partnership.name) if partnership is not None else ""
    return f"{short} Board" if short else "Partnership Board"


def new_pack(session: Session, plan_id: uuid.UUID, quarter: Quarter) -> BoardPack:
    """An unsaved pack for ``quarter`` with the standing cover fields (report of, contact
    officer, marking, key decision, sections) of the plan's previous pack; the summary
    and recommendations start empty, and the pack says so until they are written. Its
    meeting is for the caller to set."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise DomainError("That plan is not in this store (it may have been deleted).")
    pack = BoardPack(
        plan_id=plan_id,
        quarter=quarter,
        subject=f"{plan.title}: quarterly performance report, {quarter.label}",
    )
    previous = session.scalars(
        select(BoardPack)
        .where(
            BoardPack.plan_id == plan_id,
            BoardPack.deleted_at.is_(None),
            BoardPack.quarter < quarter,
        )
        .order_by(BoardPack.quarter.desc())
        .limit(1)
    ).first()
    if previous is not None:
        pack.report_of = previous.report_of
        pack.contact_officer = previous.contact_officer
        pack.protective_marking = previous.protective_marking
        pack.key_decision = previous.key_decision
        pack.scrutiny_committee = previous.scrutiny_committee
        pack.wards_affected = previous.wards_affected
        pack.sections = [dict(item) for item in previous.sections]
    return pack


@service
def create_pack(
    tx: Transaction,
    plan_id: uuid.UUID,
    quarter: Quarter,
    meeting_date: dt.date,
    meeting_title: str | None = None,
) -> BoardPack:
    """Add the pack for ``quarter`` at the partnership's meeting on ``meeting_date``
    (made if there is none); see :func:`new_pack` for its fields."""
    s = tx.session
    plan = s.get(Plan, plan_id)
    if plan is None or plan.deleted_at is not None:
        raise DomainError("That plan is not in this store (it may have been deleted).")
    meeting = s.scalars(
        select(BoardMeeting).where(
            BoardMeeting.partnership_id == plan.partnership_id,
            BoardMeeting.meeting_date == meeting_date,
            BoardMeeting.deleted_at.is_(None),
        )
    ).first()
    if meeting is None:
        meeting = create(
            tx,
            BoardMeeting(
                partnership_id=plan.partnership_id,
                title=(meeting_title or "").strip()
                or default_meeting_title(s, plan.partnership_id),
                meeting_date=meeting_date,
            ),
        )
    pack = new_pack(s, plan_id, quarter)
    pack.meeting_id = meeting.id
    return create(tx, pack)
