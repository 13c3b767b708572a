"""The main window: the open store's plans, or a welcome page when none is open.

This is the foundation's window. The navigator, editors and undo stack of the
editing issue replace its central page; the menus, status bar, sample banner and
remembered layout stay.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop import __version__
from ssp_desktop.models.domain import PlanOutline, plan_outline, plan_overviews
from ssp_desktop.models.errors import SspError
from ssp_desktop.models.sample import SAMPLE_BANNER
from ssp_desktop.models.store import Store

STORE_FILTER = "ssp-desktop stores (*.sqlite);;All files (*)"


def long_date(d: dt.date) -> str:
    """The way council papers write a date: "1 April 2022"."""
    return f"{d.day} {d:%B %Y}"


def outline_html(outline: PlanOutline) -> str:
    """A plan's outline as simple HTML (headings and lists, so screen readers follow it)."""
    e = html.escape
    in_force = (
        f", in force from {long_date(outline.in_force_from)}" if outline.in_force_from else ""
    )
    parts = [
        f"<h2>{e(outline.title)}</h2>",
        f"<p>{e(outline.period)} &middot; {e(outline.status)}{e(in_force)}</p>",
        "<h3>Strategic priorities</h3>",
    ]
    if not outline.priorities:
        parts.append("<p>No priorities yet.</p>")
    for p in outline.priorities:
        lead = f" &mdash; lead: {e(p.lead)}" if p.lead else ""
        actions = f"{p.actions} action{'s' if p.actions != 1 else ''}"
        parts.append(f"<p><b>{e(p.code)} {e(p.title)}</b>{lead} ({actions})</p>")
        if p.areas:
            parts.append("<ul>" + "".join(f"<li>{e(a)}</li>" for a in p.areas) + "</ul>")
    parts.append("<h3>Approval trail</h3>")
    if not outline.approvals:
        parts.append("<p>Not yet approved.</p>")
    else:
        items = []
        for a in outline.approvals:
            ref = f" (decision {e(a.decision_ref)})" if a.decision_ref else ""
            resolution = f": {e(a.resolution)}" if a.resolution else ""
            items.append(f"<li>{long_date(a.meeting_date)}, {e(a.body)}{ref}{resolution}</li>")
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "".join(parts)


