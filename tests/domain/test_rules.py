"""Tests for the domain rules: measure RAG, direction of travel and action flags."""

from __future__ import annotations

import math
from datetime import date

import pytest

from ssp_desktop.domain.enums import ActionStatus, Polarity, Rag, ToleranceMode
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.rules import (
    ActionFlag,
    Direction,
    FlagKind,
    MeasureAssessment,
    Movement,
    Travel,
    action_flags,
    direction_of_travel,
    fmt_number,
    measure_rag,
    travel_for,
)

HIGHER = Polarity.HIGHER_BETTER
LOWER = Polarity.LOWER_BETTER
TRACKER = Polarity.TRACKER
ABSOLUTE = ToleranceMode.ABSOLUTE
RELATIVE = ToleranceMode.RELATIVE

# --- fmt_number ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "text"),
    [
        pytest.param(92, "92", id="int"),
        pytest.param(92.0, "92", id="whole-float"),
        pytest.param(0.5, "0.5", id="one-decimal"),
        pytest.param(2.50, "2.5", id="trailing-zero"),
        pytest.param(1.234, "1.23", id="rounded-to-two"),
        pytest.param(0.1 + 0.2, "0.3", id="float-noise"),
        pytest.param(0, "0", id="zero"),
        pytest.param(-0.001, "0", id="tiny-negative-is-zero"),
        pytest.param(-3.5, "-3.5", id="negative"),
        pytest.param(1500, "1500", id="no-separator-below-10000"),
        pytest.param(9999.99, "9999.99", id="just-below-10000"),
        pytest.param(9999.999, "10,000", id="rounds-up-to-10000"),
        pytest.param(10_000, "10,000", id="separator-at-10000"),
        pytest.param(12_345.678, "12,345.68", id="separator-with-decimals"),
        pytest.param(-12_345, "-12,345", id="negative-separator"),
        pytest.param(1_234_567.5, "1,234,567.5", id="millions"),
    ],
)
def test_fmt_number(x: float, text: str) -> None:
    assert fmt_number(x) == text


# --- measure_rag ---------------------------------------------------------------------------


