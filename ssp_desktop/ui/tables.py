"""Item models of the action and measure lists, and the proxies that filter them.

House style (DESIGN.md section 7, after Anki's ``browser/table/model.py``): a model
holds the ordered ids of the plan's records (one cheap query) and fetches the rows it
shows on demand, a batch at a time, into a bounded cache (rows by position; the rows
fetched longest ago are forgotten first). ``PlanDocument.changed`` drops the named
records from the cache, refetches them in one batch and redraws just their rows; a
record added or removed reloads the list. Changes are handled together once control
returns to the event loop, so an undone macro of 500 edits costs one batch.

Sorting is done by the source model, not the proxy: ``sort`` asks
:func:`~ssp_desktop.queries.lists.action_ids` for the ids in the new order (an SQL
``ORDER BY`` for stored columns; the few computed columns are sorted in Python over rows
fetched in batches) and moves the rows with one ``layoutChanged``. The proxies forward
``sort`` to the source and keep its order. A proxy that sorted itself would call
``lessThan`` about n log n times, each reading two rows through Python (some 120,000
calls for 5,000 actions) and would need every row in memory first; re-ordering ids in
SQL reads no rows at all, so the list stays lazy after a sort.

Filtering is the proxies' job (``filterAcceptsRow`` over the cached rows): filters need
most of each row anyway, and once rows are cached a keystroke costs a string scan per
row, with no query.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QBrush
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import ActionStatus, Rag, Unit, ValueStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.rules import Direction, FlagKind
from ssp_desktop.queries import lists as listing
from ssp_desktop.queries.lists import (
    ActionListRow,
    ActionSort,
    MeasureListRow,
    MeasureSort,
    Touched,
)
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.style import RAG_BACKGROUND, RAG_FOREGROUND, rag_label

__all__ = [
    "ACTION_COLUMNS",
    "BATCH_SIZE",
    "CACHE_SIZE",
    "ID_ROLE",
    "MEASURE_COLUMNS",
    "NOT_RATED",
    "ActionFilterProxy",
    "ActionTableModel",
    "Column",
    "ListFilterProxy",
    "ListModel",
    "MeasureFilterProxy",
    "MeasureTableModel",
    "RagChoice",
    "default_today",
]

Index = QModelIndex | QPersistentModelIndex
Role = Qt.ItemDataRole

# Every cell answers the record's id (a uuid.UUID) for this role, without fetching its row.
ID_ROLE: Final = Qt.ItemDataRole.UserRole

# Rows fetched per query when a view asks for one that is not cached: a screenful or
# two, so scrolling runs a few queries a second at most.
BATCH_SIZE: Final = 200
# Rows kept. A whole region's list (10 plans x 500 actions) fits, so a filter, which
# reads every row, never evicts rows it needs again at the next keystroke; the bound
# stops a store bigger than that from growing memory without limit.
CACHE_SIZE: Final = 10_000

# The RAG filter's "not rated" choice (None means any RAG).
NOT_RATED: Final = "not_rated"
RagChoice = Rag | Literal["not_rated"] | None

# PySide6 picks the argument-less overload of the layout signals unless told; the hint
# lets views and proxies treat the change as a re-sort.
_LAYOUT_SIGNATURE: Final = ("QList<QPersistentModelIndex>", "QAbstractItemModel::LayoutChangeHint")

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

_FLAG_WORDS: Final = {
    FlagKind.PAST_DUE_GREEN: "Past due, marked Green",
    FlagKind.OVERDUE: "Overdue",
    FlagKind.NO_UPDATE: "No update",
    FlagKind.COMPLETE_NOT_GREEN: "Complete, not Green",
}
_UNIT_WORDS: Final = {Unit.PERCENT: "Percentage", Unit.COUNT: "Count", Unit.RATE: "Rate"}


def default_today(document: PlanDocument) -> dt.date:
    """The "today" flags are judged on: the sample's meeting day for the sample store
    (it is fixed in time), else the system date."""
    return SAMPLE_MEETING_DATE if document.store.is_sample else dt.date.today()


RowT = TypeVar("RowT", ActionListRow, MeasureListRow)
SortT = TypeVar("SortT", ActionSort, MeasureSort)


@dataclass(frozen=True)
class Column(Generic[RowT, SortT]):
    """One column of a list: heading, sort key, text, and optional tooltip/alignment."""

    title: str
    sort: SortT
    text: Callable[[RowT], str]
    tooltip: Callable[[RowT], str] | None = None
    rag: bool = False  # coloured with the row's RAG
    right: bool = False  # numbers line up on the right
    description: str = ""


def _flags_text(row: ActionListRow) -> str:
    return "; ".join(_FLAG_WORDS[f.kind] for f in row.flags)


def _flags_tooltip(row: ActionListRow) -> str:
    return "\n".join(f.message for f in row.flags)


def _rag_tooltip(row: ActionListRow) -> str:
    rated = f"RAG set by the lead: {rag_label(row.rag)}"
    return "\n".join([rated, *(f.message for f in row.flags)])


def _title_tooltip(row: ActionListRow) -> str:
    if not row.latest_excerpt:
        return row.title
    return f"{row.title}\n\n{row.latest_quarter}: {row.latest_excerpt}"


ACTION_COLUMNS: Final[tuple[Column[ActionListRow, ActionSort], ...]] = (
    Column("Ref", ActionSort.REF, lambda r: r.ref),
    Column("Title", ActionSort.TITLE, lambda r: r.title, _title_tooltip),
    Column("Priority", ActionSort.PRIORITY, lambda r: r.priority_code),
    Column("Area", ActionSort.AREA, lambda r: r.area),
    Column("Lead organisation", ActionSort.LEAD_ORGANISATION, lambda r: r.lead_organisation),
    Column("Lead", ActionSort.LEAD_PERSON, lambda r: r.lead_person),
    Column("Start", ActionSort.START, lambda r: listing.short_date(r.start)),
    Column("Due", ActionSort.DUE, lambda r: listing.short_date(r.due)),
    Column("Status", ActionSort.STATUS, lambda r: r.status.label),
    Column("RAG", ActionSort.RAG, lambda r: rag_label(r.rag), _rag_tooltip, rag=True),
    Column(
        "Last update",
        ActionSort.LATEST_UPDATE,
        lambda r: r.latest_quarter.label if r.latest_quarter else "None yet",
        description="The newest quarter with a progress update",
    ),
    Column(
        "Progress",
        ActionSort.PROGRESS,
        lambda r: r.latest_excerpt,
        lambda r: r.latest_excerpt,
        description="The start of the newest progress update",
    ),
    Column(
        "Flags",
        ActionSort.FLAGS,
        _flags_text,
        _flags_tooltip,
        description="Inconsistencies the board pack will point out",
    ),
)


def _measure_rag_tooltip(row: MeasureListRow) -> str:
    return f"{rag_label(row.rag)}: {row.rag_reason}"


def _direction_tooltip(row: MeasureListRow) -> str:
    travel = row.travel
    if travel.direction is Direction.NO_DATA:
        return "No earlier value to compare with"
    change = "" if travel.change is None else f" ({travel.change:+,.{max(row.decimals, 0)}f})"
    return f"{travel.movement.word}{change} since {travel.compared_with}: {travel.direction.word}"


MEASURE_COLUMNS: Final[tuple[Column[MeasureListRow, MeasureSort], ...]] = (
    Column("Ref", MeasureSort.REF, lambda r: r.ref),
    Column("Measure", MeasureSort.NAME, lambda r: r.name, lambda r: r.name),
    Column("Priority", MeasureSort.PRIORITY, lambda r: r.priority_code),
    Column("Unit", MeasureSort.UNIT, lambda r: _UNIT_WORDS[r.unit]),
    Column("Polarity", MeasureSort.POLARITY, lambda r: r.polarity.label),
    Column(
        "Owner",
        MeasureSort.OWNER,
        lambda r: r.owner,
        lambda r: f"{r.owner} ({r.owner_organisation})" if r.owner_organisation else r.owner,
    ),
    Column(
        "Period",
        MeasureSort.PERIOD,
        lambda r: r.latest_period.label if r.latest_period else "No values yet",
        description="The newest period with a value",
    ),
    Column(
        "Value",
        MeasureSort.VALUE,
        lambda r: r.value_text,
        lambda r: f"{r.latest_status.value.capitalize()} value" if r.latest_status else "",
        right=True,
    ),
    Column("Target", MeasureSort.TARGET, lambda r: r.target_text, right=True),
    Column("RAG", MeasureSort.RAG, lambda r: rag_label(r.rag), _measure_rag_tooltip, rag=True),
    Column("Direction", MeasureSort.DIRECTION, lambda r: r.direction_text, _direction_tooltip),
    Column("Comparator", MeasureSort.COMPARATOR, lambda r: r.comparator_text),
)


class ListModel(QAbstractTableModel, Generic[RowT, SortT]):
    """A plan's records as rows: ids up front, rows fetched lazily and cached."""

    # Emitted after the rows were refetched for a batch of changes (for views' labels).
    rows_refreshed = Signal()

    entity: str = ""
    columns: tuple[Column[RowT, SortT], ...] = ()
    default_sort: SortT

    def __init__(
        self,
        document: PlanDocument,
        parent: QObject | None = None,
        *,
        today: dt.date | None = None,
        quarter: Quarter | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._plan_id: uuid.UUID | None = None
        self._ids: list[uuid.UUID] = []
        self._row_of: dict[uuid.UUID, int] = {}
        # Fetched rows by position (None: not fetched), so a filter pass or a paint reads
        # a row with one list index; ``_fetched`` orders them for eviction, oldest first.
        self._rows: list[RowT | None] = []
        self._fetched: OrderedDict[uuid.UUID, None] = OrderedDict()
        self._missing: set[uuid.UUID] = set()  # asked for, gone from the store
        self._sort: SortT = self.default_sort
        self._descending = False
        self._today = today if today is not None else default_today(document)
        self._quarter_override = quarter
        self._quarter: Quarter = quarter or Quarter.of(self._today).previous()
        self._pending: list[tuple[str, uuid.UUID]] = []
        # Changes arrive one signal per record; a macro's undo sends hundreds. They are
        # handled together once control returns to the event loop.
        self._change_timer = QTimer(self)
        self._change_timer.setSingleShot(True)
        self._change_timer.setInterval(0)
        self._change_timer.timeout.connect(self.flush_changes)
        self.cache_size = CACHE_SIZE
        # How many row queries ran: a cheap way for tests and benchmarks to see laziness.
        self.fetch_count = 0
        document.changed.connect(self._on_changed)

    # -- queries the subclasses supply ----------------------------------------------

    def _query_ids(self, session: Session, plan_id: uuid.UUID) -> list[uuid.UUID]:
        raise NotImplementedError

    def _query_rows(
        self, session: Session, plan_id: uuid.UUID, ids: Sequence[uuid.UUID] | None
    ) -> list[RowT]:
        raise NotImplementedError

    def _query_touched(self, session: Session, changes: Sequence[tuple[str, uuid.UUID]]) -> Touched:
        raise NotImplementedError

    # -- plan, reference and loading ------------------------------------------------

    @property
    def plan_id(self) -> uuid.UUID | None:
        return self._plan_id

    @property
    def quarter(self) -> Quarter:
        """The reporting quarter flags are judged for."""
        return self._quarter

    @property
    def today(self) -> dt.date:
        return self._today

    @property
    def sort_key(self) -> tuple[SortT, bool]:
        """What the list is ordered by, and whether descending."""
        return self._sort, self._descending

    def set_plan(self, plan_id: uuid.UUID | None) -> None:
        self._plan_id = plan_id
        self.reload()

    def set_reference(self, quarter: Quarter | None, today: dt.date | None = None) -> None:
        """Judge flags for ``quarter`` (None: the plan's reporting quarter) as of ``today``
        (None: keep the current day). Rows are refetched and redrawn; the order changes
        only if the list is sorted by flags."""
        self._quarter_override = quarter
        if today is not None:
            self._today = today
        with self._document.read() as session:
            self._resolve_quarter(session)
        self._refresh(Touched(every_row=True))

    def _resolve_quarter(self, session: Session) -> None:
        if self._quarter_override is not None:
            self._quarter = self._quarter_override
        elif self._plan_id is not None:
            # Worked out on load only: the first update for a new quarter must not flip
            # every other row to "no update" while someone is looking at the list.
            self._quarter = listing.reporting_quarter(session, self._plan_id, self._today)

    def reload(self) -> None:
        """Re-read the ids (and the reporting quarter); rows are fetched when shown."""
        self.beginResetModel()
        self._pending.clear()
        self._fetched.clear()
        self._missing.clear()
        if self._plan_id is None:
            self._ids = []
        else:
            with self._document.read() as session:
                self._resolve_quarter(session)
                self._ids = self._query_ids(session, self._plan_id)
        self._row_of = {record_id: row for row, record_id in enumerate(self._ids)}
        self._rows = [None] * len(self._ids)
        self.endResetModel()

    # -- rows -----------------------------------------------------------------------

    def record_id(self, row: int) -> uuid.UUID:
        return self._ids[row]

    def row_of(self, record_id: uuid.UUID) -> int | None:
        return self._row_of.get(record_id)

    def row_at(self, row: int) -> RowT | None:
        """The list row at ``row``, fetching it and the rows after it if not cached."""
        cached = self._rows[row]
        if cached is not None:
            return cached
        if self._plan_id is None or self._ids[row] in self._missing:
            return None
        end = min(row + BATCH_SIZE, len(self._ids))
        self._fetch(
            [
                self._ids[i]
                for i in range(row, end)
                if self._rows[i] is None and self._ids[i] not in self._missing
            ]
        )
        return self._rows[row]

    def fetch_all(self) -> None:
        """Make sure every row is cached (a filter is about to read them all)."""
        if self._plan_id is None or len(self._fetched) + len(self._missing) >= len(self._ids):
            return
        wanted = [
            record_id
            for record_id, cached in zip(self._ids, self._rows, strict=True)
            if cached is None and record_id not in self._missing
        ]
        # Most of the list: reading the whole plan needs no long IN (...) lists.
        self._fetch(None if len(wanted) > len(self._ids) // 2 else wanted)

    def cached_rows(self) -> int:
        return len(self._fetched)

    def _fetch(self, ids: Sequence[uuid.UUID] | None) -> None:
        assert self._plan_id is not None
        with self._document.read() as session:
            rows = self._query_rows(session, self._plan_id, ids)
        self.fetch_count += 1
        self._store(rows)
        wanted = self._ids if ids is None else ids
        found = {r.id for r in rows}
        self._missing.update(i for i in wanted if i not in found)

    def _store(self, rows: Iterable[RowT]) -> None:
        for r in rows:
            position = self._row_of.get(r.id)
            if position is None:
                continue
            self._rows[position] = r
            self._fetched[r.id] = None
            self._fetched.move_to_end(r.id)
        # Forget the rows fetched longest ago. (Fetch order rather than use order: keeping
        # a use order would cost bookkeeping on every paint and every filtered row.)
        while len(self._fetched) > self.cache_size:
            old, _ = self._fetched.popitem(last=False)
            position = self._row_of.get(old)
            if position is not None:
                self._rows[position] = None

    def _forget(self, record_ids: Iterable[uuid.UUID]) -> None:
        for record_id in record_ids:
            self._fetched.pop(record_id, None)
            self._missing.discard(record_id)
            position = self._row_of.get(record_id)
            if position is not None:
                self._rows[position] = None

    # -- sorting --------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the ids by ``column`` in the store (no rows are read for stored columns)."""
        key = self.columns[column].sort if 0 <= column < len(self.columns) else self.default_sort
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._sort, self._descending):
            return
        self._sort, self._descending = key, descending
        if self._plan_id is None:
            return
        with self._document.read() as session:
            ids = self._query_ids(session, self._plan_id)
        self._apply_order(ids)

    def _apply_order(self, ids: list[uuid.UUID]) -> None:
        if ids == self._ids:
            return
        if set(ids) != set(self._ids):
            self.reload()  # a change not yet flushed added or removed records
            return
        hint = QAbstractItemModel.LayoutChangeHint.VerticalSortHint
        _emit_with_hint(self.layoutAboutToBeChanged, hint)
        old = self.persistentIndexList()
        old_ids = [self._ids[i.row()] if i.isValid() else None for i in old]
        by_id = {i: r for i, r in zip(self._ids, self._rows, strict=True) if r is not None}
        self._ids = ids
        self._row_of = {record_id: row for row, record_id in enumerate(ids)}
        self._rows = [by_id.get(i) for i in ids]
        new = [
            self.index(self._row_of[rid], i.column()) if rid is not None else QModelIndex()
            for i, rid in zip(old, old_ids, strict=True)
        ]
        self.changePersistentIndexList(old, new)
        _emit_with_hint(self.layoutChanged, hint)

    # -- changes --------------------------------------------------------------------

    def _on_changed(self, entity: str, record_id: object) -> None:
        if self._plan_id is None or not isinstance(record_id, uuid.UUID):
            return
        self._pending.append((entity, record_id))
        self._change_timer.start()

    def flush_changes(self) -> None:
        """Apply the changes announced so far (normally run from the event loop)."""
        self._change_timer.stop()
        changes, self._pending = self._pending, []
        if not changes or self._plan_id is None:
            return
        with self._document.read() as session:
            touched = self._query_touched(session, changes)
        if touched:
            self._refresh(touched)

    def _refresh(self, touched: Touched) -> None:
        """Refetch the touched rows, re-order if need be, redraw just those rows."""
        if self._plan_id is None:
            return
        with self._document.read() as session:
            ids = self._query_ids(session, self._plan_id)
            same_records = set(ids) == set(self._ids)
            if same_records:
                self._refetch(session, touched)
        if not same_records:
            self.reload()  # records added or removed: rare next to edits
            return
        self._apply_order(ids)
        if not self._ids:
            return
        last_column = len(self.columns) - 1
        if touched.every_row:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, last_column))
        else:
            rows_changed = sorted(self._row_of[i] for i in touched.ids if i in self._row_of)
            for first, last in _runs(rows_changed):
                self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
        self.rows_refreshed.emit()

    def _refetch(self, session: Session, touched: Touched) -> None:
        assert self._plan_id is not None
        if touched.every_row:
            stale = [i for i, r in zip(self._ids, self._rows, strict=True) if r is not None]
            self._rows = [None] * len(self._ids)
            self._fetched.clear()
            self._missing.clear()
        else:
            stale = [i for i in touched.ids if i in self._row_of]
            self._forget(stale)
        if stale:
            # Refetched now, in one go, so the proxies' re-filter of these rows reads
            # fresh rows without a query per row.
            whole = len(stale) > len(self._ids) // 2
            self._store(self._query_rows(session, self._plan_id, None if whole else stale))
            self.fetch_count += 1

    # -- Qt model -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROW_ROLES or not index.isValid() or index.row() >= len(self._ids):
            return None
        if role == ID_ROLE:
            return self._ids[index.row()]
        column = self.columns[index.column()]
        if role == Role.TextAlignmentRole:
            return _RIGHT if column.right else None
        row = self.row_at(index.row())
        if row is None:
            return None
        if role == Role.DisplayRole:
            return column.text(row)
        if role == Role.ToolTipRole:
            return (column.tooltip(row) or None) if column.tooltip is not None else None
        if column.rag and row.rag is not None:
            colours = RAG_BACKGROUND if role == Role.BackgroundRole else RAG_FOREGROUND
            return QBrush(colours[row.rag])
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Role.DisplayRole:
            return column.title
        if role == Role.ToolTipRole and column.description:
            return column.description
        return None


