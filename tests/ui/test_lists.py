"""The action and measure lists on the sample plan: model checks, filters, sorting,
following edits, activation and accessibility."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QWidget,
)
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import ActionStatus, Rag, ValueStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ActionUpdate, Priority, PriorityArea
from ssp_desktop.domain.rules import FlagKind, action_flags
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.sample.plan import (
    SAMPLE_MEETING_DATE,
    SAMPLE_QUARTER,
    SampleSummary,
    write_sample,
)
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.lists import ActionListWidget, MeasureListWidget
from ssp_desktop.ui.style import RAG_BACKGROUND, RAG_FOREGROUND, rag_label
from ssp_desktop.ui.tables import (
    ACTION_COLUMNS,
    ID_ROLE,
    MEASURE_COLUMNS,
    NOT_RATED,
    ActionFilterProxy,
    ActionTableModel,
    MeasureFilterProxy,
    MeasureTableModel,
)

COL = {c.title: i for i, c in enumerate(ACTION_COLUMNS)}
MCOL = {c.title: i for i, c in enumerate(MEASURE_COLUMNS)}


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, SampleSummary]]:
    """One sample store for the tests that only read."""
    store = Store.open(tmp_path_factory.mktemp("lists") / "s.sqlite", create=True)
    try:
        yield store, write_sample(store)
    finally:
        store.close()


@pytest.fixture
def doc(sample_store: tuple[Store, SampleSummary], qtbot: QtBot) -> PlanDocument:
    return PlanDocument(sample_store[0])


@pytest.fixture
def plan_id(sample_store: tuple[Store, SampleSummary]) -> uuid.UUID:
    return sample_store[1].current_plan_id


@pytest.fixture
def edit_doc(store: Store, qtbot: QtBot) -> tuple[PlanDocument, uuid.UUID]:
    """A sample store of the test's own, for tests that change it."""
    summary = write_sample(store)
    return PlanDocument(store), summary.current_plan_id


def _expected(doc: PlanDocument, plan_id: uuid.UUID) -> list[tuple[Action, bool]]:
    """Each action with whether the domain flags it, straight from the domain."""
    out = []
    with doc.read() as session:
        for row in plan_queries.actions_with_latest_update(session, plan_id):
            a = row.action
            has_update = session.scalar(
                select(ActionUpdate.id).where(
                    ActionUpdate.action_id == a.id,
                    ActionUpdate.quarter == SAMPLE_QUARTER,
                    ActionUpdate.is_current.is_(True),
                )
            )
            flags = action_flags(
                status=a.status,
                rag=a.rag,
                due=a.due_date,
                has_update_for_quarter=has_update is not None,
                quarter=SAMPLE_QUARTER,
                today=SAMPLE_MEETING_DATE,
                start=a.start_date,
            )
            overdue = any(f.kind in (FlagKind.OVERDUE, FlagKind.PAST_DUE_GREEN) for f in flags)
            session.expunge(a)
            out.append((a, overdue))
    return out


def _refs(proxy: QSortFilterProxyModel) -> list[str]:
    return [proxy.index(r, COL["Ref"]).data() for r in range(proxy.rowCount())]


def _action_widget(doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot) -> ActionListWidget:
    widget = ActionListWidget(doc, plan_id)
    qtbot.addWidget(widget)
    return widget


# --------------------------------------------------------------------------- models


def test_models_and_proxies_pass_the_model_checks(
    doc: PlanDocument, plan_id: uuid.UUID, qtmodeltester: ModelTester
) -> None:
    actions = ActionTableModel(doc)
    actions.set_plan(plan_id)
    qtmodeltester.check(actions)
    proxy = ActionFilterProxy()
    proxy.setSourceModel(actions)
    proxy.set_rag(Rag.AMBER)
    qtmodeltester.check(proxy)
    measures = MeasureTableModel(doc)
    measures.set_plan(plan_id)
    qtmodeltester.check(measures)
    measure_proxy = MeasureFilterProxy()
    measure_proxy.setSourceModel(measures)
    measure_proxy.set_text("crime")
    qtmodeltester.check(measure_proxy)


