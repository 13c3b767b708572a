"""The measure editor: definition, polarity, tolerance and comparators; targets for each
financial year of the plan; the quarterly values grid, edited in place through
``services.record_value`` (one record per measure and quarter); and the measure's chart,
which follows every edit."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget
from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Frequency, Polarity, ToleranceMode, Unit, ValueStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Measure, MeasureOutcome, MeasureTarget, MeasureValue
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.reports.chart import measure_chart
from ssp_desktop.services import measures
from ssp_desktop.services.core import lock_for_check
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import choices as ch
from ssp_desktop.ui.forms.fields import (
    Kind,
    choice,
    multiline,
    names,
    number,
    reference,
    text,
    whole,
)
from ssp_desktop.ui.forms.grids import GridColumn, GridModel, GridRow, GridSection
from ssp_desktop.ui.forms.plan import outcome_links
from ssp_desktop.ui.forms.record_form import FormSection, RecordForm

UNIT_LABELS = {Unit.PERCENT: "Percentage (%)", Unit.COUNT: "Count", Unit.RATE: "Rate"}
TOLERANCE_LABELS = {
    ToleranceMode.ABSOLUTE: "In the measure's unit",
    ToleranceMode.RELATIVE: "Percent of the target",
}
FREQUENCY_LABELS = {
    Frequency.QUARTERLY: "Quarterly",
    Frequency.ANNUAL: "Annual",
    Frequency.SURVEY_WAVE: "Survey wave",
}
SIGNIFICANT_CHOICES: tuple[tuple[str, Any], ...] = (
    ("Not stated", None),
    ("Yes", True),
    ("No", False),
)
STATUS_CHOICES: tuple[tuple[str, Any], ...] = (
    ("Provisional", ValueStatus.PROVISIONAL),
    ("Final", ValueStatus.FINAL),
    ("Withheld", ValueStatus.WITHHELD),
)
TRACKER_NOTE = (
    "This measure is a tracker: it is monitored without a target, so it has no targets. "
    "Change its polarity to set targets."
)


def _live_measure(tx: Transaction, measure_id: uuid.UUID) -> Measure:
    measure = tx.get(Measure, measure_id)
    if measure is None or measure.deleted_at is not None:
        raise DomainError("The measure has been deleted, so it cannot be changed.")
    return measure


class TargetsModel(GridModel):
    """One row per financial year of the plan: the measure's target for that year."""

    def __init__(self, document: PlanDocument, measure_id: uuid.UUID) -> None:
        super().__init__(document)
        self.measure_id = measure_id
        self.tracker = False
        self.percent = False
        self._ids: set[uuid.UUID] = set()
        self.reload()

    def concerns(self, entity: str, record_id: object) -> bool:
        if entity == "measure_target":
            return record_id in self._ids
        return (entity == "measure" and record_id == self.measure_id) or entity == "plan"

    def can_edit(self) -> bool:
        return not self.tracker

    def fetch(self, session: Session) -> tuple[list[GridColumn], list[GridRow]]:
        measure = session.get(Measure, self.measure_id)
        years = ch.plan_years(session, ch.scope_of(session, measure)) if measure else []
        self.tracker = measure is not None and measure.polarity is Polarity.TRACKER
        self.percent = measure is not None and measure.unit is Unit.PERCENT
        kind = Kind.PERCENT if self.percent else Kind.NUMBER
        columns = [GridColumn("Target", "value", kind)]
        self._ids = {MeasureTarget.make_id(self.measure_id, y) for y in years}
        rows = [
            GridRow(
                key=y,
                values={"value": plan_queries.target_for(session, self.measure_id, y)},
                header=y.label,
                record_id=MeasureTarget.make_id(self.measure_id, y),
                entity="measure_target",
            )
            for y in years
        ]
        return columns, rows

    def write(
        self, row: GridRow, column: GridColumn, value: Any, expected: dict[str, Any]
    ) -> str | None:
        year: FinancialYear = row.key
        measure_id = self.measure_id
        shown = expected.get("value")

        def work(tx: Transaction) -> None:
            # A cleared cell: the year has no target (kept as a tombstone).
            measures.enter_target(tx, _live_measure(tx, measure_id), year, value, expected=shown)

        verb = "Clear" if value is None else "Set"
        return self.edit(f"{verb} target for {year}", work)


def _comparator_key(name: str) -> str:
    return f"comparator:{name}"


def _shown_comparators(row: GridRow, names: list[str]) -> dict[str, Any]:
    shown = ((name, row.values.get(_comparator_key(name))) for name in names)
    return {name: figure for name, figure in shown if figure is not None}


