"""A measure's chart on screen: pyqtgraph drawing the Qt-free chart description.

:class:`MeasureChartView` draws a :class:`~ssp_desktop.reports.chart.ChartDescription`
(the same one the board pack draws as a PDF figure). Its plot items are made once and
updated with ``setData`` on each new description (DESIGN.md section 7), so a chart that
follows an edit never rebuilds its scene. Tests read plotted data back with
``getData()``.

Accessibility: the alt text is shown under the chart and is the plot's accessible
description; a "Data table" button shows the figures as a table that a keyboard and a
screen reader can walk; series differ in line style and marker as well as colour, and
provisional values are hollow markers.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QFileDialog,
    QGraphicsPathItem,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.reports.chart import (
    ChartDescription,
    LineStyle,
    Marker,
    SeriesKind,
)

PEN_STYLES: dict[LineStyle, Qt.PenStyle] = {
    LineStyle.SOLID: Qt.PenStyle.SolidLine,
    LineStyle.DASH: Qt.PenStyle.DashLine,
    LineStyle.DOT: Qt.PenStyle.DotLine,
    LineStyle.DASH_DOT: Qt.PenStyle.DashDotLine,
    LineStyle.DASH_DOT_DOT: Qt.PenStyle.DashDotDotLine,
    LineStyle.NONE: Qt.PenStyle.NoPen,
}
SYMBOLS: dict[Marker, str | None] = {
    Marker.CIRCLE: "o",
    Marker.SQUARE: "s",
    Marker.TRIANGLE: "t1",  # pointing up
    Marker.DIAMOND: "d",
    Marker.NONE: None,
}
MAX_COMPARATORS = 3
MAX_X_LABELS = 8


def _pen(colour: str, line: LineStyle, width: float = 2.0) -> QPen:
    pen = QPen(QColor(colour))
    pen.setWidthF(width)
    pen.setStyle(PEN_STYLES[line])
    pen.setCosmetic(True)
    return pen


def _finite(xs: tuple[float, ...], ys: tuple[float, ...]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if not math.isnan(y)]
    return [x for x, _ in pairs], [y for _, y in pairs]


# The plot area with its axes, before the legend is added below it.
_PLOT_MIN_HEIGHT = 260


class _PlotWidget(pg.GraphicsLayoutWidget):  # type: ignore[misc]
    """The plot, asking for the height it needs (the plot area and the whole legend)
    rather than pyqtgraph's default, which made a measure's chart taller than a
    laptop's editor: the chart and its legend never fitted in view together."""

    def sizeHint(self) -> QSize:
        hint: QSize = super().sizeHint()
        return QSize(hint.width(), self.minimumHeight())


