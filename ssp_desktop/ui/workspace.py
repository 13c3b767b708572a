"""The workspace of an open store: the navigator, the plan's tabs (lists, dashboard,
My quarter), and the selected record's editor above its history."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.domain.enums import PlanStatus
from ssp_desktop.domain.records import Plan
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.queries.plans import PlanOutline
from ssp_desktop.queries.search import SearchHit
from ssp_desktop.services import authority
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import create_editor
from ssp_desktop.ui.history import HistoryPanel
from ssp_desktop.ui.navigator import ENTITY_ROLE, ID_ROLE, NavigatorModel

# The views of the tabs after the Plan tab are imported when a tab is first built.
if TYPE_CHECKING:
    from ssp_desktop.ui.dashboard import DashboardView
    from ssp_desktop.ui.lists import ActionListWidget, MeasureListWidget
    from ssp_desktop.ui.my_quarter import MyQuarterView, Typing
    from ssp_desktop.ui.review import ReviewView
    from ssp_desktop.ui.review_tab import WaitingCount

HEADING_HELP = {
    "Priorities": "The plan's strategic priorities, their areas for action and actions. "
    "Select one to edit it.",
    "Measures": "The plan's performance measures. Select one to edit its definition, "
    "targets and quarterly values.",
    "Funding": "Funding streams and the awards made from them.",
    "Outcomes": "Outcome frameworks the plan is aligned to.",
    "Partners and people": "Partner organisations and the people who lead actions.",
    "Organisations": "Partner organisations; responsible authorities are marked.",
    "People": "Theme leads and action owners, named by role.",
}


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


# The plan's tabs after the Plan tab, in their order: each one's key and title.
ACTIONS = "actions"
MEASURES = "measures"
MY_QUARTER = "my_quarter"
DASHBOARD = "dashboard"
REVIEW = "review"
PLAN_TABS: tuple[tuple[str, str], ...] = (
    (ACTIONS, "&Actions"),
    (MEASURES, "&Measures"),
    (MY_QUARTER, "My &quarter"),
    (DASHBOARD, "&Dashboard"),
)
"""Every copy's tabs; the master copy's also has "To review" (its title counts)."""


class _NotBuiltYet(QWidget):
    """A plan tab's page until the tab is first shown, when its view takes its place.

    Nothing on it takes focus or needs reading: it is never on screen, because the view
    is built in the same turn of the event loop as the tab is chosen."""

    def __init__(self, key: str, name: str) -> None:
        super().__init__()
        self.key = key
        self.setObjectName(f"{key}NotBuiltYet")
        self.setAccessibleName(name)


class Workspace(QWidget):
    """The open store: plan picker, tabs (plan, actions, measures, my quarter, dashboard,
    and on the master copy to review).

    Only the tab in view is built when a plan is shown: each other tab is built, from
    the store as it is then, when it is first shown, or first asked for through its
    property (:attr:`actions_list`, :attr:`my_quarter`...: what the window and the tests
    use). Starting the app thus waits for the Plan tab alone."""

    # Whether My quarter holds typing not yet saved (the status bar says so).
    unsaved_typing_changed = Signal(bool)

    def __init__(self, document: PlanDocument, today: dt.date, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.document = document
        self.today = today
        self.setObjectName("workspace")

        self.plan_combo = QComboBox()
        self.plan_combo.setObjectName("planPicker")
        self.plan_combo.setAccessibleName("Plan")
        plan_label = QLabel("P&lan:")  # Alt+P is the Plan tab
        plan_label.setBuddy(self.plan_combo)
        top = QHBoxLayout()
        top.addWidget(plan_label)
        top.addWidget(self.plan_combo, 1)

        # Plan tab: navigator | editor over history.
        self.navigator_model = NavigatorModel(document, self)
        self.navigator = QTreeView()
        self.navigator.setObjectName("navigator")
        self.navigator.setAccessibleName("Plan navigator")
        self.navigator.setModel(self.navigator_model)
        self.navigator.setHeaderHidden(True)
        self.navigator.setUniformRowHeights(True)
        self.navigator.selectionModel().currentChanged.connect(self._on_current)
        self.navigator_model.modelAboutToBeReset.connect(self._remember_expanded)
        self.navigator_model.modelReset.connect(self._restore_current)
        # What the user has opened in the tree, kept through the reload after each edit:
        # record ids, and headings by their labels. None until a tree has been shown.
        self._expanded: set[object] | None = None

        self.editor_area = QScrollArea()
        self.editor_area.setObjectName("editorArea")
        self.editor_area.setAccessibleName("Editor")
        self.editor_area.setWidgetResizable(True)
        # The editor's fields take focus, not the page around them (a Tab stop that does
        # nothing visible).
        self.editor_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.history = HistoryPanel(document)
        detail = QSplitter(Qt.Orientation.Vertical)
        detail.setObjectName("detailSplitter")
        detail.addWidget(self.editor_area)
        detail.addWidget(self.history)
        detail.setStretchFactor(0, 3)
        detail.setStretchFactor(1, 1)
        self.plan_split = QSplitter(Qt.Orientation.Horizontal)
        self.plan_split.setObjectName("planSplitter")
        self.plan_split.addWidget(self.navigator)
        self.plan_split.addWidget(detail)
        self.plan_split.setStretchFactor(0, 1)
        self.plan_split.setStretchFactor(1, 3)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("workspaceTabs")
        self.tabs.setAccessibleName("Views")
        self.tabs.addTab(self.plan_split, "&Plan")
        self.tabs.currentChanged.connect(self._on_tab_shown)
        # The plan the tabs after the Plan tab are for, and those of them built so far.
        self._tabs_plan: uuid.UUID | None = None
        self._views: dict[str, QWidget] = {}
        # The number waiting for review, for the tab's title until its list is built.
        self._review_count: WaitingCount | None = None
        self._current_id: uuid.UUID | None = None

        # An archived plan is read-only everywhere: said once, above every view of it.
        self.archived_banner = QLabel()
        self.archived_banner.setObjectName("archivedBanner")
        self.archived_banner.setAccessibleName("Archived plan")
        self.archived_banner.setWordWrap(True)
        self.archived_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.archived_banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.archived_banner.setMargin(6)
        self.archived_banner.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addLayout(top)
        layout.addWidget(self.archived_banner)
        layout.addWidget(self.tabs, 1)

        settings = QSettings()
        state = settings.value("workspace/plan_splitter")
        if isinstance(state, QByteArray):
            self.plan_split.restoreState(state)
        else:
            self.plan_split.setSizes([340, 900])

        self.plan_combo.currentIndexChanged.connect(self._on_plan_chosen)
        document.changed.connect(self._on_record_changed)
        self.reload_plans()

    # -- plans ----------------------------------------------------------------------

    def reload_plans(self, select: uuid.UUID | None = None) -> None:
        with self.document.read() as session:
            choices = plan_queries.plan_choices(session)
        current = select or self.plan_id
        # Fill and select with signals blocked, then build the plan's views exactly once.
        self.plan_combo.blockSignals(True)
        self.plan_combo.clear()
        for c in choices:
            self.plan_combo.addItem(f"{c.title} ({c.period}, {c.status.value})", c.plan_id)
        # findData cannot match a Python object such as a UUID, so compare here.
        combo = self.plan_combo
        index = next((i for i in range(combo.count()) if combo.itemData(i) == current), 0)
        self.plan_combo.setCurrentIndex(max(index, 0) if choices else -1)
        self.plan_combo.blockSignals(False)
        self._on_plan_chosen()

    def refresh(self) -> None:
        """Re-read everything after the store changed outside the undo stack (an import,
        a large undo). The plan's tabs are made afresh: typing not yet saved in My
        quarter is carried over into the new one, never dropped silently."""
        current = self._current_id
        kept = self.take_typing()
        self.reload_plans()
        if kept is not None:
            self.put_typing(*kept)
        if current is not None and self.navigator_model.index_of(current).isValid():
            self.select_record(current)

    def take_typing(self) -> tuple[uuid.UUID | None, Typing] | None:
        """My quarter's typing not yet saved, with its plan (to carry over a rebuild)."""
        built = self._built_my_quarter()
        typing = built.typing() if built is not None else None
        return (self.plan_id, typing) if typing is not None else None

    def put_typing(self, plan_id: uuid.UUID | None, typing: Typing) -> None:
        """Put typing taken with :meth:`take_typing` back into My quarter (on its plan);
        what has no card to go into is shown to the user, never dropped silently."""
        if self.plan_id != plan_id:
            self._select_plan(plan_id)
        lost = (
            self.my_quarter.restore_typing(typing)
            if self.my_quarter is not None and self.plan_id == plan_id
            else typing.refs
        )
        if lost:
            self._tell_typing_lost(typing, lost)
        self.unsaved_typing_changed.emit(self.has_unsaved_typing())

    def _select_plan(self, plan_id: uuid.UUID | None) -> None:
        combo = self.plan_combo
        index = next((i for i in range(combo.count()) if combo.itemData(i) == plan_id), -1)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _tell_typing_lost(self, typing: Typing, refs: list[str]) -> None:
        """Typing whose action or measure is no longer in My quarter after a reload:
        say so and give the words back (in the details, to copy), rather than lose them
        without a word."""
        details = []
        for ref, typed in typing.cards.values():
            if ref in refs:
                words = typed.get("narrative") or typed.get("note") or typed.get("value") or ""
                details.append(f"{ref}:\n{words}")
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Typing not saved",
            f"After the plan was re-read, My quarter no longer shows {', '.join(refs)} for "
            f"{typing.quarter.label} (deleted, closed or handed to someone else), so the "
            "typing for it could not be put back. Your words are under Show Details, to "
            "copy.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setDetailedText("\n\n".join(details))
        box.open()

    def has_unsaved_typing(self) -> bool:
        built = self._built_my_quarter()
        return built is not None and built.has_unsaved_typing()

    @property
    def plan_id(self) -> uuid.UUID | None:
        data = self.plan_combo.currentData()
        return data if isinstance(data, uuid.UUID) else None

    def _on_record_changed(self, entity: str, record_id: object) -> None:
        if entity == "plan" and record_id == self.plan_id:
            self._show_archived()

    def _show_archived(self) -> None:
        """The banner: when and by whom the plan was archived, and the way out."""
        text = ""
        plan_id = self.plan_id
        if plan_id is not None:
            with self.document.read() as session:
                plan = session.get(Plan, plan_id)
                if plan is not None and plan.status is PlanStatus.ARCHIVED:
                    text = authority.archived_message(session, plan)
                    if authority.copy_role(session) == authority.MASTER:
                        text = text.replace(
                            authority.REOPEN_HINT,
                            "To change it, open the plan in the Plan tab and press "
                            "Reopen plan…, saying why.",
                        )
        self.archived_banner.setText(text)
        self.archived_banner.setVisible(bool(text))

    def _on_plan_chosen(self) -> None:
        self._show_archived()
        plan_id = self.plan_id
        previous = self.navigator_model.plan_id
        built = self._built_my_quarter()
        if (
            previous is not None
            and plan_id != previous
            and built is not None
            and not built.settle_unsaved()
        ):
            # The user stayed with their typing in My quarter: stay on its plan.
            combo = self.plan_combo
            combo.blockSignals(True)
            combo.setCurrentIndex(
                next(i for i in range(combo.count()) if combo.itemData(i) == previous)
            )
            combo.blockSignals(False)
            return
        self._expanded = None  # another plan: open it at its top levels
        self.navigator_model.set_plan(plan_id)
        self._build_plan_tabs(plan_id)
        if plan_id is not None:
            self.select_record(plan_id)
        else:
            self._show_editor(None, None, "No plans yet: File > Start a new plan.")

    def _build_plan_tabs(self, plan_id: uuid.UUID | None) -> None:
        """The tabs after the Plan tab for ``plan_id``, each to be built when first shown.

        Made afresh for another plan or after a reload; like before tabs were built
        lazily, the Plan tab is then the one in view."""
        blocked = self.tabs.blockSignals(True)
        try:
            self.tabs.setCurrentIndex(0)
            while self.tabs.count() > 1:
                widget = self.tabs.widget(1)
                self.tabs.removeTab(1)
                if widget is not None:
                    widget.deleteLater()
        finally:
            self.tabs.blockSignals(blocked)
        self._views = {}
        if self._review_count is not None:
            self._review_count.deleteLater()
            self._review_count = None
        self._tabs_plan = plan_id
        if plan_id is None:
            return
        for key, title in PLAN_TABS:
            self.tabs.addTab(_NotBuiltYet(key, title.replace("&", "")), title)
        with self.document.read() as session:
            master = authority.copy_role(session) == authority.MASTER
        if master:  # only the master copy accepts or returns what leads submit
            from ssp_desktop.ui.review_tab import WaitingCount, tab_title

            counter = self._review_count = WaitingCount(self.document, plan_id, self)
            waiting = _NotBuiltYet(REVIEW, "To review")
            self.tabs.addTab(waiting, tab_title(counter.count))
            counter.count_changed.connect(
                lambda n: self.tabs.setTabText(self.tabs.indexOf(waiting), tab_title(n))
            )

    def _on_tab_shown(self, index: int) -> None:
        page = self.tabs.widget(index)
        if isinstance(page, _NotBuiltYet):
            self._build_tab(page)

    def _built_my_quarter(self) -> MyQuarterView | None:
        """My quarter if its tab has been built (typing can only be there if so)."""
        return cast("MyQuarterView | None", self._views.get(MY_QUARTER))

    def view(self, key: str) -> QWidget | None:
        """The view of the tab ``key`` (see :data:`PLAN_TABS`), built now if it has not
        been shown yet; None without a plan, or for a tab this copy does not have."""
        built = self._views.get(key)
        if built is not None:
            return built
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            if isinstance(page, _NotBuiltYet) and page.key == key:
                return self._build_tab(page)
        return None

    @property
    def actions_list(self) -> ActionListWidget | None:
        return cast("ActionListWidget | None", self.view(ACTIONS))

    @property
    def measures_list(self) -> MeasureListWidget | None:
        return cast("MeasureListWidget | None", self.view(MEASURES))

    @property
    def my_quarter(self) -> MyQuarterView | None:
        return cast("MyQuarterView | None", self.view(MY_QUARTER))

    @property
    def dashboard(self) -> DashboardView | None:
        return cast("DashboardView | None", self.view(DASHBOARD))

    @property
    def review(self) -> ReviewView | None:
        return cast("ReviewView | None", self.view(REVIEW))

    def _build_tab(self, page: _NotBuiltYet) -> QWidget:
        """Build the view of ``page``'s tab and put it in the tab's place (in view if
        ``page`` was)."""
        plan_id = self._tabs_plan
        assert plan_id is not None  # no plan, no tabs to build
        view = self._make_view(page.key, plan_id)
        self._views[page.key] = view
        tabs = self.tabs
        index = tabs.indexOf(page)
        shown = tabs.currentIndex() == index
        blocked = tabs.blockSignals(True)
        try:
            # In before the page, in view, then the page out: removing the tab in view
            # would show its neighbour (and build it, or make it read the store).
            tabs.insertTab(index, view, tabs.tabText(index))
            if shown:
                tabs.setCurrentIndex(index)
            tabs.removeTab(index + 1)
        finally:
            tabs.blockSignals(blocked)
        page.deleteLater()
        if page.key == REVIEW:
            self._show_review_count(cast("ReviewView", view))
        return view

    def _make_view(self, key: str, plan_id: uuid.UUID) -> QWidget:
        view: ActionListWidget | MeasureListWidget | MyQuarterView | DashboardView | ReviewView
        if key == ACTIONS:
            from ssp_desktop.ui.lists import ActionListWidget

            view = ActionListWidget(self.document, plan_id)
        elif key == MEASURES:
            from ssp_desktop.ui.lists import MeasureListWidget

            view = MeasureListWidget(self.document, plan_id)
        elif key == MY_QUARTER:
            from ssp_desktop.ui.my_quarter import MyQuarterView

            view = MyQuarterView(self.document, plan_id, today=self.today)
            view.typing_changed.connect(self.unsaved_typing_changed)
        elif key == DASHBOARD:
            from ssp_desktop.ui.dashboard import DashboardView

            view = DashboardView(self.document, plan_id, today=self.today)
        elif key == REVIEW:
            from ssp_desktop.ui.review import ReviewView

            view = ReviewView(self.document, plan_id)
        else:
            raise ValueError(f"no tab called {key!r}")
        view.record_activated.connect(self.open_record)
        return view

    def _show_review_count(self, review: ReviewView) -> None:
        """The built list counts for the tab's title from now on."""
        from ssp_desktop.ui.review_tab import tab_title

        if self._review_count is not None:
            self._review_count.deleteLater()
            self._review_count = None
        self.tabs.setTabText(self.tabs.indexOf(review), tab_title(review.count))
        review.count_changed.connect(
            lambda n: self.tabs.setTabText(self.tabs.indexOf(review), tab_title(n))
        )

    # -- selection and editors ---------------------------------------------------------

    def open_record(self, _entity: str, record_id: object) -> None:
        """Show a record from a list in the plan tab's editor."""
        if isinstance(record_id, uuid.UUID):
            self.tabs.setCurrentIndex(0)
            self.select_record(record_id)

    def open_hit(self, hit: SearchHit) -> None:
        """Open a search result: its plan, its record, and (an update or a value's note)
        the quarter it matched in."""
        if hit.plan_id is not None and hit.plan_id != self.plan_id:
            self.reload_plans(select=hit.plan_id)
        self.tabs.setCurrentIndex(0)
        self.select_record(hit.record_id)
        if self._current_id != hit.record_id:
            # Not in the navigator (a risk is edited from its plan): show it anyway.
            self._current_id = hit.record_id
            self._show_editor(hit.entity, hit.record_id, "", hit.title)
        editor = self.editor
        updates = getattr(editor, "updates", None)
        if hit.quarter is not None and updates is not None:
            updates.select_quarter(hit.quarter)
            self.editor_area.ensureWidgetVisible(updates)

    def select_record(self, record_id: uuid.UUID) -> None:
        index = self.navigator_model.index_of(record_id)
        if not index.isValid():
            # Just made (Add action): the tree reloads on the next turn of the event
            # loop; read it now so the new record can be opened at once.
            self.navigator_model.reload()
            index = self.navigator_model.index_of(record_id)
        if index.isValid():
            self.navigator.setCurrentIndex(index)
            self.navigator.scrollTo(index)
            self.navigator.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entity = current.data(ENTITY_ROLE)
        record_id = current.data(ID_ROLE)
        label = current.data() or ""
        self._current_id = record_id if isinstance(record_id, uuid.UUID) else None
        help_text = HEADING_HELP.get(label, "Select something in the navigator.")
        self._show_editor(entity, self._current_id, help_text, label)

    def _after_delete(self, _entity: str, record_id: object) -> None:
        # Move to what held the deleted record, so the editor never shows a tombstone.
        index = (
            self.navigator_model.index_of(record_id) if isinstance(record_id, uuid.UUID) else None
        )
        parent = index.parent() if index is not None and index.isValid() else QModelIndex()
        parent_id = parent.data(ID_ROLE)
        self._current_id = parent_id if isinstance(parent_id, uuid.UUID) else self.plan_id
        self.navigator_model.reload()
        if self._current_id is not None:
            self.select_record(self._current_id)

    def _node_key(self, index: QModelIndex) -> object:
        record_id = index.data(ID_ROLE)
        if isinstance(record_id, uuid.UUID):
            return record_id
        labels = []
        while index.isValid():
            labels.append(str(index.data()))
            index = index.parent()
        return tuple(labels)

    def _all_indexes(self) -> list[QModelIndex]:
        model, found, stack = self.navigator_model, [], [QModelIndex()]
        while stack:
            parent = stack.pop()
            for row in range(model.rowCount(parent)):
                child = model.index(row, 0, parent)
                found.append(child)
                stack.append(child)
        return found

    def _remember_expanded(self) -> None:
        if self._expanded is None:
            return  # a new plan's tree: nothing of the user's to keep yet
        self._expanded = {
            self._node_key(i) for i in self._all_indexes() if self.navigator.isExpanded(i)
        }

    def _restore_current(self) -> None:
        # The tree was rebuilt after an edit: keep the user where they were, with what
        # they had opened still open and the record still selected (without making its
        # editor again, which would take the focus from the field they are in).
        if self._expanded is None:
            self.navigator.expandToDepth(1)
            self._expanded = set()
        else:
            for index in self._all_indexes():
                if self._node_key(index) in self._expanded:
                    self.navigator.setExpanded(index, True)
        if self._current_id is not None:
            index = self.navigator_model.index_of(self._current_id)
            if index.isValid():
                selection = self.navigator.selectionModel()
                selection.blockSignals(True)
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                selection.blockSignals(False)
                self.navigator.viewport().update()
                self.navigator.scrollTo(index)

    def _show_editor(
        self, entity: str | None, record_id: uuid.UUID | None, help_text: str, label: str = ""
    ) -> None:
        if entity and record_id is not None:
            editor = create_editor(self.document, entity, record_id, today=self.today)
            record_added = getattr(editor, "record_added", None)
            if record_added is not None:
                record_added.connect(lambda _e, rid: self.select_record(rid))
            record_activated = getattr(editor, "record_activated", None)
            if record_activated is not None:
                record_activated.connect(self.open_record)
            record_deleted = getattr(editor, "record_deleted", None)
            if record_deleted is not None:
                record_deleted.connect(self._after_delete)
        elif label == "Priorities" and self.plan_id is not None:
            # The plan at a glance: priorities with their leads, and how it was approved.
            with self.document.read() as session:
                outline = plan_queries.plan_outline(session, self.plan_id)
            editor = QLabel(outline_html(outline) + f"<p>{html.escape(help_text)}</p>")
            editor.setObjectName("planSummary")
            editor.setAccessibleName("Plan summary")
            editor.setWordWrap(True)
            editor.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            editor.setMargin(12)
        else:
            editor = QLabel(help_text)
            editor.setWordWrap(True)
            editor.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            editor.setMargin(12)
        old = self.editor_area.takeWidget()
        if old is not None:
            old.deleteLater()
        self.editor_area.setWidget(editor)
        self._chain_editor(editor)
        self.history.set_record(record_id, label if record_id else "")

    def _chain_editor(self, editor: QWidget) -> None:
        """Tab reads the plan tab as it is laid out: navigator, the editor's fields top
        to bottom, then the history. A new editor's widgets would otherwise join the
        end of the window's chain, reached only by wrapping round (at its last button)."""
        sequence: Callable[[], list[QWidget]] | None = getattr(editor, "tab_sequence", None)
        stops = sequence() if sequence is not None else []
        chain = [self.navigator, *stops, self.history.view]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    @property
    def editor(self) -> QWidget | None:
        return self.editor_area.widget()

    def find_in_lists(self) -> bool:
        """Find in the list in view (its search box); False when no list is in view."""
        target: QWidget | None = self.tabs.currentWidget()
        lists = (self._views.get(ACTIONS), self._views.get(MEASURES))
        if target is None or target not in lists:
            return False
        focus: Callable[[], None] | None = getattr(target, "focus_search", None)
        if focus is not None:
            focus()
        return True

    def settle_unsaved(self) -> bool:
        """Ask about typing not yet saved before the workspace goes (see My quarter)."""
        built = self._built_my_quarter()
        return built is None or built.settle_unsaved()

    def save_layout(self, settings: QSettings) -> None:
        settings.setValue("workspace/plan_splitter", self.plan_split.saveState())