class MeasureValuesModel(GridModel):
    """The quarterly grid: rows are the plan's quarters; columns the value, each
    comparator, status, significance and note. Each edited cell is one undoable
    ``record_value``, carrying the row's other cells unchanged."""

    def __init__(self, document: PlanDocument, measure_id: uuid.UUID) -> None:
        super().__init__(document)
        self.measure_id = measure_id
        self.comparators: list[str] = []
        self._ids: set[uuid.UUID] = set()
        self.reload()

    def concerns(self, entity: str, record_id: object) -> bool:
        if entity == "measure_value":
            return record_id in self._ids
        return (entity == "measure" and record_id == self.measure_id) or entity == "plan"

    def fetch(self, session: Session) -> tuple[list[GridColumn], list[GridRow]]:
        measure = session.get(Measure, self.measure_id)
        if measure is None:
            return [], []
        quarters = ch.plan_quarters(session, ch.scope_of(session, measure))
        kind = Kind.PERCENT if measure.unit is Unit.PERCENT else Kind.NUMBER
        self.comparators = list(measure.comparator_names)
        columns = [
            GridColumn("Value", "value", kind),
            *(GridColumn(name, _comparator_key(name), kind) for name in self.comparators),
            GridColumn("Status", "status", Kind.CHOICE, choices=STATUS_CHOICES),
            GridColumn("Significant", "significant", Kind.CHOICE, choices=SIGNIFICANT_CHOICES),
            # Against the first comparator, as survey reports state it ("statistically
            # significantly higher than GM"); the board pack writes it as a sentence.
            *(
                [
                    GridColumn(
                        f"Significantly different from {self.comparators[0]}",
                        "comparator_significant",
                        Kind.CHOICE,
                        choices=SIGNIFICANT_CHOICES,
                    ),
                    GridColumn("Rank", "rank"),
                ]
                if self.comparators
                else []
            ),
            GridColumn("Note", "note"),
        ]
        stored = {
            v.period: v
            for v in session.scalars(
                select(MeasureValue).where(
                    MeasureValue.measure_id == self.measure_id,
                    MeasureValue.deleted_at.is_(None),
                )
            )
        }
        self._ids = {MeasureValue.make_id(self.measure_id, q) for q in quarters}
        rows = []
        for quarter in quarters:
            value = stored.get(quarter)
            values: dict[str, Any] = {
                "value": value.value if value else None,
                "status": value.status if value else None,
                "significant": value.significant if value else None,
                "note": value.note if value else "",
            }
            if self.comparators:
                values["comparator_significant"] = value.comparator_significant if value else None
                values["rank"] = value.rank if value else ""
            for name in self.comparators:
                values[_comparator_key(name)] = value.comparator_values.get(name) if value else None
            rows.append(
                GridRow(
                    key=quarter,
                    values=values,
                    header=quarter.label,
                    record_id=MeasureValue.make_id(self.measure_id, quarter),
                    entity="measure_value",
                    extra={
                        "exists": value is not None,
                        "comparator_significant": value.comparator_significant if value else None,
                        "rank": value.rank if value else "",
                    },
                )
            )
        return columns, rows

    def read_of(self, row: GridRow, column: GridColumn) -> dict[str, Any]:
        """The stored field a cell shows: a comparator's cell is one entry of the
        value's comparator figures, so the grid read all of them."""
        if column.key.startswith("comparator:"):
            return {"comparator_values": _shown_comparators(row, self.comparators)}
        return {column.key: row.values.get(column.key)}

    def write(
        self, row: GridRow, column: GridColumn, value: Any, expected: dict[str, Any]
    ) -> str | None:
        quarter: Quarter = row.key
        measure_id = self.measure_id
        key = column.key

        def work(tx: Transaction) -> None:
            measure = _live_measure(tx, measure_id)
            # The row's other cells are written as they are stored now, not as the
            # grid showed them: only the edited cell is this user's change, so a note
            # another writer changed meanwhile is kept (and is no conflict).
            lock_for_check(tx, measure)
            stored = tx.get(MeasureValue, MeasureValue.make_id(measure_id, quarter))
            cells: dict[str, Any] = {
                "value": None,
                "comparator_values": {},
                "status": None,
                "note": "",
                "significant": None,
                "comparator_significant": None,
                "rank": "",
            }
            if stored is not None and stored.deleted_at is None:
                cells.update(
                    {k: getattr(stored, k) for k in cells},
                    comparator_values=dict(stored.comparator_values),
                )
            if key.startswith("comparator:"):
                name = key.split(":", 1)[1]
                if value is None:
                    cells["comparator_values"].pop(name, None)
                else:
                    cells["comparator_values"][name] = value
            else:
                cells[key] = value
            services.record_value(
                tx,
                measure,
                quarter,
                cells["value"],
                comparators=cells["comparator_values"],
                status=cells["status"] or ValueStatus.PROVISIONAL,
                note=cells["note"] or "",
                significant=cells["significant"],
                comparator_significant=cells["comparator_significant"],
                rank=cells["rank"] or "",
                expected=expected,
            )

        return self.edit(f"Change {quarter} {column.header.lower()}", work)


