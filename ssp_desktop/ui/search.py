"""Search the whole plan (Ctrl+K, and Ctrl+F outside the lists): type, see every plan's
matching actions, updates, measures, notes, funding, risks, outcomes and people grouped
by kind with the matched words in bold, press Enter to open one at its quarter.

Each keystroke asks ``queries.search`` (an FTS5 index: milliseconds, not a scan)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QKeyEvent, QPainter, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.queries.search import MIN_LETTERS, SearchGroup, SearchHit, search_plan, words
from ssp_desktop.ui.document import PlanDocument

HTML_ROLE = Qt.ItemDataRole.UserRole + 1
HIT_ROLE = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


class _HtmlDelegate(QStyledItemDelegate):
    """Draws a result's title and context with the matched words in bold."""

    def _document(self, option: QStyleOptionViewItem, index: Index) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(2)
        doc.setHtml(str(index.data(HTML_ROLE) or index.data() or ""))
        width = option.rect.width()
        view = option.widget
        if width <= 0 and isinstance(view, QTreeView):
            # Asked for a size before the row is laid out: wrap at the list's width.
            width = view.viewport().width() - view.indentation() - 8
        doc.setTextWidth(max(width, 200))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if index.data(HTML_ROLE) is None:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        text_option = QStyleOptionViewItem(option)
        text_option.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, text_option, painter)
        doc = self._document(option, index)
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        context.palette.setColor(
            palette.ColorRole.Text,
            palette.highlightedText().color() if selected else palette.text().color(),
        )
        painter.save()
        rect = option.rect
        painter.translate(rect.topLeft())
        painter.setClipRect(QRectF(0, 0, rect.width(), rect.height()))
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        if index.data(HTML_ROLE) is None:
            return super().sizeHint(option, index)
        doc = self._document(option, index)
        return QSize(int(doc.idealWidth()), int(doc.size().height()) + 4)


class _SearchBox(QLineEdit):
    """Down moves to the results; Enter opens the chosen (or first) result."""

    def __init__(self, dialog: SearchDialog) -> None:
        super().__init__()
        self._dialog = dialog

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self._dialog.focus_results()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._dialog.open_current()
            return
        super().keyPressEvent(event)


class SearchDialog(QDialog):
    """The search box and its results; ``chosen`` says which record to open."""

    chosen = Signal(object)  # SearchHit

    def __init__(self, document: PlanDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWindowTitle("Search the plan")
        self.setObjectName("searchDialog")
        self.setAccessibleName("Search the plan")
        self.groups: list[SearchGroup] = []

        self.box = _SearchBox(self)
        self.box.setObjectName("searchBox")
        self.box.setAccessibleName("Search the plan")
        self.box.setPlaceholderText(
            "Words in any plan: actions, updates, measures, notes, funding, risks, people"
        )
        self.box.setClearButtonEnabled(True)
        label = QLabel("&Find:")
        label.setBuddy(self.box)
        self.results = QTreeWidget()
        self.results.setObjectName("searchResults")
        self.results.setAccessibleName("Search results, grouped by kind")
        self.results.setHeaderHidden(True)
        self.results.setRootIsDecorated(False)
        self.results.setItemDelegate(_HtmlDelegate(self.results))
        self.results.setUniformRowHeights(False)
        self.results.setWordWrap(True)
        self.results.itemActivated.connect(lambda item, _col: self._open_item(item))
        self.status = QLabel()
        self.status.setObjectName("searchStatus")
        self.status.setAccessibleName("Number of results")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.box)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self.resize(720, 520)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # one search per burst of typing, on the next turn
        self._timer.timeout.connect(self.run)
        self.box.textChanged.connect(lambda _t: self._timer.start())
        self.status.setText("Type a word to find it in every plan.")

    # -- searching ----------------------------------------------------------------------

    def run(self) -> None:
        """Search for what the box holds now and show it."""
        self._timer.stop()
        typed = self.box.text()
        with self.document.read() as session:
            self.groups = search_plan(session, typed)
        self.results.clear()
        found = 0
        for group in self.groups:
            heading = QTreeWidgetItem([f"{group.label} ({len(group.hits)})"])
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = heading.font(0)
            font.setBold(True)
            heading.setFont(0, font)
            self.results.addTopLevelItem(heading)
            for hit in group.hits:
                heading.addChild(self._item(hit))
                found += 1
            heading.setExpanded(True)
        if not typed.strip():
            self.status.setText("Type a word to find it in every plan.")
        elif len("".join(words(typed))) < MIN_LETTERS:
            self.status.setText(f"Type at least {MIN_LETTERS} letters.")
        elif not found:
            self.status.setText(f"Nothing found for “{typed.strip()}”.")
        else:
            kinds = len(self.groups)
            self.status.setText(
                f"{found} found in {kinds} kind{'s' if kinds != 1 else ''} of record. "
                "Enter opens the first; Down moves to the list."
            )
        first = self._first_hit_item()
        if first is not None:
            self.results.setCurrentItem(first)

    @staticmethod
    def _item(hit: SearchHit) -> QTreeWidgetItem:
        where = f" <span>— {hit.where}</span>" if hit.where else ""
        context = f"<br>{hit.context_html}" if hit.context_html else ""
        words = ", ".join(sorted(hit.matched))
        # The plain text is what a screen reader reads, matched words included.
        item = QTreeWidgetItem([f"{hit.title}. {hit.where}. Matched: {words}"])
        item.setData(0, HTML_ROLE, f"{hit.title_html}{where}{context}")
        item.setData(0, HIT_ROLE, hit)
        item.setToolTip(0, hit.title)
        return item

    def _first_hit_item(self) -> QTreeWidgetItem | None:
        for i in range(self.results.topLevelItemCount()):
            group = self.results.topLevelItem(i)
            if group is not None and group.childCount():
                return group.child(0)
        return None

    # -- opening ------------------------------------------------------------------------

    def focus_results(self) -> None:
        if self._timer.isActive():
            self.run()
        self.results.setFocus(Qt.FocusReason.OtherFocusReason)

    def open_current(self) -> None:
        if self._timer.isActive():
            self.run()
        item = self.results.currentItem() or self._first_hit_item()
        if item is not None:
            self._open_item(item)

    def _open_item(self, item: QTreeWidgetItem) -> None:
        hit = item.data(0, HIT_ROLE)
        if isinstance(hit, SearchHit):
            self.chosen.emit(hit)
            self.accept()
