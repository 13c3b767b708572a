"""Assemble a quarterly board pack from the store: its content as blocks, no PDF yet.

:func:`assemble_pack` reads one :class:`~ssp_desktop.domain.records.BoardPack` (cover
fields, sections and their order), its meeting and plan, and the plan as at the pack's
quarter, and returns a :class:`~ssp_desktop.reports.blocks.PackDocument`. The layout
follows the council's report format (summary sheet first: subject, meeting and date,
report of, key decision, summary, recommendations, contact officer) and DESIGN.md
section 5. Figures come from the same functions as the app's screens
(:func:`~ssp_desktop.queries.performance.scorecard`, ``rag_by_priority``,
:func:`~ssp_desktop.queries.quarter_changes.quarter_changes`,
:func:`~ssp_desktop.reports.chart.measure_chart`), so the paper and the screen agree.

The sections are built in :mod:`~ssp_desktop.reports.pack_summary` (summary sheet,
contents, at a glance, what changed), :mod:`~ssp_desktop.reports.pack_priorities`
(scorecard, the priorities' pages) and :mod:`~ssp_desktop.reports.pack_registers`
(funding, risks, definitions), from what :mod:`~ssp_desktop.reports.pack_context` reads.

Whatever is missing - a cover field, updates, values, a whole section's data - is said
in the pack rather than left blank, so a pack can always be made.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.records import DEFAULT_PACK_SECTIONS, BoardPack
from ssp_desktop.reports.blocks import (
    SECTION_TITLES,
    Block,
    Furniture,
    Heading,
    Metadata,
    PackDocument,
    Paragraph,
    Section,
    TextStyle,
)
from ssp_desktop.reports.pack_context import PackContext
from ssp_desktop.reports.pack_outcomes import outcomes_section
from ssp_desktop.reports.pack_priorities import (
    StepFn,
    priorities_section,
    scorecard_cells,
    scorecard_section,
)
from ssp_desktop.reports.pack_registers import appendix_section, funding_section, risks_section
from ssp_desktop.reports.pack_source import Provenance
from ssp_desktop.reports.pack_summary import (
    at_a_glance_section,
    changes_section,
    contents_section,
    cover_section,
)
from ssp_desktop.reports.pack_text import SAMPLE_BANNER, long_date

__all__ = ["SAMPLE_BANNER", "assemble_pack", "long_date", "scorecard_cells", "section_order"]


def section_order(sections: Sequence[dict[str, Any]] | None) -> list[tuple[str, bool]]:
    """The pack's sections as (key, enabled), in the stored order; unknown keys are
    dropped and sections the stored list lacks (added in a later version) are put
    after the section they follow in the default order, switched on."""
    seen: list[tuple[str, bool]] = []
    for item in sections or []:
        key = str(item.get("key", ""))
        if key in SECTION_TITLES and key not in {k for k, _ in seen}:
            seen.append((key, bool(item.get("enabled", True))))
    # A section added in a later version goes where it stands in the default order
    # (after the section it follows there), switched on.
    for n, item in enumerate(DEFAULT_PACK_SECTIONS):
        key = item["key"]
        if key in {k for k, _ in seen}:
            continue
        before = [d["key"] for d in DEFAULT_PACK_SECTIONS[:n]]
        at = max((i + 1 for i, (k, _e) in enumerate(seen) if k in before), default=len(seen))
        seen.insert(at, (key, True))
    return seen


_BUILDERS: dict[str, Callable[[PackContext], tuple[Block, ...]]] = {
    "cover": cover_section,
    "contents": contents_section,
    "at_a_glance": at_a_glance_section,
    "changes": changes_section,
    "scorecard": scorecard_section,
    "funding": funding_section,
    "risks": risks_section,
    "appendix": appendix_section,
    "outcomes": outcomes_section,
}
_LANDSCAPE = {"scorecard", "risks"}
# Short sections that run on below the one before rather than start a page of their own.
_FLOWING = {"outcomes", "funding"}


def assemble_pack(
    session: Session,
    pack_id: uuid.UUID,
    *,
    is_sample: bool = False,
    step: StepFn | None = None,
    provenance: Provenance | None = None,
) -> PackDocument:
    """The content of board pack ``pack_id``, its enabled sections in the chosen order.

    ``step(text)`` is called before each section and each priority's charts (the export
    reports progress and honours a cancel through it). Raises DomainError for a pack
    that does not exist or whose plan or meeting has gone."""
    pack = session.get(BoardPack, pack_id)
    if pack is None or pack.deleted_at is not None:
        raise DomainError("That board pack is not in this store (it may have been deleted).")
    ctx = PackContext(session, pack, is_sample, provenance)
    report = step or (lambda _text: None)
    sections = []
    for key, enabled in section_order(pack.sections):
        if not enabled:
            continue
        report(SECTION_TITLES[key])
        blocks = priorities_section(ctx, report) if key == "priorities" else _BUILDERS[key](ctx)
        sections.append(
            Section(
                key,
                SECTION_TITLES[key],
                blocks,
                landscape=key in _LANDSCAPE,
                flows=key in _FLOWING,
            )
        )
    if not sections:
        sections.append(
            Section(
                "empty",
                "No sections",
                (
                    Heading(f"Board pack for {ctx.quarter.label}", 1, "sec-empty"),
                    Paragraph(
                        "Every section of this pack is switched off. Switch some on in the "
                        "board pack builder.",
                        TextStyle.NOTE,
                    ),
                ),
            )
        )
    subject = pack.subject.strip() or (
        f"{ctx.plan.title}: quarterly performance report, {ctx.quarter.label}"
    )
    title = f"{ctx.partnership or ctx.plan.title}: board pack, {ctx.quarter.label}"
    return PackDocument(
        metadata=Metadata(
            title=title,
            author=pack.report_of.strip() or ctx.partnership or "ssp-desktop",
            subject=subject,
            keywords=(
                "board pack",
                "community safety partnership",
                ctx.partnership,
                ctx.plan.title,
                ctx.quarter.label,
                ctx.meeting.title,
                *((SAMPLE_BANNER,) if is_sample else ()),
            ),
            produced_at=provenance.produced_at if provenance is not None else None,
            extra_info=provenance.info() if provenance is not None else (),
        ),
        furniture=Furniture(
            marking=pack.protective_marking.strip() or "OFFICIAL",
            meeting=ctx.meeting_text,
            title=f"Quarterly performance report, {ctx.quarter.label}",
            sample_banner=SAMPLE_BANNER if is_sample else "",
        ),
        sections=tuple(sections),
    )
