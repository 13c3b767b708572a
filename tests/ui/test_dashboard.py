"""The dashboard on the sample plan: its counts and scorecard are the domain's, it
follows edits, and it opens what the user picks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Rag, ValueStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, Measure
from ssp_desktop.queries.performance import Standing, rag_by_priority, scorecard
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE, SAMPLE_QUARTER, write_sample
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.dashboard import ID_ROLE, DashboardView, ScorecardModel
from ssp_desktop.ui.document import PlanDocument

# Shown widgets on the offscreen platform log this harmless warning.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, uuid.UUID]:
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    with Store.open(path, create=True) as store:
        plan_id = write_sample(store).current_plan_id
    return path, plan_id


@pytest.fixture
def doc(sample_file: tuple[Path, uuid.UUID], tmp_path: Path) -> Iterator[PlanDocument]:
    path = tmp_path / "plan.sqlite"
    sqlite_backup(sample_file[0], path)
    store = Store.open(path)
    yield PlanDocument(store)
    store.close()


@pytest.fixture
def plan_id(sample_file: tuple[Path, uuid.UUID]) -> uuid.UUID:
    return sample_file[1]


@pytest.fixture
def view(doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot) -> DashboardView:
    widget = DashboardView(doc, plan_id, today=SAMPLE_MEETING_DATE)
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    return widget


def counts_shown(view: DashboardView) -> dict[str, dict[str, int]]:
    model = view.counts_model
    shown: dict[str, dict[str, int]] = {}
    for row in range(model.rowCount()):
        label = model.index(row, 0).data()
        shown[label] = {
            model.headerData(c, Qt.Orientation.Horizontal).replace("\n", " "): int(
                model.index(row, c).data()
            )
            for c in range(1, model.columnCount())
        }
    return shown


def test_opens_on_the_reporting_quarter_with_the_domains_counts(
    view: DashboardView, doc: PlanDocument, plan_id: uuid.UUID
) -> None:
    assert view.quarter == SAMPLE_QUARTER
    with doc.read() as session:
        expected = rag_by_priority(session, plan_id, SAMPLE_QUARTER)
    shown = counts_shown(view)
    for perf in expected:
        row = shown[f"{perf.code} {perf.title}"]
        assert row["Actions ▲ Red"] == perf.actions[Standing.RED]
        assert row["Actions ● Green"] == perf.actions[Standing.GREEN]
        assert row["Actions No update"] == perf.actions[Standing.NO_UPDATE]
        assert row["Measures ◆ Amber"] == perf.measures[Standing.AMBER]
        assert row["Measures Not rated"] == perf.measures[Standing.NOT_RATED]
    total = shown["All priorities"]
    assert total["Actions ▲ Red"] == sum(p.actions[Standing.RED] for p in expected)
    # The sample plants one red action (PSP) and one action without an update.
    assert total["Actions ▲ Red"] >= 1 and total["Actions No update"] >= 1
    assert "without an update" in view.summary.text()


def test_scorecard_rows_equal_the_domains_scorecard(
    view: DashboardView, doc: PlanDocument, plan_id: uuid.UUID
) -> None:
    with doc.read() as session:
        expected = scorecard(session, plan_id, SAMPLE_QUARTER)
    model = view.scorecard_model
    assert model.rowCount() == len(expected) == 18
    for n, row in enumerate(expected):
        assert model.index(n, 0).data() == row.ref
        assert model.index(n, 2).data().startswith(row.value_text)
        assert model.index(n, 3).data() == row.target_text
        rag = model.index(n, ScorecardModel.RAG_COLUMN).data()
        # RAG as symbol and word, never colour alone; the reason on hover.
        assert rag.endswith(row.standing.word)
        assert row.rag_reason in model.index(n, ScorecardModel.RAG_COLUMN).data(
            Qt.ItemDataRole.ToolTipRole
        )
        assert model.index(n, 5).data() == row.direction_text
    spark = model.index(0, ScorecardModel.SPARK_COLUMN)
    assert spark.data() == ""  # painted, and read out in words
    assert "2024/25 Q2" in spark.data(Qt.ItemDataRole.AccessibleTextRole)


def test_models_pass_the_model_tester(view: DashboardView, qtmodeltester: ModelTester) -> None:
    qtmodeltester.check(view.counts_model)
    qtmodeltester.check(view.scorecard_model)


def _action(doc: PlanDocument, ref: str) -> Action:
    with doc.read() as session:
        action = session.scalars(select(Action).where(Action.ref == ref)).one()
        session.expunge(action)
        return action


def test_an_update_turning_red_is_counted_at_once(
    view: DashboardView, doc: PlanDocument, qtbot: QtBot
) -> None:
    before = counts_shown(view)["All priorities"]
    action = _action(doc, "PVP-09")  # has no update for the quarter in the sample

    def write(tx: Transaction) -> None:
        a = tx.get(Action, action.id)
        assert a is not None
        services.write_update(
            tx, a, SAMPLE_QUARTER, rag=Rag.RED, narrative="Stalled", written_on=SAMPLE_MEETING_DATE
        )

    with qtbot.waitSignal(view.refreshed, timeout=5000):
        assert doc.edit("Update PVP-09", write)
    after = counts_shown(view)["All priorities"]
    assert after["Actions ▲ Red"] == before["Actions ▲ Red"] + 1
    assert after["Actions No update"] == before["Actions No update"] - 1
    with qtbot.waitSignal(view.refreshed, timeout=5000):
        doc.undo_stack.undo()
    assert counts_shown(view)["All priorities"] == before


def test_a_new_value_changes_the_scorecard_and_the_chart(
    view: DashboardView, doc: PlanDocument, qtbot: QtBot
) -> None:
    row = next(r for r in view.scorecard_model.rows if r.ref == "PSP-M3")  # no Q2 figure
    view.select_measure(row.measure_id)
    # Q2 is recorded without a figure (police data not validated): it is the period
    # judged, not rated, rather than Q1's figure rated in its place (as in the pack).
    assert row.period == SAMPLE_QUARTER and row.missing
    assert row.standing is Standing.NOT_RATED
    assert row.rag_reason == "Not rated: latest value not available"
    n = view.scorecard_model.row_of(row.measure_id)
    assert view.scorecard_model.index(n, 2).data() == row.value_text
    assert row.value_text.startswith("Not yet available: GMP data")

    def enter(tx: Transaction) -> None:
        m = tx.get(Measure, row.measure_id)
        assert m is not None
        services.record_value(tx, m, SAMPLE_QUARTER, 2.5, status=ValueStatus.FINAL)

    with qtbot.waitSignal(view.refreshed, timeout=5000):
        assert doc.edit("Enter PSP-M3", enter)
    n = view.scorecard_model.row_of(row.measure_id)
    assert view.scorecard_model.index(n, 2).data() == "2.50"
    assert view.scorecard_model.index(n, ScorecardModel.RAG_COLUMN).data() == "▲ Red"
    # The chart of the selected measure follows too.
    assert view.current_measure == row.measure_id
    assert view.chart is not None
    _x, y = view.chart.value_line.getData()
    assert float(y[-1]) == 2.5


def test_an_earlier_quarter_is_judged_as_it_stood_then(view: DashboardView, qtbot: QtBot) -> None:
    q1 = Quarter.parse("2024/25 Q1")
    with_q2 = {r.ref: r.period for r in view.scorecard_model.rows}
    with qtbot.waitSignal(view.refreshed, timeout=1000):
        view.set_quarter(q1)
    assert all(r.period is None or r.period <= q1 for r in view.scorecard_model.rows)
    assert with_q2 != {r.ref: r.period for r in view.scorecard_model.rows}
    with pytest.raises(ValueError, match="outside the plan"):
        view.set_quarter(Quarter.parse("2030/31 Q1"))


def test_enter_opens_the_measure_or_priority(view: DashboardView, qtbot: QtBot) -> None:
    view.scorecard.setFocus()
    view.scorecard.setCurrentIndex(view.scorecard_model.index(2, 0))
    with qtbot.waitSignal(view.record_activated) as opened:
        qtbot.keyClick(view.scorecard, Qt.Key.Key_Return)
    assert opened.args == ["measure", view.scorecard_model.index(2, 0).data(ID_ROLE)]
    view.counts.setFocus()
    view.counts.setCurrentIndex(view.counts_model.index(1, 0))
    with qtbot.waitSignal(view.record_activated) as opened:
        qtbot.keyClick(view.counts, Qt.Key.Key_Return)
    assert opened.args is not None and opened.args[0] == "priority"


def test_a_hidden_dashboard_catches_up_when_shown(
    view: DashboardView, doc: PlanDocument, qtbot: QtBot
) -> None:
    view.hide()
    refreshes: list[None] = []
    view.refreshed.connect(lambda: refreshes.append(None))
    action = _action(doc, "PVP-09")

    def write(tx: Transaction) -> None:
        a = tx.get(Action, action.id)
        assert a is not None
        services.write_update(
            tx, a, SAMPLE_QUARTER, rag=Rag.AMBER, narrative="Late", written_on=SAMPLE_MEETING_DATE
        )

    assert doc.edit("Update PVP-09", write)
    qtbot.wait(20)
    assert refreshes == []  # nothing re-read while nobody looks
    with qtbot.waitSignal(view.refreshed, timeout=5000):
        view.show()
    shown = counts_shown(view)["All priorities"]
    # ROR-10 starts in January 2025: not started, which is not a missing update.
    assert (shown["Actions No update"], shown["Actions Not started"]) == (0, 1)
