"""Draw the pack's chart drawings onto a PDF canvas, faster than ``renderPDF``.

``reportlab.graphics.renderPDF`` walks a drawing with a generic renderer: for every
node it copies the whole graphics state into a tracker, looks for user nodes, derived
values and draw-time callbacks, and dispatches on the node's class. The pack's charts
and sparklines are made of plain shapes only (groups, lines, rectangles, circles,
polylines, polygons, strings: see :mod:`.pdf_chart`), several thousand of them in a
long pack, and that bookkeeping was most of the time they took to draw.

:func:`draw` writes the same PDF operators in the same order as ``renderPDF.draw``
(each node's state changes inside its own ``q``/``Q``, applied by ReportLab's own
``applyStateChanges`` and shape drawers) without the bookkeeping. A drawing holding
anything else is handed to ``renderPDF`` unchanged.
"""

from __future__ import annotations

from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import (
    STATE_DEFAULTS,
    Circle,
    Drawing,
    Group,
    Line,
    Polygon,
    PolyLine,
    Rect,
    String,
)
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

_SHAPES = (Line, Rect, Circle, PolyLine, Polygon, String)
_KINDS = frozenset((Drawing, Group, *_SHAPES))
"""The exact classes this renderer draws (subclasses may draw themselves differently)."""


def _plain(node: Any) -> bool:
    """Whether ``node`` and everything in it is a plain shape this renderer draws."""
    if type(node) not in _KINDS:
        return False
    if getattr(node, "_drawTimeCallback", None) is not None:
        return False
    if isinstance(node, Group):
        return all(_plain(child) for child in node.contents)
    return True


class _Renderer(renderPDF._PDFRenderer):  # type: ignore[misc]
    """ReportLab's PDF renderer with the per-node walk done directly."""

    def __init__(self, canvas: Canvas) -> None:
        super().__init__()
        self._canvas = canvas

    def node(self, node: Any) -> None:
        canvas = self._canvas
        canvas.saveState()
        # What renderPDF's getStateDelta takes from a node: its public attributes that
        # are graphics state, in the node's own order.
        delta = {
            key: value
            for key, value in node.__dict__.items()
            if key in STATE_DEFAULTS and key[:1] != "_"
        }
        self.applyStateChanges(delta, {})
        if isinstance(node, Group):
            for child in node.contents:
                self.node(child)
        elif isinstance(node, String):
            self.string(node)
        elif isinstance(node, Line):
            self.drawLine(node)
        elif isinstance(node, Rect):
            self.drawRect(node)
        elif isinstance(node, Circle):
            self.drawCircle(node)
        elif isinstance(node, PolyLine):
            self.drawPolyLine(node)
        else:
            self.drawPolygon(node)
        # Like renderPDF, whether to stroke and fill stays as the node left it (the
        # next shape sets its own).
        canvas.restoreState()

    def string(self, node: String) -> None:
        """renderPDF's drawString, reading the anchor and font from the string itself
        (every String carries its own)."""
        mode = getattr(node, "textRenderMode", 0)
        if not ((self._fill and mode in (0, 2, 4, 6)) or (self._stroke and mode in (1, 2, 5, 6))):
            return
        x = node.x
        anchor = node.textAnchor
        if anchor not in ("start", "inherited"):
            width = stringWidth(node.text, node.fontName, node.fontSize, node.encoding)
            if anchor == "end":
                x -= width
            elif anchor == "middle":
                x -= width * 0.5
            else:
                raise ValueError(f"bad value for textAnchor {anchor}")
        self._canvas.drawString(x, node.y, node.text, mode=mode or None)


def draw(drawing: Drawing, canvas: Canvas, x: float = 0, y: float = 0) -> None:
    """Draw ``drawing`` at (x, y), as ``renderPDF.draw`` does."""
    if getattr(drawing, "renderScale", 1.0) != 1.0 or not _plain(drawing):
        renderPDF.draw(drawing, canvas, x, y)
        return
    renderer = _Renderer(canvas)
    canvas.saveState()
    # renderPDF's initial state: the defaults, the drawing's initial values, the offset.
    state = STATE_DEFAULTS.copy()  # (its copy resolves the default font name)
    for key in STATE_DEFAULTS:
        initial = "initial" + key[:1].upper() + key[1:]
        if hasattr(drawing, initial):
            state[key] = getattr(drawing, initial)
    state["transform"] = (*tuple(state["transform"])[:4], x, y)
    state["ctm"] = state["transform"]
    renderer.applyStateChanges(state, {})
    renderer.node(drawing)
    canvas.restoreState()
