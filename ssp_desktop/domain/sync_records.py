"""What a store remembers about sync through bundle files (DESIGN.md section 4).

These tables are bookkeeping, not plan content, so they are plain mapped tables rather
than change-logged :class:`~ssp_desktop.domain.base.Record` s: the change log records
what happened to the plan; these record what the store knows about its partners.
They are still written only inside ``Store.transaction`` (the import's or a conflict
resolution's), so they commit or roll back with the plan changes they describe.

The store's own role and scope live in ``store_meta`` (keys in :data:`META_KEYS`):

* ``sync_role``: ``"master"`` (the strategy team's copy; merges happen here) or
  ``"lead"`` (a theme lead's copy, made from a starter bundle); absent for a store that
  has never exchanged bundles;
* on a lead copy: ``sync_plan_id``, ``sync_lead_id`` (the master's :class:`SyncLead`
  row this copy belongs to), ``sync_person_id``, ``sync_themes`` (JSON list of priority
  ids), ``sync_actions`` (JSON list of action ids, for a lead given single actions),
  ``sync_master_store_id`` and ``sync_master_site_id`` (the only master this copy
  accepts bundles from), ``sync_master_revision`` (the master's change-log position of
  the last snapshot applied: the lead's "base master revision");
* on any store: ``sync_out_sequence``, the number of the last bundle it wrote.

The public keys a store trusts are rows of :class:`SyncKey` (see ``docs/security.md``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ssp_desktop.domain.base import Base, utcnow

ROLE_MASTER = "master"
ROLE_LEAD = "lead"
ROLE_RECOVERY = "recovery"

KEY_ACTIVE = "active"
KEY_RETIRED = "retired"

META_KEYS = (
    "sync_role",
    "sync_plan_id",
    "sync_lead_id",
    "sync_person_id",
    "sync_themes",
    "sync_actions",
    "sync_master_store_id",
    "sync_master_site_id",
    "sync_master_revision",
    "sync_out_sequence",
)


class SyncLead(Base):
    """On the master: one lead copy the master has issued (a person and their scope).

    ``themes`` holds priority ids, not codes, so renaming a priority's code never moves
    records in or out of a lead's scope. ``actions`` holds action ids: an action lead
    is given their actions (with their updates and links) without the rest of a theme.
    """

    __tablename__ = "sync_lead"
    __table_args__ = (Index("ix_sync_lead_plan_person", "plan_id", "person_id", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID]
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncBundle(Base):
    """A bundle this store wrote (``direction`` "out") or imported ("in").

    Imported rows make imports idempotent and ordered: the same ``id`` again, or a
    ``sequence`` not above the highest already imported from ``sender_site_id``, changes
    nothing. ``summary`` is what the import reported (counts, warnings).
    """

    __tablename__ = "sync_bundle"
    __table_args__ = (Index("ix_sync_bundle_sender", "sender_site_id", "sequence"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(20))
    plan_id: Mapped[uuid.UUID]
    sender_site_id: Mapped[uuid.UUID]
    lead_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    sequence: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    file_name: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SyncConflict(Base):
    """A difference that needs a person: it survives restarts until resolved.

    Values are JSON text (as in the change log), ``None`` when absent. ``local_value`` is
    this store's value when the conflict was found (on the master, the master's value);
    ``incoming_value`` is the bundle's, written by ``incoming_actor`` at
    ``incoming_at`` by the sender's clock. ``field`` is empty for conflicts about a whole
    record (``kind`` "edit_delete", "delete_edit", "delete_child"). ``change_ids`` are the
    sender's change-log ids behind the incoming value.
    """

    __tablename__ = "sync_conflict"
    __table_args__ = (Index("ix_sync_conflict_record", "record_id", "field"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID]
    field: Mapped[str | None] = mapped_column(String(60), default=None)
    base_value: Mapped[str | None] = mapped_column(Text, default=None)
    local_value: Mapped[str | None] = mapped_column(Text, default=None)
    incoming_value: Mapped[str | None] = mapped_column(Text, default=None)
    incoming_actor: Mapped[str] = mapped_column(String(254), default="")
    incoming_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    incoming_site_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # The sender's clock was far ahead of ours when it wrote this: its time is not trusted.
    clock_ahead: Mapped[bool] = mapped_column(default=False)
    bundle_id: Mapped[uuid.UUID]
    lead_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    change_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    # "mine", "theirs" or "edited"; resolved_value is the value that was kept.
    resolution: Mapped[str | None] = mapped_column(String(10), default=None)
    resolved_value: Mapped[str | None] = mapped_column(Text, default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(254), default=None)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class SyncProcessed(Base):
    """A lead's change the master has processed (applied, unchanged, conflict, rejected).

    On the master it is written when a lead's bundle is imported; on a lead copy it is
    copied from the master's snapshot (the acknowledgement), so the lead stops sending
    that change. ``lead_id`` names the lead copy the change came from.
    """

    __tablename__ = "sync_processed"

    lead_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    change_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    bundle_id: Mapped[uuid.UUID]
    outcome: Mapped[str] = mapped_column(String(20))
    processed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncKey(Base):
    """A public key this store trusts (never a private key).

    * ``role`` "lead" (on the master: a person's install, enrolled from their join
      request after the fingerprint was compared; ``person_id`` says who);
    * ``role`` "master" (on a lead copy: the master's install, from the starter bundle;
      the only signer that copy accepts);
    * ``role`` "recovery" (the partnership recovery key: a second recipient of every
      bundle; it never signs, so ``sign_key`` is empty).

    A rotated key is kept as "retired" (with ``replaced_by``) so the history says which
    key signed what; only "active" keys are trusted to sign or encrypted to.
    Keys are base64 text of the raw 32-byte public keys.

    Trust belongs to one partnership (``partnership_id``; migration 0012): in a region
    store, a lead's key enrolled for Bolton lets nothing into Stockport, and Bolton's
    recovery key is not a recipient of Stockport's bundles. The same install may be
    enrolled for two partnerships, as each one's person.
    """

    __tablename__ = "sync_key"
    __table_args__ = (Index("ix_sync_key_fingerprint", "fingerprint"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    role: Mapped[str] = mapped_column(String(10))
    partnership_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    sign_key: Mapped[str] = mapped_column(String(64), default="")
    enc_key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default=KEY_ACTIVE)
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    enrolled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    enrolled_by: Mapped[str] = mapped_column(String(254), default="")
    retired_at: Mapped[dt.datetime | None] = mapped_column(default=None)


__all__ = [
    "KEY_ACTIVE",
    "KEY_RETIRED",
    "META_KEYS",
    "ROLE_LEAD",
    "ROLE_MASTER",
    "ROLE_RECOVERY",
    "SyncBundle",
    "SyncConflict",
    "SyncKey",
    "SyncLead",
    "SyncProcessed",
]
