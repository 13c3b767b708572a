"""The plain-English field checks the forms run before anything is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ssp_desktop import services
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import Action, Measure, Organisation, Priority, PriorityArea
from ssp_desktop.domain.validation import (
    ValidationError,
    check_dates,
    check_email,
    check_length,
    check_not_negative,
    check_percentage,
    check_range,
    check_ref_free,
    check_required,
    check_unique,
    check_years,
    format_number,
    parse_money,
    parse_names,
    parse_number,
    parse_optional_number,
    parse_whole_number,
)
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

D = dt.date


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12.0),
        (" 12.5 ", 12.5),
        ("-3", -3.0),
        ("+4", 4.0),
        (".5", 0.5),
        ("1,250", 1250.0),
        ("1,250,000.75", 1250000.75),
        ("85%", 85.0),
        ("0", 0.0),
    ],
)
def test_numbers_are_read_as_people_type_them(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "'abc' is not a number"),
        (" 12x ", "'12x' is not a number"),
        ("1,2,3", "'1,2,3' is not a number"),
        ("nan", "'nan' is not a number"),
        ("inf", "'inf' is not a number"),
        ("1e3", "'1e3' is not a number"),
        ("%", "'%' is not a number"),
        ("-", "'-' is not a number"),
        ("", "A number is required"),
        ("   ", "A number is required"),
    ],
)
def test_what_is_not_a_number_says_so(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_number(text)
    assert str(info.value) == message


def test_a_blank_optional_number_is_no_value_and_a_label_names_a_required_one() -> None:
    assert parse_optional_number("  ") is None
    assert parse_optional_number("7") == 7.0
    with pytest.raises(ValidationError, match="^Target is required$"):
        parse_number("", "Target")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("1,200", 1200),
        ("1.5", "'1.5' is not a whole number"),
        ("x", "'x' is not a number"),
    ],
)
def test_whole_numbers(text: str, expected: int | str) -> None:
    if isinstance(expected, int):
        assert parse_whole_number(text) == expected
    else:
        with pytest.raises(ValidationError) as info:
            parse_whole_number(text)
        assert str(info.value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12500", Decimal("12500.00")),
        ("£12,500", Decimal("12500.00")),
        (" 99.5 ", Decimal("99.50")),
        ("0", Decimal("0.00")),
        ("-5", "An amount cannot be negative"),
        ("£-5", "An amount cannot be negative"),
        ("12.345", "'12.345' has more than two decimal places (pence)"),
        ("ten pounds", "'ten pounds' is not an amount in pounds"),
        ("", "Amount is required"),
        ("99999999999", "An amount cannot be more than £9,999,999,999.99"),
    ],
)
def test_money(text: str, expected: Decimal | str) -> None:
    if isinstance(expected, Decimal):
        assert parse_money(text) == expected
    else:
        with pytest.raises(ValidationError) as info:
            parse_money(text)
        assert str(info.value) == expected


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (lambda: check_percentage(100.5), "A percentage cannot be over 100"),
        (lambda: check_percentage(-0.1), "A percentage cannot be below 0"),
        (
            lambda: check_dates(D(2023, 4, 1), D(2023, 3, 31)),
            "The due date is before the start date",
        ),
        (lambda: check_years(FinancialYear(2024), FinancialYear(2022)), "last year is before"),
        (lambda: check_required("Title", "  "), "Title is required"),
        (lambda: check_required("Ref", None), "Ref is required"),
        (lambda: check_length("Ref", "x" * 21, 20), "Ref is too long: 21 characters"),
        (lambda: check_not_negative("Tolerance", -1), "Tolerance cannot be negative"),
        (lambda: check_range("Likelihood", 6, 1, 5), "Likelihood must be between 1 and 5"),
        (lambda: check_email("bob@"), "'bob@' is not an email address"),
        (lambda: check_email("bob@example"), "'bob@example' is not an email address"),
        (lambda: check_email("a b@example.org"), "is not an email address"),
        (lambda: parse_names("GM average; England; gm average"), "gm average is listed twice"),
    ],
)
def test_each_refusal_explains_itself(check: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        check()
    assert message in str(info.value)
    assert not str(info.value).endswith(".")  # the form adds "Error: " in front


@pytest.mark.parametrize(
    ("check", "result"),
    [
        (lambda: check_percentage(100), 100),
        (lambda: check_percentage(0), 0),
        (lambda: check_dates(D(2023, 4, 1), D(2023, 4, 1)), None),
        (lambda: check_dates(None, D(2023, 4, 1)), None),
        (lambda: check_dates(D(2023, 4, 1), None), None),
        (lambda: check_years(FinancialYear(2022), FinancialYear(2022)), None),
        (lambda: check_required("Title", "  Fund IDVAs "), "Fund IDVAs"),
        (lambda: check_length("Ref", "x" * 20, 20), "x" * 20),
        (lambda: check_email("  "), None),
        (lambda: check_email(" lead@council.example.org "), "lead@council.example.org"),
        (lambda: check_range("Impact", 5, 1, 5), None),
        (lambda: parse_names(" GM average ;; England "), ["GM average", "England"]),
        (lambda: parse_names(""), []),
    ],
)
def test_what_is_fine_passes(check: Callable[[], Any], result: Any) -> None:
    assert check() == result


@pytest.mark.parametrize(
    ("value", "text"), [(None, ""), (12.0, "12"), (3, "3"), (12.5, "12.5"), (0.1, "0.1")]
)
def test_numbers_are_shown_as_they_would_be_typed(value: float | None, text: str) -> None:
    assert format_number(value) == text
    if value is not None:
        assert parse_number(text) == value


def test_validation_errors_are_domain_errors() -> None:
    # So a check failing inside a transaction refuses the edit like any domain rule.
    assert issubclass(ValidationError, DomainError)


# --- checks against the store --------------------------------------------------------------


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


def test_a_ref_in_use_in_the_plan_is_refused(store: Store, plan: MiniPlan) -> None:
    with store.session() as s:
        with pytest.raises(ValidationError) as info:
            check_ref_free(s, Action, plan.plan.id, "PVP-01", None)
        assert str(info.value) == "Another action in this plan already has the ref PVP-01"
        # Case does not make a different ref for a reader of the board pack.
        with pytest.raises(ValidationError):
            check_ref_free(s, Action, plan.plan.id, " pvp-01 ", None)
        with pytest.raises(ValidationError, match="Another measure in this plan .* ref M01"):
            check_ref_free(s, Measure, plan.plan.id, "M01", None)
        # The action keeping its own ref, a free ref, and another plan are all fine.
        check_ref_free(s, Action, plan.plan.id, "PVP-01", plan.action.id)
        check_ref_free(s, Action, plan.plan.id, "PVP-02", None)
        check_ref_free(s, Action, plan.partnership.id, "PVP-01", None)


def test_a_deleted_records_ref_is_free_again(store: Store, plan: MiniPlan) -> None:
    with store.transaction(actor="test") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.delete(tx, action)
    with store.session() as s:
        check_ref_free(s, Action, plan.plan.id, "PVP-01", None)


def test_unique_names_and_codes_in_other_scopes(store: Store, plan: MiniPlan) -> None:
    with store.transaction(actor="test") as tx:
        area = tx.get(PriorityArea, plan.area.id)
        assert area is not None
        services.add_action(tx, area, ref="PVP-02", title="Second")
    with store.session() as s:
        with pytest.raises(ValidationError) as info:
            check_unique(
                s,
                Organisation,
                scope_field="partnership_id",
                scope_id=plan.partnership.id,
                scope_noun="partnership",
                field="name",
                value="police",
                record_id=None,
            )
        assert str(info.value) == (
            "Another organisation in this partnership already has the name police"
        )
        with pytest.raises(ValidationError, match="priority in this plan already has the code"):
            check_unique(
                s,
                Priority,
                scope_field="plan_id",
                scope_id=plan.plan.id,
                scope_noun="plan",
                field="code",
                value="PVP",
                record_id=None,
            )
