"""How the UI shows RAG, direction and required fields: always words, never colour alone.

Colours are the GOV.UK design system's (red #d4351c, orange #f47738, green #00703c);
a RAG cell is the colour as a background with text chosen for contrast, plus the word
and its symbol, so it reads the same in a light or dark palette and in greyscale.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from ssp_desktop.models.enums import Rag

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
