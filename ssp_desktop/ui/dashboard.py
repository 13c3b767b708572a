"""The dashboard: a plan's standing for one quarter, as the board will see it.

Three parts, all from ``queries.performance`` (the board pack reads the same functions):

* **By priority**: actions and measures counted by where they stand (Red, Amber, Green,
  no update, closed; not rated), one row per priority and a total;
* **Scorecard**: each measure's latest value at the quarter, target, RAG (word, symbol
  and colour), direction of travel (arrow and word), comparator and a two-year
  sparkline;
* the chart of the measure selected in the scorecard.

Enter or a double-click opens the priority or measure in the plan tab. The dashboard
re-reads the store after any edit to what it shows (once per edit, however many
records the edit touched); while hidden behind another tab it waits until shown.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QPainter, QPainterPath, QPalette, QPen, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Plan
from ssp_desktop.queries.performance import (
    ACTION_STANDINGS,
    MEASURE_STANDINGS,
    Counts,
    PriorityPerformance,
    ScorecardRow,
    Standing,
    rag_by_priority,
    scorecard,
)
from ssp_desktop.queries.quarter_status import plan_quarters, reporting_quarter
from ssp_desktop.reports.chart import measure_chart
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.style import RAG_BACKGROUND, RAG_FOREGROUND, rag_label

if TYPE_CHECKING:
    from ssp_desktop.ui.charts import MeasureChartView

Index = QModelIndex | QPersistentModelIndex
ID_ROLE: Final = Qt.ItemDataRole.UserRole + 1
SPARK_ROLE: Final = Qt.ItemDataRole.UserRole + 2

# Edits to these change what the dashboard shows.
DASHBOARD_ENTITIES: Final = frozenset(
    {
        "action",
        "action_update",
        "measure",
        "measure_value",
        "measure_target",
        "priority",
        "priority_area",
        "plan",
    }
)


def standing_label(standing: Standing) -> str:
    rag = standing.rag
    return rag_label(rag) if rag is not None else standing.word


# --- by priority --------------------------------------------------------------------


class PriorityCountsModel(QAbstractTableModel):
    """One row per priority (and a total): counts of actions and of measures by standing."""

    COLUMNS: Final = (
        [("Priority", None, None)]
        + [("Actions", s, "actions") for s in ACTION_STANDINGS]
        + [("Measures", s, "measures") for s in MEASURE_STANDINGS]
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PriorityPerformance] = []

    def set_rows(self, rows: Sequence[PriorityPerformance]) -> None:
        self.beginResetModel()
        actions, measures = Counts(), Counts()
        for row in rows:
            for standing, n in row.actions.by_standing.items():
                actions.by_standing[standing] = actions[standing] + n
            for standing, n in row.measures.by_standing.items():
                measures.by_standing[standing] = measures[standing] + n
        total = PriorityPerformance(None, "", "All priorities", actions, measures)
        self._rows = [*rows, total] if rows else []
        self.endResetModel()

    @property
    def rows(self) -> list[PriorityPerformance]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        group, standing, _kind = self.COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return group if standing is None else f"{group}\n{standing_label(standing)}"
        if role == Qt.ItemDataRole.ToolTipRole and standing is not None:
            return f"{group}: {standing.word}"
        return None

    def count(self, row: int, column: int) -> int | None:
        record = self._rows[row]
        _group, standing, kind = self.COLUMNS[column]
        if standing is None:
            return None
        counts = record.actions if kind == "actions" else record.measures
        return counts[standing]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        column = index.column()
        _group, standing, kind = self.COLUMNS[column]
        is_total = index.row() == len(self._rows) - 1
        if role == Qt.ItemDataRole.DisplayRole:
            if standing is None:
                return f"{record.code} {record.title}".strip()
            return str(self.count(index.row(), column))
        if role == Qt.ItemDataRole.AccessibleTextRole and standing is not None:
            noun = "actions" if kind == "actions" else "measures"
            return f"{record.title}: {self.count(index.row(), column)} {noun} {standing.word}"
        if role == Qt.ItemDataRole.TextAlignmentRole and standing is not None:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == ID_ROLE:
            return record.priority_id
        rag = standing.rag if standing is not None else None
        has_any = standing is not None and bool(self.count(index.row(), column))
        if role == Qt.ItemDataRole.BackgroundRole and rag is not None and has_any:
            return RAG_BACKGROUND[rag]
        if role == Qt.ItemDataRole.ForegroundRole and rag is not None and has_any:
            return RAG_FOREGROUND[rag]
        if role == Qt.ItemDataRole.FontRole and is_total:
            font = QFont()
            font.setBold(True)
            return font
        return None


# --- scorecard ----------------------------------------------------------------------


class ScorecardModel(QAbstractTableModel):
    """The scorecard's rows: one measure each, judged as at the dashboard's quarter."""

    HEADERS: Final = (
        "Ref",
        "Measure",
        "Latest value",
        "Target",
        "RAG",
        "Direction of travel",
        "Comparator",
        "Last 8 quarters",
    )
    RAG_COLUMN: Final = 4
    SPARK_COLUMN: Final = 7

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ScorecardRow] = []
        self._quarter: Quarter | None = None

    def set_rows(self, rows: Sequence[ScorecardRow], quarter: Quarter) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._quarter = quarter
        self.endResetModel()

    @property
    def rows(self) -> list[ScorecardRow]:
        return list(self._rows)

    def row_of(self, measure_id: uuid.UUID) -> int:
        for n, row in enumerate(self._rows):
            if row.measure_id == measure_id:
                return n
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def text(self, row: ScorecardRow, column: int) -> str:
        if column == 0:
            return row.ref
        if column == 1:
            return row.name
        if column == 2:
            # A value older than the quarter (annual figures, a late return) says when.
            stale = row.period is not None and row.period != self._quarter
            return f"{row.value_text} in {row.period}" if stale else row.value_text
        if column == 3:
            return row.target_text
        if column == self.RAG_COLUMN:
            return standing_label(row.standing)
        if column == 5:
            return row.direction_text
        if column == 6:
            return row.comparator_text
        return spark_words(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            # The sparkline is painted; its words are for screen readers and tooltips.
            return "" if column == self.SPARK_COLUMN else self.text(row, column)
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            if column == self.RAG_COLUMN:
                return f"{standing_label(row.standing)}: {row.rag_reason}"
            return self.text(row, column)
        if role == ID_ROLE:
            return row.measure_id
        if role == SPARK_ROLE and column == self.SPARK_COLUMN:
            return row.spark
        rag = row.standing.rag
        if column == self.RAG_COLUMN and rag is not None:
            if role == Qt.ItemDataRole.BackgroundRole:
                return RAG_BACKGROUND[rag]
            if role == Qt.ItemDataRole.ForegroundRole:
                return RAG_FOREGROUND[rag]
        return None


def spark_words(row: ScorecardRow) -> str:
    """The sparkline in words: "2022/23 Q3 to 2024/25 Q2: 88, 89, no value, 92"."""
    if not any(v is not None for v in row.spark):
        return "No values in the last two years"
    values = ", ".join(row.fmt(v) if v is not None else "no value" for v in row.spark)
    return f"{row.spark_quarters[0].label} to {row.spark_quarters[-1].label}: {values}"


class SparklineDelegate(QStyledItemDelegate):
    """Draws a cell's values (SPARK_ROLE) as a small line, the newest point dotted."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        super().paint(painter, option, index)
        values = index.data(SPARK_ROLE)
        if not values:
            return
        known = [v for v in values if v is not None and not math.isnan(v)]
        if not known:
            return
        rect: QRect = option.rect.adjusted(6, 5, -8, -5)
        lo, hi = min(known), max(known)
        span = (hi - lo) or 1.0
        step = rect.width() / max(len(values) - 1, 1)

        def point(i: int, v: float) -> QPointF:
            y = rect.bottom() - (v - lo) / span * rect.height() if hi != lo else rect.center().y()
            return QPointF(rect.left() + i * step, y)

        palette: QPalette = option.palette
        colour = palette.color(QPalette.ColorRole.Text)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(colour)
        pen.setWidthF(1.5)
        painter.setPen(pen)
        path = QPainterPath()
        drawing = False
        last: QPointF | None = None
        for i, v in enumerate(values):
            if v is None or math.isnan(v):
                drawing = False
                continue
            p = point(i, v)
            if drawing:
                path.lineTo(p)
            else:
                path.moveTo(p)
                drawing = True
            last = p
        painter.drawPath(path)
        if last is not None:
            painter.setBrush(colour)
            painter.drawEllipse(last, 2.5, 2.5)
        painter.restore()


