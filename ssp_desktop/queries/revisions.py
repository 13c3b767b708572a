"""Figures revised since the last published pack: the corrections the next pack lists.

A published pack locks its quarter (``services/locks.py``); a later change to a locked
update or value is a correction with a reason, kept in the change log. This reads
those corrections for one plan, made after the revision the plan's last published pack
was made from: what changed, from what to what, why, by whom and when.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    BoardMeeting,
    BoardPack,
    ChangeLog,
    Measure,
    MeasureValue,
    PackExport,
    Person,
)
from ssp_desktop.queries.lists import format_value

__all__ = ["Published", "Revision", "Revisions", "revisions_since_published"]

_SHORT = 160


@dataclass(frozen=True)
class Published:
    """The plan's last published pack."""

    export_id: uuid.UUID
    quarter_label: str
    meeting: str
    published_at: dt.datetime
    published_by: str
    snapshot_seq: int


@dataclass(frozen=True)
class Revision:
    """One corrected figure."""

    what: str
    old: str
    new: str
    reason: str
    who: str
    when: dt.datetime


@dataclass(frozen=True)
class Revisions:
    published: Published | None
    items: tuple[Revision, ...]


def last_published(
    session: Session, plan_id: uuid.UUID, exclude: uuid.UUID | None = None
) -> Published | None:
    """The plan's most recently published pack (other than pack ``exclude``)."""
    query = (
        select(
            PackExport.id,
            BoardPack.quarter,
            BoardMeeting.title,
            BoardMeeting.meeting_date,
            PackExport.published_at,
            PackExport.published_by,
            PackExport.snapshot_seq,
        )
        .join(BoardPack, BoardPack.id == PackExport.pack_id)
        .join(BoardMeeting, BoardMeeting.id == BoardPack.meeting_id)
        .where(
            BoardPack.plan_id == plan_id,
            PackExport.published_at.is_not(None),
            PackExport.deleted_at.is_(None),
            BoardPack.deleted_at.is_(None),
        )
        .order_by(PackExport.published_at.desc(), PackExport.snapshot_seq.desc())
    )
    if exclude is not None:
        query = query.where(BoardPack.id != exclude)
    row = session.execute(query.limit(1)).first()
    if row is None:
        return None
    export_id, quarter, title, day, at, by, seq = row
    return Published(export_id, quarter.label, f"{title}, {day:%d %B %Y}", at, by, int(seq))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHORT else text[: _SHORT - 1].rstrip() + "…"


def _update_text(rag: Any, narrative: str) -> str:
    rag_word = rag.value.capitalize() if rag is not None else "No RAG"
    return f"{rag_word}. {_short(narrative)}".strip()


def revisions_since_published(
    session: Session, plan_id: uuid.UUID, *, exclude_pack: uuid.UUID | None = None
) -> Revisions:
    """Corrections of ``plan_id``'s updates and values since its last published pack
    (other than ``exclude_pack``), oldest first."""
    published = last_published(session, plan_id, exclude_pack)
    if published is None:
        return Revisions(None, ())
    people = dict(session.execute(select(Person.id, Person.name)).tuples().all())
    measures = {m.id: m for m in session.scalars(select(Measure).where(Measure.plan_id == plan_id))}
    actions = {a.id: a for a in session.scalars(select(Action).where(Action.plan_id == plan_id))}
    items: list[Revision] = []
    for row in session.scalars(
        select(ChangeLog)
        .where(
            ChangeLog.seq > published.snapshot_seq,
            ChangeLog.reason.is_not(None),
            ChangeLog.entity.in_([ActionUpdate.__tablename__, MeasureValue.__tablename__]),
        )
        .order_by(ChangeLog.seq)
    ):
        who = people.get(row.person_id, "") if row.person_id else ""
        who = who or row.actor
        item = (
            _value_revision(session, row, measures)
            if row.entity == MeasureValue.__tablename__
            else _update_revision(session, row, actions)
        )
        if item is not None:
            what, old, new = item
            items.append(Revision(what, old, new, row.reason or "", who, row.at))
    return Revisions(published, tuple(items))


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def _value_revision(
    session: Session, row: ChangeLog, measures: dict[uuid.UUID, Measure]
) -> tuple[str, str, str] | None:
    value = session.get(MeasureValue, row.record_id)
    if value is None or value.measure_id not in measures:
        return None
    m = measures[value.measure_id]

    def fmt(field: str | None, raw: Any) -> str:
        if field == "value":
            return format_value(raw, m.unit, m.decimals) if raw is not None else "No value"
        if raw is None or raw == "":
            return "Blank"
        if isinstance(raw, dict):
            return ", ".join(f"{k} {format_value(v, m.unit, m.decimals)}" for k, v in raw.items())
        return str(raw).capitalize() if isinstance(raw, str) else str(raw)

    what = f"{m.ref} {m.name}, {value.period.label}"
    if row.op == "update" and row.field is not None:
        label = row.field.replace("_", " ")
        return f"{what}: {label}", fmt(row.field, _loads(row.old)), fmt(row.field, _loads(row.new))
    if row.op == "create":
        new = _loads(row.new) or {}
        return f"{what}: value", "No value", fmt("value", new.get("value"))
    if row.op == "delete":
        return f"{what}: value", fmt("value", value.value), "Deleted"
    if row.op == "restore":
        return f"{what}: value", "Deleted", fmt("value", value.value)
    return None


def _update_revision(
    session: Session, row: ChangeLog, actions: dict[uuid.UUID, Action]
) -> tuple[str, str, str] | None:
    update = session.get(ActionUpdate, row.record_id)
    if update is None or update.action_id not in actions:
        return None
    a = actions[update.action_id]
    what = f"{a.ref} update for {update.quarter.label}"
    if row.op == "create":
        previous = session.get(ActionUpdate, update.supersedes_id) if update.supersedes_id else None
        old = _update_text(previous.rag, previous.narrative) if previous else "No update"
        return what, old, _update_text(update.rag, update.narrative)
    if row.op == "update" and row.field in ("rag", "narrative", "state"):
        return (
            f"{what}: {row.field}",
            str(_loads(row.old) or "None"),
            str(_loads(row.new) or "None"),
        )
    if row.op == "delete":
        return what, _update_text(update.rag, update.narrative), "Deleted"
    # A superseded version stops being current: the new version's row tells the story.
    return None
