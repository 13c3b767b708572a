"""A master copy on a PostgreSQL server: opened, created and migrated with the same
models and migrations as a file; refused with plain words when it cannot be."""

from __future__ import annotations

from typing import Any

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


def test_a_password_in_the_url_is_used_but_never_logged_or_shown(
    pg_store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with_password = pg_store_url.replace("postgres@", "postgres:sekrit-pw@")
    caplog.set_level("DEBUG")
    with Store.open(with_password) as store:
        assert "sekrit-pw" not in store.location and "sekrit-pw" not in store.name
        with store.transaction(actor="tester") as tx:
            services.create(tx, Partnership(name="Westtown CSP", area="Westtown"))
    assert caplog.records and "sekrit-pw" not in caplog.text


def test_the_keyring_supplies_a_server_password_when_in_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring

    from ssp_desktop.store.backend import KEYRING_SERVICE, PostgresBackend

    asked: list[tuple[str, str]] = []

    def get_password(service: str, user: str) -> str:
        asked.append((service, user))
        return "from-keyring"

    monkeypatch.setattr(keyring, "get_password", get_password)
    server = PostgresBackend("postgresql://ann@db.council.example:5433/plans")
    monkeypatch.setenv("SSP_DESKTOP_KEYRING", "on")
    assert server._connect_args(readonly=False)["password"] == "from-keyring"
    assert asked == [(KEYRING_SERVICE, "ann@db.council.example:5433/plans")]
    monkeypatch.setenv("SSP_DESKTOP_KEYRING", "off")  # then libpq's .pgpass decides
    assert "password" not in server._connect_args(readonly=False)
    assert "from-keyring" not in server.location


class _ServerError(Exception):
    """Stands in for a psycopg error: what translation reads is its SQLSTATE."""

    def __init__(self, sqlstate: str, text: str = "server said no") -> None:
        super().__init__(text)
        self.sqlstate = sqlstate
        self.diag = None


@pytest.mark.parametrize(
    ("sqlstate", "error", "words"),
    [
        ("40001", "WriteRaceError", "at the same moment"),
        ("40P01", "WriteRaceError", "Try again"),
        ("53100", "StoreFullError", "out of space"),
        ("55P03", "StoreBusyError", "busy"),
        ("25006", "ReadOnlyLocationError", "read-only"),
        ("28P01", "StoreAccessDeniedError", ".pgpass"),
        ("42501", "StoreAccessDeniedError", "may not do that"),
        ("3D000", "StoreNotFoundError", "no such database"),
        ("08006", "StoreUnreachableError", "Could not reach"),
        ("23503", "DomainError", "refers to a record that does not exist"),
        ("XX001", "CorruptStoreError", "reports damage"),
    ],
)
def test_server_failures_become_errors_in_plain_words(
    sqlstate: str, error: str, words: str
) -> None:
    from ssp_desktop.store.backend import translate_postgres

    translated = translate_postgres(_ServerError(sqlstate), "the plans server")
    assert type(translated).__name__ == error
    assert words in str(translated)


def test_a_duplicate_key_names_the_record_and_field_not_the_values(pg_store_url: str) -> None:
    from sqlalchemy import exc as sa_exc

    from ssp_desktop.domain.errors import DomainError

    with Store.open(pg_store_url) as store:
        with pytest.raises(sa_exc.IntegrityError) as raw:
            with store.engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO store_meta (key, value) VALUES ('site_id', 'secret-value')"
                )
        translated = store.backend.translate(raw.value)
    assert isinstance(translated, DomainError)
    assert str(translated) == "Another store meta already has this key. Nothing was saved."


def test_the_integrity_check_finds_what_the_server_is_not_enforcing(pg_store_url: str) -> None:
    import psycopg

    from ssp_desktop.store.integrity import check_integrity

    with Store.open(pg_store_url) as store:
        assert check_integrity(store) == []
    with psycopg.connect(pg_store_url) as conn:
        conn.execute(
            "ALTER TABLE action ADD CONSTRAINT ck_action_hand_made CHECK (ref <> '') NOT VALID"
        )
    with Store.open(pg_store_url, readonly=True) as store:
        found = [str(p) for p in check_integrity(store)]
    assert found == ["integrity: constraint ck_action_hand_made on action is not validated"]


def test_a_backup_is_a_pg_dump_that_restores_the_store(pg_store_url: str, tmp_path: Any) -> None:
    with Store.open(pg_store_url) as store:
        with store.transaction(actor="tester") as tx:
            services.create(tx, Partnership(name="Northtown CSP", area="Northtown"))
        dump = tmp_path / "before.pgdump"
        store.backend.backup(dump)
        assert dump.read_bytes()[:5] == b"PGDMP"
        with store.transaction(actor="tester") as tx:
            services.create(tx, Partnership(name="Southtown CSP", area="Southtown"))
        store.backend.restore(store.engine, dump)
        with store.session() as s:
            assert s.scalars(select(Partnership.name)).all() == ["Northtown CSP"]


def test_the_command_line_writes_and_checks_the_sample_on_a_server(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from ssp_desktop.cli import EXIT_OK, EXIT_REFUSED, main

    secret_url = pg_url.replace("postgres@", "postgres:pw-in-url@")
    assert main(["demo", "--store", secret_url]) == EXIT_OK
    assert main(["check", "--store", secret_url]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Wrote the sample plan to postgresql://postgres@/" in out
    assert "no problems found" in out and "pw-in-url" not in out
    # A second sample is not mixed into the first; a server store is never "replaced".
    assert main(["demo", "--store", pg_url]) == EXIT_REFUSED
    assert "already holds a partnership" in capsys.readouterr().err
    assert main(["demo", "--store", pg_url, "--force"]) == EXIT_REFUSED
    assert "not replaced" in capsys.readouterr().err