# Rows are aligned by hand; the formatter would put every field on its own line.
# fmt: off
RAG_CASES = [
    # Higher is better.
    pytest.param(92, 90, HIGHER, 2, ABSOLUTE, Rag.GREEN,
                 "92 is at or above the target of 90", id="higher-above"),
    pytest.param(90, 90, HIGHER, 2, ABSOLUTE, Rag.GREEN,
                 "90 is at or above the target of 90", id="higher-on-target"),
    pytest.param(89, 90, HIGHER, 2, ABSOLUTE, Rag.AMBER,
                 "89 is within tolerance (2) of the target of 90", id="higher-within"),
    pytest.param(88, 90, HIGHER, 2, ABSOLUTE, Rag.AMBER,
                 "88 is within tolerance (2) of the target of 90", id="higher-tolerance-edge"),
    pytest.param(87.99, 90, HIGHER, 2, ABSOLUTE, Rag.RED,
                 "87.99 is below the target of 90 by more than the tolerance (2)",
                 id="higher-just-outside"),
    pytest.param(85, 90, HIGHER, 2, ABSOLUTE, Rag.RED,
                 "85 is below the target of 90 by more than the tolerance (2)",
                 id="higher-red"),
    pytest.param(89.5, 90, HIGHER, 0, ABSOLUTE, Rag.RED,
                 "89.5 is below the target of 90", id="higher-no-tolerance"),
    # Lower is better.
    pytest.param(45, 50, LOWER, 2, ABSOLUTE, Rag.GREEN,
                 "45 is at or below the target of 50", id="lower-below"),
    pytest.param(50, 50, LOWER, 2, ABSOLUTE, Rag.GREEN,
                 "50 is at or below the target of 50", id="lower-on-target"),
    pytest.param(51, 50, LOWER, 2, ABSOLUTE, Rag.AMBER,
                 "51 is within tolerance (2) of the target of 50", id="lower-within"),
    pytest.param(52, 50, LOWER, 2, ABSOLUTE, Rag.AMBER,
                 "52 is within tolerance (2) of the target of 50", id="lower-tolerance-edge"),
    pytest.param(53, 50, LOWER, 2, ABSOLUTE, Rag.RED,
                 "53 is above the target of 50 by more than the tolerance (2)",
                 id="lower-red"),
    pytest.param(50.5, 50, LOWER, 0, ABSOLUTE, Rag.RED,
                 "50.5 is above the target of 50", id="lower-no-tolerance"),
    # Relative tolerance: 5% of 200 is a band of 10.
    pytest.param(190, 200, HIGHER, 5, RELATIVE, Rag.AMBER,
                 "190 is within tolerance (10, i.e. 5% of the target) of the target of 200",
                 id="relative-higher-edge"),
    pytest.param(189.99, 200, HIGHER, 5, RELATIVE, Rag.RED,
                 "189.99 is below the target of 200 by more than the tolerance "
                 "(10, i.e. 5% of the target)",
                 id="relative-higher-outside"),
    pytest.param(210, 200, LOWER, 5, RELATIVE, Rag.AMBER,
                 "210 is within tolerance (10, i.e. 5% of the target) of the target of 200",
                 id="relative-lower-edge"),
    pytest.param(211, 200, LOWER, 5, RELATIVE, Rag.RED,
                 "211 is above the target of 200 by more than the tolerance "
                 "(10, i.e. 5% of the target)",
                 id="relative-lower-outside"),
    pytest.param(-10.5, -10, HIGHER, 10, RELATIVE, Rag.AMBER,
                 "-10.5 is within tolerance (1, i.e. 10% of the target) of the target of -10",
                 id="relative-negative-target-uses-magnitude"),
    # Zero target.
    pytest.param(0, 0, LOWER, 0, ABSOLUTE, Rag.GREEN,
                 "0 is at or below the target of 0", id="zero-target-met"),
    pytest.param(1, 0, LOWER, 10, RELATIVE, Rag.RED,
                 "1 is above the target of 0", id="zero-target-relative-band-is-zero"),
    pytest.param(1, 0, LOWER, 2, ABSOLUTE, Rag.AMBER,
                 "1 is within tolerance (2) of the target of 0", id="zero-target-absolute"),
    pytest.param(-1, 0, HIGHER, 50, RELATIVE, Rag.RED,
                 "-1 is below the target of 0", id="zero-target-higher-relative"),
    # Float noise counts as on target; a real shortfall does not.
    pytest.param(0.1 + 0.2, 0.3, LOWER, 0, ABSOLUTE, Rag.GREEN,
                 "0.3 is at or below the target of 0.3", id="epsilon-lower"),
    pytest.param(0.3, 0.1 + 0.2, HIGHER, 0, ABSOLUTE, Rag.GREEN,
                 "0.3 is at or above the target of 0.3", id="epsilon-higher"),
    pytest.param(0.7 - 0.5, 0.3, HIGHER, 0.1, ABSOLUTE, Rag.AMBER,
                 "0.2 is within tolerance (0.1) of the target of 0.3", id="epsilon-band-edge"),
    pytest.param(89.9999, 90, HIGHER, 0, ABSOLUTE, Rag.RED,
                 "90 is below the target of 90", id="epsilon-is-tiny"),
    # Large numbers are formatted for reading.
    pytest.param(12_500, 12_000, LOWER, 0, ABSOLUTE, Rag.RED,
                 "12,500 is above the target of 12,000", id="thousands-separator"),
]
# fmt: on


@pytest.mark.parametrize(
    ("value", "target", "polarity", "tolerance", "mode", "rag", "reason"), RAG_CASES
)
def test_measure_rag(
    value: float,
    target: float,
    polarity: Polarity,
    tolerance: float,
    mode: ToleranceMode,
    rag: Rag,
    reason: str,
) -> None:
    assert measure_rag(value, target, polarity, tolerance, mode) == MeasureAssessment(rag, reason)


@pytest.mark.parametrize(
    ("value", "target", "polarity", "reason"),
    [
        pytest.param(5, 10, TRACKER, "Tracker: no target, so no RAG", id="tracker"),
        pytest.param(None, None, TRACKER, "Tracker: no target, so no RAG", id="tracker-no-data"),
        pytest.param(None, 90, HIGHER, "No value for this period", id="no-value"),
        pytest.param(math.nan, 90, HIGHER, "No value for this period", id="nan-value"),
        pytest.param(92, None, HIGHER, "No target set", id="no-target"),
        pytest.param(92, None, LOWER, "No target set", id="no-target-lower"),
        pytest.param(None, None, LOWER, "No value for this period", id="neither"),
    ],
)
def test_measure_rag_without_rating(
    value: float | None, target: float | None, polarity: Polarity, reason: str
) -> None:
    assert measure_rag(value, target, polarity) == MeasureAssessment(None, reason)


