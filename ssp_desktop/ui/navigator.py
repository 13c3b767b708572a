"""The navigator: the plan as a tree (priorities, areas, actions; measures; funding;
outcomes; partners and people), a thin Qt model over ``queries.outline``."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)

from ssp_desktop.queries.outline import Node, plan_tree
from ssp_desktop.ui.document import PlanDocument

Index = QModelIndex | QPersistentModelIndex

ENTITY_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1

# Records the navigator shows; a change to any other kind never needs a reload.
SHOWN = frozenset(
    {
        "plan",
        "priority",
        "priority_area",
        "action",
        "measure",
        "funding_stream",
        "funding_award",
        "outcome_framework",
        "outcome",
        "organisation",
        "person",
    }
)


class NavigatorModel(QAbstractItemModel):
    """Read-only tree; rebuilt (coalesced) when a shown record changes."""

    def __init__(self, document: PlanDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._plan_id: uuid.UUID | None = None
        self._root = Node("root")
        self._by_id: dict[uuid.UUID, Node] = {}
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(0)  # one reload per burst of changes (undo of a macro)
        self._reload_timer.timeout.connect(self.reload)
        document.changed.connect(self._on_changed)

    # -- loading --------------------------------------------------------------------

    def set_plan(self, plan_id: uuid.UUID | None) -> None:
        self._plan_id = plan_id
        self.reload()

    @property
    def plan_id(self) -> uuid.UUID | None:
        return self._plan_id

    def reload(self) -> None:
        self.beginResetModel()
        if self._plan_id is None:
            self._root = Node("root")
        else:
            with self._document.read() as session:
                self._root = plan_tree(session, self._plan_id)
        self._by_id = {}
        stack = list(self._root.children)
        while stack:
            node = stack.pop()
            if node.record_id is not None:
                self._by_id[node.record_id] = node
            stack.extend(node.children)
        self.endResetModel()

    def _on_changed(self, entity: str, _record_id: object) -> None:
        if entity in SHOWN and self._plan_id is not None:
            self._reload_timer.start()

    # -- lookups --------------------------------------------------------------------

    def index_of(self, record_id: uuid.UUID) -> QModelIndex:
        node = self._by_id.get(record_id)
        if node is None or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.parent.children.index(node), 0, node)

    def node(self, index: Index) -> Node:
        if not index.isValid():
            return self._root
        node = index.internalPointer()
        assert isinstance(node, Node)
        return node

    # -- QAbstractItemModel ---------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        parent_node = self.node(parent)
        if row >= len(parent_node.children):
            return QModelIndex()
        return self.createIndex(row, 0, parent_node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        parent = self.node(index).parent
        if parent is None or parent is self._root or parent.parent is None:
            return QModelIndex()
        return self.createIndex(parent.parent.children.index(parent), 0, parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, _parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self.node(index)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return node.label
        if role == Qt.ItemDataRole.AccessibleTextRole:
            kind = node.entity.replace("_", " ") if node.entity else "heading"
            return f"{kind}: {node.label}"
        if role == ENTITY_ROLE:
            return node.entity or None
        if role == ID_ROLE:
            return node.record_id
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return "Plan"
        return None
