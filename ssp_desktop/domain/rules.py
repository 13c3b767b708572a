"""Domain rules of the plan: measure RAG, direction of travel and action consistency flags.

These are pure functions over plain values, so the same rule gives the same answer on
screen, in the board pack PDF and in tests. Every result carries plain-English words so
that no reader has to decode a colour or a symbol.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ssp_desktop.domain.enums import ActionStatus, Polarity, Rag, ToleranceMode
from ssp_desktop.domain.periods import Quarter

__all__ = [
    "DEFAULT_RELATIVE_THRESHOLD",
    "ActionFlag",
    "Direction",
    "FlagKind",
    "MeasureAssessment",
    "Movement",
    "Travel",
    "action_flags",
    "direction_of_travel",
    "fmt_number",
    "measure_rag",
    "travel_for",
]

# A change of up to 2% of the previous value is treated as noise unless told otherwise.
DEFAULT_RELATIVE_THRESHOLD = 0.02

# Values arrive from spreadsheets and arithmetic, so 0.1 + 0.2 must count as 0.3. The tiny
# absolute tolerance covers comparisons against zero, where a relative one is useless.
_REL_EPSILON = 1e-9
_ABS_EPSILON = 1e-12


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_REL_EPSILON, abs_tol=_ABS_EPSILON)


def _at_least(a: float, b: float) -> bool:
    return a >= b or _close(a, b)


def _at_most(a: float, b: float) -> bool:
    return a <= b or _close(a, b)


def fmt_number(x: float) -> str:
    """Format a number for reading: up to 2 decimals, no trailing zeros.

    Thousands separators are used from 10,000 up, where they start to help; "2023" or
    "1500" read better without them.
    """
    if not math.isfinite(x):
        return str(x)
    rounded = round(x, 2)
    text = f"{rounded:,.2f}" if abs(rounded) >= 10_000 else f"{rounded:.2f}"
    text = text.rstrip("0").rstrip(".")
    # Rounding a tiny negative leaves "-0", which reads as a different number.
    return "0" if text == "-0" else text


# --- measure RAG ----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureAssessment:
    """A measure's RAG for one period, with the reason in words (None: no RAG applies)."""

    rag: Rag | None
    reason: str


def _band(target: float, tolerance: float, mode: ToleranceMode) -> float:
    if mode is ToleranceMode.RELATIVE:
        return abs(target) * tolerance / 100
    return tolerance


def _tolerance_words(band: float, tolerance: float, mode: ToleranceMode) -> str:
    if mode is ToleranceMode.RELATIVE:
        return f"{fmt_number(band)}, i.e. {fmt_number(tolerance)}% of the target"
    return fmt_number(band)


def measure_rag(
    value: float | None,
    target: float | None,
    polarity: Polarity,
    tolerance: float = 0.0,
    mode: ToleranceMode = ToleranceMode.ABSOLUTE,
) -> MeasureAssessment:
    """Rate a measure's value against its target.

    Green is on or beyond the target, Amber short of it by no more than the tolerance,
    Red further off. The tolerance is in the measure's unit (ABSOLUTE) or a percentage
    of the target (RELATIVE). Raises ValueError for a negative or NaN tolerance.
    """
    # Checked before anything else so a bad stored tolerance is found whatever the data.
    if math.isnan(tolerance) or tolerance < 0:
        raise ValueError(f"Tolerance must be zero or more, not {tolerance}.")
    if polarity is Polarity.TRACKER:
        return MeasureAssessment(None, "Tracker: no target, so no RAG")
    # NaN is how spreadsheet imports spell "blank"; it must not rate as Red.
    if value is None or math.isnan(value):
        return MeasureAssessment(None, "No value for this period")
    if target is None or math.isnan(target):
        return MeasureAssessment(None, "No target set")

    band = _band(target, tolerance, mode)
    v, t = fmt_number(value), fmt_number(target)
    tol = _tolerance_words(band, tolerance, mode)

    if polarity is Polarity.HIGHER_BETTER:
        if _at_least(value, target):
            return MeasureAssessment(Rag.GREEN, f"{v} is at or above the target of {t}")
        if band > 0 and _at_least(value, target - band):
            return MeasureAssessment(
                Rag.AMBER, f"{v} is within tolerance ({tol}) of the target of {t}"
            )
        short = "below"
    else:
        if _at_most(value, target):
            return MeasureAssessment(Rag.GREEN, f"{v} is at or below the target of {t}")
        if band > 0 and _at_most(value, target + band):
            return MeasureAssessment(
                Rag.AMBER, f"{v} is within tolerance ({tol}) of the target of {t}"
            )
        short = "above"

    if band > 0:
        reason = f"{v} is {short} the target of {t} by more than the tolerance ({tol})"
    else:
        # With no tolerance, "by more than the tolerance (0)" would only confuse.
        reason = f"{v} is {short} the target of {t}"
    return MeasureAssessment(Rag.RED, reason)


