"""A master copy on a PostgreSQL server: opened, created and migrated with the same
models and migrations as a file; refused with plain words when it cannot be."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from ssp_desktop import services
from ssp_desktop.domain.errors import (
    NotAStoreError,
    StoreNotFoundError,
    StoreUnreachableError,
)
from ssp_desktop.domain.records import Partnership
from ssp_desktop.store.engine import Store, head_revision, redact
from tests.pgserver import PgServer


def test_a_server_store_is_created_migrated_and_reopened(pg_url: str) -> None:
    with Store.open(pg_url, create=True) as store:
        assert store.is_server and store.path is None
        site = store.site_id
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                head_revision()
            )
            assert "action" in inspect(conn).get_table_names()
        with store.transaction(actor="tester") as tx:
            services.create(tx, Partnership(name="Northtown CSP", area="Northtown"))
    with Store.open(pg_url) as again:
        assert again.site_id == site
        assert again.revision() > 0
        with again.session() as s:
            assert s.scalars(select(Partnership.name)).all() == ["Northtown CSP"]


def test_an_empty_database_is_not_a_store_until_created(pg_url: str) -> None:
    with pytest.raises(StoreNotFoundError, match="holds no ssp-desktop store yet"):
        Store.open(pg_url)


def test_a_database_of_another_program_is_refused(pg_server: PgServer, pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE payroll (id int)")
    with pytest.raises(NotAStoreError, match="PostgreSQL database, but not an ssp-desktop"):
        Store.open(pg_url, create=True)


def test_an_unreachable_server_is_said_in_plain_words(tmp_path: object) -> None:
    url = "postgresql://someone:secret@/plans?host=/nonexistent-socket-folder"
    with pytest.raises(StoreUnreachableError, match="Could not reach") as caught:
        Store.open(url)
    assert "secret" not in str(caught.value)


def test_a_missing_database_is_named_as_missing(pg_server: PgServer) -> None:
    with pytest.raises(StoreNotFoundError, match="no such database"):
        Store.open(pg_server.url("no_such_db"))


def test_passwords_never_appear_in_a_shown_location() -> None:
    assert redact("postgresql://ann:hunter2@db.council.example:5433/plans") == (
        "postgresql://ann@db.council.example:5433/plans"
    )
    assert "hunter2" not in redact("postgresql://ann@db/plans?password=hunter2&sslmode=require")
    assert redact("/home/ann/plan.sqlite") == "/home/ann/plan.sqlite"