class MainWindow(QMainWindow):
    """Shows one store at a time; owns it (and its writer lock) while open."""

    store_changed = Signal()

    def __init__(self, open_sample: Callable[[], Path] | None = None) -> None:
        super().__init__()
        self.store: Store | None = None
        self._open_sample = open_sample
        self.setObjectName("MainWindow")
        self.setWindowTitle("ssp-desktop")
        self.setMinimumSize(720, 480)

        self.banner = QLabel(SAMPLE_BANNER)
        self.banner.setObjectName("sampleBanner")
        self.banner.setAccessibleName("Sample data banner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Dark text on a pale yellow: readable (contrast well above 4.5:1) and not a RAG colour.
        self.banner.setStyleSheet(
            "QLabel#sampleBanner { background: #fff7bf; color: #0b0c0c; "
            "border-bottom: 2px solid #0b0c0c; padding: 6px; font-weight: bold; }"
        )
        self.banner.hide()

        self.pages = QStackedWidget()
        self.pages.addWidget(self._welcome_page())
        self.pages.addWidget(self._plans_page())

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.store_label = QLabel()
        self.store_label.setAccessibleName("Open store")
        self.statusBar().addPermanentWidget(self.store_label)
        self._build_menus()
        self._restore_layout()
        self._show_store()

    # -- construction ---------------------------------------------------------------

    def _welcome_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        title = QLabel("<h1>ssp-desktop</h1>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            "No plan store is open. Open the built-in sample plan to look around, "
            "or open the store file the strategy team gave you."
        )
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.sample_button = QPushButton("Open the &sample plan")
        self.sample_button.setAccessibleName("Open the sample plan")
        self.sample_button.clicked.connect(self.open_sample)
        self.sample_button.setEnabled(self._open_sample is not None)
        self.open_button = QPushButton("&Open a store file…")
        self.open_button.setAccessibleName("Open a store file")
        self.open_button.clicked.connect(self.choose_store)
        buttons.addWidget(self.sample_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addLayout(buttons)
        layout.addStretch(2)
        return page

    def _plans_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.plan_details = QTextBrowser()
        self.plan_details.setObjectName("planDetails")
        self.plan_details.setAccessibleName("Details of the selected plan")
        self.plan_details.setOpenLinks(False)
        self.plans_heading = QLabel()
        self.plans_heading.setObjectName("plansHeading")
        self.plans = QTreeWidget()
        self.plans.setObjectName("plansList")
        self.plans.setAccessibleName("Plans in this store")
        self.plans.setRootIsDecorated(False)
        self.plans.setAlternatingRowColors(True)
        self.plans.setHeaderLabels(
            ["Plan", "Period", "Status", "Priorities", "Actions", "Measures", "Latest update"]
        )
        self.plans.currentItemChanged.connect(self._show_plan_details)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("plansSplitter")
        splitter.addWidget(self.plans)
        splitter.addWidget(self.plan_details)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        layout.addWidget(self.plans_heading)
        layout.addWidget(splitter, 1)
        return page

    def _show_plan_details(self, item: QTreeWidgetItem | None) -> None:
        if item is None or self.store is None:
            self.plan_details.clear()
            return
        plan_id = item.data(0, Qt.ItemDataRole.UserRole)
        with self.store.session() as session:
            outline = plan_outline(session, plan_id)
        self.plan_details.setHtml(outline_html(outline))

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open store…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.choose_store)
        self.sample_action = QAction("Open the &sample plan", self)
        self.sample_action.triggered.connect(self.open_sample)
        self.sample_action.setEnabled(self._open_sample is not None)
        self.close_action = QAction("&Close store", self)
        self.close_action.setShortcut(QKeySequence.StandardKey.Close)
        self.close_action.triggered.connect(self.close_store)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (self.open_action, self.sample_action, self.close_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About ssp-desktop", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    # -- store handling --------------------------------------------------------------

    def open_store(self, path: Path, *, create: bool = False) -> bool:
        """Open ``path``, closing the current store first. Explains any failure."""
        try:
            store = Store.open(path, create=create)
        except SspError as exc:
            self._fail(f"Could not open {path.name}", str(exc))
            return False
        self.close_store()
        self.store = store
        self._show_store()
        self.store_changed.emit()
        return True

    def close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
            self._show_store()
            self.store_changed.emit()

    def choose_store(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a plan store", "", STORE_FILTER)
        if name:
            self.open_store(Path(name))

    def open_sample(self) -> None:
        if self._open_sample is None:
            return
        try:
            path = self._open_sample()
        except SspError as exc:
            self._fail("Could not make the sample plan", str(exc))
            return
        self.open_store(path)

    def _fail(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        QMessageBox.warning(self, title, message)

    def _show_store(self) -> None:
        store = self.store
        self.close_action.setEnabled(store is not None)
        if store is None:
            self.banner.hide()
            self.pages.setCurrentIndex(0)
            self.store_label.setText("No store open")
            self.setWindowTitle("ssp-desktop")
            return
        self.banner.setVisible(store.is_sample)
        role = store.meta("role", "master") or "master"
        self.store_label.setText(f"{store.path} — {role} copy")
        self.setWindowTitle(f"{store.path.name} — ssp-desktop")
        self.plans.clear()
        with store.session() as session:
            overviews = plan_overviews(session)
        for o in overviews:
            item = QTreeWidgetItem(
                [
                    o.title,
                    o.period,
                    o.status,
                    str(o.priorities),
                    str(o.actions),
                    str(o.measures),
                    str(o.latest_quarter) if o.latest_quarter else "none yet",
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, o.plan_id)
            for col in (3, 4, 5):
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight)
            self.plans.addTopLevelItem(item)
        for col in range(self.plans.columnCount()):
            self.plans.resizeColumnToContents(col)
        first = self.plans.topLevelItem(0)
        if first is not None:
            self.plans.setCurrentItem(first)
        else:
            self.plan_details.clear()
        count = len(overviews)
        self.plans_heading.setText(
            f"<h2>{count} plan{'s' if count != 1 else ''} in this store</h2>"
            if count
            else "<h2>This store has no plans yet</h2>"
        )
        self.pages.setCurrentIndex(1)

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About ssp-desktop",
            f"<p><b>ssp-desktop {__version__}</b></p>"
            "<p>The Community Safety Partnership's strategic plan and quarterly board packs, "
            "offline.</p>",
        )

    # -- layout memory ---------------------------------------------------------------

    def _restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 700)
        state = settings.value("main_window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())
        self.close_store()
        super().closeEvent(event)