# --- direction of travel --------------------------------------------------------------


class Direction(enum.StrEnum):
    """The judgement on a change between two periods.

    Trackers have no good direction, so they only ever increase or decrease.
    """

    IMPROVING = "improving"
    STABLE = "stable"
    WORSENING = "worsening"
    INCREASED = "increased"
    DECREASED = "decreased"
    NO_DATA = "no_data"

    @property
    def word(self) -> str:
        return {
            Direction.IMPROVING: "Improving",
            Direction.STABLE: "Stable",
            Direction.WORSENING: "Worsening",
            Direction.INCREASED: "Increased",
            Direction.DECREASED: "Decreased",
            Direction.NO_DATA: "No comparison",
        }[self]


class Movement(enum.StrEnum):
    """Which way the value itself moved, regardless of whether that is good.

    Kept apart from Direction because for lower-is-better measures "improving" is a
    downward arrow, and showing the judgement as an arrow would mislead.
    """

    UP = "\u2191"
    DOWN = "\u2193"
    LEVEL = "\u2192"
    NONE = "\u2013"

    @property
    def symbol(self) -> str:
        return self.value

    @property
    def word(self) -> str:
        return {
            Movement.UP: "Up",
            Movement.DOWN: "Down",
            Movement.LEVEL: "Level",
            Movement.NONE: "No comparison",
        }[self]


@dataclass(frozen=True)
class Travel:
    """The change in a measure since an earlier period, and what it means."""

    direction: Direction
    movement: Movement
    change: float | None
    compared_with: str


def direction_of_travel(
    current: float | None,
    previous: float | None,
    polarity: Polarity,
    threshold: float | None = None,
    significant: bool | None = None,
    compared_with: str = "",
) -> Travel:
    """Judge the change from `previous` to `current`.

    A change no bigger than `threshold` (default: 2% of the previous value) is Stable.
    `significant` is a survey's significance flag and overrides the threshold: False
    means the change is noise, True means any non-zero change counts.
    Raises ValueError for a negative threshold.
    """
    if threshold is not None and (math.isnan(threshold) or threshold < 0):
        raise ValueError(f"Threshold must be zero or more, not {threshold}.")
    if current is None or previous is None or math.isnan(current) or math.isnan(previous):
        return Travel(Direction.NO_DATA, Movement.NONE, None, compared_with)

    change = current - previous
    if significant is False or _close(current, previous):
        stable = True
    elif significant is True:
        stable = False
    else:
        limit = DEFAULT_RELATIVE_THRESHOLD * abs(previous) if threshold is None else threshold
        # A change exactly at the threshold is still within it, float noise included.
        stable = _at_most(abs(change), limit)

    if stable:
        return Travel(Direction.STABLE, Movement.LEVEL, change, compared_with)

    went_up = change > 0
    movement = Movement.UP if went_up else Movement.DOWN
    if polarity is Polarity.TRACKER:
        direction = Direction.INCREASED if went_up else Direction.DECREASED
    elif went_up == (polarity is Polarity.HIGHER_BETTER):
        direction = Direction.IMPROVING
    else:
        direction = Direction.WORSENING
    return Travel(direction, movement, change, compared_with)