_ROW_ROLES: Final = frozenset(
    {
        ID_ROLE,
        Role.DisplayRole,
        Role.ToolTipRole,
        Role.BackgroundRole,
        Role.ForegroundRole,
        Role.TextAlignmentRole,
    }
)


def _emit_with_hint(signal: SignalInstance, hint: QAbstractItemModel.LayoutChangeHint) -> None:
    overloads: Any = signal  # the stubs do not know that a signal's overloads are indexed
    overloads[_LAYOUT_SIGNATURE].emit([], hint)


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted row numbers, as (first, last) pairs."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class ActionTableModel(ListModel[ActionListRow, ActionSort]):
    """A plan's live actions, one row each (see the module docstring)."""

    entity = "action"
    columns = ACTION_COLUMNS
    default_sort = ActionSort.REF

    def _query_ids(self, session: Session, plan_id: uuid.UUID) -> list[uuid.UUID]:
        return listing.action_ids(
            session,
            plan_id,
            self._sort,
            descending=self._descending,
            quarter=self._quarter,
            today=self._today,
        )

    def _query_rows(
        self, session: Session, plan_id: uuid.UUID, ids: Sequence[uuid.UUID] | None
    ) -> list[ActionListRow]:
        return listing.action_rows(session, plan_id, ids, quarter=self._quarter, today=self._today)

    def _query_touched(self, session: Session, changes: Sequence[tuple[str, uuid.UUID]]) -> Touched:
        return listing.actions_touched(session, changes)


