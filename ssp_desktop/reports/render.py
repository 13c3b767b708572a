"""Draw a :class:`~ssp_desktop.reports.blocks.PackDocument` as a PDF with ReportLab platypus.

The look: A4, DejaVu Sans embedded throughout, body text 11 pt, headings in three
sizes, GOV.UK-style colours. RAG ratings are printed as words on their colour (every
pairing at least 4.5:1 contrast); wide tables get landscape pages; table header rows
repeat on every page a table runs onto and rows never split. Each page has a running
header and footer (protective marking top and bottom, the meeting, the report's title,
"Page X of Y", and "Sample data - illustrative only" for the sample plan). Headings
become PDF bookmarks, named destinations and contents entries with links. The document
carries its title, author, subject, keywords and language (en-GB) and asks viewers to
show the title rather than the file name.

Every flowable made here carries the role of the block it came from
(``flowable.ssp_role``, plus ``ssp_alt`` for figures and ``ssp_header_rows`` for
tables) and its structure element (``ssp_node``); the tagged flowables below
(:class:`TaggedParagraph`, :class:`HeadingFlowable`, :class:`FigureFlowable`,
:class:`TaggedTable`, :class:`TaggedList`, :class:`TaggedContents`) draw inside that
element's marked content, and the page furniture (:meth:`_PackCanvas.draw_furniture`)
is an artifact. :func:`render_pdf` then writes the structure tree: the pack is a tagged
PDF (PDF/UA-1); see :mod:`ssp_desktop.reports.tagging` and docs/accessibility.md.

This module imports ReportLab at the top; import it lazily from the CLI and the UI.
"""

from __future__ import annotations

import contextlib
import functools
import io
from ast import literal_eval
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, unescape

from reportlab import rl_config
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    ListFlowable,
    ListItem,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import KeepTogether as RLKeepTogether
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable
from reportlab.platypus.doctemplate import ActionFlowable
from reportlab.platypus.flowables import LIIndenter
from reportlab.platypus.paragraph import cleanBlockQuotedText
from reportlab.platypus.paraparser import ParaFrag, ParaParser
from reportlab.platypus.tableofcontents import TableOfContents, drawPageNumbers
from reportlab.platypus.tables import _calc_pc

from ssp_desktop.queries.performance import Standing
from ssp_desktop.reports import fonts, pdf_draw
from ssp_desktop.reports.blocks import (
    Block,
    BulletList,
    Cell,
    CellValue,
    Contents,
    Fields,
    Figure,
    Furniture,
    Heading,
    KeepTogether,
    NewPage,
    PackDocument,
    Paragraph,
    Role,
    Table,
    TextStyle,
)
from ssp_desktop.reports.pdf_chart import chart_drawing, sparkline
from ssp_desktop.reports.tagging import Node, Tagger, tagger_of, write_structure
from ssp_desktop.store.engine import fewer_collections

# GOV.UK design system colours.
INK = colors.HexColor("#0b0c0c")
SECONDARY_INK = colors.HexColor("#505a5f")
RULE = colors.HexColor("#b1b4b6")
LIGHT_GREY = colors.HexColor("#f3f2f1")
BRAND = colors.HexColor("#1d70b8")
WHITE = colors.white

# RAG as a word on its colour: (background, text). Each pairing is at least 4.5:1.
STANDING_COLOURS: dict[Standing, tuple[str, str]] = {
    Standing.RED: ("#d4351c", "#ffffff"),
    Standing.AMBER: ("#f47738", "#0b0c0c"),
    Standing.GREEN: ("#00703c", "#ffffff"),
    Standing.NO_UPDATE: ("#b1b4b6", "#0b0c0c"),
    Standing.NOT_STARTED: ("#ffffff", "#0b0c0c"),
    Standing.CLOSED: ("#505a5f", "#ffffff"),
    Standing.NOT_RATED: ("#f3f2f1", "#0b0c0c"),
}

BODY_SIZE = 11.0
COMPACT_SIZE = 10.0
FURNITURE_SIZE = 9.0

MARGIN_X = 18 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm

ProgressFn = Callable[[int], None]


def relative_luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours given as "#rrggbb"."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# --------------------------------------------------------------------------- styles


class _Styles:
    def __init__(self) -> None:
        fonts.register_fonts()
        regular, bold = fonts.REGULAR, fonts.BOLD
        self.body = ParagraphStyle(
            "Body",
            fontName=regular,
            fontSize=BODY_SIZE,
            leading=15.5,
            textColor=INK,
            spaceAfter=6,
        )
        self.lead = ParagraphStyle(
            "Lead", parent=self.body, fontSize=12.5, leading=17.5, spaceAfter=8
        )
        self.note = ParagraphStyle(
            "Note",
            parent=self.body,
            backColor=LIGHT_GREY,
            borderPadding=(6, 8, 6, 8),
            leftIndent=8,
            rightIndent=8,
            spaceBefore=8,
            spaceAfter=12,
        )
        self.quote = ParagraphStyle(
            "Quote", parent=self.body, leftIndent=14, textColor=INK, spaceAfter=10
        )
        self.kicker = ParagraphStyle(
            "Kicker",
            parent=self.body,
            fontName=bold,
            fontSize=12,
            leading=16,
            textColor=BRAND,
            spaceAfter=4,
        )
        self.headings = {
            1: ParagraphStyle(
                "H1",
                parent=self.body,
                fontName=bold,
                fontSize=22,
                leading=27,
                spaceBefore=0,
                spaceAfter=12,
            ),
            2: ParagraphStyle(
                "H2",
                parent=self.body,
                fontName=bold,
                fontSize=16,
                leading=20,
                spaceBefore=14,
                spaceAfter=8,
            ),
            3: ParagraphStyle(
                "H3",
                parent=self.body,
                fontName=bold,
                fontSize=12.5,
                leading=16,
                spaceBefore=10,
                spaceAfter=4,
            ),
        }
        self.cell = ParagraphStyle("Cell", parent=self.body, spaceAfter=0, leading=14)
        self.cell_bold = ParagraphStyle("CellBold", parent=self.cell, fontName=bold)
        self.compact = ParagraphStyle(
            "Compact", parent=self.cell, fontSize=COMPACT_SIZE, leading=12
        )
        self.compact_bold = ParagraphStyle("CompactBold", parent=self.compact, fontName=bold)
        self.toc = [
            ParagraphStyle(
                "TOC1",
                parent=self.body,
                fontName=bold,
                fontSize=12,
                leading=17,
                spaceBefore=6,
                spaceAfter=0,
            ),
            ParagraphStyle(
                "TOC2",
                parent=self.body,
                leftIndent=16,
                fontSize=BODY_SIZE,
                leading=15,
                spaceAfter=0,
            ),
            ParagraphStyle(
                "TOC3",
                parent=self.body,
                leftIndent=32,
                fontSize=BODY_SIZE,
                leading=15,
                spaceAfter=0,
            ),
        ]

    def paragraph(self, style: TextStyle) -> ParagraphStyle:
        return {
            TextStyle.BODY: self.body,
            TextStyle.LEAD: self.lead,
            TextStyle.NOTE: self.note,
            TextStyle.KICKER: self.kicker,
            TextStyle.QUOTE: self.quote,
        }[style]


@functools.cache
def _styles() -> _Styles:
    return _Styles()


