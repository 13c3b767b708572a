"""How the UI shows RAG, direction and required fields: always words, never colour alone.

Colours are the GOV.UK design system's (red #d4351c, orange #f47738, green #00703c);
a RAG cell is the colour as a background with text chosen for contrast, plus the word
and its symbol, so it reads the same in a light or dark palette and in greyscale.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from ssp_desktop.domain.enums import Rag

RAG_BACKGROUND: dict[Rag, QColor] = {
    Rag.RED: QColor("#d4351c"),
    Rag.AMBER: QColor("#f47738"),
    Rag.GREEN: QColor("#00703c"),
}
# Text on those backgrounds: white on red and green, near-black on orange (contrast >= 4.5:1).
RAG_FOREGROUND: dict[Rag, QColor] = {
    Rag.RED: QColor("#ffffff"),
    Rag.AMBER: QColor("#0b0c0c"),
    Rag.GREEN: QColor("#ffffff"),
}

NOT_RATED = "Not rated"
REQUIRED_MARK = " *"


def rag_label(rag: Rag | None) -> str:
    """The text every RAG cell shows: "▲ Red", "◆ Amber", "● Green" or "Not rated"."""
    return NOT_RATED if rag is None else f"{rag.symbol} {rag.word}"


def rag_stylesheet(rag: Rag | None) -> str:
    """A stylesheet fragment for a label showing ``rag`` (empty when not rated)."""
    if rag is None:
        return ""
    bg, fg = RAG_BACKGROUND[rag].name(), RAG_FOREGROUND[rag].name()
    return f"background-color: {bg}; color: {fg}; padding: 2px 6px; border-radius: 3px;"


def required(label: str) -> str:
    """A form label for a required field: the asterisk is explained at the top of forms."""
    return label + REQUIRED_MARK


def error_stylesheet(widget: QWidget) -> str:
    """Bold error text in a red that keeps 4.5:1 contrast on the widget's palette.

    GOV.UK's #d4351c is only 4.3:1 on Qt's default light grey window and about 2.8:1 on
    a dark one, so light palettes get a darker red and dark palettes a light red. The
    word "Error:" carries the meaning either way.
    """
    background = widget.palette().color(QPalette.ColorRole.Window)
    colour = "#ff8a80" if background.lightness() < 128 else "#a8200d"
    return f"color: {colour}; font-weight: bold;"