@pytest.mark.parametrize(
    ("tolerance", "mode"),
    [
        pytest.param(-1, ABSOLUTE, id="negative-absolute"),
        pytest.param(-5, RELATIVE, id="negative-relative"),
        pytest.param(math.nan, ABSOLUTE, id="nan"),
    ],
)
def test_measure_rag_rejects_bad_tolerance(tolerance: float, mode: ToleranceMode) -> None:
    with pytest.raises(ValueError, match="Tolerance"):
        measure_rag(90, 90, HIGHER, tolerance, mode)


def test_measure_rag_default_is_no_tolerance() -> None:
    assert measure_rag(89, 90, HIGHER).rag is Rag.RED


# --- Direction and Movement ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "word"),
    [
        (Direction.IMPROVING, "Improving"),
        (Direction.STABLE, "Stable"),
        (Direction.WORSENING, "Worsening"),
        (Direction.INCREASED, "Increased"),
        (Direction.DECREASED, "Decreased"),
        (Direction.NO_DATA, "No comparison"),
    ],
    ids=lambda x: str(getattr(x, "name", x)),
)
def test_direction_words(direction: Direction, word: str) -> None:
    assert direction.word == word


@pytest.mark.parametrize(
    ("movement", "symbol", "word"),
    [
        (Movement.UP, "\u2191", "Up"),
        (Movement.DOWN, "\u2193", "Down"),
        (Movement.LEVEL, "\u2192", "Level"),
        (Movement.NONE, "\u2013", "No comparison"),
    ],
    ids=["up", "down", "level", "none"],
)
def test_movement_symbols(movement: Movement, symbol: str, word: str) -> None:
    assert movement.symbol == symbol
    assert movement.word == word


# --- direction_of_travel -------------------------------------------------------------------

IMPROVING, STABLE, WORSENING = Direction.IMPROVING, Direction.STABLE, Direction.WORSENING
UP, DOWN, LEVEL = Movement.UP, Movement.DOWN, Movement.LEVEL


@pytest.mark.parametrize(
    ("current", "previous", "polarity", "threshold", "significant", "direction", "movement"),
    [
        # Polarity decides the judgement; movement shows the raw change.
        pytest.param(110, 100, HIGHER, None, None, IMPROVING, UP, id="higher-up"),
        pytest.param(90, 100, HIGHER, None, None, WORSENING, DOWN, id="higher-down"),
        pytest.param(90, 100, LOWER, None, None, IMPROVING, DOWN, id="lower-down"),
        pytest.param(110, 100, LOWER, None, None, WORSENING, UP, id="lower-up"),
        pytest.param(110, 100, TRACKER, None, None, Direction.INCREASED, UP, id="tracker-up"),
        pytest.param(90, 100, TRACKER, None, None, Direction.DECREASED, DOWN, id="tracker-down"),
        pytest.param(100, 100, TRACKER, None, None, STABLE, LEVEL, id="tracker-level"),
        # Default threshold is 2% of the previous value: 1 on a previous value of 50.
        pytest.param(51, 50, HIGHER, None, None, STABLE, LEVEL, id="default-threshold-edge-up"),
        pytest.param(49, 50, HIGHER, None, None, STABLE, LEVEL, id="default-threshold-edge-down"),
        pytest.param(51.01, 50, HIGHER, None, None, IMPROVING, UP, id="default-threshold-over"),
        pytest.param(48.99, 50, HIGHER, None, None, WORSENING, DOWN, id="default-threshold-under"),
        pytest.param(0.51, 0.5, HIGHER, None, None, STABLE, LEVEL, id="threshold-edge-float"),
        pytest.param(-51, -50, LOWER, None, None, STABLE, LEVEL, id="negative-previous"),
        pytest.param(0.001, 0, HIGHER, None, None, IMPROVING, UP, id="previous-zero-any-change"),
        pytest.param(0, 0, HIGHER, None, None, STABLE, LEVEL, id="previous-zero-no-change"),
        # Explicit threshold.
        pytest.param(103, 100, HIGHER, 5, None, STABLE, LEVEL, id="threshold-within"),
        pytest.param(103, 100, HIGHER, 3, None, STABLE, LEVEL, id="threshold-edge"),
        pytest.param(103, 100, HIGHER, 2.9, None, IMPROVING, UP, id="threshold-over"),
        pytest.param(100.5, 100, LOWER, 0, None, WORSENING, UP, id="threshold-zero"),
        # Significance overrides the threshold.
        pytest.param(150, 100, HIGHER, None, False, STABLE, LEVEL, id="not-significant"),
        pytest.param(150, 100, HIGHER, 0, False, STABLE, LEVEL, id="not-significant-zero-thr"),
        pytest.param(100.5, 100, HIGHER, None, True, IMPROVING, UP, id="significant-small"),
        pytest.param(99.5, 100, LOWER, 10, True, IMPROVING, DOWN, id="significant-over-thr"),
        pytest.param(100, 100, HIGHER, None, True, STABLE, LEVEL, id="significant-zero-change"),
        pytest.param(0.1 + 0.2, 0.3, HIGHER, None, True, STABLE, LEVEL, id="significant-noise"),
        pytest.param(101, 100, HIGHER, None, None, STABLE, LEVEL, id="significance-none"),
    ],
)
def test_direction_of_travel(
    current: float,
    previous: float,
    polarity: Polarity,
    threshold: float | None,
    significant: bool | None,
    direction: Direction,
    movement: Movement,
) -> None:
    travel = direction_of_travel(
        current, previous, polarity, threshold, significant, compared_with="2023/24 Q1"
    )
    assert travel.direction is direction
    assert travel.movement is movement
    assert travel.change == pytest.approx(current - previous)
    assert travel.compared_with == "2023/24 Q1"


