"""In a dark palette a person can see where a field and a check box are: their edges
stand out from the window (before, Fusion drew them nearly black on nearly black)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QLineEdit, QStyle, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from ssp_desktop.ui.style import install_contrast_style

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def dark() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#1f1f1f"),
        (QPalette.ColorRole.WindowText, "#f0f0f0"),
        (QPalette.ColorRole.Base, "#141414"),
        (QPalette.ColorRole.Text, "#f0f0f0"),
        (QPalette.ColorRole.Button, "#2b2b2b"),
        (QPalette.ColorRole.ButtonText, "#f0f0f0"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


@pytest.fixture
def dark_app(qapp: QApplication) -> Iterator[QApplication]:
    style, palette = qapp.style().name(), qapp.palette()
    qapp.setStyle("Fusion")
    install_contrast_style(qapp)
    qapp.setPalette(dark())
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)


def _brightest(image: QImage, points: list[QPoint]) -> int:
    return max(QColor(image.pixel(p)).lightness() for p in points)


def test_fields_and_check_boxes_have_visible_edges_in_a_dark_palette(
    dark_app: QApplication, qtbot: QtBot
) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    edit = QLineEdit("Fund IDVAs")
    box = QCheckBox("No date")
    layout.addWidget(edit)
    layout.addWidget(box)
    page.show()
    qtbot.waitExposed(page)
    window = dark().color(QPalette.ColorRole.Window).lightness()
    shot = edit.grab().toImage()
    # The line edit's left edge, half-way down.
    edge = [QPoint(x, edit.height() // 2) for x in range(0, 3)]
    assert _brightest(shot, edge) - window > 80
    # The check box's indicator: its outline, where the style puts it.
    option_rect = box.style().subElementRect(
        QStyle.SubElement.SE_CheckBoxIndicator, _option(box), box
    )
    shot = box.grab().toImage()
    outline = [QPoint(option_rect.left() + i, option_rect.center().y()) for i in range(0, 3)]
    assert _brightest(shot, outline) - window > 80


def _option(box: QCheckBox) -> object:
    from PySide6.QtWidgets import QStyleOptionButton

    option = QStyleOptionButton()
    option.initFrom(box)
    return option
