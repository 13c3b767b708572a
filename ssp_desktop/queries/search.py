"""Search the whole plan: every plan's actions, quarterly updates, measures and their
values' notes, funding, risks, outcomes, organisations and people, grouped by kind,
with the words that matched.

The index and how it is kept are the store's business (``store.search``); this read
model only asks it for matches and says what each one is, in the plan's words.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Plan, record_classes
from ssp_desktop.store import partnerships
from ssp_desktop.store import search as index

# What the search box needs before it looks (one letter would match almost everything).
MIN_LETTERS = index.MIN_LETTERS
words = index.words

# The groups, in the order a result list shows them.
KINDS: dict[str, str] = {
    "action": "Actions",
    "update": "Progress updates",
    "measure": "Measures",
    "value": "Notes on measure values",
    "risk": "Risks",
    "funding": "Funding",
    "outcome": "Outcomes",
    "person": "Organisations and people",
    "plan": "Plans, priorities and areas",
}


@dataclass(frozen=True)
class SearchHit:
    """One record that matched, and where to open it."""

    kind: str
    entity: str  # the record to open: "action" for an update, "measure" for a value note
    record_id: uuid.UUID
    plan_id: uuid.UUID | None
    plan_title: str  # "" for partnership-wide records (people, funding, outcomes)
    quarter: Quarter | None  # the update's or value's quarter: open the record there
    title: str  # plain text
    title_html: str  # matched words in <b>
    context_html: str  # the matched words in their sentence, in <b>; "" if in the title
    matched: frozenset[str]  # the words that matched, lower case

    @property
    def where(self) -> str:
        """What a reader needs besides the title: the quarter, and the plan."""
        parts = []
        if self.quarter is not None:
            parts.append(self.quarter.label)
        if self.plan_title:
            parts.append(self.plan_title)
        return " · ".join(parts)


@dataclass(frozen=True)
class SearchGroup:
    kind: str
    label: str
    hits: tuple[SearchHit, ...]


def _marked(textual: str) -> tuple[str, set[str]]:
    """The index's marked text as HTML with <b>, and the words it marked."""
    out: list[str] = []
    matched: set[str] = set()
    rest = textual
    while True:
        start = rest.find(index.MARK_OPEN)
        if start < 0:
            out.append(html.escape(rest))
            break
        end = rest.find(index.MARK_CLOSE, start)
        if end < 0:
            out.append(html.escape(rest.replace(index.MARK_OPEN, "")))
            break
        out.append(html.escape(rest[:start]))
        word = rest[start + 1 : end]
        matched.add(word.lower())
        out.append(f"<b>{html.escape(word)}</b>")
        rest = rest[end + 1 :]
    return "".join(out), matched


def _plain(textual: str) -> str:
    return textual.replace(index.MARK_OPEN, "").replace(index.MARK_CLOSE, "")


def _visible(session: Session, matches: list[index.Match]) -> list[index.Match]:
    """``matches`` whose records the session may read (its partnership's)."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for m in matches:
        wanted.setdefault(m.target_entity, set()).add(m.target_id)
    seen: set[uuid.UUID] = set()
    classes = record_classes()
    for entity, ids in wanted.items():
        cls = classes.get(entity)
        if cls is not None:
            seen.update(session.scalars(select(cls.id).where(cls.id.in_(ids))))
    return [m for m in matches if m.target_id in seen]


def search_plan(
    session: Session, typed: str, *, plan_id: uuid.UUID | None = None, limit: int = 60
) -> list[SearchGroup]:
    """What ``typed`` finds, grouped by kind in :data:`KINDS` order, best first in each.
    ``plan_id`` None: every plan in the store."""
    if partnerships.filtered_partnership(session) is None:
        matches = index.find(session, typed, plan_id=plan_id, limit=limit)
    else:
        # The index holds every partnership's documents and is read with its own SQL,
        # which the partnership filter does not reach: ask for more, keep what the
        # open partnership may see.
        found = index.find(session, typed, plan_id=plan_id, limit=limit * 4)
        matches = _visible(session, found)[:limit]
    plan_ids = {m.plan_id for m in matches if m.plan_id is not None}
    titles: dict[uuid.UUID, str] = {}
    if plan_ids:
        rows = session.execute(select(Plan.id, Plan.title).where(Plan.id.in_(plan_ids)))
        titles = {pid: title for pid, title in rows}
    grouped: dict[str, list[SearchHit]] = {kind: [] for kind in KINDS}
    for m in matches:
        title_html, in_title = _marked(m.title)
        context_html, in_context = _marked(m.snippet)
        grouped.setdefault(m.kind, []).append(
            SearchHit(
                kind=m.kind,
                entity=m.target_entity,
                record_id=m.target_id,
                plan_id=m.plan_id,
                plan_title=titles.get(m.plan_id, "") if m.plan_id else "",
                quarter=Quarter.parse(m.period) if m.period else None,
                title=_plain(m.title),
                title_html=title_html,
                context_html=context_html if in_context else "",
                matched=frozenset(in_title | in_context),
            )
        )
    return [
        SearchGroup(kind, KINDS.get(kind, kind.capitalize()), tuple(hits))
        for kind, hits in grouped.items()
        if hits
    ]