def _text(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


_MARKUP = frozenset("&<>\n")
"""Characters that make a text more than one run of one style once escaped (entities,
line breaks): such text goes through ReportLab's paragraph parser."""


def _paragraph_args(text: str, style: ParagraphStyle) -> tuple[str, list[ParaFrag] | None]:
    """The text and fragments to make a paragraph of ``text`` (plain text, not markup).

    ReportLab parses every paragraph's text as HTML into fragments (runs of one font and
    colour). A pack has thousands of cells and paragraphs whose text has no markup at
    all, which parse to one fragment with the style's attributes: that fragment is made
    directly from one parsed once per style, with the text cleaned as the parser's
    caller cleans it. Anything else is parsed as before, so the output is the same."""
    if _MARKUP.isdisjoint(text):
        template = _plain_fragment(style)
        cleaned = cleanBlockQuotedText(text)
        if template is not None and cleaned:
            frag = template.clone(text=cleaned)
            # The parser gives each fragment its own lists (links, underlines).
            for name, value in template.__dict__.items():
                if isinstance(value, list):
                    setattr(frag, name, list(value))
            return cleaned, [frag]
    return _text(text), None


@functools.cache
def _plain_fragment(style: ParagraphStyle) -> ParaFrag | None:
    """The one fragment ReportLab's parser makes of a plain word in ``style``, or None
    where the style does more than that (a bullet, a text transform)."""
    if getattr(style, "textTransform", None) or getattr(style, "bulletText", None):
        return None
    parser = ParaParser()
    parser.caseSensitive = 1
    parsed_style, frags, bullet = parser.parse("x", style)
    if parsed_style is not style or frags is None or len(frags) != 1 or bullet:
        return None
    frag: ParaFrag = frags[0]
    return frag


def _tag(flowable: Flowable, role: Role | str, **info: Any) -> Flowable:
    """Record the block's role on the flowable, for tagging (issue 8)."""
    flowable.ssp_role = role
    for key, value in info.items():
        setattr(flowable, f"ssp_{key}", value)
    return flowable


# --------------------------------------------------------------------------- flowables


class _Tagged:
    """Mixin for a flowable that is one structure element (``ssp_node``): what it draws
    is that element's marked content. A split keeps the element, so a paragraph running
    onto the next page is still one P."""

    ssp_node: Node | None = None

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        tagger = tagger_of(canvas)
        node = self.ssp_node
        if tagger is None or node is None:
            super().drawOn(canvas, x, y, _sW)  # type: ignore[misc]
            return
        with tagger.marked(canvas, node):
            super().drawOn(canvas, x, y, _sW)  # type: ignore[misc]

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        pieces: list[Flowable] = super().split(avail_width, avail_height)  # type: ignore[misc]
        for piece in pieces:
            if getattr(piece, "ssp_node", None) is None:
                piece.ssp_node = self.ssp_node
        return pieces


_WRAP_STATE = (
    "width",
    "height",
    "blPara",
    "_wrapWidths",
    "_width_max",
    "_splitLongWordCount",
    "_hyphenations",
)
"""What ReportLab's ``Paragraph.wrap`` (and its ``breakLines``) set on the paragraph."""


class _WrapOnce:
    """A paragraph that breaks its lines once per width.

    ReportLab wraps a table's cells when it measures the table, again each time a long
    table is split at a page foot (every remaining row), again when it draws the cell,
    and all of it once more in the second pass a contents page needs: the benchmark
    pack broke each paragraph's lines about six times. Line breaking depends only on
    the text, the style and the width, so a wrap at a width already seen restores what
    that wrap set."""

    _ssp_wrapped: tuple[tuple[float, int], dict[str, Any]] | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        key = (avail_width, id(self.style))  # type: ignore[attr-defined]
        wrapped = self._ssp_wrapped
        if wrapped is not None and wrapped[0] == key:
            self.__dict__.update(wrapped[1])
            return self.width, self.height  # type: ignore[attr-defined]
        size: tuple[float, float] = super().wrap(avail_width, avail_height)  # type: ignore[misc]
        state = self.__dict__
        if "blPara" in state:  # not when there was no room at all
            self._ssp_wrapped = (key, {name: state[name] for name in _WRAP_STATE if name in state})
        return size


class _CellParagraph(_WrapOnce, RLParagraph):  # type: ignore[misc]
    """The text of a table cell."""


class TaggedParagraph(_Tagged, _WrapOnce, RLParagraph):  # type: ignore[misc]
    """A paragraph that is (or belongs to) one structure element. Its background, if its
    style has one (a note), is drawn as an artifact."""

    style: ParagraphStyle

    def drawPara(self, debug: int = 0) -> Any:
        style: ParagraphStyle = self.style
        tagger = tagger_of(self.canv)
        if tagger is None or not style.backColor:
            return super().drawPara(debug)
        with tagger.artifact(self.canv):
            _paragraph_background(self)
        self.style = _without_background(style)
        try:
            return super().drawPara(debug)
        finally:
            self.style = style


def _paragraph_background(p: RLParagraph) -> None:
    """The background ReportLab's drawPara would draw (fill only: no pack style has a
    border), drawn the same way so tagging does not change the look."""
    style, canv = p.style, p.canv
    top, right, bottom, left = _trbl(getattr(style, "borderPadding", 0))
    canv.saveState()
    canv.setFillColor(style.backColor)
    canv.rect(
        style.leftIndent - left,
        -bottom,
        p.width - (style.leftIndent + style.rightIndent) + left + right,
        p.height + top + bottom,
        fill=1,
        stroke=0,
    )
    canv.restoreState()


def _trbl(padding: Any) -> tuple[float, float, float, float]:
    if isinstance(padding, int | float):
        return (padding, padding, padding, padding)
    values = list(padding)
    if len(values) == 2:
        values = values * 2
    elif len(values) == 3:
        values.append(values[1])
    return (values[0], values[1], values[2], values[3])


@functools.cache
def _without_background(style: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}-text", parent=style, backColor=None)


def _para(text: str, style: ParagraphStyle, role: Role | str, **info: Any) -> TaggedParagraph:
    markup, frags = _paragraph_args(text, style)
    p = TaggedParagraph(markup, style, frags=frags)
    _tag(p, role, **info)
    p.ssp_node = Node(str(role))
    return p


class HeadingFlowable(TaggedParagraph):
    """A heading: a named destination, a bookmark and (via the doc) a contents entry."""

    def __init__(self, heading: Heading, style: ParagraphStyle) -> None:
        markup, frags = _paragraph_args(heading.text, style)
        super().__init__(markup, style, frags=frags)
        self.heading = heading
        _tag(self, heading.role, level=heading.level, anchor=heading.anchor)
        self.ssp_node = Node(str(heading.role))

    def draw(self) -> None:
        h = self.heading
        self.canv.bookmarkHorizontal(h.anchor, 0, self.height + 6)
        # Outline levels start at 0; open only the top level so the panel stays short.
        self.canv.addOutlineEntry(h.text, h.anchor, level=h.level - 1, closed=h.level > 1)
        super().draw()


class FigureFlowable(_Tagged, Flowable):  # type: ignore[misc]
    """A vector drawing (a chart or a sparkline) with its alt text: a Figure element.
    A sparkline's element goes in the table cell it is drawn in."""

    def __init__(self, drawing: Drawing, alt: str) -> None:
        super().__init__()
        self.drawing = drawing
        self.width = drawing.width
        self.height = drawing.height
        self.hAlign = "LEFT"
        _tag(self, Role.FIGURE, alt=alt)
        self.ssp_node = Node("Figure", attrs={"Alt": alt})

    def wrap(self, _avail_width: float, _avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        pdf_draw.draw(self.drawing, self.canv, 0, 0)


CellNodes = Callable[[Tagger, int, int], Node | None]


def _table_events(table: TaggedTable, event: str, *args: Any) -> None:
    """ReportLab's table render callback: each cell is its element's marked content
    (a repeated header row, an artifact); backgrounds and rules are artifacts."""
    canv = table.canv
    tagger = tagger_of(canv)
    if tagger is None:
        return
    if event in ("startBG", "startLines"):
        tagger.begin_artifact(canv)
    elif event == "startCell":
        row = table.ssp_rows[args[0]] if table.ssp_rows is not None else args[0]
        cells = table.ssp_cells
        node = None if row is None or cells is None else cells(tagger, row, args[1])
        if node is None:
            tagger.begin_artifact(canv)
        else:
            tagger.begin(canv, node)
    elif event in ("endBG", "endLines", "endCell"):
        tagger.end(canv)


class TaggedTable(RLTable):  # type: ignore[misc]
    """A table whose cells are tagged by ``ssp_cells(tagger, row, column)`` (the row
    counted in the whole table however it is split). ``ssp_rows`` maps this piece's rows
    to the whole table's (None: a header row repeated on a continuation page)."""

    ssp_node: Node | None = None
    ssp_cells: CellNodes | None = None
    ssp_rows: list[int | None] | None = None

    # Row heights measured so far, shared by the table and every piece split from it,
    # in every pass of the build (see _calc_height); None: not yet made.
    _ssp_measured: _MeasuredRows | None = None
    # ReportLab's: the row heights given (None: to measure), and as measured.
    _argH: list[Any]
    _rowHeights: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["renderCB"] = _table_events
        super().__init__(*args, **kwargs)

    def _calc_height(
        self, availHeight: float, availWidth: float, H: Any = None, W: Any = None
    ) -> None:
        """ReportLab's row heights, measuring each row once however often it is asked.

        ReportLab measures every row (wrapping every cell) whose height the table was
        not given each time the table is wrapped or split, and the build wraps and
        splits each table in every pass: each row of the benchmark pack was measured
        about eight times. A row's height depends only on its cells, their styles and
        the column widths, and the pieces of a split table share the row and style lists
        of the table they came from (and are given the heights ReportLab measured), so a
        height measured for a row is kept, by the row's identity (checked), and taken by
        any later measuring of that row at the same widths. Rows not measured before are
        measured by ReportLab itself, from the heights known so far, so the table ends
        in the state its own measuring leaves it in: ReportLab (5.1) measures every row
        of a table without spans, however little room it is given, and sums the row
        positions from the last row up with a compensated sum, as below."""
        measured = self._measured_rows(availWidth, W)
        given = self._argH
        if measured is None or None not in given:
            super()._calc_height(availHeight, availWidth, H, W)
            return
        rows, styles = self._cellvalues, self._cellStyles
        heights = list(given)
        missing = False
        for i, h in enumerate(heights):
            if h is None:
                known = measured.get(id(rows[i]))
                if known is None or known[0] is not rows[i] or known[1] is not styles[i]:
                    missing = True
                    continue
                heights[i] = known[2]
        if missing:
            self._argH = heights
            try:
                super()._calc_height(availHeight, availWidth, H, W)
            finally:
                self._argH = given
            for i, h in enumerate(self._rowHeights):
                if heights[i] is None and h is not None:
                    measured[id(rows[i])] = (rows[i], styles[i], h)
            return
        self._rowHeights = heights
        positions: list[float] = []
        height = c = 0.0
        for h in reversed(heights):
            positions.append(height)
            y = h - c
            t = height + y
            c = (t - height) - y
            height = t
        positions.append(height)
        positions.reverse()
        self._rowpositions = positions
        self._height = height
        self._hmax = len(heights)

    def _measured_rows(self, avail_width: float, widths: Any) -> RowHeights | None:
        """The kept row heights for this table's column widths, or None where they may
        not be kept: a table with spans, minimum row heights or middle-aligned cells
        (ReportLab's split within a row changes such a cell's padding), or widths to
        be worked out (none of which the pack has)."""
        if not REUSE_ROW_HEIGHTS or widths or self._spanCmds or self._minRowHeights:
            return None
        measured = self._ssp_measured
        if measured is None:
            measured = self._ssp_measured = _MeasuredRows(self)
        if not measured.usable:
            return None
        column_widths = _calc_pc(self._argW, avail_width)
        if None in column_widths:
            return None
        return measured.at(tuple(column_widths))

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        pieces = self._split_rows(avail_width, avail_height)
        if not pieces:
            return pieces
        first, rest = pieces
        rows = self.ssp_rows if self.ssp_rows is not None else list(range(self._nrows))
        cut = first._nrows
        # Rows taller than a page are split within the row (``splitInRow``): its top
        # half ends the first piece and its bottom half starts the rest (after any
        # repeated header), so that row belongs to both pieces.
        headers = 0
        own = self._cellvalues
        while headers < rest._nrows and any(rest._cellvalues[headers] is r for r in own[:cut]):
            if cut < len(own) and rest._cellvalues[headers] is own[cut]:
                break
            headers += 1
        continued = (
            cut < len(own)
            and headers < rest._nrows
            and rest._cellvalues[headers] is not own[cut]
            and first._cellvalues[cut - 1] is not own[cut - 1]
        )
        remaining = rows[cut - 1 :] if continued else rows[cut:]
        first.ssp_rows = rows[:cut]
        rest.ssp_rows = [None] * (rest._nrows - len(remaining)) + remaining
        for piece in pieces:
            piece.ssp_node = self.ssp_node
            piece.ssp_cells = self.ssp_cells
            piece._ssp_measured = self._ssp_measured
        return pieces

    def _split_rows(self, avail_width: float, avail_height: float) -> list[Flowable]:
        """ReportLab's split, but never a single body row alone: not at the foot of a
        page (the table moves on whole) nor at the head of the next (one more row goes
        with it), unless the rows are so tall that there is no other way."""
        pieces: list[Flowable] = super().split(avail_width, avail_height)
        if len(pieces) != 2:
            return pieces
        header = self.repeatRows if isinstance(self.repeatRows, int) else 0
        first, rest = pieces
        first_body = first._nrows - header
        rest_body = rest._nrows - header
        if (first_body < 2 or first_body + rest_body <= SHORT_TABLE) and (
            avail_height < ORPHAN_LIMIT
        ):
            return []
        if rest_body < 2 and first_body >= 3:
            shorter = sum(self._rowHeights[: first._nrows - 1]) + 0.01
            return list(super().split(avail_width, shorter))
        return pieces


REUSE_ROW_HEIGHTS = True
"""Whether tables keep the row heights they measure (:meth:`TaggedTable._calc_height`);
off only in tests that check the layout is the same without."""

RowHeights = dict[int, tuple[list[Any], list[Any], float]]
"""Row heights by the row's identity: {id(cells): (cells, cell styles, height)}."""


class _MeasuredRows:
    """The row heights a table (and the pieces split from it) measured, by column widths."""

    def __init__(self, table: RLTable) -> None:
        # A middle-aligned cell's padding is changed when ReportLab splits its row.
        self.usable = all(s.valign != "MIDDLE" for row in table._cellStyles for s in row)
        self._by_widths: dict[tuple[float, ...], RowHeights] = {}

    def at(self, widths: tuple[float, ...]) -> RowHeights:
        found = self._by_widths.get(widths)
        if found is None:
            found = self._by_widths[widths] = {}
        return found


SHORT_TABLE = 5
"""A table of this many body rows or fewer is never split (it moves on whole)."""
ORPHAN_LIMIT = 200.0
"""Below this much room (points) a table that could show only one row (or a short table)
waits for the next page; with more room than that, moving it on would leave more of the
page empty than the lone row costs (its rows are tall)."""


def _data_cells(table: Node, header_rows: int, row_headers: bool, spans: Any) -> CellNodes:
    """Cells of a data table: THead rows of TH (Scope Column), TBody rows of TD with
    the first cell a TH (Scope Row) when it names its row."""
    span_of = {(r, c0): c1 - c0 + 1 for r, c0, c1 in spans}

    def cells(tagger: Tagger, row: int, col: int) -> Node:
        header = row < header_rows
        kind = "THead" if header else "TBody"
        group = tagger.node((table, kind), kind, table)
        tr = tagger.node((table, "TR", row), "TR", group)
        if header:
            attrs: dict[str, Any] = {"Scope": "Column"}
            if (row, col) in span_of:
                attrs["ColSpan"] = span_of[row, col]
            return tagger.node((table, "cell", row, col), "TH", tr, **attrs)
        if row_headers and col == 0:
            return tagger.node((table, "cell", row, col), "TH", tr, Scope="Row")
        return tagger.node((table, "cell", row, col), "TD", tr)

    return cells


class TaggedList(ListFlowable):  # type: ignore[misc]
    """A list whose bullets are Lbl and whose items' text is LBody, item by item."""

    def _makeLIIndenter(
        self, flowable: Flowable, bullet: Any, params: dict[str, Any] | None = None
    ) -> LIIndenter:
        made = super()._makeLIIndenter(flowable, bullet, params)
        return _TaggedLIIndenter.like(made)


class _TaggedLIIndenter(LIIndenter):  # type: ignore[misc]
    @classmethod
    def like(cls, other: LIIndenter) -> _TaggedLIIndenter:
        made = cls(
            other._flowable,
            leftIndent=other._leftIndent,
            rightIndent=other._rightIndent,
            bullet=other._bullet,
        )
        for name in ("spaceBefore", "spaceAfter"):
            if name in other.__dict__:
                made.__dict__[name] = other.__dict__[name]
        return made

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        return [self.like(p) for p in super().split(avail_width, avail_height)]

    def drawOn(self, canv: Canvas, x: float, y: float, _sW: float = 0) -> None:
        tagger = tagger_of(canv)
        body: Node | None = getattr(self._flowable, "ssp_node", None)
        if tagger is None or body is None or body.parent is None or not self._bullet:
            super().drawOn(canv, x, y, _sW)
            return
        item = body.parent
        with tagger.marked(canv, tagger.node((item, "Lbl"), "Lbl", item)):
            self._bullet.drawOn(self, canv, x, y, 0)
        self._flowable.drawOn(
            canv, x + self._leftIndent, y, max(0, _sW - self._leftIndent - self._rightIndent)
        )


class TaggedContents(TableOfContents):  # type: ignore[misc]
    """The contents as TOC > TOCI > Reference > Link (an H2's entry in a TOC nested in
    its H1's TOCI); each link's annotations are described by the heading and page."""

    ssp_node: Node | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        # ReportLab's wrap, with a tagged table (rows: entries, or None for spacing).
        entries = self._lastEntries or [(0, "Placeholder for table of contents", 0, None)]

        def end_of_entry(canvas: Canvas, _kind: str, label: str) -> None:
            page, level, key = label.split(",")
            style = self.getLevelStyle(int(level))
            dot = " . " if self.dotsMinLevel >= 0 and int(level) >= self.dotsMinLevel else ""
            key_value = literal_eval(key)
            drawPageNumbers(canvas, style, [(int(page), key_value)], avail_width, avail_height, dot)

        self.canv.setNamedCB("drawTOCEntryEnd", end_of_entry)
        data: list[list[Any]] = []
        rows: list[tuple[int, int, str, int] | None] = []
        for n, (level, text, page, key) in enumerate(entries):
            style = self.getLevelStyle(level)
            linked = f'<a href="#{key}">{text}</a>' if key else text
            label = repr(key).replace(",", "\\x2c").replace('"', "\\x2c") if key else None
            para = RLParagraph(
                f'{linked}<onDraw name="drawTOCEntryEnd" label="{page},{level},{label}"/>', style
            )
            if style.spaceBefore:
                data.append([Spacer(1, style.spaceBefore)])
                rows.append(None)
            data.append([para])
            rows.append((n, level, unescape(text), page))
        self._table = TaggedTable(data, colWidths=(avail_width,), style=self.tableStyle)
        self._table.ssp_node = self.ssp_node
        self._table.ssp_cells = _contents_cells(self.ssp_node, rows)
        self.width, self.height = self._table.wrapOn(self.canv, avail_width, avail_height)
        return self.width, self.height


def _contents_cells(toc: Node | None, rows: list[tuple[int, int, str, int] | None]) -> CellNodes:
    top_of: dict[int, int] = {}  # entry -> the level-0 entry above it
    last_top = -1
    for row in rows:
        if row is not None:
            if row[1] == 0:
                last_top = row[0]
            top_of[row[0]] = last_top

    def cells(tagger: Tagger, row: int, _col: int) -> Node | None:
        entry = rows[row]
        if entry is None or toc is None:
            return None
        n, level, text, page = entry
        parent = toc
        if level > 0 and top_of[n] >= 0:
            top_item = tagger.node((toc, "TOCI", top_of[n]), "TOCI", toc)
            parent = tagger.node((toc, "TOC", top_of[n]), "TOC", top_item)
        item = tagger.node((toc, "TOCI", n), "TOCI", parent)
        ref = tagger.node((toc, "Reference", n), "Reference", item)
        return tagger.node((toc, "Link", n), "Link", ref, Contents=f"Go to {text}, page {page}")

    return cells


class SideBySide(Flowable):  # type: ignore[misc]
    """Two columns of flowables side by side (a heading and a chart; its data table).
    Layout only: each flowable keeps its own role; read left column, then right."""

    def __init__(
        self, left: Sequence[Flowable], right: Sequence[Flowable], left_width: float, gap: float
    ) -> None:
        super().__init__()
        self.columns = (list(left), list(right))
        self.left_width = left_width
        self.gap = gap
        self._heights: list[list[float]] = [[], []]

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        widths = (self.left_width, avail_width - self.left_width - self.gap)
        totals = []
        for k, column in enumerate(self.columns):
            self._heights[k] = [f.wrap(widths[k], avail_height)[1] for f in column]
            spacing = sum(f.getSpaceBefore() + f.getSpaceAfter() for f in column[1:])
            totals.append(sum(self._heights[k]) + spacing)
        self.width, self.height = avail_width, max(totals)
        return self.width, self.height

    def draw(self) -> None:
        for k, column in enumerate(self.columns):
            x = 0.0 if k == 0 else self.left_width + self.gap
            y = self.height
            for n, (f, h) in enumerate(zip(column, self._heights[k], strict=True)):
                if n:
                    y -= f.getSpaceBefore()
                y -= h
                f.drawOn(self.canv, x, y)
                y -= f.getSpaceAfter()


# --------------------------------------------------------------------------- tables


def _cell_flowable(value: CellValue, style: ParagraphStyle, bold_style: ParagraphStyle) -> Any:
    if isinstance(value, str):
        return _cell_paragraph(value, style) if value else ""
    if value.spark is not None:
        return FigureFlowable(sparkline(value.spark.values), value.spark.alt)
    chosen = bold_style if value.bold else style
    if value.standing is not None:
        chosen = _standing_style(chosen, bold_style, value.standing)
    elif value.align != "left":
        chosen = _aligned_style(chosen, value.align)
    return _cell_paragraph(value.text, chosen)


def _cell_paragraph(text: str, style: ParagraphStyle) -> _CellParagraph:
    markup, frags = _paragraph_args(text, style)
    return _CellParagraph(markup, style, frags=frags)


# A pack has thousands of RAG and right-aligned cells but only a few such styles: each
# is made once (a paragraph never changes its style).


@functools.cache
def _standing_style(
    chosen: ParagraphStyle, bold_style: ParagraphStyle, standing: Standing
) -> ParagraphStyle:
    _bg, fg = STANDING_COLOURS[standing]
    return ParagraphStyle(
        f"{chosen.name}-{standing.value}",
        parent=bold_style,
        textColor=colors.HexColor(fg),
        alignment=TA_CENTER,
    )


@functools.cache
def _aligned_style(chosen: ParagraphStyle, align: str) -> ParagraphStyle:
    alignment = {"left": TA_LEFT, "right": TA_RIGHT, "centre": TA_CENTER}[align]
    return ParagraphStyle(f"{chosen.name}-{align}", parent=chosen, alignment=alignment)


def _table(table: Table, width: float) -> TaggedTable:
    st = _styles()
    style, bold = (st.compact, st.compact_bold) if table.compact else (st.cell, st.cell_bold)
    total = sum(table.widths)
    pad = 3 if table.compact else 5
    words, short_cells = _longest_words(table, style.fontSize, bold.fontSize)
    col_widths = fit_words([width * w / total for w in table.widths], words, 2 * pad)
    # Then, where there is room, short cells ("2024/25 Q2", "Provisional") on one line:
    # a chart's data table half the height reads better and lets two charts share a page.
    col_widths = fit_words(
        col_widths, [max(a, b) for a, b in zip(words, short_cells, strict=True)], 2 * pad
    )
    data: list[list[Any]] = []
    commands: list[tuple[Any, ...]] = []
    for r, row in enumerate(table.header):
        data.append([_cell_flowable(_as_header(v), style, bold) for v in row])
        for c, v in enumerate(row):
            if isinstance(v, Cell) and v.standing is not None:
                commands.append(("BACKGROUND", (c, r), (c, r), _bg(v.standing)))
    first = len(table.header)
    for i, row in enumerate(table.rows):
        cells = []
        for c, v in enumerate(row):
            if table.row_headers and c == 0 and isinstance(v, str):
                v = Cell(v, bold=True)
            cells.append(_cell_flowable(v, style, bold))
            if isinstance(v, Cell) and v.standing is not None:
                commands.append(("BACKGROUND", (c, first + i), (c, first + i), _bg(v.standing)))
        data.append(cells)
    commands += [
        # Tables name a default font even when every cell is a paragraph; it must be ours.
        ("FONT", (0, 0), (-1, -1), fonts.REGULAR, style.fontSize, style.leading),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("TOPPADDING", (0, 0), (-1, -1), pad - 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad - (1 if table.compact else 0)),
        ("LINEBELOW", (0, first), (-1, -1), 0.5, RULE),
    ]
    if first:
        commands += [
            ("BACKGROUND", (0, 0), (-1, first - 1), LIGHT_GREY),
            ("LINEBELOW", (0, first - 1), (-1, first - 1), 1.2, INK),
            ("VALIGN", (0, 0), (-1, first - 1), "BOTTOM"),
        ]
        # RAG headings keep their own colour over the grey.
        for r, row in enumerate(table.header):
            for c, v in enumerate(row):
                if isinstance(v, Cell) and v.standing is not None:
                    commands.append(("BACKGROUND", (c, r), (c, r), _bg(v.standing)))
    for r, c0, c1 in table.spans:
        commands.append(("SPAN", (c0, r), (c1, r)))
    for i in table.total_rows:
        commands.append(("LINEABOVE", (0, first + i), (-1, first + i), 1.2, INK))
    rl = TaggedTable(
        data,
        colWidths=col_widths,
        repeatRows=first,
        style=TableStyle(commands),
        hAlign="LEFT",
        splitByRow=1,
        # A row taller than what is left of the page splits within itself (with at least
        # this many points on each side), so no text the app accepts is too long to print.
        splitInRow=36,
    )
    rl.ssp_node = Node("Table", attrs={"Summary": table.caption})
    rl.ssp_cells = _data_cells(rl.ssp_node, first, table.row_headers, table.spans)
    _tag(
        rl,
        Role.TABLE,
        header_rows=first,
        row_headers=table.row_headers,
        caption=table.caption,
        spans=table.spans,
    )
    return rl


SHORT_CELL = 14
"""Cells of at most this many characters are kept on one line where the table has room."""


def _longest_words(table: Table, size: float, bold_size: float) -> tuple[list[float], list[float]]:
    """The width of each column's longest word, and of its longest short cell (body
    rows only), as drawn (bold in headers, row headers and RAG cells)."""
    longest = [0.0] * table.columns
    short = [0.0] * table.columns
    rows = [(True, row) for row in table.header] + [(False, row) for row in table.rows]
    for header, row in rows:
        for c, value in enumerate(row[: table.columns]):
            text = value if isinstance(value, str) else value.text
            bold = header or (
                not isinstance(value, str) and (value.bold or value.standing is not None)
            )
            bold = bold or (table.row_headers and c == 0)
            font = fonts.BOLD if bold else fonts.REGULAR
            points = bold_size if bold else size
            for word in text.split():
                longest[c] = max(longest[c], stringWidth(word, font, points))
            if not header and len(text) <= SHORT_CELL:
                short[c] = max(short[c], stringWidth(text, font, points))
    return longest, short


def fit_words(widths: list[float], words: Sequence[float], padding: float) -> list[float]:
    """Column widths adjusted so that no word is broken mid-word (a screen reader reads
    "Priorit|y" as two words too): a column narrower than its longest word takes the
    room from columns with room to spare, in proportion to their spare room. Where the
    table is too narrow for every column's longest word, the widths are left alone."""
    need = [w + padding + 0.5 for w in words]
    short = sum(max(0.0, n - w) for n, w in zip(need, widths, strict=True))
    if short <= 0:
        return widths
    spare = [max(0.0, w - n) for n, w in zip(need, widths, strict=True)]
    room = sum(spare)
    if room < short:
        return widths
    return [
        max(w, n) if n > w else w - short * s / room
        for w, n, s in zip(widths, need, spare, strict=True)
    ]


def _as_header(value: CellValue) -> Cell:
    if isinstance(value, str):
        return Cell(value, bold=True)
    return Cell(value.text, value.standing, value.spark, True, value.align)


def _bg(standing: Standing) -> colors.Color:
    return colors.HexColor(STANDING_COLOURS[standing][0])


def _fields(block: Fields, width: float) -> TaggedTable:
    table = Table(
        header=(),
        rows=tuple((Cell(k, bold=True), v) for k, v in block.pairs),
        widths=(1.0, 3.0),
        caption=block.caption,
        row_headers=True,
    )
    rl = _table(table, width)
    rl.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, 0), 0.5, RULE)]))
    return rl


