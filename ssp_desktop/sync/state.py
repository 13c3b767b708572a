"""A store's sync role and scope (``store_meta``), read and written atomically.

See :mod:`ssp_desktop.domain.sync_records` for the keys. Writes go through the session of
the transaction that also writes the plan changes, so a crash never leaves a store that
has applied a bundle without remembering it (or the reverse).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import StoreMeta
from ssp_desktop.domain.sync_records import ROLE_LEAD, SyncBundle, SyncConflict
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.manifest import KIND_CHANGES


@dataclass(frozen=True)
class LeadCopy:
    """What a lead copy knows about itself."""

    plan_id: uuid.UUID
    lead_id: uuid.UUID
    person_id: uuid.UUID
    themes: tuple[uuid.UUID, ...]
    master_store_id: uuid.UUID
    master_site_id: uuid.UUID
    master_revision: int
    actions: tuple[uuid.UUID, ...] = ()  # single actions, beside (or instead of) themes


def read_meta(session: Session) -> dict[str, str]:
    return {m.key: m.value for m in session.scalars(select(StoreMeta))}


def put_meta(session: Session, **values: str) -> None:
    for key, value in values.items():
        session.merge(StoreMeta(key=key, value=value))


def role(session: Session) -> str:
    return read_meta(session).get("sync_role", "")


def lead_copy(session: Session) -> LeadCopy | None:
    meta = read_meta(session)
    if meta.get("sync_role") != ROLE_LEAD:
        return None
    try:
        return LeadCopy(
            plan_id=uuid.UUID(meta["sync_plan_id"]),
            lead_id=uuid.UUID(meta["sync_lead_id"]),
            person_id=uuid.UUID(meta["sync_person_id"]),
            themes=tuple(uuid.UUID(t) for t in json.loads(meta["sync_themes"])),
            master_store_id=uuid.UUID(meta["sync_master_store_id"]),
            master_site_id=uuid.UUID(meta["sync_master_site_id"]),
            master_revision=int(meta.get("sync_master_revision", "0")),
            # A copy made before action scopes has none.
            actions=tuple(uuid.UUID(a) for a in json.loads(meta.get("sync_actions", "[]"))),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise BundleError(
            "This store says it is a lead copy, but its sync settings are incomplete. "
            "Ask the strategy team for a new starter bundle."
        ) from exc


def next_sequence(session: Session) -> int:
    """The number of the next bundle this store writes (kept in the same transaction)."""
    current = int(read_meta(session).get("sync_out_sequence", "0"))
    put_meta(session, sync_out_sequence=str(current + 1))
    return current + 1


def last_imported(
    session: Session, sender_site_id: uuid.UUID, lead_id: uuid.UUID | None = None
) -> int:
    """The highest bundle number imported from a sender: on the master, from a lead (by
    the lead copy the signature proves, not the site id the manifest claims, which
    another lead could copy); on a lead, from the master's site."""
    sender = (
        SyncBundle.lead_id == lead_id
        if lead_id is not None
        else SyncBundle.sender_site_id == sender_site_id
    )
    value = session.scalar(
        select(func.max(SyncBundle.sequence)).where(
            sender, SyncBundle.direction == "in", SyncBundle.kind == KIND_CHANGES
        )
        if lead_id is not None
        else select(func.max(SyncBundle.sequence)).where(sender, SyncBundle.direction == "in")
    )
    return int(value or 0)


def site_used_by_another_lead(
    session: Session, sender_site_id: uuid.UUID, lead_id: uuid.UUID
) -> bool:
    """Whether ``sender_site_id`` is this store's own site, or bundles from another lead
    copy came from it."""
    if read_meta(session).get("site_id") == str(sender_site_id):
        return True
    return (
        session.scalar(
            select(SyncBundle.id)
            .where(
                SyncBundle.sender_site_id == sender_site_id,
                SyncBundle.direction == "in",
                SyncBundle.kind == KIND_CHANGES,
                SyncBundle.lead_id != lead_id,
            )
            .limit(1)
        )
        is not None
    )


def open_conflict_count(store: Store) -> int:
    with store.session() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(SyncConflict).where(SyncConflict.status == "open")
            )
            or 0
        )