@pytest.mark.parametrize(
    ("current", "previous"),
    [
        pytest.param(None, 50, id="no-current"),
        pytest.param(50, None, id="no-previous"),
        pytest.param(None, None, id="neither"),
        pytest.param(math.nan, 50, id="nan-current"),
    ],
)
def test_direction_of_travel_without_data(current: float | None, previous: float | None) -> None:
    travel = direction_of_travel(current, previous, HIGHER, significant=True, compared_with="x")
    assert travel == Travel(Direction.NO_DATA, Movement.NONE, None, "x")


def test_direction_of_travel_rejects_negative_threshold() -> None:
    with pytest.raises(ValueError, match="Threshold"):
        direction_of_travel(2, 1, HIGHER, threshold=-1)


# --- travel_for ----------------------------------------------------------------------------

Q1, Q2 = Quarter(2023, 1), Quarter(2023, 2)
LAST_Q2 = Quarter(2022, 2)


def test_travel_for_both_comparisons() -> None:
    values = {Q1: 50.0, Q2: 55.0, LAST_Q2: 60.0}
    quarterly, yearly = travel_for(values, Q2, HIGHER)
    assert quarterly == Travel(IMPROVING, UP, 5.0, "2023/24 Q1")
    assert yearly == Travel(WORSENING, DOWN, -5.0, "2022/23 Q2")


def test_travel_for_lower_is_better() -> None:
    values = {Q1: 50.0, Q2: 40.0, LAST_Q2: 30.0}
    quarterly, yearly = travel_for(values, Q2, LOWER)
    assert (quarterly.direction, quarterly.movement) == (IMPROVING, DOWN)
    assert (yearly.direction, yearly.movement) == (WORSENING, UP)


def test_travel_for_across_year_boundary() -> None:
    at = Quarter(2024, 1)
    values = {Quarter(2023, 4): 10.0, at: 20.0, Quarter(2023, 1): 20.0}
    quarterly, yearly = travel_for(values, at, TRACKER)
    assert quarterly == Travel(Direction.INCREASED, UP, 10.0, "2023/24 Q4")
    assert yearly == Travel(STABLE, LEVEL, 0.0, "2023/24 Q1")


def test_travel_for_missing_previous_quarter() -> None:
    values = {Q2: 55.0, LAST_Q2: 50.0}
    quarterly, yearly = travel_for(values, Q2, HIGHER)
    assert quarterly == Travel(Direction.NO_DATA, Movement.NONE, None, "2023/24 Q1")
    assert yearly.direction is IMPROVING


def test_travel_for_missing_current_value() -> None:
    values = {Q1: 50.0, LAST_Q2: 50.0}
    quarterly, yearly = travel_for(values, Q2, HIGHER)
    assert quarterly.direction is Direction.NO_DATA
    assert yearly.direction is Direction.NO_DATA
    assert yearly.compared_with == "2022/23 Q2"


