"""Text without markup skips ReportLab's paragraph parser (issue 18): whatever the text,
the paragraph prints exactly what the parser's paragraph prints, at any width."""

from __future__ import annotations

import io

import pikepdf
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from ssp_desktop.reports import fonts
from ssp_desktop.reports.render import _paragraph_args, _styles, _text

# Words, runs of spaces and tabs, non-ASCII letters, and now and then markup characters
# and line breaks (which must take the parser's path).
_TEXT = st.text(
    alphabet=st.sampled_from([*"abc XYZ  \t0.%-–é’ŵ", "&", "<", ">", "\n", "\xa0"]),
    max_size=120,
)


def _drawn(paragraph: Paragraph, width: float) -> bytes:
    """The page content the paragraph draws, wrapped at ``width``."""
    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=0)
    paragraph.wrapOn(canvas, width, 10_000)
    paragraph.drawOn(canvas, 0, 0)
    canvas.showPage()
    with pikepdf.open(io.BytesIO(canvas.getpdfdata())) as pdf:
        return bytes(pdf.pages[0].obj.Contents.read_bytes())


@settings(max_examples=150, deadline=None)
@given(text=_TEXT, width=st.floats(min_value=20, max_value=400), bold=st.booleans())
def test_plain_text_prints_as_the_parser_would_print_it(
    text: str, width: float, bold: bool
) -> None:
    fonts.register_fonts()
    style = _styles().cell_bold if bold else _styles().cell
    markup, frags = _paragraph_args(text, style)
    fast = Paragraph(markup, style, frags=frags)
    parsed = Paragraph(_text(text), style)
    assert fast.getPlainText() == parsed.getPlainText()
    assert fast.wrap(width, 10_000) == parsed.wrap(width, 10_000)
    assert _drawn(fast, width) == _drawn(parsed, width)


def test_plain_text_takes_the_fast_path_and_markup_the_parser() -> None:
    fonts.register_fonts()
    style = _styles().cell
    assert _paragraph_args("Reduce repeat victims of domestic abuse", style)[1] is not None
    assert _paragraph_args("Police & Fire", style)[1] is None
    assert _paragraph_args("Line one\nline two", style)[1] is None