# --------------------------------------------------------------------------- story

# A page left less full than this before a landscape page is "near-empty": the page it
# spilled onto is made landscape instead, and what follows runs on below the spill.
NEAR_EMPTY = 0.4


class _ToLandscape(ActionFlowable):  # type: ignore[misc]
    """The break before a landscape page, made at layout time.

    If the page in hand is already landscape (an earlier :class:`_FlipMark` made the
    page a portrait run spilled onto landscape), what follows runs on below the spill.
    Otherwise it breaks to a landscape page, first noting a near-empty portrait page
    (the tail of a run that spilled over from the page before) so that the next pass
    of the build makes that page landscape (:class:`_PackDoc`)."""

    def __init__(self, key: int) -> None:
        super().__init__(("toLandscape", key))
        self.key = key

    def apply(self, doc: Any) -> None:
        doc.to_landscape(self.key)


class _FlipMark(ActionFlowable):  # type: ignore[misc]
    """Stands before each flowable of a portrait run that ends in a :class:`_ToLandscape`;
    the mark where the run's last page began makes the page after it landscape when
    that page was found near-empty."""

    def __init__(self, key: int, index: int) -> None:
        super().__init__(("flipMark", key, index))
        self.key = key
        self.index = index

    def apply(self, doc: Any) -> None:
        doc.flip_mark(self.key, self.index)