def test_the_action_model_shows_words_colours_flags_and_ids(
    doc: PlanDocument, plan_id: uuid.UUID
) -> None:
    model = ActionTableModel(doc)
    assert model.today == SAMPLE_MEETING_DATE  # the sample is fixed in time
    model.set_plan(plan_id)
    assert model.quarter == SAMPLE_QUARTER
    assert model.rowCount() == 37 and model.columnCount() == len(ACTION_COLUMNS)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "Ref",
        "Title",
        "Priority",
        "Area",
    ]
    refs = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert refs == sorted(refs)
    row = refs.index("PSP-05")
    rag = model.index(row, COL["RAG"])
    assert rag.data() == rag_label(Rag.GREEN) == "● Green"
    background = rag.data(Qt.ItemDataRole.BackgroundRole)
    assert isinstance(background, QBrush) and background.color() == RAG_BACKGROUND[Rag.GREEN]
    assert rag.data(Qt.ItemDataRole.ForegroundRole).color() == RAG_FOREGROUND[Rag.GREEN]
    flags = model.index(row, COL["Flags"])
    assert flags.data() == "Past due, marked Green"
    assert flags.data(Qt.ItemDataRole.ToolTipRole) == (
        "Past its due date and not complete, but marked Green"
    )
    assert model.index(row, COL["Due"]).data() == "30 Jun 2024"
    assert model.index(row, COL["Status"]).data() == "In progress"
    record_id = model.index(row, COL["Title"]).data(ID_ROLE)
    assert isinstance(record_id, uuid.UUID)
    with doc.read() as session:
        action = session.get(Action, record_id)
        assert action is not None and action.ref == "PSP-05"
    unrated = refs.index("ROR-10")
    assert model.index(unrated, COL["RAG"]).data() == "Not rated"
    assert model.index(unrated, COL["RAG"]).data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.index(refs.index("PVP-09"), COL["Flags"]).data(Qt.ItemDataRole.ToolTipRole) == (
        "No update for 2024/25 Q2"
    )


def test_the_measure_model_shows_rag_direction_and_values(
    doc: PlanDocument, plan_id: uuid.UUID
) -> None:
    model = MeasureTableModel(doc)
    model.set_plan(plan_id)
    refs = [model.index(r, 0).data() for r in range(model.rowCount())]
    row = refs.index("PSP-M4")
    assert model.index(row, MCOL["Measure"]).data() == "Knife crime offences"
    assert model.index(row, MCOL["RAG"]).data() == "▲ Red"
    colour = model.index(row, MCOL["RAG"]).data(Qt.ItemDataRole.BackgroundRole).color()
    assert colour == RAG_BACKGROUND[Rag.RED]
    assert model.index(row, MCOL["Direction"]).data() == "↑ Worsening"
    assert "since 2024/25 Q1" in model.index(row, MCOL["Direction"]).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert model.index(row, MCOL["Value"]).data() == "61"
    assert model.index(row, MCOL["Target"]).data() == "46"
    assert model.index(row, MCOL["Period"]).data() == "2024/25 Q2"
    tracker = refs.index("PSP-M5")
    assert model.index(tracker, MCOL["RAG"]).data() == "Not rated"
    assert "Tracker" in model.index(tracker, MCOL["RAG"]).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(tracker, MCOL["Polarity"]).data() == "Tracker (no target)"


def test_rows_are_fetched_lazily_and_sorting_reads_none(
    doc: PlanDocument, plan_id: uuid.UUID
) -> None:
    model = ActionTableModel(doc)
    model.set_plan(plan_id)
    assert (model.fetch_count, model.cached_rows()) == (0, 0)
    proxy = ActionFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(COL["Due"], Qt.SortOrder.DescendingOrder)
    proxy.sort(COL["RAG"], Qt.SortOrder.AscendingOrder)
    assert proxy.rowCount() == 37
    assert (model.fetch_count, model.cached_rows()) == (0, 0)  # ids re-ordered in SQL
    assert proxy.index(0, 0).data()
    assert model.fetch_count == 1 and model.cached_rows() == 37  # one batch


# --------------------------------------------------------------------------- filters


