"""partnership row-level security: an officer reads only their partnership's records

* ``partnership_role`` (both engines): which database role reads which partnership; a
  role with no partnership is regional and reads them all (the region summary);
* on PostgreSQL only: row-level security, FORCED (so the tables' owner is bound by it
  too, through its own row in ``partnership_role`` added here as regional), on every
  table holding a partnership's data, with policies for every command:
  - ``partnership`` and the tables carrying ``partnership_id``: the connecting role is
    a member of a role listed for that partnership, or of a regional one, and the
    session setting ``ssp.partnership_ids`` (set by the app for the partnership it
    is open for) is empty or names it;
  - every other table: its parent row (through the plan, or its owning record) is
    visible, the parent's own policy applying in turn;
  - ``change_log`` and ``sync_conflict`` (rows about any record): the record they are
    about is visible.

The table map is written out here, not read from the app's mappings (a migration
must stay as it was when later versions change them); a test checks it against them.

Revision ID: 0011
Revises: 0010_record_versions
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010_record_versions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTING = 'ssp.partnership_ids'

# table -> None (the partnership itself), ('partnership_id', None) (carries it), or
# (column, parent table) (visible when its parent row is).
TABLES: dict[str, tuple[str, str | None] | None] = {
    'partnership': None,
    'organisation': ('partnership_id', None),
    'person': ('partnership_id', None),
    'outcome_framework': ('partnership_id', None),
    'plan': ('partnership_id', None),
    'funding_stream': ('partnership_id', None),
    'board_meeting': ('partnership_id', None),
    'outcome': ('framework_id', 'outcome_framework'),
    'plan_approval': ('plan_id', 'plan'),
    'plan_framework': ('plan_id', 'plan'),
    'priority': ('plan_id', 'plan'),
    'action': ('plan_id', 'plan'),
    'measure': ('plan_id', 'plan'),
    'risk': ('plan_id', 'plan'),
    'board_pack': ('plan_id', 'plan'),
    'priority_area': ('priority_id', 'priority'),
    'priority_outcome': ('priority_id', 'priority'),
    'action_update': ('action_id', 'action'),
    'action_partner': ('action_id', 'action'),
    'action_outcome': ('action_id', 'action'),
    'action_measure': ('action_id', 'action'),
    'measure_target': ('measure_id', 'measure'),
    'measure_value': ('measure_id', 'measure'),
    'measure_outcome': ('measure_id', 'measure'),
    'funding_allocation': ('stream_id', 'funding_stream'),
    'funding_award': ('stream_id', 'funding_stream'),
    'funding_award_outcome': ('award_id', 'funding_award'),
    'pack_export': ('pack_id', 'board_pack'),
    'sync_lead': ('plan_id', 'plan'),
    'sync_bundle': ('plan_id', 'plan'),
    'sync_processed': ('lead_id', 'sync_lead'),
}
# Tables whose rows are about a record named by (entity, record_id).
ABOUT_RECORDS = ('change_log', 'sync_conflict')
# The change log's entities: every table of a plan record (not the sync bookkeeping).
ENTITIES = [t for t in TABLES if not t.startswith('sync_')]

_FUNCTIONS = f"""
CREATE FUNCTION ssp_regional() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM partnership_role r JOIN pg_roles g ON g.rolname = r.role_name
    WHERE r.partnership_id IS NULL AND pg_has_role(current_user, g.oid, 'MEMBER'))
$$;
CREATE FUNCTION ssp_sees_all() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('{SETTING}', true), '') = '' AND ssp_regional()
$$;
CREATE FUNCTION ssp_partnership_visible(pid uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT (coalesce(current_setting('{SETTING}', true), '') = ''
          OR pid::text = ANY (string_to_array(current_setting('{SETTING}', true), ',')))
     AND (ssp_regional() OR EXISTS (
       SELECT 1 FROM partnership_role r JOIN pg_roles g ON g.rolname = r.role_name
       WHERE r.partnership_id = pid AND pg_has_role(current_user, g.oid, 'MEMBER')))
$$;
"""


def _condition(table: str) -> str:
    step = TABLES.get(table)
    if step is None:
        return 'ssp_partnership_visible(id)'
    column, parent = step
    if parent is None:
        return f'ssp_partnership_visible({column})'
    return f'EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{column})'


def _about_condition(table: str) -> str:
    cases = ' '.join(
        f"WHEN '{e}' THEN EXISTS (SELECT 1 FROM {e} x WHERE x.id = {table}.record_id)"
        for e in ENTITIES
    )
    # A row about something that is not a plan record: regional readers only.
    return f'CASE entity {cases} ELSE ssp_regional() END'


def upgrade() -> None:
    op.create_table(
        'partnership_role',
        sa.Column('role_name', sa.String(length=63), nullable=False),
        sa.Column('partnership_id', sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint('role_name', name=op.f('pk_partnership_role')),
    )
    with op.batch_alter_table('partnership_role', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_partnership_role_partnership_id'), ['partnership_id'], unique=False
        )
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(_FUNCTIONS)
    # The role that owns the tables (running this migration) stays able to read and
    # write everything (store copy, later migrations), now through a policy.
    op.execute(
        'INSERT INTO partnership_role (role_name, partnership_id) VALUES (current_user, NULL)'
    )
    conditions = {t: _condition(t) for t in TABLES}
    conditions.update({t: _about_condition(t) for t in ABOUT_RECORDS})
    for table, own in conditions.items():
        # A regional reader of every partnership is let through once per statement
        # (an uncorrelated subquery), not row by row through the parents.
        condition = f'(SELECT ssp_sees_all()) OR {own}'

        op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY ssp_partnership ON {table} FOR ALL '
            f'USING ({condition}) WITH CHECK ({condition})'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in [*TABLES, *ABOUT_RECORDS]:
            op.execute(f'DROP POLICY IF EXISTS ssp_partnership ON {table}')
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
        op.execute('DROP FUNCTION IF EXISTS ssp_partnership_visible(uuid)')
        op.execute('DROP FUNCTION IF EXISTS ssp_sees_all()')
        op.execute('DROP FUNCTION IF EXISTS ssp_regional()')
    with op.batch_alter_table('partnership_role', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_role_partnership_id'))
    op.drop_table('partnership_role')