class _Story:
    """Turns blocks into flowables, tracking page orientation."""

    def __init__(self, portrait_width: float, landscape_width: float) -> None:
        self.styles = _styles()
        self.widths = {False: portrait_width, True: landscape_width}
        self.landscape = False
        self.flowables: list[Flowable] = []
        self.at_page_start = True
        self.first_landscape = False
        self.section: Node | None = None
        # Headings not yet followed by content: (their page-break test, their height).
        self.pending: list[tuple[CondPageBreak, float]] = []
        # Where the flowables of the page run in hand start, and of the run before it
        # (a break made at a page start is replaced, and its run is the one before).
        self.run_start = 0
        self.previous_run: tuple[int, bool] = (0, False)  # (start, was landscape)
        self.breaks = 0

    def _keep_with_next(self, made: list[Flowable]) -> None:
        """Keep-with-next for headings: the page-break test before a heading asks for
        room for the heading, any headings right after it, and the start of what
        follows (a table's header and first two rows, three lines of a paragraph,
        a whole group), so a heading is never left at the foot of a page."""
        if not made:
            return
        if len(made) == 2 and isinstance(made[1], HeadingFlowable):
            brk, heading = made
            _w, h = heading.wrap(self.width, 10_000)
            self.pending.append((brk, h + heading.getSpaceBefore() + heading.getSpaceAfter()))
            return
        if not self.pending:
            return
        first = next((f for f in made if not isinstance(f, Spacer)), made[0])
        need = _start_height(first, self.width)
        # Never more than most of a page: at the top of a page the test must pass, or
        # it would leave that page blank.
        most = FRAME_HEIGHTS[self.landscape] * 0.8
        for brk, h in reversed(self.pending):
            need += h
            brk.height = min(need, most)
        self.pending.clear()

    @property
    def width(self) -> float:
        return self.widths[self.landscape]

    def new_page(self, landscape_page: bool) -> None:
        if self.at_page_start:
            # Nothing on this page yet: change its orientation rather than leave it blank.
            if not self.flowables:
                self.first_landscape = landscape_page
            else:
                start, was_landscape = self.previous_run
                while self.flowables and isinstance(
                    self.flowables[-1], NextPageTemplate | PageBreak | _ToLandscape
                ):
                    self.flowables.pop()
                self.flowables += self._break(start, was_landscape, landscape_page)
                self.run_start = len(self.flowables)
            self.landscape = landscape_page
            return
        self.previous_run = (self.run_start, self.landscape)
        self.flowables += self._break(self.run_start, self.landscape, landscape_page)
        self.run_start = len(self.flowables)
        self.landscape = landscape_page
        self.at_page_start = True

    def _break(self, start: int, from_landscape: bool, landscape_page: bool) -> list[Flowable]:
        """The flowables of a page break from the run starting at ``start``.

        Portrait to landscape: a break decided at layout time, and marks in the run
        before it, so that a run whose last page would hold only a few lines before
        the landscape page spills onto a landscape page instead (no near-empty page
        before a landscape section). A landscape page's tables are too wide for a
        portrait one, so the other way is an ordinary break."""
        if landscape_page and not from_landscape:
            key = self.breaks
            self.breaks += 1
            run = self.flowables[start:]
            marked: list[Flowable] = []
            for n, f in enumerate(run):
                if not isinstance(f, ActionFlowable):
                    marked.append(_FlipMark(key, n))
                marked.append(f)
            self.flowables[start:] = marked
            return [_ToLandscape(key)]
        return [NextPageTemplate("landscape" if landscape_page else "portrait"), PageBreak()]

    def add(self, block: Block) -> None:
        if isinstance(block, NewPage):
            self.pending.clear()
            self.new_page(block.landscape)
            return
        made = self.make(block)
        self._keep_with_next(made)
        # ReportLab's keepWithNext cannot reach into a KeepTogether: put a heading
        # into the group that follows it so it is never left alone at a page foot.
        if (
            made
            and isinstance(made[0], RLKeepTogether)
            and self.flowables
            and isinstance(self.flowables[-1], HeadingFlowable)
        ):
            heading = self.flowables.pop()
            made[0] = RLKeepTogether([heading, *made[0]._content])
        for f in made:
            _place(f, self.section)
        self.flowables += made
        if made:
            self.at_page_start = False

    def make(self, block: Block) -> list[Flowable]:
        st = self.styles
        if isinstance(block, Heading):
            # Room for the heading and a few lines of what follows, or a new page; a
            # heading kept with a whole table would push a long table to the next page.
            return [CondPageBreak(72), HeadingFlowable(block, st.headings[block.level])]
        if isinstance(block, Paragraph):
            return [_para(block.text, st.paragraph(block.style), block.role)]
        if isinstance(block, BulletList):
            list_node = Node("L")
            items = []
            for t in block.items:
                markup, frags = _paragraph_args(t, st.body)
                body = TaggedParagraph(markup, st.body, frags=frags)
                body.ssp_node = Node("LBody", Node("LI", list_node))
                items.append(_tag(ListItem(body, leftIndent=16), "LI"))
            lf = TaggedList(
                items,
                bulletType="1" if block.numbered else "bullet",
                start=None if block.numbered else "•",
                bulletFontName=fonts.REGULAR,
                bulletFontSize=BODY_SIZE,
                leftIndent=16,
                spaceAfter=6,
            )
            lf.ssp_node = list_node
            return [_tag(lf, Role.L), Spacer(1, 4)]
        if isinstance(block, Table):
            return [_table(block, self.width), Spacer(1, 8)]
        if isinstance(block, Fields):
            return [_fields(block, self.width), Spacer(1, 10)]
        if isinstance(block, Figure):
            return self.figure(block)
        if isinstance(block, KeepTogether) and self.landscape and len(block.blocks) == 2:
            heading, figure = block.blocks
            if isinstance(heading, Heading) and isinstance(figure, Figure):
                return [RLKeepTogether(self.figure(figure, heading))]
        if isinstance(block, Contents):
            toc = TaggedContents(
                levelStyles=[s for s in st.toc[: block.depth]],
                dotsMinLevel=0,
                rightColumnWidth=40,
                tableStyle=TableStyle(
                    [
                        ("FONT", (0, 0), (-1, -1), fonts.REGULAR, BODY_SIZE),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                        ("TOPPADDING", (0, 0), (-1, -1), 0),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                    ]
                ),
            )
            toc.ssp_node = Node("TOC")
            return [_tag(toc, Role.TOC, depth=block.depth)]
        if isinstance(block, KeepTogether):
            inner: list[Flowable] = []
            for b in block.blocks:
                inner += self.make(b)
            return [RLKeepTogether(inner)]
        raise TypeError(f"unknown block {type(block).__name__}")

    def figure(self, block: Figure, heading: Heading | None = None) -> list[Flowable]:
        """A chart with its data table and its description; on a landscape page the
        heading and chart sit beside the table, so two charts fit on a page."""
        st = self.styles
        alt = _para(f"Chart description: {block.alt}", st.body, Role.P)
        head = [HeadingFlowable(heading, st.headings[heading.level])] if heading else []
        # (A heading inside a group needs no CondPageBreak: the group moves whole.)
        if self.landscape:
            chart_width = self.width * 0.56
            gap = 18.0
            table = _table(block.table, self.width - chart_width - gap)
            # Two charts to a landscape page where they fit: the chart is as tall as
            # half the page leaves beside its table, heading and description (never
            # shorter than its data table, never taller than 160 points).
            scratch = _scratch_canvas()
            _w, table_h = table.wrapOn(scratch, self.width - chart_width - gap, 10_000)
            _w, alt_h = alt.wrapOn(scratch, self.width, 10_000)
            head_h = sum(
                h.wrapOn(scratch, chart_width, 10_000)[1] + h.getSpaceBefore() + h.getSpaceAfter()
                for h in head
            )
            half = FRAME_HEIGHTS[True] / 2 - 8
            budget = half - alt_h - alt.getSpaceAfter() - 4 - head_h
            height = max(table_h - head_h, 120.0, min(160.0, budget))
            drawing = FigureFlowable(
                chart_drawing(block.chart, chart_width, height=height), block.alt
            )
            return [SideBySide([*head, drawing], [table], chart_width, gap), Spacer(1, 4), alt]
        drawing = FigureFlowable(chart_drawing(block.chart, self.width), block.alt)
        return [
            *head,
            drawing,
            Spacer(1, 6),
            _table(block.table, self.width),
            alt,
            Spacer(1, 6),
        ]