def test_each_filter_gives_the_domains_rows(
    doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot
) -> None:
    expected = _expected(doc, plan_id)
    model = ActionTableModel(doc)
    model.set_plan(plan_id)
    proxy = ActionFilterProxy()
    proxy.setSourceModel(model)

    def refs(keep: Callable[[Action, bool], bool]) -> list[str]:
        return sorted(a.ref for a, overdue in expected if keep(a, overdue))

    with doc.read() as session:
        pvp_id = session.scalar(
            select(Priority.id).where(Priority.plan_id == plan_id, Priority.code == "PVP")
        )
        areas = {a.id: a.priority_id for a in session.scalars(select(PriorityArea))}
    proxy.set_priority(pvp_id)
    assert _refs(proxy) == refs(lambda a, _o: areas[a.priority_area_id] == pvp_id)
    assert _refs(proxy) and all(r.startswith("PVP-") for r in _refs(proxy))
    proxy.set_priority(None)

    gmp = next(a.lead_organisation_id for a, _o in expected if a.ref == "PSP-03")
    proxy.set_lead_organisation(gmp)
    assert _refs(proxy) == refs(lambda a, _o: a.lead_organisation_id == gmp)
    assert len(_refs(proxy)) >= 3
    proxy.set_lead_organisation(None)

    for rag in Rag:
        proxy.set_rag(rag)
        assert _refs(proxy) == refs(lambda a, _o, rag=rag: a.rag is rag), rag
    proxy.set_rag(NOT_RATED)
    assert _refs(proxy) == refs(lambda a, _o: a.rag is None) == ["ROR-10"]
    proxy.set_rag(None)

    proxy.set_status(ActionStatus.COMPLETE)
    assert _refs(proxy) == refs(lambda a, _o: a.status is ActionStatus.COMPLETE)
    proxy.set_status(None)

    proxy.set_overdue_only(True)
    assert _refs(proxy) == refs(lambda _a, overdue: overdue) == ["PSP-05"]
    proxy.set_overdue_only(False)

    proxy.set_text("idva")
    assert _refs(proxy) == refs(lambda a, _o: "idva" in a.title.lower())
    proxy.set_text("knife gmp")  # every word must match: title and lead organisation
    assert _refs(proxy) == ["PSP-08"]
    proxy.set_text("")
    assert proxy.rowCount() == 37

    # Filters combine.
    proxy.set_priority(pvp_id)
    proxy.set_status(ActionStatus.COMPLETE)
    assert _refs(proxy) == refs(
        lambda a, _o: areas[a.priority_area_id] == pvp_id and a.status is ActionStatus.COMPLETE
    )
    proxy.clear_filters()
    assert proxy.rowCount() == 37 and not proxy.is_filtering()


def test_the_reference_quarter_decides_the_flags(
    doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot
) -> None:
    model = ActionTableModel(doc)
    model.set_plan(plan_id)
    proxy = ActionFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(COL["Flags"], Qt.SortOrder.DescendingOrder)
    assert _refs(proxy)[:3] == ["PSP-05", "PVP-09", "PVP-07"]
    proxy.set_overdue_only(True)
    assert _refs(proxy) == ["PSP-05"]
    # As the board saw it in August 2024, for 2024/25 Q1: PSP-05 was due at the end of
    # that quarter and already past due; PVP-09 had its Q1 update.
    with qtbot.waitSignal(model.dataChanged):
        proxy.set_reference(SAMPLE_QUARTER.previous(), dt.date(2024, 8, 1))
    assert model.quarter == SAMPLE_QUARTER.previous()
    assert _refs(proxy) == ["PSP-05"]
    proxy.set_overdue_only(False)
    assert _refs(proxy)[:2] == ["PSP-05", "PVP-07"]
    # A pack prepared before PSP-05's due date: nothing is overdue yet.
    proxy.set_reference(Quarter(2024, 1), dt.date(2024, 6, 1))
    proxy.set_overdue_only(True)
    assert _refs(proxy) == []


