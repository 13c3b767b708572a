"""The action editor: the action's fields, its partners and links, and its quarterly
updates (listed newest first, written or replaced through ``services.write_update``, so
a replaced update is kept in the history rather than overwritten)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import ActionStatus, Rag, UpdateState
from ssp_desktop.domain.errors import DomainError, EditConflictError, FieldConflict
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionMeasure,
    ActionOutcome,
    ActionPartner,
    ActionUpdate,
)
from ssp_desktop.domain.rules import action_flags
from ssp_desktop.domain.validation import ValidationError, check_required, text_limit
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import choices as ch
from ssp_desktop.ui.forms.editors import ErrorLabel, PlainTextEdit, cap_length
from ssp_desktop.ui.forms.fields import (
    NONE_LABEL,
    REQUIRED_NOTE,
    Choice,
    Kind,
    choice,
    date,
    enum_label,
    multiline,
    reference,
    text,
    year,
)
from ssp_desktop.ui.forms.grids import GridColumn, GridModel, GridRow
from ssp_desktop.ui.forms.link_lists import LinkListModel, LinkSection
from ssp_desktop.ui.forms.plan import outcome_links
from ssp_desktop.ui.forms.record_form import ConflictPanel, FormSection, RecordForm, run_edit
from ssp_desktop.ui.style import NOT_RATED, rag_label, rag_stylesheet, required

EXCERPT = 80


def plan_year_choices(session: Session, record: Any) -> list[Choice]:
    """The financial years of the record's plan."""
    return [(y.label, y) for y in ch.plan_years(session, ch.scope_of(session, record))]


def reporting_quarter(today: dt.date, quarters: list[Quarter]) -> Quarter | None:
    """The quarter leads are writing about on ``today``: the one that has just ended
    (updates for Jul-Sep are written in October), kept within the plan's period."""
    if not quarters:
        return None
    wanted = Quarter.of(today).previous()
    return min(max(wanted, quarters[0]), quarters[-1])


