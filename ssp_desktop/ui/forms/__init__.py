"""Record editors: one form per kind of record, made by :func:`create_editor`.

Every form saves each field as the user leaves it, as one undoable edit on the
document's stack, through the domain services (see
:mod:`ssp_desktop.ui.forms.record_form`); fields are described in
:mod:`~ssp_desktop.ui.forms.fields` and drawn by :mod:`~ssp_desktop.ui.forms.editors`.
Forms that add or delete records, or list records that open elsewhere, say so through
three signals the window connects: ``record_added``, ``record_deleted`` and
``record_activated``, each ``(table name, record id)``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from collections.abc import Iterator, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from ssp_desktop.domain.records import record_classes
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms.record_form import RecordForm

__all__ = ["EDITORS", "PARENT_EDITORS", "RecordForm", "create_editor"]


class _Editors(Mapping[str, type[RecordForm]]):
    """Table name -> its editor's class, each form's module imported when its class is
    first asked for: the window opens on the plan's editor without loading the others
    (the measure form's charts bring the list and chart queries with them)."""

    def __init__(self, where: dict[str, str]) -> None:
        self._where = where

    def __getitem__(self, entity: str) -> type[RecordForm]:
        module, _, name = self._where[entity].partition(":")
        form_class: type[RecordForm] = getattr(
            importlib.import_module(f"ssp_desktop.ui.forms.{module}"), name
        )
        return form_class

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


# The editor of each record a user edits, by table name.
EDITORS: Mapping[str, type[RecordForm]] = _Editors(
    {
        "partnership": "partners:PartnershipEditor",
        "organisation": "partners:OrganisationEditor",
        "person": "partners:PersonEditor",
        "plan": "plan:PlanEditor",
        "priority": "plan:PriorityEditor",
        "priority_area": "plan:PriorityAreaEditor",
        "action": "action:ActionEditor",
        "measure": "measure:MeasureEditor",
        "funding_stream": "funding:FundingStreamEditor",
        "funding_award": "funding:FundingAwardEditor",
        "outcome_framework": "outcomes:OutcomeFrameworkEditor",
        "outcome": "outcomes:OutcomeEditor",
        "risk": "risk:RiskEditor",
    }
)

# Records edited inside their parent's editor (a row of a grid, a tick in a list):
# table -> (parent table, the column naming the parent).
PARENT_EDITORS: dict[str, tuple[str, str]] = {
    "plan_approval": ("plan", "plan_id"),
    "plan_framework": ("plan", "plan_id"),
    "action_update": ("action", "action_id"),
    "action_partner": ("action", "action_id"),
    "action_outcome": ("action", "action_id"),
    "action_measure": ("action", "action_id"),
    "priority_outcome": ("priority", "priority_id"),
    "measure_target": ("measure", "measure_id"),
    "measure_value": ("measure", "measure_id"),
    "measure_outcome": ("measure", "measure_id"),
    "funding_allocation": ("funding_stream", "stream_id"),
    "funding_award_outcome": ("funding_award", "award_id"),
}


def _placeholder(message: str) -> QLabel:
    label = QLabel(message)
    label.setObjectName("noEditor")
    label.setAccessibleName("Editor")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setMargin(12)
    return label


def create_editor(
    document: PlanDocument,
    entity: str,
    record_id: uuid.UUID,
    *,
    today: dt.date | None = None,
    parent: QWidget | None = None,
) -> QWidget:
    """The editor for record ``record_id`` of table ``entity``.

    A record edited within its parent (an update, a value, an approval) opens its
    parent's editor; an update also selects its quarter there. ``today`` is the date
    new records and updates are given (the sample plan's own "today" for the sample).
    A kind of record with no editor gets a plain explanation rather than an error.
    """
    if entity in PARENT_EDITORS:
        parent_entity, column = PARENT_EDITORS[entity]
        with document.read() as session:
            record = session.get(record_classes()[entity], record_id)
            parent_id = getattr(record, column, None) if record is not None else None
            quarter = getattr(record, "quarter", None) if entity == "action_update" else None
        if not isinstance(parent_id, uuid.UUID):
            return _placeholder(f"This {entity.replace('_', ' ')} is not in the store.")
        editor = create_editor(document, parent_entity, parent_id, today=today, parent=parent)
        if quarter is not None:
            from ssp_desktop.ui.forms.action import ActionEditor

            if isinstance(editor, ActionEditor):
                editor.updates.select_quarter(quarter)
        return editor
    form_class = EDITORS.get(entity)
    if form_class is None:
        return _placeholder(
            f"Records of this kind ({entity.replace('_', ' ')}) are not edited here."
        )
    return form_class(document, record_id, parent, today=today)
