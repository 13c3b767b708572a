"""Which updates and values wait for the strategy team's review, and how many.

``queries.review`` reads the whole queue (each item's words, the one before it, who
submitted it when); the window's "To review" tab says how many wait before anyone opens
it, with :func:`review_count`. Both select the same rows, from here.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import UpdateState
from ssp_desktop.domain.records import Action, ActionUpdate, Measure, MeasureValue, PriorityArea

__all__ = ["REVIEW_ENTITIES", "review_count", "submitted_updates", "submitted_values"]

# Records whose change can add an item to the queue, take one off, or change its words.
REVIEW_ENTITIES: Final = frozenset(
    {
        "action_update",
        "measure_value",
        "action",
        "measure",
        "measure_target",
        "priority",
        "priority_area",
        "person",
        "organisation",
        "plan",
    }
)


def submitted_updates(plan_id: uuid.UUID, *columns: Any) -> Select[Any]:
    """``columns`` of each submitted current update of the plan's live actions (the
    queue's rows, and what :func:`review_count` counts)."""
    return (
        select(*columns)
        .select_from(ActionUpdate)
        .join(Action, Action.id == ActionUpdate.action_id)
        .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
        .where(
            Action.plan_id == plan_id,
            Action.deleted_at.is_(None),
            ActionUpdate.state == UpdateState.SUBMITTED,
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
        )
    )


def submitted_values(plan_id: uuid.UUID, *columns: Any) -> Select[Any]:
    """``columns`` of each submitted value of the plan's live measures."""
    return (
        select(*columns)
        .select_from(MeasureValue)
        .join(Measure, Measure.id == MeasureValue.measure_id)
        .where(
            Measure.plan_id == plan_id,
            Measure.deleted_at.is_(None),
            MeasureValue.state == UpdateState.SUBMITTED,
            MeasureValue.deleted_at.is_(None),
        )
    )


def review_count(session: Session, plan_id: uuid.UUID) -> int:
    """How many items ``queries.review.review_queue`` lists, in two counting queries (the tab's
    title, before anyone opens the list)."""
    updates = session.scalar(submitted_updates(plan_id, func.count(ActionUpdate.id)))
    values = session.scalar(submitted_values(plan_id, func.count(MeasureValue.id)))
    return int(updates or 0) + int(values or 0)