def test_travel_for_passes_threshold() -> None:
    values = {Q1: 50.0, Q2: 55.0, LAST_Q2: 45.0}
    quarterly, yearly = travel_for(values, Q2, HIGHER, threshold=5)
    assert quarterly.direction is STABLE  # exactly at the threshold
    assert yearly.direction is IMPROVING


@pytest.mark.parametrize(
    ("significance", "expected"),
    [
        pytest.param({Q2: False}, STABLE, id="current-not-significant"),
        pytest.param({Q2: True}, IMPROVING, id="current-significant"),
        pytest.param({Q2: None}, STABLE, id="current-unknown-uses-threshold"),
        pytest.param({Q1: True, LAST_Q2: True}, STABLE, id="only-current-flag-counts"),
        pytest.param({}, STABLE, id="no-flags"),
    ],
)
def test_travel_for_significance(
    significance: dict[Quarter, bool | None], expected: Direction
) -> None:
    # A 1% rise: below the default threshold, so only a significance flag can make it count.
    values = {Q1: 100.0, Q2: 101.0, LAST_Q2: 100.0}
    quarterly, yearly = travel_for(values, Q2, HIGHER, significance=significance)
    assert quarterly.direction is expected
    assert yearly.direction is expected


# --- action_flags --------------------------------------------------------------------------

QUARTER = Quarter(2023, 2)  # Jul-Sep 2023
AFTER = date(2023, 10, 15)  # pack prepared after the quarter
PAST = date(2023, 8, 1)  # due within the quarter

S = ActionStatus
PAST_DUE_GREEN, OVERDUE = FlagKind.PAST_DUE_GREEN, FlagKind.OVERDUE
NO_UPDATE, COMPLETE_NOT_GREEN = FlagKind.NO_UPDATE, FlagKind.COMPLETE_NOT_GREEN


# fmt: off
ACTION_CASES = [
    # Past due and open.
    pytest.param(S.IN_PROGRESS, Rag.GREEN, PAST, True, AFTER, [PAST_DUE_GREEN],
                 id="past-due-green"),
    pytest.param(S.IN_PROGRESS, Rag.AMBER, PAST, True, AFTER, [OVERDUE], id="overdue-amber"),
    pytest.param(S.IN_PROGRESS, Rag.RED, PAST, True, AFTER, [OVERDUE], id="overdue-red"),
    pytest.param(S.IN_PROGRESS, None, PAST, True, AFTER, [OVERDUE], id="overdue-no-rag"),
    pytest.param(S.NOT_STARTED, Rag.GREEN, PAST, False, AFTER, [PAST_DUE_GREEN, NO_UPDATE],
                 id="past-due-green-and-no-update"),
    pytest.param(S.IN_PROGRESS, Rag.AMBER, PAST, False, AFTER, [OVERDUE, NO_UPDATE],
                 id="overdue-and-no-update"),
    pytest.param(S.IN_PROGRESS, Rag.RED, date(2022, 1, 1), True, AFTER, [OVERDUE],
                 id="due-in-an-earlier-year"),
    # Deferred is still open.
    pytest.param(S.DEFERRED, Rag.GREEN, PAST, True, AFTER, [PAST_DUE_GREEN],
                 id="deferred-past-due-green"),
    pytest.param(S.DEFERRED, Rag.AMBER, None, False, AFTER, [NO_UPDATE],
                 id="deferred-no-update"),
    # Complete.
    pytest.param(S.COMPLETE, Rag.RED, PAST, False, AFTER, [COMPLETE_NOT_GREEN],
                 id="complete-red"),
    pytest.param(S.COMPLETE, Rag.AMBER, None, True, AFTER, [COMPLETE_NOT_GREEN],
                 id="complete-amber"),
    pytest.param(S.COMPLETE, Rag.GREEN, PAST, False, AFTER, [], id="complete-green"),
    pytest.param(S.COMPLETE, None, PAST, False, AFTER, [], id="complete-no-rag"),
    # Cancelled is closed and never flagged.
    pytest.param(S.CANCELLED, Rag.RED, PAST, False, AFTER, [], id="cancelled-red"),
    pytest.param(S.CANCELLED, Rag.GREEN, PAST, False, AFTER, [], id="cancelled-green"),
    # When "past due" applies.
    pytest.param(S.IN_PROGRESS, Rag.GREEN, None, True, AFTER, [], id="no-due-date"),
    pytest.param(S.IN_PROGRESS, Rag.GREEN, date(2023, 10, 1), True, AFTER, [],
                 id="due-after-quarter-before-today"),
    pytest.param(S.IN_PROGRESS, Rag.GREEN, date(2023, 9, 20), True, date(2023, 9, 10), [],
                 id="due-in-quarter-not-yet-reached"),
    pytest.param(S.IN_PROGRESS, Rag.AMBER, date(2023, 9, 10), True, date(2023, 9, 10), [],
                 id="due-today-is-not-past"),
    pytest.param(S.IN_PROGRESS, Rag.AMBER, date(2023, 9, 9), True, date(2023, 9, 10),
                 [OVERDUE], id="due-yesterday-within-quarter"),
    pytest.param(S.IN_PROGRESS, Rag.AMBER, date(2023, 9, 30), True, AFTER, [OVERDUE],
                 id="due-on-last-day-of-quarter"),
    pytest.param(S.IN_PROGRESS, Rag.AMBER, date(2023, 9, 30), True, date(2023, 9, 30), [],
                 id="due-on-last-day-pack-same-day"),
    # Updates.
    pytest.param(S.IN_PROGRESS, Rag.GREEN, date(2024, 3, 31), False, AFTER, [NO_UPDATE],
                 id="no-update-not-yet-due"),
    pytest.param(S.NOT_STARTED, None, None, False, AFTER, [NO_UPDATE],
                 id="no-update-not-started"),
    pytest.param(S.NOT_STARTED, None, None, True, AFTER, [], id="updated-not-started"),
]
# fmt: on


