"""Words and cells that every section of the board pack prints the same way.

Dates as council papers write them, a RAG rating as a table cell, counts of ratings as
a sentence, free text as paragraphs, and what the pack says where a field is empty; a
measure's value with its unit and rate basis, why it is rated as it is, and its
comparators, significance and rank as sentences.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from ssp_desktop.domain.enums import Polarity, ToleranceMode, Unit
from ssp_desktop.queries.lists import format_value
from ssp_desktop.queries.performance import Counts, ScorecardRow, Standing
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


def numbered(blocks: list[Block], section: int) -> list[Block]:
    """Body paragraphs numbered as council papers number them: 1.1, 1.2 ... (notes,
    which say that something is missing, are not numbered)."""
    out: list[Block] = []
    n = 0
    for block in blocks:
        # "(a) note progress ..." continues the numbered paragraph above it.
        sub_item = (
            re.match(r"\(?[a-z0-9]{1,3}\)|[-•*]\s", block.text)
            if isinstance(block, Paragraph)
            else None
        )
        if isinstance(block, Paragraph) and block.style is TextStyle.BODY and not sub_item:
            n += 1
            block = Paragraph(f"{section}.{n}\u2002{block.text}", block.style)
        out.append(block)
    return out


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def with_unit(row: ScorecardRow, value: float | None) -> str:
    """A measure's value as a sentence prints it: "29.3%", "6.43 per 1,000 households"."""
    text = row.fmt(value)
    if text and row.unit is Unit.RATE and row.rate_basis:
        text = f"{text} {row.rate_basis}"
    return text


def tolerance_words(row: ScorecardRow, target: float) -> str:
    """The tolerance in the measure's unit: "2.0 percentage points", "0.10 per 1,000
    households", "10% of the target (6.0)"."""
    tolerance = row.tolerance
    if row.tolerance_mode is ToleranceMode.RELATIVE:
        band = abs(target) * tolerance / 100
        return f"{tolerance:g}% of the target, {with_unit(row, band)}"
    if row.unit is Unit.PERCENT:
        return f"{format_value(tolerance, Unit.COUNT, row.decimals)} percentage points"
    return with_unit(row, tolerance)


def rag_sentence(row: ScorecardRow) -> str:
    """Why a measure is rated as it is, with units and the measure's precision:
    "29.3% is within tolerance (2.0 percentage points) of the target of 28.0%"."""
    if row.missing:
        return row.rag_reason
    if row.value is None or row.target is None or row.standing.rag is None:
        return row.rag_reason
    v, t = with_unit(row, row.value), with_unit(row, row.target)
    higher = row.polarity is Polarity.HIGHER_BETTER
    if row.standing is Standing.GREEN:
        return f"{v} is at or {'above' if higher else 'below'} the target of {t}"
    tol = tolerance_words(row, row.target) if row.tolerance else ""
    if row.standing is Standing.AMBER:
        return f"{v} is within tolerance ({tol}) of the target of {t}"
    side = "below" if higher else "above"
    if tol:
        return f"{v} is {side} the target of {t} by more than the tolerance ({tol})"
    return f"{v} is {side} the target of {t}"


def comparator_sentence(row: ScorecardRow, *, units: bool = True) -> str:
    """Every comparator, significance and rank as the council's papers write them:
    "GM average 2.26; England 2.10. Statistically significantly lower than GM average.
    Ranked 3rd of 10 in GM." Empty when there is nothing to say."""
    parts = []
    if row.comparators or row.comparator_text:
        parts.append(
            "Comparators: "
            + "; ".join(
                f"{name} {with_unit(row, v) if units else row.fmt(v)}"
                for name, v in row.comparators
            )
            if row.comparators
            else f"Comparator: {row.comparator_text}"
        )
    if row.comparator_significant is not None and row.comparators and row.value is not None:
        first, against = row.comparators[0]
        if not row.comparator_significant:
            parts.append(f"Not statistically significantly different from {first}")
        elif row.value != against:
            side = "higher" if row.value > against else "lower"
            parts.append(f"Statistically significantly {side} than {first}")
    if row.rank.strip():
        rank = row.rank.strip()
        parts.append(rank[0].upper() + rank[1:] if not rank[0].isdigit() else f"Ranked {rank}")
    return ". ".join(parts) + "." if parts else ""
