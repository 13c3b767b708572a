"""The measure chart on screen: what is plotted (read back with getData), legend, axis
labels, hover text, export, and that the measure editor's chart follows an edit."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Polarity, Unit, ValueStatus
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Measure
from ssp_desktop.reports.chart import MeasureFacts, Point, build_chart
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.charts import MeasureChartView
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import create_editor
from ssp_desktop.ui.forms.measure import MeasureEditor
from tests.factories import MiniPlan, mini_plan

Q = Quarter.parse


def xy(item: object) -> tuple[list[float], list[float]]:
    x, y = item.getData()  # type: ignore[attr-defined]
    return ([] if x is None else [float(v) for v in x], [] if y is None else [float(v) for v in y])


def legend_labels(view: MeasureChartView) -> list[str]:
    return [label.text for _sample, label in view.legend.items]


def sample_chart() -> object:
    facts = MeasureFacts(
        name="Residents who feel safe",
        ref="PSP-M1",
        unit=Unit.PERCENT,
        decimals=0,
        tolerance=2.0,
        comparator_names=["GM average", "England"],
        baseline_value=85.0,
        baseline_period="2021/22",
    )
    points = {
        Q("2023/24 Q3"): Point(88.0, ValueStatus.FINAL, {"GM average": 86.0, "England": 84.0}),
        Q("2023/24 Q4"): Point(89.0, ValueStatus.FINAL, {"GM average": 87.0}),
        Q("2024/25 Q1"): Point(None),
        Q("2024/25 Q2"): Point(92.0, ValueStatus.PROVISIONAL, {"GM average": 88.0}),
    }
    targets = {FinancialYear(2023): 88.0, FinancialYear(2024): 90.0}
    return build_chart(facts, points, targets)


@pytest.fixture
def view(qtbot: QtBot) -> MeasureChartView:
    widget = MeasureChartView()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show_chart(sample_chart())  # type: ignore[arg-type]
    return widget


def test_every_series_is_plotted_from_the_description(view: MeasureChartView) -> None:
    x, y = xy(view.value_line)
    assert x == [0.0, 1.0, 2.0, 3.0]
    assert y[:2] == [88.0, 89.0] and math.isnan(y[2]) and y[3] == 92.0  # a gap, not a zero
    assert xy(view.final_points) == ([0.0, 1.0], [88.0, 89.0])
    assert xy(view.provisional_points) == ([3.0], [92.0])
    assert xy(view.target_item) == ([-0.5, 1.5, 1.5, 3.5], [88.0, 88.0, 90.0, 90.0])
    gm, england, unused = view.comparator_items
    assert xy(gm)[1][:2] == [86.0, 87.0]
    assert xy(england)[1][0] == 84.0
    assert xy(unused) == ([], [])
    assert xy(view.baseline_item)[1] == [85.0, 85.0]
    assert not view.band_item.path().isEmpty()


def test_legend_axes_and_alt_text_say_what_is_shown(view: MeasureChartView) -> None:
    assert legend_labels(view) == [
        "Value (final)",
        "Provisional (hollow)",
        "Target",
        "GM average",
        "England",
        "Baseline (2021/22)",
        "Tolerance (Amber)",
    ]
    item = view.plot_item
    assert item.getAxis("left").labelText == "Per cent (%)"
    assert item.getAxis("bottom").labelText == "Quarter (financial year)"
    major = [label for _x, label in item.getAxis("bottom")._tickLevels[0]]
    assert "2024/25 Q2" in major
    assert view.alt.text().startswith("Residents who feel safe, 2023/24 Q3 to 2024/25 Q2")
    assert view.plot.accessibleDescription() == view.alt.text()
    assert view.title.text() == "PSP-M1 Residents who feel safe (%)"


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_hover_gives_exact_figures_and_the_table_holds_them_too(
    view: MeasureChartView, qtbot: QtBot
) -> None:
    assert view.hover_text(3) == (
        "2024/25 Q2\nValue: 92% (provisional)\nTarget: 90%\nGM average: 88%"
    )
    assert view.hover_text(2).startswith("2024/25 Q1\nValue: No value")
    assert view.hover_text(9) == ""
    assert not view.table.isVisible()
    view.show()
    qtbot.keyClick(view.table_button, " ")
    assert view.table.isVisible()
    assert view.table.rowCount() == 4
    assert view.table.item(3, 1).text() == "92%"


def test_export_writes_png_and_svg(view: MeasureChartView, tmp_path: Path) -> None:
    png, svg = tmp_path / "chart.png", tmp_path / "chart.svg"
    view.export_png(png, width=600)
    view.export_svg(svg)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "Residents who feel safe" in text


def test_a_redraw_reuses_its_items(view: MeasureChartView) -> None:
    before = set(view.plot_item.items)
    view.show_chart(sample_chart())  # type: ignore[arg-type]
    assert set(view.plot_item.items) == before


# --- in the measure editor --------------------------------------------------------------


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    mp = mini_plan(store)
    with store.transaction() as tx:
        m = tx.get(Measure, mp.measure.id)
        assert m is not None
        services.edit(tx, m, polarity=Polarity.HIGHER_BETTER)
        services.set_target(tx, m, FinancialYear(2023), 90.0)
        services.record_value(tx, m, Q("2023/24 Q1"), 85.0, comparators={"GM average": 80.0})
    return mp


@pytest.fixture
def doc(store: Store) -> Iterator[PlanDocument]:
    yield PlanDocument(store)


def test_the_editors_chart_follows_an_edit_and_its_undo(
    plan: MiniPlan, doc: PlanDocument, qtbot: QtBot
) -> None:
    editor = create_editor(doc, "measure", plan.measure.id)
    qtbot.addWidget(editor)
    assert isinstance(editor, MeasureEditor)
    chart = editor.chart.view
    assert xy(chart.value_line) == ([0.0], [85.0])

    def enter(tx: Transaction) -> None:
        m = tx.get(Measure, plan.measure.id)
        assert m is not None
        services.record_value(tx, m, Q("2023/24 Q2"), 91.0)

    assert doc.edit("Enter 2023/24 Q2", enter)
    qtbot.waitUntil(lambda: xy(chart.value_line)[1] == [85.0, 91.0])
    assert "rose from 85.0% to 91.0%" in chart.alt.text()
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: xy(chart.value_line)[1] == [85.0])
