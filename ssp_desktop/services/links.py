"""Links between records (an action's partners, the outcomes a measure serves, the
frameworks a plan is aligned to): made and removed here.

A link record has two ends: its owner (the column whose foreign key owns it, deleted
with it) and its target. There is at most one live link between two records.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.services.core import create, delete, service

L = TypeVar("L", bound=Record)


def ends(link_cls: type[Record]) -> tuple[str, str]:
    """The link's owner column and target column, e.g. ("action_id", "organisation_id")."""
    if not getattr(link_cls, "is_link", False):
        raise DomainError(f"{link_cls.__name__} is not a link between two records.")
    keys = [c for c in link_cls.__table__.columns if c.foreign_keys]
    owners = [c.key for c in keys if c.info.get("owner")]
    targets = [c.key for c in keys if not c.info.get("owner")]
    if len(owners) != 1 or len(targets) != 1:
        raise DomainError(f"{link_cls.__name__} does not link one owner to one target.")
    return owners[0], targets[0]


def live_link(tx: Transaction, link_cls: type[L], owner_id: uuid.UUID, target_id: Any) -> L | None:
    owner_field, target_field = ends(link_cls)
    found: L | None = tx.session.scalar(
        select(link_cls).where(
            getattr(link_cls, owner_field) == owner_id,
            getattr(link_cls, target_field) == target_id,
            link_cls.deleted_at.is_(None),
        )
    )
    return found


@service
def link(tx: Transaction, link_cls: type[L], owner: Record, target_id: uuid.UUID) -> L:
    """The live link from ``owner`` to ``target_id``, made if there is none yet."""
    if owner.deleted_at is not None:
        raise DomainError(
            f"Cannot link to {owner.describe()}: it has been deleted, so nothing was changed."
        )
    existing = live_link(tx, link_cls, owner.id, target_id)
    if existing is not None:
        return existing
    owner_field, target_field = ends(link_cls)
    return create(tx, link_cls(**{owner_field: owner.id, target_field: target_id}))


@service
def unlink(
    tx: Transaction, link_cls: type[L], owner_id: uuid.UUID, target_id: uuid.UUID
) -> L | None:
    """Tombstone the live link from ``owner_id`` to ``target_id``, if there is one."""
    existing = live_link(tx, link_cls, owner_id, target_id)
    if existing is not None:
        delete(tx, existing)
    return existing
