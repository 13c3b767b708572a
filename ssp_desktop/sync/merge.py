"""Merging a bundle into a store: first planned (the preview), then applied as planned.

The planners read the store and decide every write; nothing is written until
:func:`apply_plan` makes the plan's writes inside one transaction. The preview the user
sees is the plan's :class:`~ssp_desktop.sync.preview.Preview`, so what they approve is
what is written.

* :mod:`~ssp_desktop.sync.merge_changes`: a lead's changes, on the master (three-way,
  field by field; conflicts queued, out-of-scope or rule-breaking items rejected);
* :mod:`~ssp_desktop.sync.merge_snapshot`: the master's snapshot, on a lead;
* :mod:`~ssp_desktop.sync.merge_plan` (the plan and its operations) and
  :mod:`~ssp_desktop.sync.overlay` (the store as it will be once the planned writes
  are made), which both planners use.

Every write of a record goes through the domain services (``services.create``,
``edit``, ``restore``, ``delete``, and ``services.merge.remove_from_copy`` for a record
that left a lead's themes), so the rules the planners judged are enforced again as the
records are written. Each is logged as made by whoever made the change on their own
computer, and when (``domain.changes.Attribution``), with the time it was received
here; never as the account running the import. The sync bookkeeping (conflicts,
processed changes, the bundle's receipt) is written beside them in the same
transaction.
"""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.base import Record, utcnow
from ssp_desktop.domain.changes import ROW_WRITER, Transaction, attributed, insert_rows
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import ChangeLog, record_classes
from ssp_desktop.domain.sync_records import SyncBundle, SyncConflict, SyncProcessed
from ssp_desktop.progress import Progress
from ssp_desktop.services import merge as merging
from ssp_desktop.sync import state
from ssp_desktop.sync.merge_plan import (
    DELETE,
    INSERT,
    REMOVE,
    RESTORE,
    UPDATE,
    MergePlan,
    Op,
    references,
)


def _referred(session: Session, plan: MergePlan) -> list[Record]:
    """The records the plan's writes change, and those they refer to and do not write
    themselves, loaded in a few queries: the writes find what they change, and the rules
    the parents they look up (a value's measure, an action's area), in the session
    instead of asking the store once per record (the plan was made in another session,
    the preview's)."""
    classes = record_classes()
    written = {op.record_id for op in plan.ops}
    wanted: dict[type[Record], set[uuid.UUID]] = {}
    for op in plan.ops:
        if op.kind != INSERT:
            wanted.setdefault(classes[op.entity], set()).add(op.record_id)
    for op in plan.ops:
        if not op.fields:
            continue
        for key, parent_cls in references(classes[op.entity]):
            value = op.fields.get(key)
            if value is not None and value not in written:
                wanted.setdefault(parent_cls, set()).add(value)
    found: list[Record] = []
    for cls, ids in wanted.items():
        id_list = list(ids)
        for first in range(0, len(id_list), 500):
            found.extend(
                session.scalars(select(cls).where(cls.id.in_(id_list[first : first + 500])))
            )
    return found


def _write(tx: Transaction, cls: type[Record], op: Op) -> Record | None:
    if op.kind == INSERT:
        return services.create(tx, cls.new(id=op.record_id, **op.fields))
    obj = tx.get(cls, op.record_id)
    if op.kind == UPDATE:
        if obj is None:
            raise BundleError(
                f"The {op.entity.replace('_', ' ')} to change vanished during the import. "
                "Nothing was changed."
            )
        services.edit(tx, obj, **op.fields)
        if op.entity == "action_update":
            tx.flush()  # "current" moves from one update to another one step at a time
    elif obj is None:
        return None  # nothing to restore, delete or remove
    elif op.kind == RESTORE:
        services.restore(tx, obj)
    elif op.kind == DELETE:
        if obj.deleted_at is None:
            services.delete(tx, obj)
    elif op.kind == REMOVE:
        merging.remove_from_copy(tx, obj)
        return None
    return obj


def apply_plan(
    tx: Transaction,
    plan: MergePlan,
    *,
    file_name: str = "",
    progress: Progress | None = None,
) -> None:
    """Make the plan's writes in ``tx`` (the caller's one transaction)."""
    session = tx.session
    classes = record_classes()
    if plan.meta:
        state.put_meta(session, **plan.meta)
    total = len(plan.ops)
    last_entity = ""
    # Strong references for the length of the import: the session's identity map holds
    # records weakly, and a parent it let go would be read again for every child.
    held = _referred(session, plan)
    for i, op in enumerate(plan.ops, start=1):
        if progress is not None and i % 250 == 0:
            progress.step(i, total, "Applying the changes…")
        if op.entity != last_entity:
            # One table at a time, parents before children; the table before is indexed
            # for search while this one is written (Transaction.batch_written).
            tx.batch_written()
            last_entity = op.entity
        with attributed(session, op.by):
            written = _write(tx, classes[op.entity], op)
        if written is not None:
            held.append(written)
    tx.batch_written()
    _record_bookkeeping(session, plan, file_name)
    tx.flush()


def _record_bookkeeping(session: Session, plan: MergePlan, file_name: str) -> None:
    """The conflicts queued, the changes processed and the bundle's receipt."""
    m = plan.bundle.manifest
    for conflict in plan.conflicts:
        session.add(conflict)
    for conflict_id, values in plan.superseded:
        row = session.get(SyncConflict, conflict_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
    if plan.processed_lead is not None:
        lead_id = plan.processed_lead
        known = set(
            session.scalars(select(SyncProcessed.change_id).where(SyncProcessed.lead_id == lead_id))
        )
        now = utcnow()
        rows: list[dict[str, object]] = []
        for change_id, outcome in plan.processed:
            if change_id not in known:
                known.add(change_id)
                rows.append(
                    {
                        "lead_id": lead_id,
                        "change_id": change_id,
                        "bundle_id": m.bundle_id,
                        "outcome": outcome,
                        "processed_at": now,
                    }
                )
        # One executemany through the driver (a lead's bundle marks thousands of changes
        # processed); these rows are never read back as objects in the transaction that
        # writes them, so the table's own insert does, its values converted as Core
        # converts them (``insert_rows``: a tenth of the import's bookkeeping time).
        insert_rows(
            session.connection(),
            insert(cast(Table, SyncProcessed.__table__)),
            rows,
            session.info.get(ROW_WRITER),
        )
    session.add(
        SyncBundle(
            id=m.bundle_id,
            direction="in",
            kind=m.kind,
            plan_id=m.plan_id,
            sender_site_id=m.sender_site_id,
            lead_id=m.lead_id,
            sequence=m.sequence,
            created_at=m.created_at,
            file_name=file_name,
            summary=plan.preview.summary(),
        )
    )


def touched_records(session: Session, change_set: uuid.UUID) -> list[tuple[str, uuid.UUID]]:
    """(entity, id) of every record one transaction changed, for refreshing views."""
    rows = session.execute(
        select(ChangeLog.entity, ChangeLog.record_id)
        .where(ChangeLog.change_set == change_set)
        .order_by(ChangeLog.seq)
    ).all()
    return list(dict.fromkeys((e, r) for e, r in rows))