@pytest.mark.parametrize(("status", "rag", "due", "updated", "today", "kinds"), ACTION_CASES)
def test_action_flags(
    status: ActionStatus,
    rag: Rag | None,
    due: date | None,
    updated: bool,
    today: date,
    kinds: list[FlagKind],
) -> None:
    flags = action_flags(
        status=status,
        rag=rag,
        due=due,
        has_update_for_quarter=updated,
        quarter=QUARTER,
        today=today,
    )
    assert [flag.kind for flag in flags] == kinds


@pytest.mark.parametrize(
    ("start", "kinds"),
    [
        pytest.param(None, [NO_UPDATE], id="no-start-date"),
        pytest.param(date(2023, 9, 30), [NO_UPDATE], id="starts-on-quarter-end"),
        pytest.param(date(2023, 10, 1), [], id="starts-after-the-quarter"),
        pytest.param(date(2022, 4, 1), [NO_UPDATE], id="started-long-ago"),
    ],
)
def test_no_update_is_not_flagged_before_an_action_starts(
    start: date | None, kinds: list[FlagKind]
) -> None:
    flags = action_flags(
        status=ActionStatus.NOT_STARTED,
        rag=None,
        due=None,
        has_update_for_quarter=False,
        quarter=QUARTER,
        today=AFTER,
        start=start,
    )
    assert [flag.kind for flag in flags] == kinds


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (PAST_DUE_GREEN, "Past its due date and not complete, but marked Green"),
        (OVERDUE, "Past its due date and not complete"),
        (NO_UPDATE, "No update for 2023/24 Q2"),
        (COMPLETE_NOT_GREEN, "Marked complete but not Green"),
    ],
    ids=lambda x: str(getattr(x, "name", "message")),
)
def test_flag_messages(kind: FlagKind, message: str) -> None:
    assert kind.message(QUARTER) == message


def test_action_flags_carry_messages_worst_first() -> None:
    flags = action_flags(
        status=S.IN_PROGRESS,
        rag=Rag.GREEN,
        due=PAST,
        has_update_for_quarter=False,
        quarter=QUARTER,
        today=AFTER,
    )
    assert flags == [
        ActionFlag(PAST_DUE_GREEN, "Past its due date and not complete, but marked Green"),
        ActionFlag(NO_UPDATE, "No update for 2023/24 Q2"),
    ]
    assert flags[0].kind.severity > flags[1].kind.severity


def test_flag_severities_are_distinct_and_ordered() -> None:
    ranked = sorted(FlagKind, key=lambda kind: kind.severity, reverse=True)
    assert ranked == [PAST_DUE_GREEN, OVERDUE, NO_UPDATE, COMPLETE_NOT_GREEN]
    assert len({kind.severity for kind in FlagKind}) == len(FlagKind)
