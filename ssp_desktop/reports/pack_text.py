"""Words and cells that every section of the board pack prints the same way.

Dates as council papers write them, a RAG rating as a table cell, counts of ratings as
a sentence, free text as paragraphs, and what the pack says where a field is empty.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from ssp_desktop.queries.performance import Counts, Standing
from ssp_desktop.reports.blocks import Block, Cell, Paragraph, TextStyle

SAMPLE_BANNER = "Sample data - illustrative only"
NOT_GIVEN = "Not given"


def long_date(d: dt.date) -> str:
    """The way council papers write a date: "21 November 2024"."""
    return f"{d.day} {d:%B %Y}"


def short_date(d: dt.date | None) -> str:
    return f"{d.day} {d:%b %Y}" if d is not None else ""


def rag_cell(standing: Standing) -> Cell:
    return Cell(standing.word, standing=standing, align="centre")


def counts_sentence(counts: Counts, standings: Iterable[Standing]) -> str:
    parts = [f"{counts[s]} {s.word}" for s in standings if counts[s]]
    return ", ".join(parts) if parts else "none"


def paragraphs(text: str, empty: str) -> list[Block]:
    parts = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text.strip()) if p.strip()]
    if not parts:
        return [Paragraph(empty, TextStyle.NOTE)]
    return [Paragraph(p) for p in parts]
