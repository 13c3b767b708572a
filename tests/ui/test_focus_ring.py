"""A keyboard user can see where they are in the plan navigator (and any list, tree or
table): the current item of the view with the focus has a ring round it, also on a
selected row. Before, Fusion drew it only just after a Tab, in the selection's own
colour: on the navigator's selected row it could not be seen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QLineEdit, QTreeView, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from ssp_desktop.ui.style import install_contrast_style

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[QApplication]:
    style = qapp.style().name()
    qapp.setStyle("Fusion")
    install_contrast_style(qapp)
    yield qapp
    qapp.setStyle(style)


def _distance(a: QColor, b: QColor) -> int:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())


def _left_edge(tree: QTreeView, row: int) -> tuple[QImage, list[QPoint]]:
    rect = tree.visualRect(tree.model().index(row, 0))
    shot = tree.viewport().grab().toImage()
    return shot, [QPoint(rect.left() + dx, rect.center().y()) for dx in (0, 1)]


def test_the_current_item_has_a_ring_while_the_tree_has_the_focus(
    styled: QApplication, qtbot: QtBot
) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    before = QLineEdit()
    tree = QTreeView()
    tree.setHeaderHidden(True)
    model = QStandardItemModel(tree)
    for name in ("Priorities", "Measures", "Funding"):
        model.appendRow(QStandardItem(name))
    tree.setModel(model)
    layout.addWidget(before)
    layout.addWidget(tree)
    page.show()
    qtbot.waitExposed(page)
    tree.setCurrentIndex(model.index(1, 0))  # selected and current
    palette = tree.palette()
    ring = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)
    selection = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)

    before.setFocus()
    qtbot.keyClick(before, Qt.Key.Key_Tab)  # as a person reaches the navigator
    qtbot.waitUntil(tree.hasFocus)
    tree.viewport().repaint()
    shot, edge = _left_edge(tree, 1)
    colours = [QColor(shot.pixel(p)) for p in edge]
    assert all(_distance(c, ring) < 60 for c in colours), [c.name() for c in colours]
    assert all(_distance(c, selection) > 150 for c in colours)

    # Focus elsewhere: no ring (the row shows only its selection).
    before.setFocus()
    qtbot.waitUntil(lambda: not tree.hasFocus())
    tree.viewport().repaint()
    shot, edge = _left_edge(tree, 1)
    assert all(_distance(QColor(shot.pixel(p)), ring) > 100 for p in edge)