def test_measure_filters(doc: PlanDocument, plan_id: uuid.UUID) -> None:
    model = MeasureTableModel(doc)
    model.set_plan(plan_id)
    proxy = MeasureFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_rag(Rag.RED)
    assert _refs(proxy) == ["PSP-M4"]
    proxy.set_rag(None)
    proxy.set_overdue_only(True)
    assert _refs(proxy) == ["PSP-M3"]
    proxy.set_overdue_only(False)
    proxy.set_status(ValueStatus.FINAL)
    assert "PSP-M3" in _refs(proxy) and "PSP-M4" not in _refs(proxy)
    proxy.set_status(None)
    proxy.set_text("knife")
    assert _refs(proxy) == ["PSP-M4"]


# --------------------------------------------------------------------------- widget


def test_typing_in_the_search_box_filters_and_counts(
    doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot
) -> None:
    widget = _action_widget(doc, plan_id, qtbot)
    assert widget.count_label.text() == "37 of 37 actions"
    assert widget.search.placeholderText() == "Find…"
    qtbot.keyClicks(widget.search, "IDVA")
    assert widget.proxy.text == "IDVA"
    shown = _refs(widget.proxy)
    assert shown and "PVP-01" in shown
    assert widget.count_label.text() == f"{len(shown)} of 37 actions"
    widget.search.clear()
    assert widget.count_label.text() == "37 of 37 actions"


def test_the_filter_bar_drives_the_proxy(
    doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot
) -> None:
    widget = _action_widget(doc, plan_id, qtbot)
    rag_options = [widget.rag_combo.itemText(i) for i in range(widget.rag_combo.count())]
    assert rag_options == ["Any RAG", "Red", "Amber", "Green", "Not rated"]
    widget.rag_combo.setCurrentIndex(rag_options.index("Red"))
    assert _refs(widget.proxy) == ["PSP-08"]
    widget.overdue_check.setChecked(True)
    assert widget.count_label.text() == "0 of 37 actions"
    widget.rag_combo.setCurrentIndex(0)
    assert _refs(widget.proxy) == ["PSP-05"]
    priorities = [widget.priority_combo.itemText(i) for i in range(widget.priority_combo.count())]
    assert priorities[0] == "All priorities" and priorities[1].startswith("PVP ")
    orgs = [widget.organisation_combo.itemText(i) for i in range(widget.organisation_combo.count())]
    assert "GMP (Greater Manchester Police)" in orgs
    widget.clear_button.click()
    assert widget.count_label.text() == "37 of 37 actions"
    assert not widget.overdue_check.isChecked() and widget.rag_combo.currentIndex() == 0
    statuses = [widget.status_combo.itemText(i) for i in range(widget.status_combo.count())]
    widget.status_combo.setCurrentIndex(statuses.index("Deferred"))
    assert _refs(widget.proxy) == ["ROR-09"]


def test_sorting_by_due_date_and_by_rag_from_the_header(
    doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot
) -> None:
    widget = _action_widget(doc, plan_id, qtbot)
    expected = [a for a, _o in _expected(doc, plan_id)]
    widget.view.sortByColumn(COL["Due"], Qt.SortOrder.AscendingOrder)
    by_due = sorted(expected, key=lambda a: (a.due_date or dt.date.max, a.ref))
    assert _refs(widget.proxy) == [a.ref for a in by_due]
    assert widget.model.sort_key[1] is False

    widget.view.sortByColumn(COL["RAG"], Qt.SortOrder.DescendingOrder)
    shown = _refs(widget.proxy)
    rags = [next(a.rag for a in expected if a.ref == ref) for ref in shown]
    assert rags[0] is Rag.RED and rags[-1] is None
    rank = [-1 if r is None else r.severity for r in rags[:-1]]
    assert rank == sorted(rank, reverse=True)
    # Within a RAG, ref order.
    greens = [ref for ref, rag in zip(shown, rags, strict=True) if rag is Rag.GREEN]
    assert greens == sorted(greens)

    # Sorting keeps a filter, and the selection follows its record.
    widget.rag_combo.setCurrentIndex(widget.rag_combo.findText("Amber"))
    widget.select_record(next(a.id for a in expected if a.ref == "PVP-07"))
    widget.view.sortByColumn(COL["Due"], Qt.SortOrder.DescendingOrder)
    amber = sorted(
        (a for a in expected if a.rag is Rag.AMBER),
        key=lambda a: a.ref,
    )
    amber.sort(key=lambda a: a.due_date or dt.date.min, reverse=True)
    assert _refs(widget.proxy) == [a.ref for a in amber]
    assert widget.view.currentIndex().data() == "PVP-07"


