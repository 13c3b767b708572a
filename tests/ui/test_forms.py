"""Record editors: each field saved as it is left, checked first, undone through the stack."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import to_json_value
from ssp_desktop.domain.enums import ActionStatus, PlanStatus, Rag, Unit
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    Action,
    FundingAward,
    FundingStream,
    Measure,
    Organisation,
    Outcome,
    OutcomeFramework,
    Person,
    Plan,
    Priority,
    PriorityArea,
    Risk,
)
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import EDITORS, create_editor
from ssp_desktop.ui.forms.action import ActionEditor
from ssp_desktop.ui.forms.editors import ComboEditor
from ssp_desktop.ui.forms.fields import REQUIRED_NOTE
from ssp_desktop.ui.forms.plan import PriorityAreaEditor, PriorityEditor
from ssp_desktop.ui.forms.record_form import RecordForm
from tests.ui.test_forms_helpers import (
    TODAY,
    FormsPlan,
    last_change,
    log_count,
    make_template,
    set_field,
    shown,
    store_copy,
    stored,
    type_line,
)

OFFSCREEN_SHOW = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
D = dt.date


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FormsPlan]:
    return make_template(tmp_path_factory.mktemp("forms"))


@pytest.fixture
def fp(template: tuple[Path, FormsPlan]) -> FormsPlan:
    """The plan's records (ids only: the objects come from the template's session)."""
    return template[1]


@pytest.fixture
def doc(template: tuple[Path, FormsPlan], tmp_path: Path, qtbot: QtBot) -> Iterator[PlanDocument]:
    with store_copy(template[0], tmp_path) as store:
        yield PlanDocument(store)


def editor(qtbot: QtBot, doc: PlanDocument, entity: str, record_id: uuid.UUID) -> Any:
    widget = create_editor(doc, entity, record_id, today=TODAY)
    qtbot.addWidget(widget)
    return widget


# --------------------------------------------------------------------------- saving


def test_a_field_is_saved_when_left_as_one_undoable_edit(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    assert isinstance(form, ActionEditor)
    assert shown(form, "title") == "Fund IDVAs"
    set_field(qtbot, form, "title", "Fund three IDVAs")
    assert stored(doc, Action, fp.mini.action.id, "title") == "Fund three IDVAs"
    assert last_change(doc, fp.mini.action.id) == ("title", "Fund IDVAs", "Fund three IDVAs")
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == "Change title"
    # Leaving the field again without changing it writes nothing.
    before = log_count(doc)
    form.editors["title"].committed.emit()
    assert log_count(doc) == before and doc.undo_stack.count() == 1


def _person_id(fp: FormsPlan) -> uuid.UUID:
    return fp.mini.person.id


# (entity, record, field, what the user enters, stored value, logged new value)
FIELD_CASES: list[tuple[str, str, str, Any, Any, Any]] = [
    ("action", "action", "ref", "PVP-10", "PVP-10", "PVP-10"),
    ("action", "action", "description", "Two posts", "Two posts", "Two posts"),
    ("action", "action", "start_date", D(2022, 5, 1), D(2022, 5, 1), "2022-05-01"),
    ("action", "action", "due_date", None, None, None),
    ("action", "action", "status", "In progress", ActionStatus.IN_PROGRESS, "in_progress"),
    ("action", "action", "rag", "\u25c6 Amber", Rag.AMBER, "amber"),
    ("action", "action", "delivery_year", "2023/24", FinancialYear(2023), "2023/24"),
    ("action", "action", "lead_organisation_id", "Council (SMBC)", "org2", "org2"),
    ("action", "action", "lead_person_id", "(none)", None, None),
    ("plan", "plan", "status", "Approved", PlanStatus.APPROVED, "approved"),
    ("plan", "plan", "end_year", "2025/26", FinancialYear(2025), "2025/26"),
    ("plan", "plan", "in_force_from", D(2022, 4, 1), D(2022, 4, 1), "2022-04-01"),
    ("plan", "plan", "vision", "A safer borough", "A safer borough", "A safer borough"),
    ("priority", "priority", "code", "PVP2", "PVP2", "PVP2"),
    ("priority", "priority", "position", 3, 3, 3),
    ("priority", "priority", "lead_person_id", "Superintendent (Police)", "person", "person"),
    ("priority_area", "area", "title", "Stalking", "Stalking", "Stalking"),
    ("measure", "measure", "baseline_value", "45.5", 45.5, 45.5),
    ("measure", "measure", "tolerance", "2.5", 2.5, 2.5),
    ("measure", "measure", "comparator_names", "GM average; England", None, None),
    ("measure", "measure", "unit", "Count", Unit.COUNT, "count"),
    ("measure", "measure", "decimals", 2, 2, 2),
    ("organisation", "org", "responsible_authority", False, False, False),
    ("organisation", "org", "short_name", "GMP", "GMP", "GMP"),
    ("person", "person", "email", "lead@police.example", "lead@police.example", None),
    ("person", "person", "organisation_id", "Council (SMBC)", "org2", "org2"),
    ("funding_award", "award", "amount", "£15,250.50", Decimal("15250.50"), "15250.50"),
    ("funding_award", "award", "recipient_name", "Youth club", "Youth club", "Youth club"),
    ("funding_stream", "stream", "funder", "Home Office", "Home Office", "Home Office"),
    ("outcome", "outcome1", "group_name", "Safe", "Safe", "Safe"),
    ("outcome_framework", "framework", "owner", "GMCA", "GMCA", "GMCA"),
]

RECORDS: dict[str, Any] = {
    "action": lambda fp: (Action, fp.mini.action.id),
    "plan": lambda fp: (Plan, fp.mini.plan.id),
    "priority": lambda fp: (Priority, fp.mini.priority.id),
    "area": lambda fp: (PriorityArea, fp.mini.area.id),
    "measure": lambda fp: (Measure, fp.mini.measure.id),
    "org": lambda fp: (Organisation, fp.mini.org.id),
    "person": lambda fp: (Person, fp.mini.person.id),
    "award": lambda fp: (FundingAward, fp.award.id),
    "stream": lambda fp: (FundingStream, fp.stream.id),
    "outcome1": lambda fp: (Outcome, fp.outcome1.id),
    "framework": lambda fp: (OutcomeFramework, fp.framework.id),
}


def _resolve(fp: FormsPlan, value: Any) -> Any:
    ids = {"org2": fp.org2.id, "person": fp.mini.person.id}
    return ids.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize("record", sorted({c[1] for c in FIELD_CASES}))
def test_each_kind_of_field_saves_and_logs(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan, record: str
) -> None:
    cases = [c for c in FIELD_CASES if c[1] == record]
    cls, record_id = RECORDS[record](fp)
    form = editor(qtbot, doc, cases[0][0], record_id)
    for steps, (_entity, _record, attr, entered, expected, logged) in enumerate(cases, 1):
        if attr == "comparator_names":
            expected = logged = ["GM average", "England"]
        if attr == "email":
            logged = "lead@police.example"
        expected, logged = _resolve(fp, expected), _resolve(fp, logged)
        before = stored(doc, cls, record_id, attr)
        set_field(qtbot, form, attr, entered)
        assert stored(doc, cls, record_id, attr) == expected, attr
        field, old, new = last_change(doc, record_id)
        assert field == attr
        assert new == (str(logged) if isinstance(logged, uuid.UUID) else logged), attr
        assert old == to_json_value(before), attr
        assert doc.undo_stack.count() == steps, attr
        assert not form.errors[attr].text(), attr


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("entity", "record", "attr", "entered", "message"),
    [
        ("action", "action", "due_date", D(2022, 3, 1), "The due date is before the start date"),
        ("action", "action", "start_date", D(2023, 6, 1), "The due date is before the start date"),
        ("action", "action", "ref", "pvp-02", "Another action in this plan already has the ref"),
        ("action", "action", "title", "", "Title is required"),
        ("action", "action", "ref", "   ", "Ref is required"),
        ("measure", "measure", "baseline_value", "abc", "'abc' is not a number"),
        ("measure", "measure", "baseline_value", "101", "A percentage cannot be over 100"),
        ("measure", "measure", "tolerance", "-1", "Tolerance cannot be negative"),
        ("measure", "measure", "tolerance", "", "Tolerance is required"),
        ("measure", "measure", "comparator_names", "A; a", "a is listed twice"),
        ("person", "person", "email", "lead@", "'lead@' is not an email address"),
        ("funding_award", "award", "amount", "-5", "An amount cannot be negative"),
        ("funding_award", "award", "amount", "12.345", "more than two decimal places"),
        ("plan", "plan", "end_year", "2020/21", "The plan's last year is before its first year"),
        ("organisation", "org", "name", "council", "Another organisation in this partnership"),
        ("priority", "priority", "title", "", "Title is required"),
        ("outcome", "outcome1", "code", "GM-02", "Another outcome in this framework"),
    ],
)
def test_a_mistake_is_explained_under_the_field_and_nothing_is_saved(
    qtbot: QtBot,
    doc: PlanDocument,
    fp: FormsPlan,
    entity: str,
    record: str,
    attr: str,
    entered: Any,
    message: str,
) -> None:
    cls, record_id = RECORDS[record](fp)
    before, logged = stored(doc, cls, record_id, attr), log_count(doc)
    form = editor(qtbot, doc, entity, record_id)
    set_field(qtbot, form, attr, entered)
    error = form.errors[attr]
    assert not error.isHidden()
    assert error.text().startswith("Error: ") and message in error.text()
    # The reason is also what a screen reader hears with the field.
    assert message in form.editors[attr].input.accessibleDescription()
    assert stored(doc, cls, record_id, attr) == before
    assert log_count(doc) == logged and doc.undo_stack.count() == 0
    # Correcting the field clears the error and saves.
    if attr == "title":
        set_field(qtbot, form, attr, "Something else")
        assert error.isHidden() and not error.text()
        assert stored(doc, cls, record_id, attr) == "Something else"


def test_an_edit_the_store_refuses_puts_the_stored_value_back_and_says_why(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    # As if someone took the ref between the form's check and the write: the service
    # checks again inside the transaction and refuses it.
    monkeypatch.setattr(services, "check_field", lambda *_args: None)
    with qtbot.waitSignal(doc.failed):
        set_field(qtbot, form, "ref", "PVP-02")
    assert stored(doc, Action, fp.mini.action.id, "ref") == "PVP-01"
    assert shown(form, "ref") == "PVP-01"
    assert "Another action in this plan already has the ref PVP-02" in form.errors["ref"].text()
    assert form.errors["ref"].text().startswith("Error: ")
    assert doc.undo_stack.count() == 0


def test_the_length_of_a_column_is_kept(qtbot: QtBot, doc: PlanDocument, fp: FormsPlan) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    ref = form.editors["ref"].edit
    assert ref.maxLength() == 20
    type_line(qtbot, ref, "X" * 30)
    assert stored(doc, Action, fp.mini.action.id, "ref") == "X" * 20


# --------------------------------------------------------------------------- undo and redo


def test_undo_and_redo_show_in_the_form_without_new_edits(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    set_field(qtbot, form, "title", "Fund three IDVAs")
    set_field(qtbot, form, "status", "Complete")
    set_field(qtbot, form, "due_date", D(2024, 3, 31))
    set_field(qtbot, form, "lead_organisation_id", "Council (SMBC)")
    assert doc.undo_stack.count() == 4
    with qtbot.waitSignal(doc.changed):
        doc.undo_stack.undo()
    assert shown(form, "lead_organisation_id") == "Police"
    doc.undo_stack.undo()
    assert shown(form, "due_date") == D(2023, 3, 31)
    doc.undo_stack.undo()
    assert shown(form, "status") == "Not started"
    doc.undo_stack.undo()
    assert shown(form, "title") == "Fund IDVAs"
    # Refreshing never writes: the stack is where the undos left it.
    assert doc.undo_stack.count() == 4 and doc.undo_stack.index() == 0
    doc.undo_stack.redo()
    doc.undo_stack.redo()
    assert shown(form, "title") == "Fund three IDVAs" and shown(form, "status") == "Complete"
    assert doc.undo_stack.index() == 2
    assert last_change(doc, fp.mini.action.id)[0] == "status"


def test_undo_keeps_what_is_being_corrected_in_another_field(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    set_field(qtbot, form, "name", "Feel safe at night")
    set_field(qtbot, form, "baseline_value", "abc")
    doc.undo_stack.undo()
    assert shown(form, "name") == "Feel safe"
    assert shown(form, "baseline_value") == "abc"
    assert "'abc' is not a number" in form.errors["baseline_value"].text()


def test_a_change_made_elsewhere_refreshes_the_form_and_its_pickers(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    other = editor(qtbot, doc, "organisation", fp.org2.id)
    set_field(qtbot, other, "name", "Stockport Council")
    combo = form.editors["lead_organisation_id"]
    assert isinstance(combo, ComboEditor)
    assert "Stockport Council (SMBC)" in combo.labels()
    same = editor(qtbot, doc, "action", fp.mini.action.id)
    set_field(qtbot, same, "title", "Changed in another window")
    assert shown(form, "title") == "Changed in another window"


def test_a_person_picker_names_people_by_role_and_organisation(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    person = editor(qtbot, doc, "person", fp.mini.person.id)
    set_field(qtbot, person, "role_title", "District Commander")
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    combo = form.editors["lead_person_id"]
    assert isinstance(combo, ComboEditor)
    assert combo.labels() == ["(none)", "District Commander: Superintendent (Police)"]
    assert combo.combo.currentText() == "District Commander: Superintendent (Police)"


def test_keyboard_choice_in_a_combo_is_saved(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    combo = form.editors["status"].combo
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert stored(doc, Action, fp.mini.action.id, "status") is ActionStatus.IN_PROGRESS


def test_an_optional_date_can_be_cleared_and_set_again(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    dates = form.editors["due_date"]
    set_field(qtbot, form, "due_date", None)
    assert stored(doc, Action, fp.mini.action.id, "due_date") is None
    assert not dates.date_edit.isEnabled()
    set_field(qtbot, form, "due_date", D(2024, 3, 31))
    assert stored(doc, Action, fp.mini.action.id, "due_date") == D(2024, 3, 31)
    doc.undo_stack.undo()
    assert dates.no_date.isChecked() and not dates.date_edit.isEnabled()


# --------------------------------------------------------------------------- add and delete


def test_adding_children_announces_the_new_record(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    priority = editor(qtbot, doc, "priority", fp.mini.priority.id)
    assert isinstance(priority, PriorityEditor)
    with qtbot.waitSignal(priority.record_added) as added:
        area_id = priority.add_area()
    assert area_id is not None and added.args == ["priority_area", area_id]
    assert stored(doc, PriorityArea, area_id, "title") == "New priority area"
    assert doc.undo_stack.undoText() == "Add priority area"

    area = editor(qtbot, doc, "priority_area", area_id)
    assert isinstance(area, PriorityAreaEditor)
    with qtbot.waitSignal(area.record_added) as added:
        qtbot.mouseClick(area.buttons[0], Qt.MouseButton.LeftButton)
    action_id = added.args[1]
    assert added.args[0] == "action"
    assert stored(doc, Action, action_id, "ref") == "PVP-03"  # after PVP-01 and PVP-02
    assert stored(doc, Action, action_id, "plan_id") == fp.mini.plan.id
    doc.undo_stack.undo()
    assert stored(doc, Action, action_id, "deleted_at") is not None


@pytest.mark.parametrize(
    ("method", "cls", "check"),
    [
        ("add_priority", Priority, ("code", "P1")),
        ("add_measure", Measure, ("ref", "M02")),
        ("add_risk", Risk, ("ref", "R01")),
        ("add_organisation", Organisation, ("name", "New organisation")),
        ("add_person", Person, ("name", "New person")),
        ("add_funding_stream", FundingStream, ("name", "New funding stream")),
        ("add_framework", OutcomeFramework, ("name", "New outcome framework")),
    ],
)
def test_the_plan_editor_adds_what_a_plan_and_partnership_hold(
    qtbot: QtBot,
    doc: PlanDocument,
    fp: FormsPlan,
    method: str,
    cls: type[Record],
    check: tuple[str, str],
) -> None:
    form = editor(qtbot, doc, "plan", fp.mini.plan.id)
    with qtbot.waitSignal(form.record_added) as added:
        new_id = getattr(form, method)()
    assert added.args == [cls.__tablename__, new_id]
    assert stored(doc, cls, new_id, check[0]) == check[1]
    # The new record opens in its own editor.
    assert isinstance(editor(qtbot, doc, cls.__tablename__, new_id), RecordForm)


def test_other_add_buttons(qtbot: QtBot, doc: PlanDocument, fp: FormsPlan) -> None:
    org = editor(qtbot, doc, "organisation", fp.org2.id)
    person_id = org.add_person()
    assert stored(doc, Person, person_id, "organisation_id") == fp.org2.id
    framework = editor(qtbot, doc, "outcome_framework", fp.framework.id)
    outcome_id = framework.add_outcome()
    assert stored(doc, Outcome, outcome_id, "code") == "GM-03"
    stream = editor(qtbot, doc, "funding_stream", fp.stream.id)
    award_id = stream.add_award()
    assert stored(doc, FundingAward, award_id, "project") == "New project"
    assert stored(doc, FundingAward, award_id, "year") == FinancialYear(2023)


def test_a_delete_blocked_by_live_records_says_what_blocks_it(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "priority_area", fp.mini.area.id)
    asked: list[str] = []

    def confirm(title: str, text: str) -> bool:
        asked.append(text)
        return True

    form.confirm = confirm
    assert not form.delete_record()
    assert not asked  # no cascade is offered for anything but an action's updates
    assert form.message.text().startswith("Error: Cannot delete priority area Domestic abuse")
    assert "2 actions" in form.message.text()
    assert stored(doc, PriorityArea, fp.mini.area.id, "deleted_at") is None
    assert doc.undo_stack.count() == 0


def test_deleting_a_record_and_undoing_it(qtbot: QtBot, doc: PlanDocument, fp: FormsPlan) -> None:
    form = editor(qtbot, doc, "outcome", fp.outcome2.id)
    with qtbot.waitSignal(form.record_deleted) as deleted:
        qtbot.mouseClick(form.delete_button, Qt.MouseButton.LeftButton)
    assert deleted.args == ["outcome", fp.outcome2.id]
    assert stored(doc, Outcome, fp.outcome2.id, "deleted_at") is not None
    assert not form.banner.isHidden() and "has been deleted" in form.banner.text()
    assert not form.editors["title"].input.isEnabled()
    doc.undo_stack.undo()
    assert form.banner.isHidden() and form.editors["title"].input.isEnabled()


def test_an_action_with_updates_is_deleted_with_them_only_when_confirmed(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    form.updates.narrative.set_text("Two IDVAs recruited.")
    assert form.updates.save()
    asked: list[tuple[str, str]] = []

    def refuse(title: str, text: str) -> bool:
        asked.append((title, text))
        return False

    form.confirm = refuse
    assert not form.delete_record()
    assert asked[0][0] == "Delete action PVP-01?"
    assert "1 quarterly update" in asked[0][1]
    assert stored(doc, Action, fp.mini.action.id, "deleted_at") is None
    form.confirm = lambda title, text: True
    assert form.delete_record()
    assert stored(doc, Action, fp.mini.action.id, "deleted_at") is not None
    assert doc.undo_stack.undoText() == "Delete action PVP-01"
    doc.undo_stack.undo()
    assert stored(doc, Action, fp.mini.action.id, "deleted_at") is None


def test_an_action_without_updates_is_deleted_without_a_question(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.action2.id)
    form.confirm = lambda title, text: pytest.fail("no question expected")
    assert form.delete_record()


# --------------------------------------------------------------------------- factory


def test_the_factory_knows_every_editable_record_and_routes_children_to_parents(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    assert set(EDITORS) >= {
        "plan",
        "priority",
        "priority_area",
        "action",
        "measure",
        "funding_stream",
        "funding_award",
        "organisation",
        "person",
        "outcome_framework",
        "outcome",
    }
    approval = editor(qtbot, doc, "plan_approval", fp.approval.id)
    assert type(approval).__name__ == "PlanEditor" and approval.record_id == fp.mini.plan.id
    unknown = editor(qtbot, doc, "board_pack", uuid.uuid4())
    assert isinstance(unknown, QLabel) and "not edited here" in unknown.text()
    missing = editor(qtbot, doc, "action", uuid.uuid4())
    assert "not in the store" in missing.banner.text()


# --------------------------------------------------------------------------- accessibility


INPUTS = (
    QLineEdit,
    QPlainTextEdit,
    QComboBox,
    QAbstractSpinBox,
    QCheckBox,
    QAbstractItemView,
    QPushButton,
)


def _inputs(form: QWidget) -> list[QWidget]:
    out: list[QWidget] = []
    for widget in form.findChildren(QWidget):
        if not isinstance(widget, INPUTS) or isinstance(widget, QHeaderView):
            continue
        # Parts of a compound widget (a spin box's line edit, a combo's popup list) are
        # named by the whole.
        owner = widget.parentWidget()
        while owner is not None and not isinstance(owner, QAbstractSpinBox | QComboBox):
            owner = owner.parentWidget()
        if owner is None:
            out.append(widget)
    return out


def _labelled(form: RecordForm) -> None:
    for attr, spec in form.field_specs.items():
        label = form.labels[attr]
        assert label.buddy() is form.editors[attr].input
        assert form.editors[attr].input.accessibleName() == spec.label
        assert label.text().endswith(" *") == spec.required


@pytest.mark.parametrize("entity", sorted(EDITORS))
def test_every_input_of_every_editor_is_named_and_labelled(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan, entity: str
) -> None:
    ids = {
        "partnership": fp.mini.partnership.id,
        "organisation": fp.mini.org.id,
        "person": fp.mini.person.id,
        "plan": fp.mini.plan.id,
        "priority": fp.mini.priority.id,
        "priority_area": fp.mini.area.id,
        "action": fp.mini.action.id,
        "measure": fp.mini.measure.id,
        "funding_stream": fp.stream.id,
        "funding_award": fp.award.id,
        "outcome_framework": fp.framework.id,
        "outcome": fp.outcome1.id,
    }
    if entity == "risk":
        plan_form = editor(qtbot, doc, "plan", fp.mini.plan.id)
        ids["risk"] = plan_form.add_risk()
    form = editor(qtbot, doc, entity, ids[entity])
    unnamed = [type(w).__name__ for w in _inputs(form) if not w.accessibleName().strip()]
    assert unnamed == []
    _labelled(form)
    if any(s.required for s in form.field_specs.values()):
        assert form.required_note.text() == REQUIRED_NOTE
    # Errors are hidden until there is one.
    assert all(e.isHidden() for e in form.errors.values())


def _focus_chain(form: RecordForm, wanted: list[QWidget]) -> list[QWidget]:
    """The wanted widgets in the order Qt's focus chain (what Tab follows) has them."""
    first = form.tab_sequence()[0]
    visited: list[QWidget] = []
    widget: QWidget = first
    for _ in range(5000):
        if any(widget is w for w in wanted) and not any(widget is v for v in visited):
            visited.append(widget)
        following = widget.nextInFocusChain()
        if following is None or following is first:
            break
        widget = following
    return visited


