"""RAG and error text stay legible (>= 4.5:1) in light and dark palettes."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from ssp_desktop.domain.enums import Rag
from ssp_desktop.ui.style import (
    RAG_BACKGROUND,
    RAG_FOREGROUND,
    error_stylesheet,
    rag_label,
)


def contrast(a: QColor, b: QColor) -> float:
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
        )

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("rag", list(Rag))
def test_rag_cells_have_a_word_a_symbol_and_readable_text(rag: Rag) -> None:
    assert rag.word in rag_label(rag) and rag.symbol in rag_label(rag)
    assert contrast(RAG_BACKGROUND[rag], RAG_FOREGROUND[rag]) >= 4.5


@pytest.mark.parametrize("window", ["#ffffff", "#f0f0f0", "#1f1f1f", "#000000"])
def test_error_text_is_readable_on_light_and_dark_windows(qtbot: QtBot, window: str) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(window))
    label.setPalette(palette)
    colour = re.search(r"color: (#[0-9a-f]{6})", error_stylesheet(label))
    assert colour is not None
    assert contrast(QColor(colour.group(1)), QColor(window)) >= 4.5