def test_an_edit_updates_its_row_without_a_reset(
    edit_doc: tuple[PlanDocument, uuid.UUID], qtbot: QtBot
) -> None:
    doc, plan_id = edit_doc
    widget = _action_widget(doc, plan_id, qtbot)
    model = widget.model
    refs = _refs(widget.proxy)
    row = refs.index("PVP-01")
    action_id = model.record_id(row)
    assert model.index(row, COL["Title"]).data().startswith("Maintain the Independent")
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))

    def retitle(tx: Transaction) -> None:
        action = tx.get(Action, action_id)
        assert action is not None
        services.edit(tx, action, title="Keep the IDVA service for every high-risk victim")

    with qtbot.waitSignal(model.dataChanged) as changed:
        assert doc.edit("Change title", retitle)
    top_left, bottom_right = changed.args[:2]
    assert (top_left.row(), bottom_right.row()) == (row, row)
    assert model.index(row, COL["Title"]).data() == (
        "Keep the IDVA service for every high-risk victim"
    )

    # A new quarterly update turns the action Red: the RAG cell and the Red filter follow.
    widget.rag_combo.setCurrentIndex(widget.rag_combo.findText("Red"))
    assert "PVP-01" not in _refs(widget.proxy)

    def turn_red(tx: Transaction) -> None:
        action = tx.get(Action, action_id)
        assert action is not None
        services.write_update(
            tx,
            action,
            SAMPLE_QUARTER,
            rag=Rag.RED,
            narrative="Both IDVA posts are vacant again.",
            written_on=dt.date(2024, 10, 20),
        )

    with qtbot.waitSignal(model.dataChanged):
        assert doc.edit("Write update", turn_red)
    assert model.index(row, COL["RAG"]).data() == "▲ Red"
    assert model.index(row, COL["Progress"]).data() == "Both IDVA posts are vacant again."
    assert "PVP-01" in _refs(widget.proxy)
    assert resets == []

    # Undo is a change like any other.
    with qtbot.waitSignal(model.dataChanged):
        doc.undo_stack.undo()
    assert model.index(row, COL["RAG"]).data() == "● Green"
    assert "PVP-01" not in _refs(widget.proxy)
    assert resets == []


def test_an_added_action_reloads_the_list(
    edit_doc: tuple[PlanDocument, uuid.UUID], qtbot: QtBot
) -> None:
    doc, plan_id = edit_doc
    widget = _action_widget(doc, plan_id, qtbot)
    with doc.read() as session:
        area_id = session.scalar(
            select(Action.priority_area_id).where(Action.plan_id == plan_id, Action.ref == "PVP-01")
        )

    def add(tx: Transaction) -> None:
        area = tx.get(PriorityArea, area_id)
        assert area is not None
        services.add_action(tx, area, ref="PVP-16", title="Stalking clinic")

    with qtbot.waitSignal(widget.model.modelReset):
        assert doc.edit("Add action", add)
    assert widget.count_label.text() == "38 of 38 actions"
    assert "PVP-16" in _refs(widget.proxy)
    with qtbot.waitSignal(widget.model.modelReset):
        doc.undo_stack.undo()
    assert widget.count_label.text() == "37 of 37 actions"


# The offscreen platform says it cannot size a shown top-level window to its contents.
OFFSCREEN_SHOW = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@OFFSCREEN_SHOW
def test_activation_and_selection_emit_the_id(
    doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot
) -> None:
    widget = _action_widget(doc, plan_id, qtbot)
    widget.show()
    qtbot.waitExposed(widget)
    index = widget.proxy.index(2, COL["Title"])
    expected_id = index.data(ID_ROLE)
    with qtbot.waitSignal(widget.record_selected) as selected:
        widget.view.setCurrentIndex(index)
    assert selected.args == ["action", expected_id]
    widget.view.setFocus()
    with qtbot.waitSignal(widget.record_activated) as activated:
        qtbot.keyClick(widget.view, Qt.Key.Key_Return)
    assert activated.args == ["action", expected_id]
    centre = widget.view.visualRect(widget.proxy.index(3, COL["Ref"])).center()
    viewport = widget.view.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    with qtbot.waitSignal(widget.record_activated) as activated:
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    assert activated.args == ["action", widget.proxy.index(3, 0).data(ID_ROLE)]