@pytest.mark.parametrize("entity", ["action", "measure", "plan", "funding_stream", "person"])
def test_tab_visits_the_fields_in_visual_order(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan, entity: str
) -> None:
    ids = {
        "action": fp.mini.action.id,
        "measure": fp.mini.measure.id,
        "plan": fp.mini.plan.id,
        "funding_stream": fp.stream.id,
        "person": fp.mini.person.id,
    }
    form = editor(qtbot, doc, entity, ids[entity])
    expected = [w for w in form.tab_sequence() if w.isEnabled() and w.isVisibleTo(form)]
    chain = _focus_chain(form, expected)
    assert chain == expected
    # The fields come in the order of the form's rows, top to bottom.
    field_inputs = [form.editors[a].input for a in form.field_specs]
    order = [chain.index(w) for w in field_inputs if w in chain]
    assert order == sorted(order)


@OFFSCREEN_SHOW
def test_pressing_tab_moves_through_a_form(qtbot: QtBot, doc: PlanDocument, fp: FormsPlan) -> None:
    form = editor(qtbot, doc, "organisation", fp.mini.org.id)
    form.show()
    qtbot.waitExposed(form)
    form.activateWindow()
    first = form.editors["name"].input
    first.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is first)
    visited = [first]
    for _ in range(4):
        focused = QApplication.focusWidget()
        assert focused is not None
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    assert visited == [
        form.editors["name"].input,
        form.editors["short_name"].input,
        form.editors["sector"].input,
        form.editors["responsible_authority"].input,
        form.buttons[0],
    ]