FRAME_HEIGHTS = {
    False: A4[1] - MARGIN_TOP - MARGIN_BOTTOM,
    True: A4[0] - MARGIN_TOP - MARGIN_BOTTOM,
}


@functools.cache
def _scratch_canvas() -> Canvas:
    return Canvas(io.BytesIO(), invariant=1)


def _start_height(flowable: Flowable, width: float) -> float:
    """How much of ``flowable`` a heading needs beside it on its page: a table's header
    and first two rows, three lines of a paragraph or list, a group whole (up to most of
    a page)."""
    if isinstance(flowable, TableOfContents):
        return 100.0  # filled in only as the pack is drawn
    # Measured on a scratch canvas (never saved): lists and groups wrap only on one.
    canvas = _scratch_canvas()
    if isinstance(flowable, RLTable):
        header = flowable.repeatRows if isinstance(flowable.repeatRows, int) else 0
        if flowable._nrows - header > SHORT_TABLE:
            # ReportLab measures a table's rows only until they pass the height it is
            # given (its long-table optimisation): a page's worth, not a long tracker's
            # hundreds of rows, is enough for the first few.
            flowable.wrapOn(canvas, width, FRAME_HEIGHTS[False])
            first = flowable._rowHeights[: header + 2]
            if None not in first:
                return float(sum(first))
    _w, h = flowable.wrapOn(canvas, width, 10_000)
    if isinstance(flowable, RLTable):
        header = flowable.repeatRows if isinstance(flowable.repeatRows, int) else 0
        if flowable._nrows - header <= SHORT_TABLE:
            return float(h)
        return float(sum(flowable._rowHeights[: header + 2]))
    if isinstance(flowable, RLParagraph):
        return float(min(h, 3 * flowable.style.leading))
    if isinstance(flowable, ListFlowable):
        return float(min(h, 3 * BODY_SIZE * 1.45))
    return float(min(h, FRAME_HEIGHTS[False] * 0.6))


