"""How the UI shows RAG, direction and required fields: always words, never colour alone.

Colours are the GOV.UK design system's (red #d4351c, orange #f47738, green #00703c);
a RAG cell is the colour as a background with text chosen for contrast, plus the word
and its symbol, so it reads the same in a light or dark palette and in greyscale.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QPlainTextEdit,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QStyleOptionComplex,
    QTextEdit,
    QWidget,
)

from ssp_desktop.domain.enums import Rag
from ssp_desktop.ui.wheel import WheelGuardStyle, base_style_name

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


def is_dark(palette: QPalette) -> bool:
    """A dark palette: light text on a dark window (the desktop's dark mode)."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 110


# Edges of fields and check boxes in a dark palette: Fusion draws them a shade darker
# than the window, which on a dark window is nearly black on nearly black.
DARK_EDGE = QColor("#9a9a9a")


class ContrastStyle(WheelGuardStyle):
    """The platform's style, with field frames and check boxes outlined in a dark
    palette so they can be seen (contrast above 3:1 against the window), and a focus
    ring on the current item of a list, tree or table that has the keyboard focus.
    Value widgets are guarded from the wheel as they are polished (``ui.wheel``).

    Fusion draws an item view's focus rectangle only just after a Tab and in the
    selection's own colour, so on the selected row of the plan navigator a keyboard
    user could not see where they were. The ring is two pixels wide, in the highlight
    colour on an unselected row and in the highlighted text's colour on a selected one.
    """

    _EDGED = (
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorRadioButton,
        QStyle.PrimitiveElement.PE_FrameLineEdit,
    )
    _EDGED_CONTROLS = (
        QStyle.ComplexControl.CC_ComboBox,
        QStyle.ComplexControl.CC_SpinBox,
    )

    def _edge(self, option: QStyleOption, painter: QPainter, *, round_: bool = False) -> None:
        if not is_dark(option.palette):
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, round_)
        painter.setPen(QPen(DARK_EDGE, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = option.rect.adjusted(0, 0, -1, -1)
        if round_:
            painter.drawEllipse(rect)
        else:
            painter.drawRect(rect)
        painter.restore()

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element == QStyle.PrimitiveElement.PE_FrameFocusRect and isinstance(
            widget, QAbstractItemView
        ):
            focus_ring(option, painter)
            return
        super().drawPrimitive(element, option, painter, widget)
        text_box = element == QStyle.PrimitiveElement.PE_Frame and isinstance(
            widget, QPlainTextEdit | QTextEdit
        )
        if element in self._EDGED or text_box:
            round_ = element == QStyle.PrimitiveElement.PE_IndicatorRadioButton
            self._edge(option, painter, round_=round_)

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawComplexControl(control, option, painter, widget)
        if control in self._EDGED_CONTROLS:
            self._edge(option, painter)


FOCUS_RING_WIDTH = 2


def focus_ring(option: QStyleOption, painter: QPainter) -> None:
    """The focus ring round an item view's current item (see :class:`ContrastStyle`)."""
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    pen = QPen(option.palette.color(role), FOCUS_RING_WIDTH)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(option.rect.adjusted(1, 1, -1, -1))
    painter.restore()


def install_contrast_style(app: QApplication) -> None:
    """Wrap the application's style in :class:`ContrastStyle` (once)."""
    if isinstance(app.style(), ContrastStyle):
        return
    app.setStyle(ContrastStyle(QStyleFactory.create(base_style_name(app.style()))))
