"""Exporting a measure's chart as a person does, and what the files and the screen show
afterwards.

Before: the SVG's axes were laid out at 72 dpi and stood apart from the data (in QtSvg,
cairosvg and ImageMagick alike); the PNG kept the hover crosshair; the on-screen chart's
plot area changed after an export; and opening the data table squeezed the legend."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QScrollArea
from pytestqt.qtbot import QtBot

from ssp_desktop.ui.charts import MeasureChartView
from tests.ui.test_charts import sample_chart

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def view(qtbot: QtBot) -> MeasureChartView:
    widget = MeasureChartView()
    qtbot.addWidget(widget)
    widget.resize(800, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_chart(sample_chart())  # type: ignore[arg-type]
    widget.grab()  # painted once, as on screen
    return widget


def _different(a: QImage, b: QImage) -> float:
    """The share of pixels that differ clearly between two images of one size."""
    assert a.size() == b.size()
    differ = total = 0
    for y in range(0, a.height(), 2):
        for x in range(0, a.width(), 2):
            total += 1
            pa, pb = QColor(a.pixel(x, y)), QColor(b.pixel(x, y))
            if abs(pa.lightness() - pb.lightness()) > 96:
                differ += 1
    return differ / total


def test_the_svg_draws_the_axes_where_the_png_does(view: MeasureChartView, tmp_path: Path) -> None:
    svg, png = tmp_path / "chart.svg", tmp_path / "chart.png"
    view.export_svg(svg)
    width = int(view.plot.ci.sceneBoundingRect().width())
    view.export_png(png, width=width)
    image = QImage(str(png))
    rendered = QImage(image.size(), QImage.Format.Format_RGB32)
    rendered.fill(QColor("white"))
    painter = QPainter(rendered)
    QSvgRenderer(str(svg)).render(painter, QRectF(0, 0, image.width(), image.height()))
    painter.end()
    assert _different(image.convertToFormat(QImage.Format.Format_RGB32), rendered) < 0.01


@pytest.mark.qt_log_ignore("does not support raise", "does not support propagateSizeHints")
def test_the_png_leaves_out_the_hover_crosshair(
    view: MeasureChartView, qtbot: QtBot, tmp_path: Path
) -> None:
    plain, hovered = tmp_path / "plain.png", tmp_path / "hovered.png"
    view.export_png(plain, width=800)
    box = view.plot_item.getViewBox().sceneBoundingRect()
    qtbot.mouseMove(view.plot.viewport(), view.plot.mapFromScene(box.center()))
    qtbot.waitUntil(view.hover_line.isVisible)
    view.export_png(hovered, width=800)
    a, b = QImage(str(plain)), QImage(str(hovered))
    changed = [
        (x, y)
        for y in range(a.height())
        for x in range(a.width())
        if a.pixel(x, y) != b.pixel(x, y)
    ]
    assert changed == []


def test_an_export_leaves_the_chart_on_screen_as_it_was(
    view: MeasureChartView, tmp_path: Path
) -> None:
    before = view.plot_item.getViewBox().sceneBoundingRect()
    view.export_svg(tmp_path / "chart.svg")
    view.export_png(tmp_path / "chart.png")
    view.grab()
    assert view.plot_item.getViewBox().sceneBoundingRect() == before


def test_the_data_table_never_hides_the_legend(qtbot: QtBot) -> None:
    """As in the measure editor: the chart in a scroll area of a laptop-sized pane."""
    area = QScrollArea()
    qtbot.addWidget(area)
    area.setWidgetResizable(True)
    view = MeasureChartView()
    area.setWidget(view)
    area.resize(760, 480)
    area.show()
    qtbot.waitExposed(area)
    view.show_chart(sample_chart())  # type: ignore[arg-type]
    qtbot.mouseClick(view.table_button, Qt.MouseButton.LeftButton)
    assert view.table.isVisible()
    qtbot.wait(20)  # the layout settles on the next turn of the event loop
    view.grab()
    legend = view.plot.mapFromScene(view.legend.sceneBoundingRect()).boundingRect()
    assert view.plot.viewport().rect().contains(legend)
    # The alt text sits below the plot, not over its legend.
    assert view.alt.geometry().top() >= view.plot.geometry().bottom()
