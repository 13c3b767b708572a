"""The main window: where a theme lead and the strategy team work on the plan.

Left, the navigator (plan -> priorities -> areas -> actions; measures; funding;
outcomes; partners and people); right, the selected record's editor above its
history. Tabs give the action and measure lists and the theme lead's "My quarter".
Every edit is committed as it is made and is one step on the Edit menu's undo stack
(see ``document.py``); the status bar says so.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop import __licence__, __version__, paths
from ssp_desktop.domain.errors import SspError
from ssp_desktop.logs import log_file
from ssp_desktop.ui.copy_status import ConflictBadge
from ssp_desktop.ui.screen import fit_to_screen, keep_on_screen
from ssp_desktop.ui.wheel import install_wheel_guard
from ssp_desktop.ui.window_sharing import STORE_FILTER, SharingWindow

# Only Qt and the light modules above load before the window's frame is painted. The
# store, the ORM, the views and the dialogs (about a second of imports) are imported
# where they are first needed: opening a store, or a menu item.
if TYPE_CHECKING:
    from ssp_desktop.store.engine import Store
    from ssp_desktop.ui.board_pack import BoardPackDialog
    from ssp_desktop.ui.document import PlanDocument
    from ssp_desktop.ui.keys_ui import MasterFingerprintDialog
    from ssp_desktop.ui.partnerships import PartnershipDialog, RegionSummaryDialog
    from ssp_desktop.ui.search import SearchDialog
    from ssp_desktop.ui.server_store import ServerStoreDialog
    from ssp_desktop.ui.spreadsheet import ImportWizard
    from ssp_desktop.ui.workers import Job
    from ssp_desktop.ui.workspace import Workspace

SAVED = "All changes saved"
UNSAVED_TYPING = "Unsaved typing in My quarter"


def _fingerprint_text() -> str:
    """This install's fingerprint for Help > About (never makes keys just to show them)."""
    from ssp_desktop.sync import keys

    if not keys.has_identity():
        return "no keys yet (made when you join or first share a bundle)"
    try:
        identity = keys.load_identity()
    except SspError as exc:
        return str(exc)
    return identity.fingerprint if identity is not None else "no keys yet"


def _on_trigger(action: QAction, slot: Callable[[], object]) -> None:
    """Run ``slot()`` when ``action`` is triggered, with no arguments.

    ``triggered`` carries a ``checked`` bool; connected straight to a method with an
    optional parameter (``export_workbook(path=None)``) it arrives as ``path=False``.
    Every menu and toolbar action goes through here so none can receive it."""
    action.triggered.connect(lambda _checked=False: slot())


class _OnFirstPaint(QObject):
    """Calls back once, soon after ``widget`` is first painted (or after ``fallback_ms``
    if it never is, e.g. a window started minimised), so slow work waits for the frame."""

    def __init__(self, widget: QWidget, callback: Callable[[], None], fallback_ms: int) -> None:
        super().__init__(widget)
        self._widget = widget
        self._callback: Callable[[], None] | None = callback
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._fire)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Paint:
            # Let this paint reach the screen before the work blocks the event loop.
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is None:
            return
        self._widget.removeEventFilter(self)
        callback()