@OFFSCREEN_SHOW
def test_find_focuses_the_search_box(doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot) -> None:
    widget = _action_widget(doc, plan_id, qtbot)
    widget.show()
    qtbot.waitExposed(widget)
    widget.search.setText("knife")
    widget.view.setFocus()
    widget.focus_search()
    qtbot.waitUntil(widget.search.hasFocus)
    assert QApplication.focusWidget() is widget.search
    assert widget.search.selectedText() == "knife"


def test_controls_are_named_and_in_tab_order(
    doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot
) -> None:
    for widget in (
        _action_widget(doc, plan_id, qtbot),
        MeasureListWidget(doc, plan_id),
    ):
        qtbot.addWidget(widget)
        controls: list[QWidget] = [
            widget.search,
            widget.priority_combo,
            widget.organisation_combo,
            widget.rag_combo,
            widget.status_combo,
            widget.overdue_check,
            widget.clear_button,
            widget.view,
        ]
        for control in [*controls, widget.count_label]:
            assert control.accessibleName(), control.objectName()
        # Qt's own parts too: the search box's clear button, the drop-down lists.
        inner = widget.findChildren(QAbstractButton) + widget.findChildren(QAbstractItemView)
        unnamed = [
            w
            for w in inner
            if not w.objectName().startswith("qt_")  # named by Qt itself
            and not isinstance(w, QHeaderView)
            and not (w.accessibleName() or getattr(w, "text", str)())
        ]
        assert unnamed == []
        for first, second in itertools.pairwise(controls):
            assert first.nextInFocusChain() is second or _next_focusable(first) is second
        view = widget.view
        assert view.isSortingEnabled() and view.alternatingRowColors()
        assert view.selectionBehavior() is QAbstractItemView.SelectionBehavior.SelectRows


def _next_focusable(widget: QWidget) -> QWidget:
    # Between controls sit their labels, which never take focus.
    nxt = widget.nextInFocusChain()
    while nxt.focusPolicy() == Qt.FocusPolicy.NoFocus:
        nxt = nxt.nextInFocusChain()
    return nxt


def test_the_measure_list_widget(doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot) -> None:
    widget = MeasureListWidget(doc, plan_id)
    qtbot.addWidget(widget)
    total = widget.model.rowCount()
    assert widget.count_label.text() == f"{total} of {total} measures"
    widget.rag_combo.setCurrentIndex(widget.rag_combo.findText("Red"))
    assert _refs(widget.proxy) == ["PSP-M4"]
    with qtbot.waitSignal(widget.record_activated) as activated:
        widget.view.activated.emit(widget.proxy.index(0, 0))
    assert activated.args[0] == "measure"
    assert widget.count_label.text() == f"1 of {total} measures"


def test_set_plan_switches_plans_and_resets_plan_filters(
    doc: PlanDocument, plan_id: uuid.UUID, qtbot: QtBot
) -> None:
    widget = _action_widget(doc, plan_id, qtbot)
    widget.priority_combo.setCurrentIndex(1)
    assert widget.proxy.rowCount() < 37
    with doc.read() as session:
        older = next(p.id for p in plan_queries.plans(session) if p.id != plan_id)
        older_count = len(plan_queries.actions_with_latest_update(session, older))
    widget.set_plan(older)
    assert widget.plan_id == older
    assert widget.priority_combo.currentIndex() == 0
    assert widget.count_label.text() == f"{older_count} of {older_count} actions"
    widget.set_plan(None)
    assert widget.count_label.text() == "0 of 0 actions"
    assert widget.proxy.index(0, 0) == QModelIndex()