def excerpt(narrative: str, limit: int = EXCERPT) -> str:
    flat = " ".join(narrative.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class UpdatesModel(GridModel):
    """An action's current updates, newest quarter first (read-only)."""

    watches = frozenset({"action_update"})

    def __init__(self, document: PlanDocument, action_id: uuid.UUID) -> None:
        super().__init__(document)
        self.action_id = action_id
        self.editable = False
        self.reload()

    def fetch(self, session: Session) -> tuple[list[GridColumn], list[GridRow]]:
        columns = [
            GridColumn("Quarter", "quarter", editable=False),
            GridColumn("RAG", "rag", editable=False, display=rag_label),
            GridColumn("State", "state", editable=False, display=lambda s: enum_label(s)),
            GridColumn("Written on", "written_on", Kind.DATE, editable=False),
            GridColumn("Versions", "versions", Kind.INT, editable=False),
            GridColumn("Progress", "narrative", editable=False),
        ]
        updates = list(
            session.scalars(
                select(ActionUpdate).where(
                    ActionUpdate.action_id == self.action_id, ActionUpdate.deleted_at.is_(None)
                )
            )
        )
        versions = Counter(u.quarter for u in updates)
        current = sorted(
            (u for u in updates if u.is_current), key=lambda u: u.quarter, reverse=True
        )
        rows = [
            GridRow(
                key=u.id,
                values={
                    "quarter": u.quarter.label,
                    "rag": u.rag,
                    "state": u.state,
                    "written_on": u.written_on,
                    "versions": versions[u.quarter],
                    "narrative": excerpt(u.narrative),
                },
                record_id=u.id,
                entity="action_update",
                extra={"quarter": u.quarter},
            )
            for u in current
        ]
        return columns, rows


class UpdateSection(FormSection):
    """The action's updates and a small form to write (or replace) one for a quarter."""

    def __init__(self, document: PlanDocument, action_id: uuid.UUID, today: dt.date) -> None:
        super().__init__("Quarterly updates")
        self.document = document
        self.action_id = action_id
        self.today = today
        self.model = UpdatesModel(document, action_id)
        self.model.setParent(self)
        document.changed.connect(self._on_changed)

        intro = QLabel(
            "Newest first. Select an update to change it: saving makes a new version "
            "and keeps the one it replaces in the history."
        )
        intro.setWordWrap(True)
        self.view = QTableView()
        self.view.setObjectName("updatesView")
        self.view.setAccessibleName("Quarterly updates")
        self.view.setModel(self.model)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setTabKeyNavigation(False)
        self.view.setWordWrap(False)
        self.view.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.view.setMaximumHeight(260)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.view.selectionModel().currentRowChanged.connect(self._on_row)

        self.quarter = self._combo("Quarter", "updateQuarter")
        self.rag = self._combo("Update RAG", "updateRag")
        self.state = self._combo("Update state", "updateState")
        self.author = self._combo("Author", "updateAuthor")
        self.narrative = PlainTextEdit()
        self.narrative.setObjectName("updateNarrative")
        self.narrative.setAccessibleName("Progress narrative")
        self.narrative.setAccessibleDescription("Required")
        self.narrative.setMinimumHeight(80)
        cap_length(self.narrative, text_limit(ActionUpdate.__table__.c.narrative) or 0)
        self.quarters: list[Quarter] = []
        self.rags: list[Rag | None] = [None, *Rag]
        self.states: list[UpdateState] = list(UpdateState)
        self.authors: list[uuid.UUID | None] = [None]
        self.rag.addItems([rag_label(r) for r in self.rags])
        self.state.addItems([enum_label(s) for s in self.states])
        self.quarter.activated.connect(self._on_quarter)

        form = QFormLayout()
        form.addRow(self._label(required("Quarter"), self.quarter), self.quarter)
        form.addRow(self._label("RAG", self.rag), self.rag)
        form.addRow(self._label("State", self.state), self.state)
        form.addRow(self._label("Author", self.author), self.author)
        form.addRow(self._label(required("Progress narrative"), self.narrative), self.narrative)
        self.status = QLabel()
        self.status.setObjectName("updateStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.error = ErrorLabel("Update error")
        self.error.setObjectName("updateError")
        self.save_button = QPushButton("Save update")
        self.save_button.setObjectName("saveUpdateButton")
        self.save_button.setAccessibleName("Save update")
        self.save_button.clicked.connect(lambda _checked=False: self.save())

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.view)
        layout.addWidget(QLabel(f"Write or replace an update ({REQUIRED_NOTE}):"))
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.save_button, alignment=Qt.AlignmentFlag.AlignLeft)
        # Another writer saved this quarter's update after the form showed it: theirs,
        # yours, and Keep theirs / Write mine, as for the form's fields.
        self.conflict_panel = ConflictPanel(self)
        self.conflict_panel.keep_theirs.connect(self._keep_theirs)
        self.conflict_panel.write_mine.connect(self._write_mine)
        layout.addWidget(self.conflict_panel)
        # What the form showed of the quarter's update (blanks: none), for the save's
        # compare-and-set; and what a "Write mine" compares against.
        self.read: dict[str, Any] = {"rag": None, "narrative": ""}
        self._retry: dict[str, Any] | None = None
        self._load_lists()
        self._on_quarter()

    @staticmethod
    def _combo(name: str, object_name: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.setObjectName(object_name)
        return combo

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def focus_widgets(self) -> list[QWidget]:
        return [
            self.view,
            self.quarter,
            self.rag,
            self.state,
            self.author,
            self.narrative,
            self.save_button,
            self.conflict_panel.theirs_button,
            self.conflict_panel.mine_button,
        ]

    # -- loading ----------------------------------------------------------------------

    def _load_lists(self) -> None:
        """Quarters of the plan and people who may author an update."""
        with self.document.read() as session:
            action = session.get(Action, self.action_id)
            scope = ch.scope_of(session, action)
            quarters = ch.plan_quarters(session, scope)
            people = ch.people(session, scope)
        current_quarter = self.selected_quarter()
        current_author = self._author()
        if quarters != self.quarters:
            self.quarters = quarters
            self.quarter.clear()
            self.quarter.addItems([q.label for q in quarters])
            wanted = current_quarter or reporting_quarter(self.today, quarters)
            if wanted in quarters:
                self.quarter.setCurrentIndex(quarters.index(wanted))
        self.authors = [None, *(person_id for _label, person_id in people)]
        self.author.clear()
        self.author.addItems([NONE_LABEL, *(label for label, _id in people)])
        if current_author in self.authors:
            self.author.setCurrentIndex(self.authors.index(current_author))

    def _on_changed(self, entity: str, record_id: object) -> None:
        if entity in ("person", "organisation", "plan"):
            self._load_lists()
        if entity == "action_update" and not self._typing():
            # An undo, an import or another window changed the updates: show the
            # quarter's as stored (typing not yet saved is kept, and offered on save).
            self._on_quarter()
        elif entity == "action_update" or (entity == "action" and record_id == self.action_id):
            self._show_status()

    def _typing(self) -> bool:
        """Whether the form holds an update not yet saved (differs from what it read)."""
        rag = self.rags[self.rag.currentIndex()] if self.rag.currentIndex() >= 0 else None
        shown = {"rag": rag, "narrative": self.narrative.toPlainText()}
        return shown != self.read

    def selected_quarter(self) -> Quarter | None:
        index = self.quarter.currentIndex()
        return self.quarters[index] if 0 <= index < len(self.quarters) else None

    def select_quarter(self, quarter: Quarter) -> None:
        if quarter in self.quarters:
            self.quarter.setCurrentIndex(self.quarters.index(quarter))
            self._on_quarter()

    def _author(self) -> uuid.UUID | None:
        index = self.author.currentIndex()
        return self.authors[index] if 0 <= index < len(self.authors) else None

    def _current(self, session: Session, quarter: Quarter) -> ActionUpdate | None:
        return session.scalar(
            select(ActionUpdate).where(
                ActionUpdate.action_id == self.action_id,
                ActionUpdate.quarter == quarter,
                ActionUpdate.is_current.is_(True),
                ActionUpdate.deleted_at.is_(None),
            )
        )

    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row_at(current)
        if row is not None:
            self.select_quarter(row.extra["quarter"])

    def _on_quarter(self, _index: int = -1) -> None:
        """Show the chosen quarter's current update in the form, ready to replace."""
        quarter = self.selected_quarter()
        rag: Rag | None = None
        state = UpdateState.DRAFT
        author: uuid.UUID | None = None
        narrative = ""
        if quarter is not None:
            with self.document.read() as session:
                update = self._current(session, quarter)
                if update is not None:
                    rag, state, narrative = update.rag, update.state, update.narrative
                    author = update.author_person_id
        self.rag.setCurrentIndex(self.rags.index(rag))
        self.state.setCurrentIndex(self.states.index(state))
        if author not in self.authors:
            self.authors.append(author)
            self.author.addItem("(no longer available)")
        self.author.setCurrentIndex(self.authors.index(author))
        self.narrative.set_text(narrative)
        self.read = {"rag": rag, "narrative": narrative}
        self.conflict_panel.dismiss()
        self.error.clear_error()
        self._show_status()

    def _keep_theirs(self) -> None:
        """ "Keep theirs": show the quarter's update as stored; nothing is written."""
        self._retry = None
        self._on_quarter()
        self.narrative.setFocus(Qt.FocusReason.OtherFocusReason)

    def _write_mine(self) -> None:
        """ "Write mine": save what the form holds over theirs, still compare-and-set
        against theirs (a third writer meanwhile is offered again)."""
        if self._retry is not None:
            self.save(read=self._retry)

    def _show_status(self) -> None:
        quarter = self.selected_quarter()
        if quarter is None:
            self.status.setText("The plan has no quarters to report on.")
            return
        with self.document.read() as session:
            update = self._current(session, quarter)
            if update is None:
                self.status.setText(f"{quarter} has no update yet.")
            else:
                self.status.setText(
                    f"{quarter} has an update written on {update.written_on.day} "
                    f"{update.written_on:%B %Y}. Saving replaces it and keeps it in the history."
                )

    # -- writing ----------------------------------------------------------------------

    def save(self, read: dict[str, Any] | None = None) -> bool:
        """Write the update for the chosen quarter (one undoable edit). ``read``: what
        the form showed of it (by default, what it loaded); an update someone else
        saved since is offered in the conflict panel, not overwritten."""
        quarter = self.selected_quarter()
        if quarter is None:
            self.error.show_error("Choose a quarter first")
            return False
        try:
            narrative = check_required("Progress narrative", self.narrative.toPlainText())
        except ValidationError as exc:
            self.error.show_error(str(exc))
            return False
        rag = self.rags[self.rag.currentIndex()]
        state = self.states[self.state.currentIndex()]
        author = self._author()
        if state is UpdateState.RETURNED:
            # A return needs the strategy team's reason, which the To review tab asks for.
            with self.document.read() as session:
                held = self._current(session, quarter)
            if held is None or held.state is not UpdateState.RETURNED:
                self.error.show_error(
                    "Return an update to its lead from the To review tab, with a reason"
                )
                return False
        with self.document.read() as session:
            current = self._current(session, quarter)
            unchanged = current is not None and (
                current.rag,
                current.state,
                current.author_person_id,
                current.narrative,
            ) == (rag, state, author, narrative)
        if unchanged:
            self.error.clear_error()
            self.status.setText(f"Nothing to save: that is the update already held for {quarter}.")
            return False
        action_id, today = self.action_id, self.today
        expected = dict(read if read is not None else self.read)
        conflicts: list[FieldConflict] = []

        def work(tx: Transaction) -> None:
            action = tx.get(Action, action_id)
            if action is None or action.deleted_at is not None:
                raise DomainError("The action has been deleted, so it cannot be updated.")
            try:
                services.write_update(
                    tx,
                    action,
                    quarter,
                    rag=rag,
                    narrative=narrative,
                    written_on=today,
                    author_person_id=author,
                    state=state,
                    expected=expected,
                )
            except EditConflictError as exc:
                conflicts.append(exc.conflict)
                raise

        verb = "Replace" if current is not None else "Write"
        reason = run_edit(self.document, f"{verb} update for {quarter}", work)
        if conflicts:
            conflict = conflicts[-1]
            self.error.clear_error()
            self._retry = {**expected, conflict.field: conflict.theirs}
            self.conflict_panel.show_conflict(conflict)
            return False
        if reason is not None:
            self.error.show_error(reason)
            return False
        self.error.clear_error()
        self.conflict_panel.dismiss()
        self._retry = None
        self.narrative.set_text(narrative)
        self.read = {"rag": rag, "narrative": narrative}
        self._show_status()
        return True


class ActionEditor(RecordForm):
    """An action: what, who, when, status and RAG; partners and links; its updates."""

    record_class = Action
    specs = (
        text("Ref", "ref", required=True),
        text("Title", "title", required=True),
        multiline("Description", "description"),
        reference("Priority area", "priority_area_id", "priority_area", required=True),
        reference("Lead organisation", "lead_organisation_id", "organisation"),
        reference("Lead person", "lead_person_id", "person"),
        date("Start date", "start_date"),
        date("Due date", "due_date"),
        year("Delivery year", "delivery_year", plan_year_choices, none_label=NONE_LABEL),
        choice("Status", "status", ActionStatus),
        choice("RAG", "rag", Rag, labels=rag_label, none_label=NOT_RATED),
    )

    def build(self) -> None:
        self.rag_badge = QLabel()
        self.rag_badge.setObjectName("ragBadge")
        self.flags = QLabel()
        self.flags.setObjectName("actionFlags")
        self.flags.setWordWrap(True)
        self.flags.setTextFormat(Qt.TextFormat.PlainText)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.rag_badge, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.insertWidget(2, self.flags)

        partners = LinkListModel(
            self.document,
            owner_cls=Action,
            owner_id=self.record_id,
            link_cls=ActionPartner,
            candidates=lambda s, a: ch.organisations(s, ch.scope_of(s, a)),
            noun="partner",
            watches=frozenset({"organisation"}),
        )
        self.partners = LinkSection(
            "Partners", partners, note="Tick each organisation working on this action."
        )
        self.add_section(self.partners)
        self.outcomes = outcome_links(self.document, Action, self.record_id, ActionOutcome)
        self.add_section(self.outcomes)
        measures = LinkListModel(
            self.document,
            owner_cls=Action,
            owner_id=self.record_id,
            link_cls=ActionMeasure,
            candidates=lambda s, a: ch.measures(s, ch.scope_of(s, a)),
            noun="measure",
            watches=frozenset({"measure"}),
        )
        self.measures = LinkSection(
            "Measures", measures, note="Tick each measure this action should move."
        )
        self.add_section(self.measures)
        self.updates = UpdateSection(self.document, self.record_id, self.today)
        self.add_section(self.updates)

    def heading_text(self, record: Any) -> str:
        return f"Action {record.ref}: {record.title}"

    def loaded(self, session: Session, record: Any) -> None:
        self.rag_badge.setText(f"RAG: {rag_label(record.rag)}")
        self.rag_badge.setStyleSheet(rag_stylesheet(record.rag))
        quarters = ch.plan_quarters(session, ch.scope_of(session, record))
        quarter = reporting_quarter(self.today, quarters)
        if quarter is None:
            self.flags.hide()
            return
        has_update = (
            session.scalar(
                select(func.count())
                .select_from(ActionUpdate)
                .where(
                    ActionUpdate.action_id == record.id,
                    ActionUpdate.quarter == quarter,
                    ActionUpdate.is_current.is_(True),
                    ActionUpdate.deleted_at.is_(None),
                )
            )
            or 0
        ) > 0
        flags = action_flags(
            status=record.status,
            rag=record.rag,
            due=record.due_date,
            has_update_for_quarter=has_update,
            quarter=quarter,
            today=self.today,
            start=record.start_date,
        )
        self.flags.setText("\n".join(f"Check: {f.message}" for f in flags))
        self.flags.setVisible(bool(flags))

    def _on_changed(self, entity: str, record_id: object) -> None:
        super()._on_changed(entity, record_id)
        if entity == "action_update":
            self.reload()  # the flags depend on whether the quarter has an update

    def cascade_question(self, session: Session, record: Any) -> str | None:
        updates = session.scalar(
            select(func.count())
            .select_from(ActionUpdate)
            .where(ActionUpdate.action_id == record.id, ActionUpdate.deleted_at.is_(None))
        )
        if not updates:
            return None
        return (
            f"Action {record.ref} has {updates} quarterly update{'s' if updates != 1 else ''} "
            "(counting the versions that were replaced). Delete the action and all its "
            "updates? Edit > Undo brings them back."
        )