class MeasureTableModel(ListModel[MeasureListRow, MeasureSort]):
    """A plan's live measures at their latest value, one row each."""

    entity = "measure"
    columns = MEASURE_COLUMNS
    default_sort = MeasureSort.REF

    def _query_ids(self, session: Session, plan_id: uuid.UUID) -> list[uuid.UUID]:
        return listing.measure_ids(
            session,
            plan_id,
            self._sort,
            descending=self._descending,
            quarter=self._quarter,
            today=self._today,
        )

    def _query_rows(
        self, session: Session, plan_id: uuid.UUID, ids: Sequence[uuid.UUID] | None
    ) -> list[MeasureListRow]:
        return listing.measure_rows(session, plan_id, ids, quarter=self._quarter, today=self._today)

    def _query_touched(self, session: Session, changes: Sequence[tuple[str, uuid.UUID]]) -> Touched:
        return listing.measures_touched(session, changes)


# --------------------------------------------------------------------------- proxies


class ListFilterProxy(QSortFilterProxyModel, Generic[RowT, SortT]):
    """Filters a list model's rows; sorting is handed to the source (module docstring).

    Each change of a filter compiles the active filters into one predicate, so the
    filter pass over 5,000 rows runs only the tests in force, with no per-row lookups
    of which filters are set.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source: ListModel[RowT, SortT] | None = None
        self._priority: uuid.UUID | None = None
        self._organisation: uuid.UUID | None = None
        self._rag: RagChoice = None
        self._overdue_only = False
        self._terms: tuple[str, ...] = ()
        self._text = ""
        self._predicate: Callable[[RowT], bool] | None = None

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        if not isinstance(model, ListModel):
            raise TypeError("a list filter works over an action or measure list model")
        self._source = model
        super().setSourceModel(model)

    @property
    def source(self) -> ListModel[RowT, SortT]:
        if self._source is None:
            raise RuntimeError("no source model set")
        return self._source

    # -- filters --------------------------------------------------------------------

    def set_priority(self, priority_id: uuid.UUID | None) -> None:
        """Only records under this priority (None: any)."""
        self._priority = priority_id
        self._changed()

    def set_lead_organisation(self, organisation_id: uuid.UUID | None) -> None:
        """Only records this organisation leads (None: any)."""
        self._organisation = organisation_id
        self._changed()

    def set_rag(self, rag: RagChoice) -> None:
        """Only this RAG; :data:`NOT_RATED` for records with none; None for any."""
        self._rag = rag
        self._changed()

    def set_overdue_only(self, overdue_only: bool) -> None:
        self._overdue_only = overdue_only
        self._changed()

    def set_text(self, text: str) -> None:
        """Only records whose ref, title/name or lead contain every word of ``text``
        (case ignored)."""
        self._text = text
        self._terms = tuple(text.casefold().split())
        self._changed()

    @property
    def text(self) -> str:
        return self._text

    def set_reference(self, quarter: Quarter | None, today: dt.date | None = None) -> None:
        """Judge flags (and so "overdue") for ``quarter`` as of ``today``."""
        self.source.set_reference(quarter, today)

    def clear_filters(self) -> None:
        self._priority = self._organisation = None
        self._rag = None
        self._overdue_only = False
        self._terms, self._text = (), ""
        self._clear_status()
        self._changed()

    def is_filtering(self) -> bool:
        return self._predicate is not None

    def _changed(self) -> None:
        self.beginFilterChange()
        self._predicate = self._compile()
        if self._predicate is not None and self._source is not None:
            # Every row is about to be read: fetch what is missing in a few big queries
            # rather than a batch at a time from inside the filter pass.
            self._source.fetch_all()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def _compile(self) -> Callable[[RowT], bool] | None:
        tests: list[Callable[[RowT], bool]] = []
        if self._priority is not None:
            priority = self._priority
            tests.append(lambda r: r.priority_id == priority)
        if self._rag is not None:
            rag = None if self._rag == NOT_RATED else self._rag
            tests.append(lambda r: r.rag is rag)
        tests.extend(self._kind_tests(self._organisation, self._overdue_only))
        if len(self._terms) == 1:
            term = self._terms[0]
            tests.append(lambda r: term in r.search_text)
        elif self._terms:
            terms = self._terms
            tests.append(lambda r: r.matches(terms))
        if not tests:
            return None
        if len(tests) == 1:
            return tests[0]

        def every(row: RowT) -> bool:
            # A plain loop: all() over a generator costs more, and this runs per row.
            for test in tests:  # noqa: SIM110
                if not test(row):
                    return False
            return True

        return every

    # -- per-kind hooks -------------------------------------------------------------

    def _clear_status(self) -> None:
        raise NotImplementedError

    def _kind_tests(
        self, organisation: uuid.UUID | None, overdue_only: bool
    ) -> list[Callable[[RowT], bool]]:
        """Tests for the filters whose field differs by kind: status, organisation, overdue."""
        raise NotImplementedError

    # -- Qt -------------------------------------------------------------------------

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        predicate = self._predicate
        if predicate is None or self._source is None:
            return True  # no row is read while nothing is filtered
        row = self._source.row_at(source_row)
        return row is not None and predicate(row)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The source re-orders its ids in SQL; this proxy keeps the source's order.
        self.source.sort(column, order)

    def record_id(self, row: int) -> uuid.UUID | None:
        value = self.index(row, 0).data(ID_ROLE)
        return value if isinstance(value, uuid.UUID) else None


class ActionFilterProxy(ListFilterProxy[ActionListRow, ActionSort]):
    """Filters actions by priority, lead organisation, RAG, status, overdue and text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status: ActionStatus | None = None

    def set_status(self, status: ActionStatus | None) -> None:
        self._status = status
        self._changed()

    def _clear_status(self) -> None:
        self._status = None

    def _kind_tests(
        self, organisation: uuid.UUID | None, overdue_only: bool
    ) -> list[Callable[[ActionListRow], bool]]:
        tests: list[Callable[[ActionListRow], bool]] = []
        if self._status is not None:
            status = self._status
            tests.append(lambda r: r.status is status)
        if organisation is not None:
            tests.append(lambda r: r.lead_organisation_id == organisation)
        if overdue_only:
            tests.append(lambda r: r.overdue)
        return tests


class MeasureFilterProxy(ListFilterProxy[MeasureListRow, MeasureSort]):
    """Filters measures by priority, the owner's organisation, RAG, the latest value's
    status (provisional or final), overdue values and text (ref, name, owner)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status: ValueStatus | None = None

    def set_status(self, status: ValueStatus | None) -> None:
        self._status = status
        self._changed()

    def _clear_status(self) -> None:
        self._status = None

    def _kind_tests(
        self, organisation: uuid.UUID | None, overdue_only: bool
    ) -> list[Callable[[MeasureListRow], bool]]:
        tests: list[Callable[[MeasureListRow], bool]] = []
        if self._status is not None:
            status = self._status
            tests.append(lambda r: r.latest_status is status)
        if organisation is not None:
            tests.append(lambda r: r.owner_organisation_id == organisation)
        if overdue_only:
            tests.append(lambda r: r.value_overdue)
        return tests
