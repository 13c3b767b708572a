"""Migrations 0011 (partnership roles and row-level security) and 0012 (trust of keys
per partnership), down and up again, on both engines, on a store holding records and
trusted keys.

Going down must leave the schema as 0010 made it (on PostgreSQL: no policy, no row-level
security, none of 0011's functions) with every record kept; coming back up must give
the records' schema exactly, the server's policies again, and every key its partnership.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import func, inspect, select

from ssp_desktop import services
from ssp_desktop.domain.records import Action, Person
from ssp_desktop.domain.sync_records import SyncKey
from ssp_desktop.store.engine import Store, _alembic_config
from ssp_desktop.sync import trust
from ssp_desktop.sync.keys import JoinRequest, make_recovery_key
from tests.factories import mini_plan
from tests.sync.helpers import new_identity

EMAIL = "alice@example.org"


def _store_with_keys(location: Path | str, tmp_path: Path) -> int:
    """The mini plan, a lead enrolled and the recovery key; returns the action count."""
    with Store.open(location, create=True) as store:
        plan = mini_plan(store)
        with store.transaction(actor="test") as tx:
            person = tx.get(Person, plan.person.id)
            assert person is not None
            services.edit(tx, person, email=EMAIL)
        lead = new_identity()
        trust.enrol(store, JoinRequest("Alice", EMAIL, lead.public, ""), lead.fingerprint)
        key = make_recovery_key(tmp_path / "r.ssprecovery-public", tmp_path / "r.ssprecovery")
        trust.enrol_recovery(store, key, key.fingerprint)
        with store.session() as s:
            return int(s.scalar(select(func.count(Action.id))) or 0)


def _downgrade(store: Store, revision: str) -> None:
    cfg = _alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _server_security(store: Store) -> tuple[int, int, int]:
    """(policies, tables under row-level security, 0011's functions) on a server."""
    with store.engine.connect() as conn:
        return (
            int(conn.exec_driver_sql("SELECT count(*) FROM pg_policies").scalar() or 0),
            int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_class WHERE relrowsecurity "
                    "AND relnamespace = 'public'::regnamespace"
                ).scalar()
                or 0
            ),
            int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_proc WHERE proname IN "
                    "('ssp_regional', 'ssp_sees_all', 'ssp_partnership_visible')"
                ).scalar()
                or 0
            ),
        )


def _schema_diff(store: Store) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from ssp_desktop.domain.base import Base
    from ssp_desktop.store import search

    def records_only(name: str | None, kind: str, _parent: object) -> bool:
        return not (kind == "table" and (name or "").startswith(search.TABLE_PREFIX))

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": records_only})
        return list(compare_metadata(context, Base.metadata))


def test_0011_and_0012_go_down_and_up_again_keeping_everything(
    store_location: Path | str, tmp_path: Path
) -> None:
    actions = _store_with_keys(store_location, tmp_path)
    with Store.open(store_location) as store:
        server = store.is_server
        if server:
            policies, secured, functions = _server_security(store)
            assert policies == secured > 30 and functions == 3

    # One store open throughout: opening a store at an older schema upgrades it.
    with Store.open(store_location, all_partnerships=True) as store:
        _downgrade(store, "0011")
        columns = {c["name"] for c in inspect(store.engine).get_columns("sync_key")}
        assert "partnership_id" not in columns
        if server:  # 0011's policies are still on, but none on sync_key
            with store.engine.connect() as conn:
                on_keys = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_policies WHERE tablename = 'sync_key'"
                ).scalar()
            assert on_keys == 0 and _server_security(store)[0] > 30

        _downgrade(store, "0010_record_versions")
        tables = set(inspect(store.engine).get_table_names())
        assert "partnership_role" not in tables
        if server:
            assert _server_security(store) == (0, 0, 0)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM action").scalar() == actions
            assert conn.exec_driver_sql("SELECT count(*) FROM sync_key").scalar() == 2

    with Store.open(store_location) as store:  # upgrades to the newest again
        assert _schema_diff(store) == []
        if server:
            policies, secured, functions = _server_security(store)
            assert policies == secured > 30 and functions == 3
        assert store.partnership is not None
        with store.session() as s:
            assert s.scalar(select(func.count(Action.id))) == actions
            keys = s.scalars(select(SyncKey)).all()
            # A store of one partnership: every key it trusted is that partnership's.
            assert len(keys) == 2
            assert {k.partnership_id for k in keys} == {store.partnership.id}