class MainWindow(SharingWindow):
    """Shows one store at a time; owns it (and its writer lock) while open."""

    store_changed = Signal()
    loaded = Signal()
    """What :meth:`load_after_paint` was given has run (the plan shows, or the start page)."""

    def __init__(self, open_sample: Callable[[], Path] | None = None) -> None:
        super().__init__()
        # Before any form is made: the wheel scrolls pages, never changes a field.
        install_wheel_guard()
        self.store: Store | None = None
        self.document: PlanDocument | None = None
        self._open_sample = open_sample
        self._workspace: Workspace | None = None
        self.board_pack_dialog: BoardPackDialog | None = None
        self.search_dialog: SearchDialog | None = None
        self.server_dialog: ServerStoreDialog | None = None
        self.starter_job: Job | None = None
        self.master_check: MasterFingerprintDialog | None = None
        self.partnership_dialog: PartnershipDialog | None = None
        self.region_dialog: RegionSummaryDialog | None = None
        self.setObjectName("MainWindow")
        self.setWindowTitle("ssp-desktop")
        self.setMinimumSize(720, 480)

        self.banner = QLabel()
        self.banner.setObjectName("sampleBanner")
        self.banner.setAccessibleName("Sample data banner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Dark text on pale yellow in any palette: readable (contrast > 4.5:1), not a RAG colour.
        self.banner.setStyleSheet(
            "QLabel#sampleBanner { background: #fff7bf; color: #0b0c0c; "
            "border-bottom: 2px solid #0b0c0c; padding: 6px; font-weight: bold; }"
        )
        self.banner.hide()

        self.pages = QStackedWidget()
        self.pages.addWidget(self._welcome_page())
        self.loading_page = self._loading_page()
        self.pages.addWidget(self.loading_page)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.store_label = QLabel()
        self.store_label.setAccessibleName("Open store")
        self.saved_label = QLabel()
        self.saved_label.setAccessibleName("Saving status")
        self.conflict_badge = ConflictBadge()
        self.conflict_badge.clicked.connect(self.show_conflicts)
        self.statusBar().addPermanentWidget(self.conflict_badge)
        self.statusBar().addPermanentWidget(self.saved_label)
        self.statusBar().addPermanentWidget(self.store_label)
        self._build_actions()
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
            "No plan store is open. Look around the built-in sample plan, start a new plan, "
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
        self.new_button = QPushButton("Start a &new plan…")
        self.new_button.setAccessibleName("Start a new plan")
        self.new_button.clicked.connect(self.new_store)
        self.open_button = QPushButton("&Open a store file…")
        self.open_button.setAccessibleName("Open a store file")
        self.open_button.clicked.connect(self.choose_store)
        self.import_button = QPushButton("&Import a bundle…")
        self.import_button.setAccessibleName("Import a bundle")
        self.import_button.setToolTip("Make your copy of the plan from a starter bundle")
        self.import_button.clicked.connect(lambda: self.import_starter())
        self.join_button = QPushButton("&Join a partnership…")
        self.join_button.setAccessibleName("Join a partnership")
        self.join_button.setToolTip("Ask the strategy team for your starter bundle")
        self.join_button.clicked.connect(self.join)
        for button in (
            self.sample_button,
            self.new_button,
            self.open_button,
            self.join_button,
            self.import_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        note = QLabel(
            "A theme lead: first Join a partnership (it makes a join request for the strategy "
            "team), then import the starter bundle they send you to make your copy of the plan."
        )
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addLayout(buttons)
        layout.addWidget(note)
        layout.addStretch(2)
        return page

    def _loading_page(self) -> QWidget:
        """What the window shows while a store and its views load (the first start
        paints this at once, then imports the store and fills in the plan)."""
        page = QWidget()
        layout = QVBoxLayout(page)
        self.loading_label = QLabel("Loading plan…")
        self.loading_label.setObjectName("loadingLabel")
        self.loading_label.setAccessibleName("Loading plan")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_label.setWordWrap(True)
        layout.addStretch(1)
        layout.addWidget(self.loading_label)
        layout.addStretch(2)
        return page

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_action = QAction("&New store…", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        _on_trigger(self.new_action, self.new_store)
        self.open_action = QAction("&Open store…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        _on_trigger(self.open_action, self.choose_store)
        self.open_server_action = QAction("Open ser&ver store…", self)
        self.open_server_action.setStatusTip(
            "Open a master copy kept on the council's PostgreSQL server"
        )
        _on_trigger(self.open_server_action, self.open_server_store)
        self.sample_action = QAction("Open the sa&mple plan", self)
        _on_trigger(self.sample_action, self.open_sample)
        self.sample_action.setEnabled(self._open_sample is not None)
        self.new_plan_action = QAction("Start a new &plan in this store…", self)
        _on_trigger(self.new_plan_action, self.new_plan)
        self.board_pack_action = QAction("&Board pack…", self)
        self.board_pack_action.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.board_pack_action.setStatusTip(
            "Write the cover sheet, choose the sections and export the quarter's board pack PDF"
        )
        _on_trigger(self.board_pack_action, self.board_pack)
        self.import_action = QAction("&Import bundle…", self)
        self.import_sheet_action = QAction("Import &spreadsheet…", self)
        self.import_sheet_action.setStatusTip("Bring in an action tracker or measure data")
        _on_trigger(self.import_sheet_action, self.import_spreadsheet)
        self.export_workbook_action = QAction("Export &workbook…", self)
        self.export_workbook_action.setStatusTip("Write the plan as an Excel workbook")
        _on_trigger(self.export_workbook_action, self.export_workbook)
        self.import_action.setStatusTip("Preview and import a bundle from a lead or the master")
        _on_trigger(self.import_action, self.import_bundle)
        self.export_action = QAction("&Export bundle…", self)
        self.export_action.setStatusTip("Write a bundle for the master copy or for a lead")
        _on_trigger(self.export_action, self.export_bundle)
        self.enrol_action = QAction("En&rol a lead…", self)
        self.enrol_action.setStatusTip(
            "On the master copy: enrol a lead's join request once they read you its fingerprint"
        )
        _on_trigger(self.enrol_action, self.enrol)
        self.conflicts_action = QAction("Con&flicts…", self)
        self.conflicts_action.setStatusTip("Resolve differences between copies")
        _on_trigger(self.conflicts_action, self.show_conflicts)
        self.partnership_action = QAction("Open for another partners&hip…", self)
        self.partnership_action.setStatusTip(
            "This store holds several partnerships: work on another one"
        )
        _on_trigger(self.partnership_action, self.choose_partnership)
        self.region_action = QAction("Re&gion summary…", self)
        self.region_action.setStatusTip("Every partnership's action RAG counts per priority")
        _on_trigger(self.region_action, self.region_summary)
        self.close_action = QAction("&Close store", self)
        self.close_action.setShortcut(QKeySequence.StandardKey.Close)
        _on_trigger(self.close_action, self.close_store)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        _on_trigger(quit_action, self.close)
        for action in (
            self.new_action,
            self.open_action,
            self.open_server_action,
            self.sample_action,
            self.new_plan_action,
            self.board_pack_action,
            self.import_action,
            self.import_sheet_action,
            self.export_workbook_action,
            self.export_action,
            self.enrol_action,
            self.conflicts_action,
            self.partnership_action,
            self.region_action,
            self.close_action,
        ):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        _on_trigger(self.undo_action, self.undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        _on_trigger(self.redo_action, self.redo)
        self.find_action = QAction("&Find…", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.setStatusTip("Filter the list in view; elsewhere, search the whole plan")
        _on_trigger(self.find_action, self.find_in_lists)
        self.search_action = QAction("&Search the plan…", self)
        self.search_action.setShortcut(QKeySequence("Ctrl+K"))
        self.search_action.setStatusTip(
            "Jump to any action, update, measure, note, risk, fund, outcome or person"
        )
        _on_trigger(self.search_action, self.search_plan)
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_action)
        edit_menu.addAction(self.search_action)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About ssp-desktop", self)
        _on_trigger(about, self._about)
        self.keys_action = QAction("Your &keys…", self)
        self.keys_action.setStatusTip("This computer's key fingerprint and the keys it trusts")
        _on_trigger(self.keys_action, self.show_keys)
        help_menu.addAction(self.keys_action)
        help_menu.addAction(about)

        toolbar = QToolBar("Main toolbar")
        toolbar.setObjectName("mainToolbar")
        toolbar.setAccessibleName("Main toolbar")
        for action in (
            self.new_action,
            self.open_action,
            self.undo_action,
            self.redo_action,
            self.find_action,
            self.search_action,
            self.board_pack_action,
        ):
            toolbar.addAction(action)
        self.addToolBar(toolbar)

    # -- undo / find ----------------------------------------------------------------

    def undo(self) -> None:
        if self.document is not None:
            self.document.undo_stack.undo()

    def redo(self) -> None:
        if self.document is not None:
            self.document.undo_stack.redo()

    def _update_undo_actions(self) -> None:
        stack = self.document.undo_stack if self.document else None
        can_undo = bool(stack and stack.canUndo())
        can_redo = bool(stack and stack.canRedo())
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)
        self.undo_action.setText(f"&Undo {stack.undoText()}" if stack and can_undo else "&Undo")
        self.redo_action.setText(f"&Redo {stack.redoText()}" if stack and can_redo else "&Redo")

    def find_in_lists(self) -> None:
        """Ctrl+F: the list in view filters; anywhere else the whole plan is searched."""
        if self._workspace is not None and not self._workspace.find_in_lists():
            self.search_plan()

    def search_plan(self) -> SearchDialog | None:
        """Ctrl+K: search every plan and open what is chosen."""
        from ssp_desktop.ui.search import SearchDialog

        if self.document is None or self._workspace is None:
            return None
        dialog = SearchDialog(self.document, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        workspace = self._workspace
        dialog.chosen.connect(workspace.open_hit)
        dialog.finished.connect(lambda _r: setattr(self, "search_dialog", None))
        self.search_dialog = dialog
        dialog.open()
        dialog.box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return dialog

    # -- store handling --------------------------------------------------------------

    def load_after_paint(
        self,
        load: Callable[[], object] | None,
        then: Callable[[], object] | None = None,
        *,
        painted: Callable[[], object] | None = None,
    ) -> None:
        """Show "Loading plan…" now; once the window has been painted, run ``load``
        (opening a store: the store, the ORM and the views load then), then ``then``.
        ``painted`` is told first that the frame has been painted.

        The window's frame, menus and this message appear at once on start-up instead
        of after a second of imports; a store that fails to open leaves the start page.
        """
        if load is not None:
            self.pages.setCurrentWidget(self.loading_page)
            self.store_label.setText("Loading plan…")

        def run() -> None:
            if painted is not None:
                painted()
            if load is not None:
                load()
                if self.store is None:
                    self._show_store()
            self.loaded.emit()
            if then is not None:
                then()

        shown = self.pages.currentWidget() or self.pages
        self._first_paint = _OnFirstPaint(shown, run, fallback_ms=500)

    def open_store(
        self, path: Path | str, *, create: bool = False, partnership: str | None = None
    ) -> bool:
        """Open ``path`` (a file, or a server store's URL), closing the current store
        first. Explains any failure.

        A store holding several partnerships opens for ``partnership``, else the one
        last chosen for it, else the one the user chooses when asked."""
        from ssp_desktop.ui.loading import import_qt_free

        import_qt_free()  # the first store opened: SQLAlchemy, the records, the services
        from ssp_desktop.store.engine import Store, redact
        from ssp_desktop.store.partnerships import PartnershipChoiceError
        from ssp_desktop.store.partnerships import requested as requested_partnership
        from ssp_desktop.ui.partnerships import remembered

        if not self._settle_unsaved():
            return False
        where = str(path)
        # Asked for (here, or --partnership on the command line), else the last choice.
        wanted = partnership or requested_partnership() or remembered(where)
        try:
            try:
                store = Store.open(path, create=create, partnership=wanted)
            except PartnershipChoiceError as exc:
                name = path.name if isinstance(path, Path) else redact(path)
                chosen = self._ask_partnership(name, exc.names, wanted)
                if chosen is None:
                    return False
                store = Store.open(path, create=create, partnership=chosen)
        except SspError as exc:
            name = path.name if isinstance(path, Path) else redact(path)
            self._fail(f"Could not open {name}", str(exc))
            return False
        return self.adopt_store(store)

    def open_server_store(self) -> ServerStoreDialog | None:
        """File > Open server store…: asks where, then opens it off the UI thread."""
        from ssp_desktop.ui.server_store import ServerStoreDialog

        if not self._settle_unsaved():
            return None
        dialog = ServerStoreDialog(self)
        dialog.opened.connect(self.adopt_store)
        dialog.finished.connect(lambda _r: setattr(self, "server_dialog", None))
        self.server_dialog = dialog
        dialog.open()
        return dialog

    def adopt_store(self, store: Store) -> bool:
        """Show ``store`` (already open) in the window, closing the current one.

        A store opened for every partnership it holds (a server store opened in the
        background) is first narrowed to one: the last chosen for it, or the user's
        choice (False, and the store closed again, if they choose none)."""
        from ssp_desktop.ui.correction import ask_correction_reason
        from ssp_desktop.ui.document import PlanDocument
        from ssp_desktop.ui.partnerships import remember

        if not self._settle_partnership(store):
            store.close()
            return False
        if store.partnership_count > 1 and store.partnership is not None:
            remember(store.location, store.partnership.name)
        if not self.close_store():
            store.close()
            return False
        self.store = store
        self.document = PlanDocument(store, self)
        self.document.ask_reason = lambda what, message: ask_correction_reason(self, what, message)
        self.document.undo_stack.indexChanged.connect(self._update_undo_actions)
        self.document.changed.connect(self._on_changed)
        self.document.failed.connect(self._on_failed)
        self.document.reloaded.connect(self._on_reloaded)
        self.document.watch()
        self._show_store()
        self.store_changed.emit()
        return True

    def _settle_partnership(self, store: Store) -> bool:
        from ssp_desktop.ui.partnerships import remembered

        if store.partnership is not None:
            return True
        held = [p.name for p in store.held_partnerships()]
        if len(held) < 2:
            store.choose_partnership(None)
            return True
        last = remembered(store.location)
        chosen = last if last in held else self._ask_partnership(store.name, held, last)
        if chosen is None:
            return False
        store.choose_partnership(chosen)
        return True

    def _ask_partnership(
        self, store_name: str, names: Sequence[str], current: str | None
    ) -> str | None:
        from ssp_desktop.ui.partnerships import PartnershipDialog

        dialog = PartnershipDialog(store_name, names, current, self)
        self.partnership_dialog = dialog
        try:
            if dialog.exec() != PartnershipDialog.DialogCode.Accepted:
                return None
            return dialog.chosen
        finally:
            self.partnership_dialog = None

    def choose_partnership(self) -> None:
        """File > Open for another partnership: ask, then open the store for it."""
        store = self.store
        if store is None or store.partnership_count < 2:
            return
        names = [p.name for p in store.held_partnerships()]
        current = store.partnership.name if store.partnership else None
        chosen = self._ask_partnership(store.name, names, current)
        if chosen is None or chosen == current:
            return
        # The same open store, narrowed to another partnership: every view is made
        # again from it (a server store needs no password again).
        if self.close_store(keep_store_open=True):
            store.choose_partnership(chosen)
            self.adopt_store(store)

    def region_summary(self) -> RegionSummaryDialog | None:
        """File > Region summary: every partnership's RAG counts per priority."""
        if self.document is None:
            return None
        from ssp_desktop.queries.region import region_summary
        from ssp_desktop.ui.partnerships import RegionSummaryDialog

        with self.document.read() as session:
            summaries = region_summary(session)
        dialog = RegionSummaryDialog(summaries, self.document.store.is_sample, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "region_dialog", None))
        self.region_dialog = dialog
        dialog.open()
        return dialog

    def _settle_unsaved(self) -> bool:
        """Typing not yet saved (My quarter's cards) is saved or discarded by the user's
        choice before the store goes; False if they chose to stay."""
        return self._workspace is None or self._workspace.settle_unsaved()

    def close_store(self, *, keep_store_open: bool = False) -> bool:
        """Close the open store (True), unless the user chose to keep unsaved typing.
        ``keep_store_open``: only let the window's views of it go."""
        if self.store is None:
            return True
        if not self._settle_unsaved():
            return False
        if self._workspace is not None:
            self.pages.removeWidget(self._workspace)
            self._workspace.deleteLater()
            self._workspace = None
        if self.document is not None:
            self.document.close()
            self.document.deleteLater()
            self.document = None
        if not keep_store_open:
            self.store.close()
        self.store = None
        self._show_store()
        self.store_changed.emit()
        return True

    def choose_store(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a plan store", "", STORE_FILTER)
        if name:
            self.open_store(Path(name))

    def new_store(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Where should the new plan store go?", "plan.sqlite", STORE_FILTER
        )
        if not name:
            return
        path = Path(name)
        if path.exists():
            self._fail(
                "That file already exists",
                f"{path} already exists. Choose a new file name; nothing was replaced.",
            )
            return
        if self.open_store(path, create=True):
            self.new_plan()

    def new_plan(self) -> None:
        from ssp_desktop import services
        from ssp_desktop.queries import plans as plan_queries
        from ssp_desktop.ui.dialogs import NewPlanDialog

        if self.document is None:
            return
        with self.document.read() as session:
            partnership = plan_queries.partnership_name(session)
        dialog = NewPlanDialog(partnership, parent=self)
        if dialog.exec() != NewPlanDialog.DialogCode.Accepted:
            return
        name, area, title, first, last = dialog.values()
        created: list[uuid.UUID] = []

        def work(tx: object) -> None:
            plan = services.start_plan(
                tx,  # type: ignore[arg-type]
                partnership_name=name,
                area=area,
                title=title,
                start_year=first,
                end_year=last,
            )
            created.append(plan.id)

        if self.document.edit(f"Start plan {title}", work) and self._workspace is not None:
            self._workspace.reload_plans(select=created[0])

    def board_pack(self) -> BoardPackDialog | None:
        """Open the board pack builder for the plan shown (None if there is none)."""
        from ssp_desktop.ui.board_pack import BoardPackDialog

        workspace = self._workspace
        if self.document is None or workspace is None:
            return None
        plan_id = workspace.plan_id
        if plan_id is None:
            self._fail(
                "No plan to report on",
                "This store has no plan yet. Start a plan first; its board pack follows.",
            )
            return None
        dialog = BoardPackDialog(self.document, plan_id, workspace.today, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.board_pack_dialog = dialog
        dialog.open()
        return dialog

    def open_sample(self) -> None:
        if self._open_sample is None:
            return
        try:
            path = self._open_sample()
        except SspError as exc:
            self._fail("Could not make the sample plan", str(exc))
            return
        self.open_store(path)

    # -- spreadsheets ----------------------------------------------------------------

    def import_spreadsheet(self) -> ImportWizard | None:
        """File > Import spreadsheet: the wizard, shown without blocking the window."""
        from ssp_desktop.ui.spreadsheet import ImportWizard

        if self.store is None or self._workspace is None:
            return None
        if self._workspace.plan_id is None:
            self._fail(
                "No plan to import into",
                "This store has no plan yet. Start one (File > Start a new plan), then import.",
            )
            return None
        wizard = ImportWizard(self.store, self._workspace.plan_id, self._workspace.today, self)
        wizard.imported.connect(self._after_sheet_import)
        wizard.finished.connect(wizard.deleteLater)
        wizard.open()
        return wizard

    def _after_sheet_import(self, result: object) -> None:
        """The import's commit has already refreshed the views and ended the undo
        history (the store announces every write; see docs/architecture.md)."""
        summary = getattr(result, "summary", None)
        if summary is not None:
            self.statusBar().showMessage(f"Imported. {summary()}", 15000)

    def export_workbook(self, path: Path | None = None) -> None:
        """File > Export workbook: ask where, then write it off the UI thread."""
        from ssp_desktop.ui.spreadsheet import (
            ask_workbook_path,
            default_workbook_name,
            start_export,
        )

        if self.store is None or self._workspace is None:
            return
        if path is None:
            title = self._workspace.plan_combo.currentText().split(" (")[0]
            path = ask_workbook_path(self, default_workbook_name(title))
            if path is None:
                return
        start_export(
            self,
            self.store,
            self._workspace.plan_id,
            path,
            done=lambda result: self.statusBar().showMessage(result.summary(), 15000),
            failed=lambda message: self._fail("The workbook was not exported", message),
        )

    def _on_reloaded(self) -> None:
        if self._workspace is not None:
            self._workspace.refresh()
        self._show_saving()

    def _on_changed(self, _entity: str, _record_id: object) -> None:
        self._show_saving()

    def _show_saving(self, unsaved: bool | None = None) -> None:
        """Every edit is saved as it is made, except what is typed in My quarter until
        its Save (or the question on leaving it): the status bar says which holds."""
        if unsaved is None:
            unsaved = self._workspace is not None and self._workspace.has_unsaved_typing()
        self.saved_label.setText(UNSAVED_TYPING if unsaved else SAVED)
        self.saved_label.setToolTip(
            "Typed updates or values in My quarter are not saved until you press Save "
            "(or answer Save when asked)."
            if unsaved
            else ""
        )

    def _on_failed(self, what: str, reason: str) -> None:
        # Forms show the reason beside the field; the status bar keeps it in view too.
        self.statusBar().showMessage(f"Not saved ({what}): {reason}", 15000)

    def _show_store(self) -> None:
        store = self.store
        self.close_action.setEnabled(store is not None)
        self.new_plan_action.setEnabled(store is not None)
        self.import_sheet_action.setEnabled(store is not None)
        self.export_workbook_action.setEnabled(store is not None)
        self.find_action.setEnabled(store is not None)
        self.search_action.setEnabled(store is not None)
        self.board_pack_action.setEnabled(store is not None)
        for action in (self.import_action, self.export_action, self.conflicts_action):
            action.setEnabled(store is not None)
        if store is not None:
            from ssp_desktop.ui.copy_status import copy_role_text, is_lead_copy
        # Leads are enrolled on the master copy (or a store yet to share anything).
        self.enrol_action.setEnabled(store is not None and not is_lead_copy(store))
        several = store is not None and store.partnership_count > 1
        self.partnership_action.setVisible(several)
        self.region_action.setVisible(several)
        self.conflict_badge.refresh(store)
        self._update_undo_actions()
        if store is None or self.document is None:
            self.banner.hide()
            self.pages.setCurrentIndex(0)
            self.store_label.setText("No store open")
            self.saved_label.setText("")
            self.setWindowTitle("ssp-desktop")
            return
        from ssp_desktop.sample.plan import SAMPLE_BANNER, SAMPLE_MEETING_DATE
        from ssp_desktop.ui.workspace import Workspace

        self.banner.setText(SAMPLE_BANNER)
        self.banner.setVisible(store.is_sample)
        self.store_label.setText(f"{store.location} — {copy_role_text(store)}")
        self.saved_label.setText(SAVED)
        self.setWindowTitle(f"{store.name} — ssp-desktop")
        if several and store.partnership is not None:
            self.store_label.setText(f"{store.location} — {store.partnership.name}")
            self.setWindowTitle(f"{store.partnership.name} — {store.name} — ssp-desktop")
        today = SAMPLE_MEETING_DATE if store.is_sample else dt.date.today()
        self._workspace = Workspace(self.document, today, self)
        self._workspace.unsaved_typing_changed.connect(self._show_saving)
        self.pages.addWidget(self._workspace)
        self.pages.setCurrentWidget(self._workspace)

    @property
    def workspace(self) -> Workspace | None:
        return self._workspace

    def about_text(self) -> str:
        """Help > About: version, licence, and where the store and the log are."""
        store = self.document.store.location if self.document is not None else None
        rows = [
            ("Version", __version__),
            ("Licence", f"{__licence__} (free and open-source software)"),
            ("Store", str(store) if store is not None else "none open"),
            ("Log file", str(log_file())),
            ("Key fingerprint", _fingerprint_text()),
            ("Settings and data", f"{paths.config_dir()}; {paths.data_dir()}"),
        ]
        table = "".join(
            f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return (
            f"<p><b>ssp-desktop {__version__}</b></p>"
            "<p>The Community Safety Partnership's strategic plan and quarterly board packs, "
            "offline.</p><p>Every change is saved as you make it; Edit &gt; Undo takes it "
            f"back.</p><table cellspacing='4'>{table}</table>"
        )

    def _about(self) -> None:
        QMessageBox.about(self, "About ssp-desktop", self.about_text())

    # -- layout memory ---------------------------------------------------------------

    def _restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
            keep_on_screen(self)
        else:
            fit_to_screen(self, QSize(1280, 800))
        state = settings.value("main_window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._settle_unsaved():
            event.ignore()
            return
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())
        if self._workspace is not None:
            self._workspace.save_layout(settings)
        self.close_store()
        super().closeEvent(event)
