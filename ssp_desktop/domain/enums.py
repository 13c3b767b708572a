"""Closed vocabularies of the domain: RAG, polarity, statuses.

Every value that a user sees has a word (and, for RAG and direction, a symbol) so
that no screen or PDF ever relies on colour alone.
"""

from __future__ import annotations

import enum


class Rag(enum.StrEnum):
    """Red / Amber / Green rating of an action or a measure."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def word(self) -> str:
        return self.value.capitalize()

    @property
    def symbol(self) -> str:
        # Distinct shapes, so a monochrome print or a colour-blind reader still tells them apart.
        return {Rag.RED: "\u25b2", Rag.AMBER: "\u25c6", Rag.GREEN: "\u25cf"}[self]

    @property
    def severity(self) -> int:
        """Higher is worse; used to sort exceptions first."""
        return {Rag.GREEN: 0, Rag.AMBER: 1, Rag.RED: 2}[self]


class Polarity(enum.StrEnum):
    """Which way is good for a measure."""

    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"
    TRACKER = "tracker"  # monitored, no target, no RAG

    @property
    def label(self) -> str:
        return {
            Polarity.HIGHER_BETTER: "Higher is better",
            Polarity.LOWER_BETTER: "Lower is better",
            Polarity.TRACKER: "Tracker (no target)",
        }[self]


class ToleranceMode(enum.StrEnum):
    """How a measure's tolerance is read: in the measure's unit, or as % of the target."""

    ABSOLUTE = "absolute"
    RELATIVE = "relative"


class Unit(enum.StrEnum):
    PERCENT = "percent"
    COUNT = "count"
    RATE = "rate"

    @property
    def label(self) -> str:
        return {Unit.PERCENT: "%", Unit.COUNT: "count", Unit.RATE: "rate"}[self]


class Frequency(enum.StrEnum):
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    SURVEY_WAVE = "survey_wave"


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ARCHIVED = "archived"


class ActionStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    DEFERRED = "deferred"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_closed(self) -> bool:
        """Closed actions need no further quarterly updates."""
        return self in (ActionStatus.COMPLETE, ActionStatus.CANCELLED)


class UpdateState(enum.StrEnum):
    """Where a lead's update (or measure value) stands in the strategy team's review.

    draft -> submitted -> accepted, or returned (with a reason) -> submitted again.
    Only the master copy accepts or returns; the board pack prints accepted ones.
    """

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {
            UpdateState.DRAFT: "Draft",
            UpdateState.SUBMITTED: "Submitted",
            UpdateState.ACCEPTED: "Accepted",
            UpdateState.RETURNED: "Returned",
        }[self]

    @property
    def reviewed(self) -> bool:
        """Decided by the strategy team (a lead copy cannot set these)."""
        return self in (UpdateState.ACCEPTED, UpdateState.RETURNED)


class ValueStatus(enum.StrEnum):
    PROVISIONAL = "provisional"
    FINAL = "final"
    # Not published by its owner (police data held back): never printed or rated; the
    # value's note gives the reason.
    WITHHELD = "withheld"


class PackStatus(enum.StrEnum):
    DRAFT = "draft"
    FINAL = "final"