class MeasureChartView(QWidget):
    """One measure's chart, its legend, alt text, data table, hover and export."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.description: ChartDescription | None = None

        # Title, plot, legend in rows of one layout: the legend never hides data, and an
        # exported image carries all three.
        self.plot = _PlotWidget()
        self.plot.setBackground("w")
        self.plot.setObjectName("measureChart")
        self.plot.setAccessibleName("Measure chart")
        self.plot.setMinimumHeight(_PLOT_MIN_HEIGHT)
        # The plot does nothing with keys: its words are the alt text and the data table
        # beside it, so Tab goes to those controls instead of a silent stop.
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # The title wraps on screen in a QLabel; an exported image has it drawn above
        # the chart (see _draw_title), so a saved file says what it shows.
        self.title = QLabel()
        self.title.setObjectName("chartTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.plot_item = self.plot.addPlot(row=1, col=0)
        item = self.plot_item
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.showGrid(x=False, y=True, alpha=0.25)
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen("#0b0c0c"))
            axis.setTextPen(pg.mkPen("#0b0c0c"))
        # The newest quarter's label sits at the right edge; it must not be dropped.
        item.getAxis("bottom").setStyle(hideOverlappingLabels=False)
        self.legend = pg.LegendItem(colCount=2, labelTextColor="#0b0c0c", labelTextSize="9pt")
        self.plot.addItem(self.legend, row=2, col=0)

        # Every item is made here, once; show() only feeds them data.
        self.band_item = QGraphicsPathItem()
        self.band_item.setPen(QPen(Qt.PenStyle.NoPen))
        self.band_item.setZValue(-10)
        item.addItem(self.band_item)
        self.band_sample = pg.BarGraphItem(x=[0], height=[1], width=1)  # legend swatch
        self.target_item = pg.PlotDataItem(connect="finite")
        self.baseline_item = pg.PlotDataItem()
        self.comparator_items = [pg.PlotDataItem(connect="finite") for _ in range(MAX_COMPARATORS)]
        self.value_line = pg.PlotDataItem(connect="finite")
        self.final_points = pg.ScatterPlotItem(size=9)
        self.provisional_points = pg.ScatterPlotItem(size=9)
        self.value_sample = pg.PlotDataItem()  # legend swatch: line with a filled marker
        for plotted in (
            self.target_item,
            self.baseline_item,
            *self.comparator_items,
            self.value_line,
            self.final_points,
            self.provisional_points,
        ):
            item.addItem(plotted)
        self.hover_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#505a5f", width=1))
        self.hover_line.setVisible(False)
        item.addItem(self.hover_line, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

        self.alt = QLabel()
        self.alt.setObjectName("chartAltText")
        self.alt.setWordWrap(True)
        self.alt.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = QTableWidget()
        self.table.setObjectName("chartDataTable")
        self.table.setAccessibleName("Chart data")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setVisible(False)

        self.table_button = QPushButton("Data &table")
        self.table_button.setObjectName("chartTableButton")
        self.table_button.setAccessibleName("Show the chart's data as a table")
        self.table_button.setCheckable(True)
        self.table_button.toggled.connect(self.table.setVisible)
        self.png_button = QPushButton("Export P&NG…")
        self.png_button.setObjectName("exportPngButton")
        self.png_button.setAccessibleName("Export the chart as a PNG image")
        self.png_button.clicked.connect(lambda: self._export_dialog("png"))
        self.svg_button = QPushButton("Export &SVG…")
        self.svg_button.setObjectName("exportSvgButton")
        self.svg_button.setAccessibleName("Export the chart as an SVG drawing")
        self.svg_button.clicked.connect(lambda: self._export_dialog("svg"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.table_button)
        buttons.addStretch(1)
        buttons.addWidget(self.png_button)
        buttons.addWidget(self.svg_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.alt)
        layout.addLayout(buttons)
        layout.addWidget(self.table)

    # -- drawing -------------------------------------------------------------------

    def show_chart(self, chart: ChartDescription) -> None:
        """Draw ``chart``: every item gets its new data; none is made or removed."""
        self.description = chart
        item = self.plot_item
        self.title.setText(chart.title)
        self.plot.setAccessibleName(f"Chart: {chart.title}")
        self.alt.setText(chart.alt_text)
        self.plot.setAccessibleDescription(chart.alt_text)
        item.setLabel("left", chart.y_title)
        item.setLabel("bottom", chart.x_title)
        self.legend.clear()

        value = chart.value_series()
        if value is not None:
            self.value_line.setData(
                list(value.x), list(value.y), pen=_pen(value.colour, value.line)
            )
            final = [
                (x, y)
                for (x, y), p in zip(
                    zip(value.x, value.y, strict=True), value.provisional, strict=True
                )
                if not p and not math.isnan(y)
            ]
            provisional = [
                (x, y)
                for (x, y), p in zip(
                    zip(value.x, value.y, strict=True), value.provisional, strict=True
                )
                if p and not math.isnan(y)
            ]
            symbol = SYMBOLS[value.marker]
            self.final_points.setData(
                [x for x, _ in final],
                [y for _, y in final],
                symbol=symbol,
                pen=pg.mkPen(value.colour, width=1.5),
                brush=pg.mkBrush(value.colour),
            )
            self.provisional_points.setData(
                [x for x, _ in provisional],
                [y for _, y in provisional],
                symbol=symbol,
                pen=pg.mkPen(value.colour, width=2),
                brush=pg.mkBrush("w"),
            )
            self.value_sample.setData(
                [0],
                [0],
                pen=_pen(value.colour, value.line),
                symbol=symbol,
                symbolBrush=pg.mkBrush(value.colour),
                symbolPen=pg.mkPen(value.colour),
            )
            self.legend.addItem(self.value_sample, "Value (final)")
            if provisional:
                self.legend.addItem(self.provisional_points, "Provisional (hollow)")
        else:
            for scatter in (self.final_points, self.provisional_points):
                scatter.setData([], [])
            self.value_line.setData([], [])

        targets = chart.series_of(SeriesKind.TARGET)
        if targets:
            t = targets[0]
            self.target_item.setData(list(t.x), list(t.y), pen=_pen(t.colour, t.line))
            self.legend.addItem(self.target_item, t.name)
        else:
            self.target_item.setData([], [])

        comparators = chart.series_of(SeriesKind.COMPARATOR)[:MAX_COMPARATORS]
        for n, plotted in enumerate(self.comparator_items):
            if n < len(comparators):
                c = comparators[n]
                symbol = SYMBOLS[c.marker]
                plotted.setData(
                    list(c.x),
                    list(c.y),
                    pen=_pen(c.colour, c.line),
                    symbol=symbol,
                    symbolBrush=pg.mkBrush(c.colour),
                    symbolPen=pg.mkPen(c.colour),
                    symbolSize=8,
                )
                self.legend.addItem(plotted, c.name)
            else:
                plotted.setData([], [])

        baselines = chart.series_of(SeriesKind.BASELINE)
        if baselines:
            b = baselines[0]
            self.baseline_item.setData(list(b.x), list(b.y), pen=_pen(b.colour, b.line, 1.5))
            self.legend.addItem(self.baseline_item, b.name)
        else:
            self.baseline_item.setData([], [])

        path = QPainterPath()
        if chart.band is not None:
            band = chart.band
            chunk: list[int] = []
            for i in range(len(band.x) + 1):
                if i < len(band.x) and not math.isnan(band.lower[i]):
                    chunk.append(i)
                    continue
                if len(chunk) > 1:
                    upper = [QPointF(band.x[j], band.upper[j]) for j in chunk]
                    lower = [QPointF(band.x[j], band.lower[j]) for j in reversed(chunk)]
                    path.addPolygon(upper + lower)
                    path.closeSubpath()
                chunk = []
            self.band_item.setBrush(QBrush(QColor(band.colour)))
            self.band_sample.setOpts(brush=pg.mkBrush(band.colour), pen=pg.mkPen(band.colour))
            self.legend.addItem(self.band_sample, band.name)
        self.band_item.setPath(path)

        n = len(chart.quarters)
        step = max(1, math.ceil(n / MAX_X_LABELS))
        # Label every step-th quarter counting back from the newest, which matters most.
        major = [(float(i), chart.x_labels[i]) for i in range(n - 1, -1, -step)]
        minor = [(float(i), "") for i in range(n)]
        item.getAxis("bottom").setTicks([sorted(major), minor])
        item.setXRange(-0.5, max(n - 0.5, 0.5), padding=0.02)
        item.setYRange(*chart.y_range, padding=0)
        # Room for the plot and its whole legend, however many series it lists: a
        # squeezed view (the data table open, a short window) cut the legend off under
        # the alt text. The editor's scroll area gives the room.
        legend_height = self.legend.boundingRect().height()
        self.plot.setMinimumHeight(round(_PLOT_MIN_HEIGHT + legend_height))
        self.plot.updateGeometry()
        self.table_button.setEnabled(n > 0)
        self.png_button.setEnabled(not chart.empty)
        self.svg_button.setEnabled(not chart.empty)
        self._fill_table(chart)

    def _fill_table(self, chart: ChartDescription) -> None:
        self.table.clear()
        self.table.setColumnCount(len(chart.table_headers))
        self.table.setRowCount(len(chart.table_rows))
        self.table.setHorizontalHeaderLabels(list(chart.table_headers))
        for r, row in enumerate(chart.table_rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))

    # -- hover ---------------------------------------------------------------------

    def hover_text(self, index: int) -> str:
        """The exact figures for the quarter at x ``index``, as the hover shows them."""
        if self.description is None or not 0 <= index < len(self.description.table_rows):
            return ""
        row = dict(
            zip(self.description.table_headers, self.description.table_rows[index], strict=True)
        )
        value = row.pop("Value")
        status = row.pop("Status")
        lines = [row.pop("Quarter"), f"Value: {value}" + (f" ({status.lower()})" if status else "")]
        lines += [f"{header}: {text}" for header, text in row.items() if text]
        return "\n".join(lines)

    @Slot(object)
    def _on_mouse_moved(self, pos: Any) -> None:
        if self.description is None or not self.description.quarters:
            return
        view = self.plot_item.getViewBox()
        if not view.sceneBoundingRect().contains(pos):
            self.hover_line.setVisible(False)
            QToolTip.hideText()
            return
        x = view.mapSceneToView(pos).x()
        index = round(x)
        if not 0 <= index < len(self.description.quarters):
            return
        self.hover_line.setPos(index)
        self.hover_line.setVisible(True)
        global_pos = self.plot.mapToGlobal(self.plot.mapFromScene(pos))
        QToolTip.showText(global_pos, self.hover_text(index), self.plot)

    # -- export --------------------------------------------------------------------

    def export_png(self, path: Path, width: int = 1200) -> None:
        with self._as_exported():
            exporter = pg_exporters.ImageExporter(self.plot.ci)
            exporter.parameters()["width"] = width
            chart = exporter.export(toBytes=True)
        assert isinstance(chart, QImage)
        band = self._title_height(chart.width() / self.plot.ci.sceneBoundingRect().width())
        image = QImage(chart.width(), chart.height() + band, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._draw_title(painter, QRectF(0, 0, chart.width(), band))
            painter.drawImage(0, band, chart)
        finally:
            painter.end()
        if not image.save(str(path)):
            raise OSError(f"Qt could not write {path}")

    def export_svg(self, path: Path) -> None:
        # Qt's own SVG generator: pyqtgraph's SVGExporter cannot parse the path data that
        # Qt 6.11 writes, and Qt's output is a faithful vector copy of the scene anyway.
        with self._as_exported():
            layout = self.plot.ci
            source = layout.sceneBoundingRect()
            band = self._title_height(1.0)
            width, height = source.width(), source.height() + band
            generator = QSvgGenerator()
            # The screen's resolution, not QSvgGenerator's 72 dpi: pyqtgraph's axes lay
            # out their labels with the painter's font metrics, so at 72 dpi the axes
            # moved and shrank away from the data (in every SVG viewer).
            generator.setResolution(self.plot.logicalDpiX())
            generator.setFileName(str(path))
            generator.setSize(QSizeF(width, height).toSize())
            generator.setViewBox(QRectF(0, 0, width, height))
            generator.setTitle(self.title.text())
            generator.setDescription(self.alt.text())
            painter = QPainter(generator)
            try:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                painter.fillRect(QRectF(0, 0, width, height), QColor("white"))
                self._draw_title(painter, QRectF(0, 0, width, band))
                layout.scene().render(painter, QRectF(0, band, width, source.height()), source)
            finally:
                painter.end()
        if not path.exists():
            raise OSError(f"Qt could not write {path}")

    def _title_font(self, scale: float) -> QFont:
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPixelSize(max(1, round(15 * scale)))
        return font

    def _title_height(self, scale: float) -> int:
        return round(QFontMetricsF(self._title_font(scale)).height() * 2)

    def _draw_title(self, painter: QPainter, band: QRectF) -> None:
        """The chart's title above it in a saved image, so the file says what it shows.
        Drawn beside the plot, never into its layout: adding a title row to the live
        layout and taking it out again left the on-screen plot moved down and cut off."""
        painter.save()
        painter.setFont(self._title_font(band.height() / self._title_height(1.0)))
        painter.setPen(QColor("#0b0c0c"))
        margin = band.height() * 0.3
        painter.drawText(
            band.adjusted(margin, 0, -margin, 0),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            self.title.text(),
        )
        painter.restore()

    @contextlib.contextmanager
    def _as_exported(self) -> Iterator[None]:
        """The chart as a reader of the file should see it: no hover crosshair."""
        hovering = self.hover_line.isVisible()
        self.hover_line.setVisible(False)
        try:
            yield
        finally:
            self.hover_line.setVisible(hovering)

    def _export_dialog(self, kind: str) -> None:
        if self.description is None:
            return
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.description.title)
        name, _filter = QFileDialog.getSaveFileName(
            self,
            f"Export chart as {kind.upper()}",
            f"{stem[:60].strip('-')}.{kind}",
            "PNG image (*.png)" if kind == "png" else "SVG drawing (*.svg)",
        )
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != f".{kind}":
            path = path.with_suffix(f".{kind}")
        try:
            (self.export_png if kind == "png" else self.export_svg)(path)
        except OSError as exc:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.warning(
                self, "Chart not exported", f"Could not write {path}: {exc.strerror or exc}."
            )