# --- the view -----------------------------------------------------------------------


class DashboardView(QWidget):
    """A plan's quarter at a glance: counts by priority, scorecard, selected chart."""

    record_activated = Signal(str, object)
    refreshed = Signal()

    def __init__(
        self,
        document: PlanDocument,
        plan_id: uuid.UUID,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardView")
        self.document = document
        self.plan_id = plan_id
        self.today = today if today is not None else dt.date.today()

        self.quarter_combo = QComboBox()
        self.quarter_combo.setObjectName("dashboardQuarter")
        self.quarter_combo.setAccessibleName("Quarter")
        caption = QLabel("Q&uarter")
        caption.setBuddy(self.quarter_combo)
        self.summary = QLabel()
        self.summary.setObjectName("dashboardSummary")
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(caption)
        top.addWidget(self.quarter_combo)
        top.addSpacing(12)
        top.addWidget(self.summary, 1)

        self.counts_model = PriorityCountsModel(self)
        self.counts = QTableView()
        self.counts.setObjectName("priorityCounts")
        self.counts.setAccessibleName("Actions and measures by RAG for each priority")
        self.counts.setModel(self.counts_model)
        self._setup_table(self.counts)
        self.counts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.counts.activated.connect(self._open_priority)

        self.scorecard_model = ScorecardModel(self)
        self.scorecard = QTableView()
        self.scorecard.setObjectName("scorecard")
        self.scorecard.setAccessibleName("Performance scorecard")
        self.scorecard.setModel(self.scorecard_model)
        self._setup_table(self.scorecard)
        self.scorecard.setItemDelegateForColumn(
            ScorecardModel.SPARK_COLUMN, SparklineDelegate(self.scorecard)
        )
        header = self.scorecard.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(ScorecardModel.SPARK_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(ScorecardModel.SPARK_COLUMN, 110)
        self.scorecard.activated.connect(self._open_measure)
        self.scorecard.selectionModel().currentRowChanged.connect(self._on_measure_chosen)

        # The chart (and pyqtgraph with it) is made when first needed, so opening the
        # window does not pay for a tab nobody has looked at.
        self.chart: MeasureChartView | None = None
        self.chart_box = QWidget()
        self.chart_box.setObjectName("dashboardChartBox")
        QVBoxLayout(self.chart_box).setContentsMargins(0, 0, 0, 0)

        counts_box = QWidget()
        counts_layout = QVBoxLayout(counts_box)
        counts_layout.setContentsMargins(0, 0, 0, 0)
        counts_title = QLabel("<b>By priority</b>")
        counts_layout.addWidget(counts_title)
        counts_layout.addWidget(self.counts)
        score_box = QWidget()
        score_layout = QVBoxLayout(score_box)
        score_layout.setContentsMargins(0, 0, 0, 0)
        score_layout.addWidget(QLabel("<b>Scorecard</b> (Enter opens the measure)"))
        score_layout.addWidget(self.scorecard)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.setObjectName("dashboardLowerSplitter")
        lower.addWidget(score_box)
        lower.addWidget(self.chart_box)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        lower.setSizes([820, 540])
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("dashboardSplitter")
        split.addWidget(counts_box)
        split.addWidget(lower)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

        self._stale = False
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.refresh)
        document.changed.connect(self._on_changed)
        self._fill_quarters()
        self.quarter_combo.currentIndexChanged.connect(self.refresh)
        # Read the store when first shown: a window opens without paying for a tab
        # nobody has looked at yet.
        self._stale = True

    @staticmethod
    def _setup_table(view: QTableView) -> None:
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setTabKeyNavigation(False)
        view.setWordWrap(False)
        view.verticalHeader().setVisible(False)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Size columns from the first rows only: measuring 500 rows on every refresh
        # cost more than reading them.
        header.setResizeContentsPrecision(60)

    def _fill_quarters(self) -> None:
        with self.document.read() as session:
            plan = session.get(Plan, self.plan_id)
            quarters = plan_quarters(plan) if plan is not None else []
        chosen = self.quarter if self.quarter_combo.count() else None
        if chosen is None or chosen not in quarters:
            chosen = reporting_quarter(self.today, quarters)
        self.quarter_combo.blockSignals(True)
        self.quarter_combo.clear()
        for q in quarters:
            self.quarter_combo.addItem(f"{q.label} ({q.months_label})", q.label)
        self.quarter_combo.setCurrentIndex(self.quarter_combo.findData(chosen.label))
        self.quarter_combo.blockSignals(False)

    @property
    def quarter(self) -> Quarter | None:
        data = self.quarter_combo.currentData()
        return Quarter.parse(data) if isinstance(data, str) else None

    def set_quarter(self, quarter: Quarter) -> None:
        index = self.quarter_combo.findData(quarter.label)
        if index < 0:
            raise ValueError(f"{quarter.label} is outside the plan's period.")
        self.quarter_combo.setCurrentIndex(index)

    @property
    def current_measure(self) -> uuid.UUID | None:
        value = self.scorecard.currentIndex().data(ID_ROLE)
        return value if isinstance(value, uuid.UUID) else None

    def select_measure(self, measure_id: uuid.UUID) -> None:
        row = self.scorecard_model.row_of(measure_id)
        if row >= 0:
            self.scorecard.setCurrentIndex(self.scorecard_model.index(row, 0))

    # -- refresh -------------------------------------------------------------------

    @Slot(str, object)
    def _on_changed(self, entity: str, _record_id: object) -> None:
        if entity not in DASHBOARD_ENTITIES:
            return
        if self.isVisible():
            self._pending.start()
        else:
            # Hidden behind another tab: catch up when shown, not on every edit.
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    @Slot()
    def refresh(self) -> None:
        quarter = self.quarter
        if quarter is None:
            return
        self._stale = False
        keep = self.current_measure
        with self.document.read() as session:
            rows = scorecard(session, self.plan_id, quarter)
            counts = rag_by_priority(session, self.plan_id, quarter, rows)
        self.counts_model.set_rows(counts)
        self.scorecard_model.set_rows(rows, quarter)
        self.summary.setText(self._summary_text(quarter))
        self.counts.resizeRowsToContents()
        height = self.counts.horizontalHeader().height() + sum(
            self.counts.rowHeight(r) for r in range(self.counts_model.rowCount())
        )
        self.counts.setMinimumHeight(min(height + 4, 320))
        if rows:
            self.select_measure(keep if keep is not None else rows[0].measure_id)
            if self.current_measure is None:
                self.select_measure(rows[0].measure_id)
            self._show_chart()
        self.refreshed.emit()

    def _summary_text(self, quarter: Quarter) -> str:
        rows = self.counts_model.rows
        if not rows:
            return f"{quarter.label}: this plan has no priorities yet."
        total = rows[-1]
        actions, measures = total.actions, total.measures
        return (
            f"{quarter.label}: {actions.total} actions ({actions[Standing.RED]} Red, "
            f"{actions[Standing.NO_UPDATE]} without an update); {measures.total} measures "
            f"({measures[Standing.RED]} Red, {measures[Standing.NOT_RATED]} not rated)."
        )

    @Slot(QModelIndex, QModelIndex)
    def _on_measure_chosen(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_chart()

    def _show_chart(self) -> None:
        measure_id, quarter = self.current_measure, self.quarter
        if measure_id is None or quarter is None:
            return
        with self.document.read() as session:
            try:
                chart = measure_chart(session, measure_id, upto=quarter, last=12)
            except LookupError:
                return
        if self.chart is None:
            from ssp_desktop.ui.charts import MeasureChartView

            self.chart = MeasureChartView()
            self.chart.setObjectName("dashboardChart")
            layout = self.chart_box.layout()
            assert layout is not None
            layout.addWidget(self.chart)
        self.chart.show_chart(chart)

    # -- click-through -------------------------------------------------------------

    @Slot(QModelIndex)
    def _open_priority(self, index: QModelIndex) -> None:
        priority_id = index.data(ID_ROLE)
        if isinstance(priority_id, uuid.UUID):
            self.record_activated.emit("priority", priority_id)

    @Slot(QModelIndex)
    def _open_measure(self, index: QModelIndex) -> None:
        measure_id = index.data(ID_ROLE)
        if isinstance(measure_id, uuid.UUID):
            self.record_activated.emit("measure", measure_id)


__all__ = ["DashboardView", "PriorityCountsModel", "ScorecardModel"]
