"""The board pack as data: sections of blocks, each block with its semantic role.

The assembler (:mod:`ssp_desktop.reports.pack`) reads the store and produces a
:class:`PackDocument`; the renderer (:mod:`ssp_desktop.reports.render`) draws it with
ReportLab platypus. Keeping the two apart means the content can be tested without a
PDF, and that every flowable the renderer makes knows what it *is* - a heading of some
level, a paragraph, a list, a table with header rows, a figure with alt text, or page
furniture - which is what a tagged (PDF/UA) pack needs: the tagging step maps
:class:`Role` to structure types (H1-H3, P, L/LI, Table/TH/TD, Figure, TOC, Artifact)
without restructuring the exporter.

Text is plain (no markup); the renderer escapes it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ssp_desktop.queries.performance import Standing
from ssp_desktop.reports.chart import ChartDescription


class Role(enum.StrEnum):
    """The structure type of a block, named as in PDF/UA's standard structure types."""

    H1 = "H1"
    H2 = "H2"
    H3 = "H3"
    P = "P"
    L = "L"
    TABLE = "Table"
    FIGURE = "Figure"
    TOC = "TOC"
    ARTIFACT = "Artifact"  # page furniture: running header and footer, rules, banners


class TextStyle(enum.StrEnum):
    """How a paragraph looks; all are role P."""

    BODY = "body"
    LEAD = "lead"  # the opening paragraph of a section, a little larger
    NOTE = "note"  # a callout: what is missing, what is sample data
    KICKER = "kicker"  # the partnership's name above the cover title
    QUOTE = "quote"  # a lead's words quoted under an exception


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # 1-3; never skips a level within a section
    anchor: str  # unique in the pack: target of the contents' links and bookmarks
    in_contents: bool = True

    @property
    def role(self) -> Role:
        return Role(f"H{self.level}")


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: TextStyle = TextStyle.BODY
    role: Role = field(default=Role.P, init=False)


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]
    numbered: bool = False
    role: Role = field(default=Role.L, init=False)


@dataclass(frozen=True)
class Spark:
    """A sparkline in a table cell: the values (None: no value), oldest first."""

    values: tuple[float | None, ...]
    alt: str


@dataclass(frozen=True)
class Cell:
    """A table cell with more than text: a RAG standing drawn as a word on its colour,
    a sparkline, emphasis, alignment."""

    text: str
    standing: Standing | None = None
    spark: Spark | None = None
    bold: bool = False
    align: str = "left"  # left | right | centre


CellValue = str | Cell


@dataclass(frozen=True)
class Table:
    """A table: ``header`` rows (repeated on every page the table runs onto) then
    ``rows``. ``widths`` are relative column widths. ``row_headers``: the first column
    names its row (TH with Scope Row when tagged). ``caption`` says what the table is,
    for a screen reader's table summary."""

    header: tuple[tuple[CellValue, ...], ...]
    rows: tuple[tuple[CellValue, ...], ...]
    widths: tuple[float, ...]
    caption: str
    row_headers: bool = False
    # Header cells spanning columns: (row, first column, last column) of the header.
    spans: tuple[tuple[int, int, int], ...] = ()
    # Rows drawn as totals (bold, ruled above), by index into ``rows``.
    total_rows: tuple[int, ...] = ()
    compact: bool = False  # a chart's data table: smaller type, tighter padding
    role: Role = field(default=Role.TABLE, init=False)

    @property
    def columns(self) -> int:
        return len(self.widths)


@dataclass(frozen=True)
class Fields:
    """Label and value pairs (the cover sheet's "Subject: ..."): a two-column table
    whose first column heads its row."""

    pairs: tuple[tuple[str, str], ...]
    caption: str
    role: Role = field(default=Role.TABLE, init=False)


@dataclass(frozen=True)
class Figure:
    """A measure's chart drawn as vector graphics, with its alt text and data table."""

    chart: ChartDescription
    alt: str
    caption: str
    table: Table
    role: Role = field(default=Role.FIGURE, init=False)


@dataclass(frozen=True)
class Contents:
    """The table of contents: filled in by the renderer from the headings it draws
    (levels up to ``depth``), with page numbers and links."""

    depth: int = 2
    role: Role = field(default=Role.TOC, init=False)


@dataclass(frozen=True)
class NewPage:
    """Start a new page, portrait or landscape. Layout only: no role."""

    landscape: bool = False


@dataclass(frozen=True)
class KeepTogether:
    """Blocks that should not be split across pages if they fit on one (a heading with
    its first paragraph, a figure with its table). Grouping only: no role of its own."""

    blocks: tuple[Block, ...]


Block = (
    Heading | Paragraph | BulletList | Table | Fields | Figure | Contents | NewPage | KeepTogether
)


@dataclass(frozen=True)
class Furniture:
    """What the running header and footer say on every page (role Artifact)."""

    marking: str  # protective marking, e.g. OFFICIAL
    meeting: str  # "SSP Board, 21 November 2024"
    title: str  # short title, e.g. "Quarterly performance report 2024/25 Q2"
    sample_banner: str = ""  # "Sample data - illustrative only" for the sample plan
    role: Role = field(default=Role.ARTIFACT, init=False)


@dataclass(frozen=True)
class Section:
    """One switchable section of the pack (a key of ``BoardPack.sections``)."""

    key: str
    title: str
    blocks: tuple[Block, ...]
    landscape: bool = False  # the section starts on a landscape page
    # Runs on below the previous section when that ends on a page of the same
    # orientation with room to spare, rather than leaving that page near-empty.
    flows: bool = False


@dataclass(frozen=True)
class Metadata:
    title: str
    author: str
    subject: str
    keywords: tuple[str, ...]
    lang: str = "en-GB"
    creator: str = "ssp-desktop"
    # The production time the file's dates give (not the moment it is drawn), so
    # the same pack drawn again is the same file; None: the start of 2000 (tests).
    produced_at: dt.datetime | None = None
    # Further document information entries, e.g. ("DataRevision", "412").
    extra_info: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PackDocument:
    metadata: Metadata
    furniture: Furniture
    sections: tuple[Section, ...]

    def blocks(self) -> Iterator[Block]:
        """Every block in reading order, groups opened."""
        for section in self.sections:
            yield from _walk(section.blocks)

    def headings(self) -> list[Heading]:
        return [b for b in self.blocks() if isinstance(b, Heading)]


def _walk(blocks: Sequence[Block]) -> Iterator[Block]:
    for block in blocks:
        if isinstance(block, KeepTogether):
            yield from _walk(block.blocks)
        else:
            yield block


SECTION_TITLES: dict[str, str] = {
    "cover": "Summary sheet",
    "contents": "Contents",
    "at_a_glance": "At a glance",
    "changes": "What changed since last quarter",
    "scorecard": "Performance scorecard",
    "priorities": "Strategic priorities",
    "outcomes": "Outcomes",
    "funding": "Funding",
    "risks": "Risks and forward look",
    "appendix": "Appendix: definitions",
}
"""Every section key a pack knows, with the name the builder shows for it."""