class TargetsSection(GridSection):
    """The targets grid; a tracker's is read-only, with the reason given in words."""

    writes = MeasureTarget

    def __init__(self, model: TargetsModel) -> None:
        super().__init__("Targets", model, note="")
        self.targets = model
        self._follow()

    def record_loaded(self, session: Session, record: Any) -> None:
        self._follow()

    def set_live(self, live: bool) -> None:
        super().set_live(live)
        self._follow()

    def _follow(self) -> None:
        if self.targets.tracker:
            self.note.setText(TRACKER_NOTE)
        else:
            self.note.setText("The target for each financial year of the plan. Blank: none.")
        self.note.show()
        self.view.setEnabled(not self.targets.tracker and self.isEnabled())
        self._update_triggers()


class MeasureEditor(RecordForm):
    record_class = Measure
    specs = (
        text("Ref", "ref", required=True),
        text("Name", "name", required=True),
        multiline("Definition", "definition"),
        choice("Unit", "unit", Unit, labels=UNIT_LABELS.__getitem__),
        text("Rate basis", "rate_basis"),
        choice("Polarity", "polarity", Polarity),
        choice("Frequency", "frequency", Frequency, labels=FREQUENCY_LABELS.__getitem__),
        text("Data source", "data_source"),
        reference("Owner", "owner_person_id", "person"),
        number("Baseline value", "baseline_value"),
        text("Baseline period", "baseline_period"),
        number("Tolerance", "tolerance", required=True),
        choice(
            "Tolerance mode", "tolerance_mode", ToleranceMode, labels=TOLERANCE_LABELS.__getitem__
        ),
        number(
            "Stable threshold",
            "stable_threshold",
            help="Change below which direction of travel reads stable; blank: the default",
        ),
        whole("Decimals", "decimals", minimum=0, maximum=4),
        names(
            "Comparators",
            "comparator_names",
            help="Series to compare with, separated by semicolons, e.g. GM average; England",
        ),
        reference("Priority", "priority_id", "priority"),
    )

    def build(self) -> None:
        self.outcomes = outcome_links(self.document, Measure, self.record_id, MeasureOutcome)
        self.add_section(self.outcomes)
        self.targets_model = TargetsModel(self.document, self.record_id)
        self.targets = TargetsSection(self.targets_model)
        self.add_section(self.targets)
        self.values_model = MeasureValuesModel(self.document, self.record_id)
        self.values = GridSection(
            "Quarterly values",
            self.values_model,
            note="Type in a cell to change it; each change is saved as you leave the cell.",
        )
        self.values_model.setParent(self.values)
        self.add_section(self.values)
        self.chart = self.add_section(MeasureChartSection(self.document, self.record_id))

    def heading_text(self, record: Any) -> str:
        return f"Measure {record.ref}: {record.name}"


CHART_ENTITIES = frozenset({"measure", "measure_value", "measure_target"})


class MeasureChartSection(FormSection):
    """The chart in a measure's editor; redraws when the measure, a value or a target
    changes (after the edit's signals have all arrived: one redraw per edit)."""

    def __init__(
        self, document: PlanDocument, measure_id: uuid.UUID, upto: Quarter | None = None
    ) -> None:
        super().__init__("Chart")
        self.document = document
        self.measure_id = measure_id
        self.upto = upto
        from ssp_desktop.ui.charts import MeasureChartView  # pyqtgraph: only when needed

        self.view = MeasureChartView(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.refresh)
        document.changed.connect(self._on_changed)
        self.refresh()

    def focus_widgets(self) -> list[QWidget]:
        return [self.view.table_button, self.view.png_button, self.view.svg_button]

    def set_live(self, live: bool) -> None:
        # A deleted measure's chart stays readable; only export is pointless.
        self.view.png_button.setEnabled(live)
        self.view.svg_button.setEnabled(live)

    @Slot(str, object)
    def _on_changed(self, entity: str, _record_id: object) -> None:
        if entity in CHART_ENTITIES:
            self._pending.start()

    @Slot()
    def refresh(self) -> None:
        with self.document.read() as session:
            try:
                chart = measure_chart(session, self.measure_id, upto=self.upto)
            except LookupError:
                return
        self.view.show_chart(chart)
