"""The pack draws its charts and sparklines without renderPDF's generic walk (issue 18):
every drawing in the sample pack comes out as the very operators renderPDF writes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pikepdf
import pytest
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Group, Rect
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from ssp_desktop.domain.records import BoardPack
from ssp_desktop.reports import fonts, pdf_draw
from ssp_desktop.reports.export import pack_document
from ssp_desktop.reports.pdf_chart import sparkline
from ssp_desktop.reports.render import FigureFlowable, build_story
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store


def _drawings(flowable: Any) -> Iterator[Drawing]:
    """The drawings in a story flowable, table cells and side-by-side columns included."""
    if isinstance(flowable, FigureFlowable):
        yield flowable.drawing
    for name in ("_cellvalues", "columns", "_content"):
        for item in getattr(flowable, name, None) or ():
            for inner in item if isinstance(item, list | tuple) else (item,):
                if hasattr(inner, "wrap"):
                    yield from _drawings(inner)


def _operators(draw: Any, drawing: Drawing) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=0, invariant=1)
    draw(drawing, canvas, 12, 34)
    canvas.showPage()
    canvas.save()
    with pikepdf.open(io.BytesIO(out.getvalue())) as pdf:
        return bytes(pdf.pages[0].obj.Contents.read_bytes())


@pytest.mark.sqlite_only
def test_the_sample_packs_drawings_come_out_as_renderpdf_draws_them(store: Store) -> None:
    fonts.register_fonts()
    write_sample(store)
    with store.session() as s:
        pack_id = s.scalars(select(BoardPack.id)).one()
    story, _landscape = build_story(pack_document(store, pack_id).document)
    drawings = [d for flowable in story for d in _drawings(flowable)]
    assert len(drawings) >= 15  # the measures' charts
    # and sparklines, with and without gaps
    drawings += [sparkline([1.0, None, 3.5, 2.0, 2.2]), sparkline([None, 4.0])]
    for drawing in drawings:
        assert pdf_draw._plain(drawing)
        assert _operators(pdf_draw.draw, drawing) == _operators(renderPDF.draw, drawing)


def test_a_drawing_with_other_shapes_is_left_to_renderpdf() -> None:
    class Framed(Rect):  # a subclass may draw itself differently
        pass

    drawing = Drawing(50, 20)
    drawing.add(Group(Framed(0, 0, 10, 10)))
    assert not pdf_draw._plain(drawing)
    assert _operators(pdf_draw.draw, drawing) == _operators(renderPDF.draw, drawing)
