"""Limits that belong to the domain (issue 22): every writer obeys them because the
services enforce them, so what is accepted can be exported, printed and sent."""

from __future__ import annotations

import datetime as dt

import pytest

from ssp_desktop import services
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, Measure, Priority
from ssp_desktop.domain.validation import MAX_TEXT, MAX_TITLE, ValidationError
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q = Quarter.parse("2024/25 Q2")


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


def _narrate(store: Store, plan: MiniPlan, text: str) -> None:
    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.write_update(
            tx, action, Q, rag=None, narrative=text, written_on=dt.date(2024, 9, 1)
        )


def test_a_narrative_at_the_limit_is_kept_and_one_over_is_refused(
    store: Store, plan: MiniPlan
) -> None:
    _narrate(store, plan, "w" * MAX_TEXT)
    revision = store.revision()
    with pytest.raises(
        ValidationError, match="Narrative is too long: 100,000 characters, at most 10,000"
    ):
        _narrate(store, plan, "w" * 100_000)
    assert store.revision() == revision


@pytest.mark.parametrize(
    ("record", "field", "value", "message"),
    [
        (Action, "title", "t" * 99_000, "Title is too long"),
        (Action, "title", "t" * (MAX_TITLE + 1), "Title is too long"),
        (Priority, "title", "t" * 201, "Title is too long"),
        (Action, "position", 2**62, "Position must be a whole number from 0"),
        (Action, "position", -1, "Position must be a whole number from 0"),
        (Action, "due_date", dt.date(9999, 12, 31), "Due date must be between"),
        (Action, "start_date", dt.date(1, 1, 1), "Start date must be between"),
        (Measure, "decimals", 400, "Decimals must be a whole number from 0 to 4"),
        (Action, "description", "a\x0bb", r"control character \(U\+000B"),
        (Action, "description", "bell\x07", r"U\+0007"),
        (Action, "description", "nul\x00", r"U\+0000"),
        (Action, "title", "\u202eevil", r"U\+202E right-to-left override"),
        (Action, "title", "lone \ud800", r"U\+D800"),
    ],
)
def test_out_of_range_values_are_refused_by_the_services(
    store: Store, plan: MiniPlan, record: type, field: str, value: object, message: str
) -> None:
    target = {Action: plan.action, Priority: plan.priority, Measure: plan.measure}[record]
    revision = store.revision()
    with pytest.raises(ValidationError, match=message):
        with store.transaction() as tx:
            row = tx.get(record, target.id)
            assert row is not None
            services.edit(tx, row, **{field: value})
    assert store.revision() == revision


def test_text_with_tabs_and_line_breaks_is_ordinary_text(store: Store, plan: MiniPlan) -> None:
    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, description="  indented\tcolumn\r\nnext line")
    with store.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None and action.description == "  indented\tcolumn\r\nnext line"


def test_a_new_record_is_judged_field_by_field_too(store: Store, plan: MiniPlan) -> None:
    with pytest.raises(ValidationError, match="Title contains a control character"):
        with store.transaction() as tx:
            area = tx.get(type(plan.area), plan.area.id)
            assert area is not None
            services.add_action(tx, area, ref="PVP-77", title="bad\x1btitle")