def _place(flowable: Flowable, parent: Node | None) -> None:
    """Put the structure elements of a story flowable (and of the flowables it groups)
    under ``parent``, the section's element."""
    if isinstance(flowable, RLKeepTogether):
        for f in flowable._content:
            _place(f, parent)
    elif isinstance(flowable, SideBySide):
        for column in flowable.columns:
            for f in column:
                _place(f, parent)
    else:
        node = getattr(flowable, "ssp_node", None)
        if node is not None and node.parent is None:
            node.parent = parent


# --------------------------------------------------------------------------- pages


def _canvas_class(furniture: Furniture, taggers: list[Tagger] | None = None) -> type[Canvas]:
    """The pack's canvas class; with ``taggers``, each canvas (one per build pass) gets a
    :class:`Tagger`, appended to the list, so the last one describes the file written."""

    class _PackCanvas(Canvas):  # type: ignore[misc]
        """Holds each page until the end so that the footer can say "Page X of Y"."""

        def __init__(self, *args: Any, layout_only: bool = False, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self.ssp_layout_only = layout_only
            # Open with the bookmarks pane showing (PageMode /UseOutlines).
            self.showOutline()
            if taggers is not None and not layout_only:
                self.ssp_tagger = Tagger()
                taggers.append(self.ssp_tagger)

        def showPage(self) -> None:
            if not self.ssp_layout_only:
                self._pages.append(dict(self.__dict__))
                # Bookmarks and links name their page by the document's page counter,
                # which only the real showPage moves: without this every held page
                # would be "page 1" and every bookmark and contents link go there.
                self._doc.pageCounter += 1
            self._startPage()
            tagger = tagger_of(self)
            if tagger is not None:
                tagger.next_page()

        def _annotatePage(self, name: str) -> None:
            super()._annotatePage(name)
            tagger = tagger_of(self)
            if tagger is not None:
                tagger.annotation()

        def save(self) -> None:
            total = len(self._pages)
            self._doc.pageCounter = 1  # the pages are written from the first again
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                tagger = tagger_of(self)
                if tagger is None:
                    self.draw_furniture(number, total)
                else:
                    with tagger.artifact(self):
                        self.draw_furniture(number, total)
                super().showPage()
            # Streams zlib-compressed only, not also ASCII85-encoded (ReportLab's
            # default, done in pure Python over every stream unless the separate
            # rl-accel wheel is installed). pikepdf re-encodes the tagged pack's streams
            # anyway; the untagged draw is 15% smaller. ReportLab reads the setting only
            # while the file is written.
            a85 = rl_config.useA85
            rl_config.useA85 = 0
            try:
                super().save()
            finally:
                rl_config.useA85 = a85

        def draw_furniture(self, number: int, total: int) -> None:
            """The running header and footer (artifacts when tagged)."""
            width, height = self._pagesize
            regular, bold = fonts.REGULAR, fonts.BOLD
            self.saveState()
            self.setFillColor(INK)
            marking = furniture.marking.upper()
            self.setFont(bold, 10)
            self.drawCentredString(width / 2, height - 10 * mm, marking)
            self.drawCentredString(width / 2, 8 * mm, marking)
            self.setFont(regular, FURNITURE_SIZE)
            self.setFillColor(SECONDARY_INK)
            half = width / 2 - MARGIN_X - 12
            self.drawString(MARGIN_X, height - 16 * mm, _fit(furniture.meeting, half))
            self.drawRightString(width - MARGIN_X, height - 16 * mm, _fit(furniture.title, half))
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN_X, height - 18 * mm, width - MARGIN_X, height - 18 * mm)
            self.line(MARGIN_X, 16 * mm, width - MARGIN_X, 16 * mm)
            self.setFillColor(INK)
            self.drawRightString(width - MARGIN_X, 12 * mm, f"Page {number} of {total}")
            if furniture.sample_banner:
                self.setFont(bold, FURNITURE_SIZE)
                self.drawString(MARGIN_X, 12 * mm, furniture.sample_banner)
            self.restoreState()

    return _PackCanvas


