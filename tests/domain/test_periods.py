"""Tests for UK financial years and quarters (ssp_desktop.domain.periods)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssp_desktop.domain.periods import (
    FinancialYear,
    PeriodError,
    Quarter,
    current_quarter,
)

# --- FinancialYear ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "label"),
    [
        pytest.param(2023, "2023/24", id="ordinary"),
        pytest.param(1999, "1999/00", id="century-1999"),
        pytest.param(2099, "2099/00", id="century-2099"),
        pytest.param(2000, "2000/01", id="millennium"),
        pytest.param(2009, "2009/10", id="decade"),
    ],
)
def test_financial_year_label(start: int, label: str) -> None:
    fy = FinancialYear(start)
    assert fy.label == label
    assert str(fy) == label


@pytest.mark.parametrize(
    ("start", "first", "last"),
    [
        pytest.param(2023, date(2023, 4, 1), date(2024, 3, 31), id="2023/24"),
        pytest.param(1999, date(1999, 4, 1), date(2000, 3, 31), id="1999/00"),
        pytest.param(2099, date(2099, 4, 1), date(2100, 3, 31), id="2099/00"),
    ],
)
def test_financial_year_dates(start: int, first: date, last: date) -> None:
    fy = FinancialYear(start)
    assert fy.start_date == first
    assert fy.end_date == last
    assert fy.contains(first)
    assert fy.contains(last)
    assert not fy.contains(first - timedelta(days=1))
    assert not fy.contains(last + timedelta(days=1))


@pytest.mark.parametrize(
    ("d", "start"),
    [
        pytest.param(date(2024, 3, 31), 2023, id="31-march-ends-year"),
        pytest.param(date(2024, 4, 1), 2024, id="1-april-starts-year"),
        pytest.param(date(2024, 2, 15), 2023, id="february"),
        pytest.param(date(2023, 12, 31), 2023, id="31-december"),
        pytest.param(date(2000, 1, 1), 1999, id="new-year-2000"),
        pytest.param(date(2100, 3, 31), 2099, id="end-of-2099/00"),
    ],
)
def test_financial_year_of(d: date, start: int) -> None:
    assert FinancialYear.of(d) == FinancialYear(start)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("2023/24", 2023, id="slash-short"),
        pytest.param("2023-24", 2023, id="dash-short"),
        pytest.param("2023/2024", 2023, id="slash-long"),
        pytest.param("2023-2024", 2023, id="dash-long"),
        pytest.param("FY2023/24", 2023, id="fy-prefix"),
        pytest.param("fy 2023-24", 2023, id="fy-prefix-lower-spaced"),
        pytest.param("  2023 / 24 ", 2023, id="whitespace"),
        pytest.param("1999/00", 1999, id="century-1999-short"),
        pytest.param("1999/2000", 1999, id="century-1999-long"),
        pytest.param("2099/00", 2099, id="century-2099"),
    ],
)
def test_financial_year_parse_accepts(text: str, start: int) -> None:
    assert FinancialYear.parse(text) == FinancialYear(start)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2023/25", id="inconsistent-short"),
        pytest.param("2023/2025", id="inconsistent-long"),
        pytest.param("1999/01", id="inconsistent-century"),
        pytest.param("2023/23", id="same-year"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("banana", id="nonsense"),
        pytest.param("2023", id="single-year"),
        pytest.param("23/24", id="two-digit-start"),
        pytest.param("2023/24 Q2", id="quarter-not-year"),
    ],
)
def test_financial_year_parse_rejects(text: str) -> None:
    with pytest.raises(PeriodError) as info:
        FinancialYear.parse(text)
    message = str(info.value)
    assert repr(text) in message
    assert "2023/24" in message  # the accepted forms are spelt out
    assert FinancialYear.parse_or_none(text) is None


def test_financial_year_parse_names_the_mismatch() -> None:
    with pytest.raises(PeriodError, match="25 is not the year after 2023"):
        FinancialYear.parse("2023/25")


def test_financial_year_parse_or_none() -> None:
    assert FinancialYear.parse_or_none(None) is None
    assert FinancialYear.parse_or_none("2023/24") == FinancialYear(2023)


def test_period_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="banana"):
        FinancialYear.parse("banana")


def test_financial_year_navigation() -> None:
    fy = FinancialYear(1999)
    assert fy.next() == FinancialYear(2000)
    assert fy.previous() == FinancialYear(1998)
    assert fy.quarters() == (
        Quarter(1999, 1),
        Quarter(1999, 2),
        Quarter(1999, 3),
        Quarter(1999, 4),
    )


def test_financial_year_is_ordered_and_frozen() -> None:
    assert FinancialYear(2022) < FinancialYear(2023)
    assert sorted([FinancialYear(2024), FinancialYear(1999)]) == [
        FinancialYear(1999),
        FinancialYear(2024),
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        FinancialYear(2023).start = 2024  # type: ignore[misc]


@pytest.mark.parametrize(
    "start", [pytest.param(999, id="too-early"), pytest.param(9999, id="too-late")]
)
def test_financial_year_out_of_range(start: int) -> None:
    with pytest.raises(PeriodError):
        FinancialYear(start)


# --- Quarter: construction, names and dates ------------------------------------------------


@pytest.mark.parametrize(
    "q", [pytest.param(0, id="q0"), pytest.param(5, id="q5"), pytest.param(-1, id="neg")]
)
def test_quarter_rejects_bad_number(q: int) -> None:
    with pytest.raises(PeriodError, match="1 to 4"):
        Quarter(2023, q)


@pytest.mark.parametrize(
    ("quarter", "label", "months"),
    [
        pytest.param(Quarter(2023, 1), "2023/24 Q1", "Apr-Jun 2023", id="q1"),
        pytest.param(Quarter(2023, 2), "2023/24 Q2", "Jul-Sep 2023", id="q2"),
        pytest.param(Quarter(2023, 3), "2023/24 Q3", "Oct-Dec 2023", id="q3"),
        pytest.param(Quarter(2023, 4), "2023/24 Q4", "Jan-Mar 2024", id="q4-next-calendar-year"),
        pytest.param(Quarter(1999, 4), "1999/00 Q4", "Jan-Mar 2000", id="q4-1999/00"),
        pytest.param(Quarter(2099, 4), "2099/00 Q4", "Jan-Mar 2100", id="q4-2099/00"),
    ],
)
def test_quarter_names(quarter: Quarter, label: str, months: str) -> None:
    assert quarter.label == label
    assert str(quarter) == label
    assert quarter.months_label == months


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [
        pytest.param(Quarter(2023, 1), date(2023, 4, 1), date(2023, 6, 30), id="q1"),
        pytest.param(Quarter(2023, 2), date(2023, 7, 1), date(2023, 9, 30), id="q2"),
        pytest.param(Quarter(2023, 3), date(2023, 10, 1), date(2023, 12, 31), id="q3"),
        pytest.param(Quarter(2023, 4), date(2024, 1, 1), date(2024, 3, 31), id="q4"),
        pytest.param(Quarter(1999, 4), date(2000, 1, 1), date(2000, 3, 31), id="q4-1999/00"),
        pytest.param(Quarter(2099, 4), date(2100, 1, 1), date(2100, 3, 31), id="q4-2099/00"),
    ],
)
def test_quarter_dates(quarter: Quarter, first: date, last: date) -> None:
    assert quarter.start_date == first
    assert quarter.end_date == last
    assert quarter.contains(first)
    assert quarter.contains(last)
    assert not quarter.contains(first - timedelta(days=1))
    assert not quarter.contains(last + timedelta(days=1))


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        pytest.param(date(2024, 2, 15), Quarter(2023, 4), id="15-feb-is-previous-fy-q4"),
        pytest.param(date(2024, 4, 1), Quarter(2024, 1), id="1-april-is-q1"),
        pytest.param(date(2024, 3, 31), Quarter(2023, 4), id="31-march-is-q4"),
        pytest.param(date(2024, 2, 29), Quarter(2023, 4), id="leap-day"),
        pytest.param(date(2023, 6, 30), Quarter(2023, 1), id="30-june"),
        pytest.param(date(2023, 7, 1), Quarter(2023, 2), id="1-july"),
        pytest.param(date(2023, 9, 30), Quarter(2023, 2), id="30-september"),
        pytest.param(date(2023, 10, 1), Quarter(2023, 3), id="1-october"),
        pytest.param(date(2023, 12, 31), Quarter(2023, 3), id="31-december"),
        pytest.param(date(2024, 1, 1), Quarter(2023, 4), id="1-january"),
        pytest.param(date(2000, 1, 1), Quarter(1999, 4), id="new-year-2000"),
        pytest.param(date(2100, 3, 31), Quarter(2099, 4), id="end-of-2099/00"),
    ],
)
def test_quarter_of(d: date, expected: Quarter) -> None:
    assert Quarter.of(d) == expected
    assert expected.contains(d)


def test_quarter_fy() -> None:
    assert Quarter(2023, 4).fy == FinancialYear(2023)


# --- Quarter: arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quarter", "after", "before"),
    [
        pytest.param(Quarter(2023, 2), Quarter(2023, 3), Quarter(2023, 1), id="mid-year"),
        pytest.param(Quarter(2023, 4), Quarter(2024, 1), Quarter(2023, 3), id="q4-wraps-forward"),
        pytest.param(Quarter(2024, 1), Quarter(2024, 2), Quarter(2023, 4), id="q1-wraps-back"),
        pytest.param(Quarter(1999, 4), Quarter(2000, 1), Quarter(1999, 3), id="century-1999"),
        pytest.param(Quarter(2100, 1), Quarter(2100, 2), Quarter(2099, 4), id="century-2099"),
    ],
)
def test_quarter_next_previous(quarter: Quarter, after: Quarter, before: Quarter) -> None:
    assert quarter.next() == after
    assert quarter.previous() == before


@pytest.mark.parametrize(
    ("quarter", "n", "expected"),
    [
        pytest.param(Quarter(2023, 2), 0, Quarter(2023, 2), id="zero"),
        pytest.param(Quarter(2023, 2), 3, Quarter(2024, 1), id="forward-across-year"),
        pytest.param(Quarter(2023, 2), -2, Quarter(2022, 4), id="back-across-year"),
        pytest.param(Quarter(2023, 1), -5, Quarter(2021, 4), id="back-over-a-year"),
        pytest.param(Quarter(2023, 3), 8, Quarter(2025, 3), id="two-years"),
    ],
)
def test_quarter_shift(quarter: Quarter, n: int, expected: Quarter) -> None:
    assert quarter.shift(n) == expected


@pytest.mark.parametrize(
    ("quarter", "expected"),
    [
        pytest.param(Quarter(2023, 2), Quarter(2022, 2), id="q2"),
        pytest.param(Quarter(2000, 4), Quarter(1999, 4), id="q4-century"),
    ],
)
def test_same_quarter_last_year(quarter: Quarter, expected: Quarter) -> None:
    assert quarter.same_quarter_last_year() == expected


def test_quarter_index() -> None:
    assert Quarter(2023, 1).index == 2023 * 4
    assert Quarter(2023, 4).index == 2023 * 4 + 3
    assert Quarter(2024, 1).index == Quarter(2023, 4).index + 1
    assert Quarter.from_index(2023 * 4 + 2) == Quarter(2023, 3)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        pytest.param(
            Quarter(2023, 3),
            Quarter(2024, 2),
            [Quarter(2023, 3), Quarter(2023, 4), Quarter(2024, 1), Quarter(2024, 2)],
            id="across-year-inclusive",
        ),
        pytest.param(Quarter(2023, 3), Quarter(2023, 3), [Quarter(2023, 3)], id="single"),
        pytest.param(Quarter(2024, 1), Quarter(2023, 4), [], id="reversed-is-empty"),
    ],
)
def test_quarter_range(first: Quarter, last: Quarter, expected: list[Quarter]) -> None:
    assert Quarter.range(first, last) == expected


def test_quarter_ordering_is_chronological() -> None:
    shuffled = [Quarter(2024, 1), Quarter(2023, 4), Quarter(2022, 4), Quarter(2023, 1)]
    assert sorted(shuffled) == [
        Quarter(2022, 4),
        Quarter(2023, 1),
        Quarter(2023, 4),
        Quarter(2024, 1),
    ]
    assert Quarter(2023, 4) < Quarter(2024, 1)


def test_quarter_is_hashable_and_frozen() -> None:
    values = {Quarter(2023, 2): 1.0}
    assert values[Quarter.parse("2023/24 Q2")] == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        Quarter(2023, 2).q = 3  # type: ignore[misc]


# --- Quarter: parsing ----------------------------------------------------------------------

ACCEPTED = [
    pytest.param("2023/24 Q2", id="canonical"),
    pytest.param("2023-24-Q2", id="all-dashes"),
    pytest.param("2023-24 Q2", id="dash-space"),
    pytest.param("2023/24-Q2", id="slash-dash"),
    pytest.param("2023/2024 Q2", id="long-year"),
    pytest.param("Q2 2023/24", id="quarter-first"),
    pytest.param("Q2 2023-24", id="quarter-first-dash"),
    pytest.param("2023/24 q2", id="lower-case"),
    pytest.param("  2023 / 24    q 2  ", id="inner-and-outer-whitespace"),
    pytest.param("FY2023/24 Q2", id="fy-prefix"),
    pytest.param("2023-2024-Q2", id="long-year-dashes"),
    pytest.param("Q2-2023/24", id="quarter-first-dash-joined"),
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_quarter_parse_accepts(text: str) -> None:
    assert Quarter.parse(text) == Quarter(2023, 2)
    assert Quarter.parse_or_none(text) == Quarter(2023, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1999/00 Q4", Quarter(1999, 4), id="century-1999-short"),
        pytest.param("1999/2000 Q4", Quarter(1999, 4), id="century-1999-long"),
        pytest.param("Q1 2099/00", Quarter(2099, 1), id="century-2099"),
    ],
)
def test_quarter_parse_century(text: str, expected: Quarter) -> None:
    assert Quarter.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param("2023/25 Q2", "25 is not the year after 2023", id="inconsistent-years"),
        pytest.param("2023/2025 Q2", "2025 is not the year after 2023", id="inconsistent-long"),
        pytest.param("2023/24 Q5", "Q5 is not a quarter", id="q5"),
        pytest.param("2023/24 Q0", "Q0 is not a quarter", id="q0"),
        pytest.param("", "no text was given", id="empty"),
        pytest.param("   ", "no text was given", id="blank"),
        pytest.param("Q2", "", id="no-year"),
        pytest.param("banana", "", id="nonsense"),
        pytest.param("2023/24", "no quarter", id="year-only"),
        pytest.param("2023 Q2", "", id="single-year"),
        pytest.param("2023/24 Q2 Q3", "", id="two-quarters"),
    ],
)
def test_quarter_parse_rejects(text: str, detail: str) -> None:
    with pytest.raises(PeriodError) as info:
        Quarter.parse(text)
    message = str(info.value)
    assert repr(text) in message
    assert detail in message
    assert "2023/24 Q2" in message  # the accepted forms are spelt out
    assert Quarter.parse_or_none(text) is None


def test_quarter_parse_or_none_accepts_none() -> None:
    assert Quarter.parse_or_none(None) is None


# --- current quarter -----------------------------------------------------------------------


def test_current_quarter_given_today() -> None:
    assert current_quarter(date(2024, 2, 15)) == Quarter(2023, 4)
    assert current_quarter(date(2024, 4, 1)) == Quarter(2024, 1)


def test_current_quarter_defaults_to_system_date() -> None:
    assert current_quarter().contains(date.today())


# --- properties ----------------------------------------------------------------------------

quarters = st.builds(Quarter, st.integers(min_value=1990, max_value=2100), st.integers(1, 4))


@given(quarters)
def test_quarter_label_round_trips(q: Quarter) -> None:
    assert Quarter.parse(str(q)) == q
    assert Quarter.parse(f"q{q.q} {q.year}-{q.year + 1}") == q


@given(quarters)
def test_quarter_of_its_own_dates(q: Quarter) -> None:
    assert Quarter.of(q.start_date) == q == Quarter.of(q.end_date)
    assert Quarter.of(q.start_date - timedelta(days=1)) == q.previous()
    assert Quarter.of(q.end_date + timedelta(days=1)) == q.next()


@given(quarters, st.integers(min_value=-400, max_value=400))
def test_quarter_shift_index_round_trip(q: Quarter, n: int) -> None:
    shifted = q.shift(n)
    assert shifted.index == q.index + n
    assert shifted.shift(-n) == q
    assert Quarter.from_index(q.index) == q
    assert (shifted > q) == (n > 0)


@given(st.dates(min_value=date(1990, 4, 1), max_value=date(2101, 3, 31)))
def test_every_date_is_in_its_quarter_and_year(d: date) -> None:
    q = Quarter.of(d)
    assert q.contains(d)
    assert q.fy == FinancialYear.of(d)
    assert FinancialYear.of(d).contains(d)
    assert q in FinancialYear.of(d).quarters()