def travel_for(
    values: Mapping[Quarter, float],
    at: Quarter,
    polarity: Polarity,
    threshold: float | None = None,
    significance: Mapping[Quarter, bool | None] | None = None,
) -> tuple[Travel, Travel]:
    """Direction of travel at `at`: (against the previous quarter, against a year earlier).

    The significance flag of the value at `at` applies to both comparisons.
    """
    current = values.get(at)
    significant = significance.get(at) if significance is not None else None

    def against(earlier: Quarter) -> Travel:
        return direction_of_travel(
            current,
            values.get(earlier),
            polarity,
            threshold=threshold,
            significant=significant,
            compared_with=earlier.label,
        )

    return against(at.previous()), against(at.same_quarter_last_year())


# --- action consistency flags ---------------------------------------------------------


class FlagKind(enum.StrEnum):
    """An inconsistency in an action's status, RAG or updates worth showing to the board."""

    PAST_DUE_GREEN = "past_due_green"
    OVERDUE = "overdue"
    NO_UPDATE = "no_update"
    COMPLETE_NOT_GREEN = "complete_not_green"

    @property
    def severity(self) -> int:
        """Higher is worse; a Green past-due action misleads the board, so it ranks first."""
        return {
            FlagKind.PAST_DUE_GREEN: 4,
            FlagKind.OVERDUE: 3,
            FlagKind.NO_UPDATE: 2,
            FlagKind.COMPLETE_NOT_GREEN: 1,
        }[self]

    @property
    def template(self) -> str:
        """The message, with "{quarter}" where the reporting quarter goes."""
        return {
            FlagKind.PAST_DUE_GREEN: "Past its due date and not complete, but marked Green",
            FlagKind.OVERDUE: "Past its due date and not complete",
            FlagKind.NO_UPDATE: "No update for {quarter}",
            FlagKind.COMPLETE_NOT_GREEN: "Marked complete but not Green",
        }[self]

    def message(self, quarter: Quarter) -> str:
        return self.template.format(quarter=quarter.label)


@dataclass(frozen=True)
class ActionFlag:
    """One flag raised on an action, with its message ready to show."""

    kind: FlagKind
    message: str


def action_flags(
    *,
    status: ActionStatus,
    rag: Rag | None,
    due: date | None,
    has_update_for_quarter: bool,
    quarter: Quarter,
    today: date,
    start: date | None = None,
) -> list[ActionFlag]:
    """Flags for one action in the board pack for `quarter`, worst first.

    An open action is past due when its due date fell within or before `quarter` and has
    passed by `today`: a pack must not flag a date that falls after the period it reports
    on, nor one that has not yet arrived while the pack is being prepared.
    """
    kinds: list[FlagKind] = []
    is_open = not status.is_closed
    past_due = is_open and due is not None and due <= quarter.end_date and due < today
    if past_due:
        kinds.append(FlagKind.PAST_DUE_GREEN if rag is Rag.GREEN else FlagKind.OVERDUE)
    if status is ActionStatus.COMPLETE and rag in (Rag.RED, Rag.AMBER):
        kinds.append(FlagKind.COMPLETE_NOT_GREEN)
    # An action that starts after the quarter has nothing to report for it yet.
    started = start is None or start <= quarter.end_date
    if is_open and started and not has_update_for_quarter:
        kinds.append(FlagKind.NO_UPDATE)
    kinds.sort(key=lambda kind: kind.severity, reverse=True)
    return [ActionFlag(kind, kind.message(quarter)) for kind in kinds]


def submission_problem(rag: Rag | None, narrative: str) -> str | None:
    """Why an update cannot be marked submitted yet, or None when it can."""
    lacks = []
    if rag is None:
        lacks.append("choose a RAG rating")
    if not narrative.strip():
        lacks.append("write a progress narrative")
    if not lacks:
        return None
    return f"Before marking the update submitted, {' and '.join(lacks)}."
