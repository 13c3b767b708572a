"""The Qt-free chart description: series, steps, band, table and alt text."""

from __future__ import annotations

import math

import pytest

from ssp_desktop import services
from ssp_desktop.domain.enums import Frequency, Polarity, Unit, ValueStatus
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Measure
from ssp_desktop.reports.chart import (
    LineStyle,
    Marker,
    MeasureFacts,
    Point,
    SeriesKind,
    build_chart,
    measure_chart,
)
from ssp_desktop.store.engine import Store
from tests.factories import mini_plan

Q = Quarter.parse


def feel_safe(**kw: object) -> MeasureFacts:
    facts = MeasureFacts(
        name="Residents who feel safe",
        unit=Unit.PERCENT,
        decimals=0,
        comparator_names=["GM average"],
        tolerance=2.0,
    )
    for k, v in kw.items():
        setattr(facts, k, v)
    return facts


def rising() -> dict[Quarter, Point]:
    values = {"2023/24 Q3": 88.0, "2023/24 Q4": 89.0, "2024/25 Q1": 91.0, "2024/25 Q2": 92.0}
    return {Q(q): Point(v, ValueStatus.FINAL, {"GM average": 88.0}) for q, v in values.items()}


def test_alt_text_tells_the_story_in_plain_english() -> None:
    targets = {FinancialYear(2023): 88.0, FinancialYear(2024): 90.0}
    chart = build_chart(feel_safe(), rising(), targets)
    assert chart.alt_text == (
        "Residents who feel safe, 2023/24 Q3 to 2024/25 Q2: rose from 88% to 92% over four "
        "quarters. Latest 92% in 2024/25 Q2; target 90%, higher is better (Green). "
        "GM average 88% in 2024/25 Q2."
    )
    assert chart.x_labels == ("2023/24 Q3", "2023/24 Q4", "2024/25 Q1", "2024/25 Q2")
    assert chart.y_title == "Per cent (%)"


def test_target_steps_per_financial_year_with_the_band_beside_it() -> None:
    targets = {FinancialYear(2023): 88.0, FinancialYear(2024): 90.0}
    chart = build_chart(feel_safe(), rising(), targets)
    (target,) = chart.series_of(SeriesKind.TARGET)
    # 2023/24 covers x 0-1, 2024/25 covers x 2-3: flat across each, a step between.
    assert target.x == (-0.5, 1.5, 1.5, 3.5)
    assert target.y == (88.0, 88.0, 90.0, 90.0)
    assert chart.band is not None
    assert chart.band.lower == (86.0, 86.0, 88.0, 88.0)  # higher is better: band below
    assert chart.band.upper == (88.0, 88.0, 90.0, 90.0)


def test_lower_is_better_puts_the_band_above_the_target() -> None:
    targets = {FinancialYear(2024): 10.0}
    points = {Q("2024/25 Q1"): Point(12.0)}
    chart = build_chart(feel_safe(polarity=Polarity.LOWER_BETTER), points, targets)
    assert chart.band is not None
    assert (chart.band.lower[0], chart.band.upper[0]) == (10.0, 12.0)


def test_gaps_provisional_points_comparators_and_baseline() -> None:
    points = rising()
    del points[Q("2023/24 Q4")]
    points[Q("2024/25 Q2")] = Point(92.0, ValueStatus.PROVISIONAL, {"GM average": 87.0})
    chart = build_chart(feel_safe(baseline_value=85.0, baseline_period="2021/22"), points, {})
    value = chart.value_series()
    assert value is not None
    assert math.isnan(value.y[1]) and value.y[0] == 88.0
    assert value.provisional == (False, False, False, True)
    (gm,) = chart.series_of(SeriesKind.COMPARATOR)
    (baseline,) = chart.series_of(SeriesKind.BASELINE)
    assert gm.y[-1] == 87.0 and baseline.y == (85.0, 85.0)
    # Every series differs from every other in line style or marker, not only colour.
    looks = {(s.line, s.marker) for s in chart.series}
    assert len(looks) == len(chart.series)
    assert (value.line, value.marker) == (LineStyle.SOLID, Marker.CIRCLE)
    assert chart.table_headers == ("Quarter", "Value", "Status", "Target", "GM average")
    assert chart.table_rows[1] == ("2023/24 Q4", "No value", "", "", "")
    assert chart.table_rows[-1] == ("2024/25 Q2", "92%", "Provisional", "", "87%")
    assert "(provisional)" in chart.alt_text and "no target set" in chart.alt_text
    assert "Baseline 85% (2021/22)." in chart.alt_text


def test_last_keeps_the_newest_quarters_and_upto_cuts_later_ones() -> None:
    points = {Quarter.from_index(Q("2014/15 Q1").index + i): Point(float(i)) for i in range(40)}
    chart = build_chart(feel_safe(unit=Unit.COUNT), points, {}, upto=Q("2022/23 Q4"), last=8)
    assert chart.x_labels[-1] == "2022/23 Q4" and len(chart.quarters) == 8
    value = chart.value_series()
    assert value is not None and value.y[-1] == 35.0


def test_annual_measures_show_only_their_periods() -> None:
    points = {Q("2022/23 Q4"): Point(24.6), Q("2023/24 Q4"): Point(24.8)}
    facts = feel_safe(frequency=Frequency.ANNUAL, polarity=Polarity.LOWER_BETTER)
    chart = build_chart(facts, points, {FinancialYear(2023): 24.0})
    assert chart.x_labels == ("2022/23 Q4", "2023/24 Q4")
    assert "level at 25% over two values" in chart.alt_text
    assert "target 24%, lower is better (Amber)" in chart.alt_text


def test_a_measure_without_values_says_so() -> None:
    chart = build_chart(feel_safe(), {}, {})
    assert chart.empty
    assert chart.alt_text == "Residents who feel safe: no values recorded yet."


def test_measure_chart_reads_the_store_and_follows_an_edit(store: Store) -> None:
    mp = mini_plan(store)
    with store.transaction() as tx:
        m = tx.get(Measure, mp.measure.id)
        assert m is not None
        services.set_target(tx, m, FinancialYear(2023), 90.0)
        services.record_value(tx, m, Q("2023/24 Q1"), 85.0, comparators={"GM average": 80.0})
    with store.session() as s:
        before = measure_chart(s, mp.measure.id)
    with store.transaction() as tx:
        m = tx.get(Measure, mp.measure.id)
        assert m is not None
        services.record_value(tx, m, Q("2023/24 Q2"), 91.0)
    with store.session() as s:
        after = measure_chart(s, mp.measure.id)
    assert before.x_labels == ("2023/24 Q1",)
    assert after.x_labels == ("2023/24 Q1", "2023/24 Q2")
    value = after.value_series()
    assert value is not None and value.y == (85.0, 91.0)
    assert after.title == "M01 Feel safe (%)"


def test_measure_chart_refuses_a_missing_measure(store: Store) -> None:
    import uuid

    with store.session() as s, pytest.raises(LookupError):
        measure_chart(s, uuid.uuid4())
