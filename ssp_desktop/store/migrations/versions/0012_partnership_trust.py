"""trust of leads' keys per partnership: ``sync_key.partnership_id``

* ``sync_key`` gains ``partnership_id``: the partnership whose trust the key is. In a
  region store a lead's key trusted by Bolton lets nothing into Stockport, and one
  partnership's recovery key is not a recipient of another's bundles.
* Existing keys: a lead's key belongs to its person's partnership; any other key (the
  master's key on a lead copy, a recovery key) to the store's one partnership. A store
  already holding several (a region made before this version trusted every key for all
  of them) keeps that trust: such a key is written once per partnership. A store with
  no partnership yet has nothing to give its keys to; they stay unassigned (NULL) and
  are trusted nowhere but in a store of one partnership, where nothing is filtered.
* On PostgreSQL ``sync_key`` gets the same forced row-level security as the other
  tables carrying ``partnership_id`` (migration 0011's policy), so an officer reads and
  changes only their partnership's trust.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONDITION = '(SELECT ssp_sees_all()) OR ssp_partnership_visible(partnership_id)'

_KEY_COLUMNS = (
    'id',
    'role',
    'partnership_id',
    'person_id',
    'name',
    'email',
    'sign_key',
    'enc_key',
    'fingerprint',
    'status',
    'replaced_by',
    'enrolled_at',
    'enrolled_by',
    'retired_at',
)


def _assign(bind: sa.Connection) -> None:
    """Give every existing key its partnership (see the module docstring)."""
    key = sa.table('sync_key', *(sa.column(c) for c in _KEY_COLUMNS))
    person = sa.table('person', sa.column('id'), sa.column('partnership_id'))
    partnership = sa.table('partnership', sa.column('id'), sa.column('deleted_at'))
    # A lead's key: its person's partnership.
    bind.execute(
        key.update()
        .where(key.c.person_id.is_not(None))
        .values(
            partnership_id=sa.select(person.c.partnership_id)
            .where(person.c.id == key.c.person_id)
            .scalar_subquery()
        )
    )
    held = [
        row[0]
        for row in bind.execute(
            sa.select(partnership.c.id)
            .where(partnership.c.deleted_at.is_(None))
            .order_by(partnership.c.id)
        )
    ]
    if not held:
        return
    first, others = held[0], held[1:]
    unassigned = key.c.partnership_id.is_(None)
    rows = [dict(r._mapping) for r in bind.execute(sa.select(key).where(unassigned))]
    bind.execute(key.update().where(unassigned).values(partnership_id=first))
    # Untyped columns carry each engine's own form of a uuid (SQLite: 32 hex digits).
    def new_id() -> object:
        return uuid.uuid4().hex if bind.dialect.name == 'sqlite' else uuid.uuid4()

    copies = [
        {**row, 'id': new_id(), 'partnership_id': pid, 'replaced_by': None}
        for pid in others
        for row in rows
    ]
    if copies:
        bind.execute(key.insert(), copies)


def upgrade() -> None:
    with op.batch_alter_table('sync_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partnership_id', sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_sync_key_partnership_id'), ['partnership_id'], unique=False
        )
    bind = op.get_bind()
    # Before the policy is on: whoever runs the migration sees every key.
    _assign(bind)
    if bind.dialect.name == 'postgresql':
        op.execute('ALTER TABLE sync_key ENABLE ROW LEVEL SECURITY')
        op.execute('ALTER TABLE sync_key FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY ssp_partnership ON sync_key FOR ALL '
            f'USING ({_CONDITION}) WITH CHECK ({_CONDITION})'
        )


def downgrade() -> None:
    bind = op.get_bind()
    key = sa.table(
        'sync_key', sa.column('id'), sa.column('partnership_id'), sa.column('fingerprint'),
        sa.column('role'), sa.column('status'),
    )
    # One row per key again: the copies a region's keys were given per partnership go
    # (the row kept is the one with the smallest partnership id, as upgrade chose).
    rows = bind.execute(
        sa.select(key.c.id, key.c.fingerprint, key.c.role, key.c.status, key.c.partnership_id)
        .order_by(key.c.fingerprint, key.c.role, key.c.status, key.c.partnership_id)
    ).all()
    seen: set[tuple[str, str, str]] = set()
    extra = []
    for row in rows:
        ident = (row.fingerprint, row.role, row.status)
        if ident in seen and row.role != 'lead':
            extra.append(row.id)
        seen.add(ident)
    if extra:
        bind.execute(key.delete().where(key.c.id.in_(extra)))
    if bind.dialect.name == 'postgresql':
        op.execute('DROP POLICY IF EXISTS ssp_partnership ON sync_key')
        op.execute('ALTER TABLE sync_key NO FORCE ROW LEVEL SECURITY')
        op.execute('ALTER TABLE sync_key DISABLE ROW LEVEL SECURITY')
    with op.batch_alter_table('sync_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_key_partnership_id'))
        batch_op.drop_column('partnership_id')