def _fit(text: str, width: float) -> str:
    if stringWidth(text, fonts.REGULAR, FURNITURE_SIZE) <= width:
        return text
    while text and stringWidth(text + "…", fonts.REGULAR, FURNITURE_SIZE) > width:
        text = text[:-1]
    return text.rstrip() + "…"


class _LayoutFrame(Frame):  # type: ignore[misc]
    """A frame that, on a layout-only canvas, places flowables without drawing them."""

    def _add(self, flowable: Flowable, canv: Canvas, trySplit: int = 0) -> int:
        if not getattr(canv, "ssp_layout_only", False):
            return int(super()._add(flowable, canv, trySplit))
        # An instance attribute hides the method for this one placement: wrapping,
        # splitting and the frame's bookkeeping are ReportLab's own, only the drawing
        # is skipped.
        flowable.drawOn = _no_drawing
        try:
            return int(super()._add(flowable, canv, trySplit))
        finally:
            del flowable.drawOn

    add = _add


def _no_drawing(*_args: Any, **_kw: Any) -> None:
    return None


class _PackDoc(BaseDocTemplate):  # type: ignore[misc]
    """The pack's document template.

    With a contents page, ReportLab builds the whole document until the contents read
    the same as in the pass before (usually three times: the first pass lays out a
    one-line placeholder, the second the real entries with page numbers one contents
    page out, the third confirms), and throws every canvas but the last away. A pass is
    laid out here without drawing anything (about half of a pass's work) unless it is
    expected to be the last: the contents it lays out have the same entries, page
    numbers aside, as the pass before, and no near-empty page was found, so its pages
    fall as they did. Layout never depends on drawing, so the pages come out the same.
    A drawn pass that turns out not to be the last is followed by another, drawn; a
    layout-only pass that turns out to be the last by one more pass that draws it (the
    contents then read the same as in the pass before, so the layout is that pass's)."""

    def __init__(self, path: str, on_flowable: ProgressFn | None, **kw: Any) -> None:
        super().__init__(path, **kw)
        self._on_flowable = on_flowable
        self._count = 0
        self._passes = 0
        self._layout_only = False
        # The contents' entries (level, text, link; no page) the last pass laid out.
        self._laid_out: list[list[tuple[Any, ...]]] | None = None
        portrait_size = A4
        landscape_size = landscape(A4)
        self.addPageTemplates(
            [
                PageTemplate(
                    id="portrait",
                    pagesize=portrait_size,
                    frames=[_frame(portrait_size, "portrait")],
                ),
                PageTemplate(
                    id="landscape",
                    pagesize=landscape_size,
                    frames=[_frame(landscape_size, "landscape")],
                ),
            ]
        )

        # Near-empty pages before a landscape page, found in one pass of the build and
        # made landscape in the next: {break: mark where that page's run began}.
        self._flips: dict[int, int] = {}
        self._flips_changed = False
        self._marks: dict[int, list[tuple[int, int]]] = {}  # break: [(mark, page passed)]

    def build(self, flowables: list[Flowable], *args: Any, **kw: Any) -> None:
        self._passes += 1
        # Only multiBuild sets _indexingFlowables, and calls each one's beforeBuild
        # first: _lastEntries is what this pass's contents will show.
        indexing = getattr(self, "_indexingFlowables", ())
        entries = [
            [(level, text, key) for level, text, _page, key in getattr(fl, "_lastEntries", ())]
            for fl in indexing
        ]
        self._layout_only = bool(indexing) and (entries != self._laid_out or self._flips_changed)
        self._laid_out = entries
        super().build(flowables, *args, **kw)

    def _makeCanvas(self, filename: Any = None, canvasmaker: Any = Canvas) -> Canvas:
        if not self._layout_only:
            return super()._makeCanvas(filename=filename, canvasmaker=canvasmaker)

        def layout_canvas(*args: Any, **kw: Any) -> Canvas:
            return canvasmaker(*args, layout_only=True, **kw)

        return super()._makeCanvas(filename=filename, canvasmaker=layout_canvas)

    def _allSatisfied(self) -> bool:
        # A layout-only pass has drawn nothing, so it can never be the one saved.
        # Another pass, too, while a near-empty page was found and is to be made
        # landscape.
        return bool(super()._allSatisfied()) and not self._layout_only and not self._flips_changed

    def beforeDocument(self) -> None:
        self._flips_changed = False
        self._marks = {}

    def flip_mark(self, key: int, index: int) -> None:
        # The page a mark is passed on is where its flowable starts (or, if it does
        # not fit there, the page before the one it moves to).
        self._marks.setdefault(key, []).append((index, int(self.page)))
        if self._flips.get(key) == index:
            self.handle_nextPageTemplate("landscape")

    def to_landscape(self, key: int) -> None:
        if self.pageTemplate.id == "landscape":
            return  # the run spilled onto a landscape page: run on below it
        frame = self.frame
        used = (frame._y2 - frame._topPadding - frame._y) / FRAME_HEIGHTS[False]
        page = int(self.page)
        # The last mark passed on the page before: where this page's part of the run
        # began (a flowable split over the break, or one moved whole to this page).
        before = [index for index, on in self._marks.get(key, []) if on == page - 1]
        if key not in self._flips and not frame._atTop and used < NEAR_EMPTY and before:
            self._flips[key] = before[-1]
            self._flips_changed = True
        self.handle_nextPageTemplate("landscape")
        self.handle_pageBreak()

    def afterFlowable(self, flowable: Flowable) -> None:
        self._count += 1
        if self._on_flowable is not None:
            self._on_flowable(self._count)
        if isinstance(flowable, HeadingFlowable) and flowable.heading.in_contents:
            h = flowable.heading
            if h.level <= 2:
                self.notify("TOCEntry", (h.level - 1, _text(h.text), self.page, h.anchor))


