"""Shared builders and widget drivers for the record-editor tests (no tests here; the
name keeps it beside the tests it serves).

``forms_plan`` adds to ``tests.factories.mini_plan`` what the editors need to show
(a second action, outcomes, funding, an approval, a second organisation), and the
drivers make a widget do what a user's keys and clicks would.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication, QComboBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    Action,
    ChangeLog,
    FundingAward,
    FundingStream,
    Organisation,
    Outcome,
    OutcomeFramework,
    PlanApproval,
    PriorityArea,
)
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms.editors import (
    CheckEditor,
    ComboEditor,
    DateEditor,
    LineEditor,
    SpinEditor,
    TextAreaEditor,
)
from ssp_desktop.ui.forms.record_form import RecordForm
from tests.factories import MiniPlan, mini_plan

# The editors' "today": inside the mini plan's period, so the reporting quarter is
# 2023/24 Q2 (the one that ended before it).
TODAY = dt.date(2023, 10, 15)


@dataclass
class FormsPlan:
    mini: MiniPlan
    action2: Action
    org2: Organisation
    framework: OutcomeFramework
    outcome1: Outcome
    outcome2: Outcome
    stream: FundingStream
    award: FundingAward
    approval: PlanApproval


def forms_plan(store: Store) -> FormsPlan:
    mini = mini_plan(store)
    with store.transaction(actor="test") as tx:
        area = tx.get(PriorityArea, mini.area.id)
        assert area is not None
        action2 = services.add_action(tx, area, ref="PVP-02", title="Train GPs")
        org2 = services.create(
            tx, Organisation(partnership_id=mini.partnership.id, name="Council", short_name="SMBC")
        )
        framework = services.create(
            tx,
            OutcomeFramework(
                partnership_id=mini.partnership.id, name="Standing Together", short_name="GM"
            ),
        )
        outcome1 = services.create(
            tx, Outcome(framework_id=framework.id, code="GM-01", title="Fewer victims", position=1)
        )
        outcome2 = services.create(
            tx, Outcome(framework_id=framework.id, code="GM-02", title="Safer streets", position=2)
        )
        stream = services.create(
            tx, FundingStream(partnership_id=mini.partnership.id, name="Safety Grant")
        )
        award = services.create(
            tx,
            FundingAward(
                stream_id=stream.id,
                year=FinancialYear(2022),
                project="Youth diversion",
                amount=Decimal("12000.00"),
            ),
        )
        approval = services.create(
            tx,
            PlanApproval(plan_id=mini.plan.id, body="SSP Board", meeting_date=dt.date(2022, 3, 1)),
        )
    return FormsPlan(mini, action2, org2, framework, outcome1, outcome2, stream, award, approval)


def make_template(folder: Path) -> tuple[Path, FormsPlan]:
    """A store holding the forms plan, written once per test session: copying it is
    several times faster than migrating and filling a new store for every test."""
    path = folder / "forms-template.sqlite"
    store = Store.open(path, create=True)
    try:
        plan = forms_plan(store)
    finally:
        store.close()
    return path, plan


@contextmanager
def store_copy(template: Path, folder: Path) -> Iterator[Store]:
    path = folder / "plan.sqlite"
    sqlite_backup(template, path)
    store = Store.open(path)
    try:
        yield store
    finally:
        store.close()


# --------------------------------------------------------------------------- reading


def stored(doc: PlanDocument, cls: type[Record], record_id: uuid.UUID, attr: str) -> Any:
    with doc.read() as session:
        record = session.get(cls, record_id)
        assert record is not None
        return getattr(record, attr)


def last_change(doc: PlanDocument, record_id: uuid.UUID) -> tuple[str | None, Any, Any]:
    """(field, old, new) of the record's newest change-log row, values decoded."""
    with doc.read() as session:
        row = session.scalars(
            select(ChangeLog)
            .where(ChangeLog.record_id == record_id)
            .order_by(ChangeLog.seq.desc())
            .limit(1)
        ).one()
        decode = lambda v: None if v is None else json.loads(v)  # noqa: E731
        return row.field, decode(row.old), decode(row.new)


def log_count(doc: PlanDocument) -> int:
    with doc.read() as session:
        return len(session.scalars(select(ChangeLog.seq)).all())


# --------------------------------------------------------------------------- driving


def type_line(qtbot: QtBot, edit: Any, text: str) -> None:
    """Replace a line edit's text as a user would, then press Enter."""
    edit.selectAll()
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def leave(widget: Any) -> None:
    """The user moves focus away from ``widget``."""
    QApplication.sendEvent(widget, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.TabFocusReason))


def pick(combo: QComboBox, label: str) -> None:
    """Choose an entry of a combo box by its text, as a click in its list would."""
    index = combo.findText(label)
    assert index >= 0, f"{label!r} not in {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def set_field(qtbot: QtBot, form: RecordForm, attr: str, value: Any) -> None:
    """Enter ``value`` in a field as a user would, and leave the field."""
    editor = form.editors[attr]
    if isinstance(editor, LineEditor):
        type_line(qtbot, editor.edit, str(value))
    elif isinstance(editor, TextAreaEditor):
        editor.edit.selectAll()
        qtbot.keyClicks(editor.edit, str(value))
        leave(editor.edit)
    elif isinstance(editor, SpinEditor):
        editor.spin.selectAll()
        qtbot.keyClicks(editor.spin, str(value))
        qtbot.keyClick(editor.spin, Qt.Key.Key_Return)
    elif isinstance(editor, DateEditor):
        if value is None:
            assert editor.no_date is not None
            if not editor.no_date.isChecked():
                editor.no_date.click()
            return
        if editor.no_date is not None and editor.no_date.isChecked():
            editor.no_date.click()
        editor.date_edit.setDate(QDate(value.year, value.month, value.day))
        qtbot.keyClick(editor.date_edit, Qt.Key.Key_Return)
    elif isinstance(editor, ComboEditor):
        pick(editor.combo, str(value))
    elif isinstance(editor, CheckEditor):
        if editor.check.isChecked() != bool(value):
            editor.check.click()
    else:  # pragma: no cover - a new kind of field needs a driver here
        raise AssertionError(f"no driver for {type(editor).__name__}")


def shown(form: RecordForm, attr: str) -> Any:
    """What the field shows: its text, date, choice or tick."""
    editor = form.editors[attr]
    if isinstance(editor, LineEditor):
        return editor.edit.text()
    if isinstance(editor, TextAreaEditor):
        return editor.edit.toPlainText()
    if isinstance(editor, SpinEditor):
        return editor.spin.value()
    if isinstance(editor, DateEditor):
        return editor.read()
    if isinstance(editor, ComboEditor):
        return editor.combo.currentText()
    if isinstance(editor, CheckEditor):
        return editor.check.isChecked()
    raise AssertionError(type(editor).__name__)  # pragma: no cover