def _frame(size: tuple[float, float], name: str) -> Frame:
    w, h = size
    return _LayoutFrame(
        MARGIN_X,
        MARGIN_BOTTOM,
        w - 2 * MARGIN_X,
        h - MARGIN_TOP - MARGIN_BOTTOM,
        id=name,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )


def frame_widths() -> tuple[float, float]:
    return A4[0] - 2 * MARGIN_X, A4[1] - 2 * MARGIN_X


def build_story(document: PackDocument) -> tuple[list[Flowable], bool]:
    """The flowables of ``document``, and whether its first page is landscape."""
    portrait_width, landscape_width = frame_widths()
    story = _Story(portrait_width, landscape_width)
    for section in document.sections:
        if section.flows and story.landscape == section.landscape and not story.at_page_start:
            # Room for the section's heading and a good start, or a new page.
            story.flowables.append(CondPageBreak(FRAME_HEIGHTS[section.landscape] / 3))
        else:
            story.new_page(section.landscape)
        story.section = Node("Sect", attrs={"Title": section.title})
        for block in section.blocks:
            story.add(block)
    return story.flowables, story.first_landscape


def render_pdf(
    document: PackDocument,
    path: Path,
    *,
    on_flowable: Callable[[int, int], None] | None = None,
    tagged: bool = True,
) -> int:
    """Write ``document`` to ``path`` as a PDF; return the number of pages.

    The file depends only on ``document``: its dates are the document's production time
    (``document.metadata.produced_at``), its /ID is derived from its content, and
    ReportLab runs in its invariant mode, so the same document gives the same bytes
    (a published pack can be made again and checked by its SHA-256).

    ``on_flowable(done, total)`` is called after every flowable is laid out (the count
    runs over every pass of the build; ``total`` is an estimate). Whatever it raises
    stops the build. The PDF is tagged (PDF/UA-1, see :mod:`.tagging`) unless
    ``tagged`` is false (for comparison in the benchmark)."""
    fonts.register_fonts()
    # Drawing keeps every page alive to the end while allocating millions of short-lived
    # objects: with the default thresholds the collector re-scanned the live pages (a
    # seventh of the time, growing with the pack's length). The pack's garbage (its
    # structure tree is full of cycles) is collected as the drawing ends.
    with fewer_collections(collect_after=True), _unchecked_shapes():
        return _render(document, path, on_flowable, tagged)


@contextlib.contextmanager
def _unchecked_shapes() -> Iterator[None]:
    """Build the charts' drawings without ReportLab checking every attribute set on a
    shape against its type (``rl_config.shapeChecking``, a debugging aid: a few percent
    of the pack). The charts' tests build the same drawings with the checks on."""
    checking = rl_config.shapeChecking
    rl_config.shapeChecking = 0
    try:
        yield
    finally:
        rl_config.shapeChecking = checking


def _render(
    document: PackDocument,
    path: Path,
    on_flowable: Callable[[int, int], None] | None,
    tagged: bool,
) -> int:
    story, first_landscape = build_story(document)
    # The story (flowables, cells, charts: about 100,000 objects for the benchmark pack)
    # lives until the file is written; no full collection scans it meanwhile
    # (fewer_collections(collect_after=True), in render_pdf).
    passes = 2 if any(isinstance(f, TableOfContents) for f in story) else 1
    estimate = max(1, len(story) * passes)

    def progress(count: int) -> None:
        if on_flowable is not None:
            on_flowable(min(count, estimate), estimate)

    meta = document.metadata
    doc = _PackDoc(
        str(path),
        progress,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=meta.title,
        author=meta.author,
        subject=meta.subject,
        keywords=list(meta.keywords),
        creator=meta.creator,
        lang=meta.lang,
        displayDocTitle=True,
        initialFontName=fonts.REGULAR,
        initialFontSize=BODY_SIZE,
        # No wall-clock date nor random /ID in ReportLab's output: the dates and the ID
        # are set from the document when the structure is written (tagging.py).
        invariant=1,
    )
    doc._firstPageTemplateIndex = 1 if first_landscape else 0
    taggers: list[Tagger] | None = [] if tagged else None
    doc.multiBuild(story, canvasmaker=_canvas_class(document.furniture, taggers))
    if taggers:
        write_structure(
            path,
            taggers[-1],
            lang=meta.lang,
            produced_at=meta.produced_at,
            extra_info=dict(meta.extra_info),
        )
    return int(doc.page)


def flowable_roles(flowables: Sequence[Flowable]) -> list[str]:
    """The roles of a story's flowables (layout-only ones skipped), for tests."""
    return [str(f.ssp_role) for f in flowables if hasattr(f, "ssp_role")]
