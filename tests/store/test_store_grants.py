"""``ssp-desktop store grant`` and ``store roles`` on the real test server.

The store is made by an ordinary owner role (as a council's DBA would), holding two
partnerships. Officers' group roles get their access through the command only, never
hand-written SQL; then their login roles connect, through the app and with raw SQL (as a
curious officer with a SQL client would), and must see exactly what was granted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ssp_desktop import cli
from ssp_desktop.queries.region import region_summary
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store
from tests.pgserver import PgServer
from tests.sync.helpers import enrol_identity, new_identity

A = "Safer Stockport Partnership"
B = "Safer Tameside Partnership"


@dataclass(frozen=True)
class Server:
    database: str
    server: PgServer
    tag: str

    def url(self, user: str) -> str:
        return self.server.url(self.database).replace(
            "postgresql://postgres@", f"postgresql://{user}_{self.tag}@"
        )

    def role(self, name: str) -> str:
        return f"{name}_{self.tag}"

    def sql(self, user: str, statement: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(user)) as conn:
            cur = conn.execute(statement.encode())
            rows = cur.fetchall() if cur.description else [(cur.rowcount,)]
            conn.rollback()
            return rows


@pytest.fixture
def region(pg_server: PgServer) -> Iterator[Server]:
    tag = uuid.uuid4().hex[:8]
    database = f"grants_{tag}"
    pg_server.admin(
        f"CREATE ROLE owner_{tag} LOGIN",
        f"CREATE ROLE stockport_{tag} NOLOGIN",
        f"CREATE ROLE tameside_{tag} NOLOGIN",
        f"CREATE ROLE gm_{tag} NOLOGIN",
        f"CREATE ROLE alice_{tag} LOGIN IN ROLE stockport_{tag}",
        f"CREATE ROLE tom_{tag} LOGIN IN ROLE tameside_{tag}",
        f"CREATE ROLE rita_{tag} LOGIN IN ROLE gm_{tag}",
        f"CREATE ROLE root_{tag} LOGIN SUPERUSER",
    )
    pg_server.create_database(database)
    pg_server.admin(f'ALTER DATABASE "{database}" OWNER TO owner_{tag}')
    server = Server(database, pg_server, tag)
    with Store.open(server.url("owner"), create=True) as store:
        write_sample(store)
        write_sample(store, partnership_name=B)
    # Tameside trusts one lead's key (0012: trust is per partnership, under RLS too).
    with Store.open(server.url("owner"), partnership=B) as store:
        enrol_identity(store, "dcs@stockport.example", new_identity())
    yield server
    pg_server.drop_database(database)


def _grant(region: Server, *args: str, who: str = "owner") -> int:
    return cli.main(["store", "grant", "--store", region.url(who), *args])


def _partnership_ids(region: Server, who: str) -> set[str]:
    rows = region.sql(who, "SELECT DISTINCT p.partnership_id::text FROM plan p")
    return {r[0] for r in rows}


def test_an_officer_granted_one_partnership_reads_and_writes_only_it(
    region: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    # Before any grant the officer cannot reach the tables at all.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        region.sql("alice", "SELECT count(*) FROM action")
    stockport = region.role("stockport")
    assert _grant(region, "--role", stockport, "--partnership", A) == cli.EXIT_OK
    assert f"{stockport} now reads and writes {A}" in capsys.readouterr().out
    # Idempotent: again, nothing changes and it says so.
    assert _grant(region, "--role", stockport, "--partnership", A) == cli.EXIT_OK
    assert "already reads and writes" in capsys.readouterr().out

    owner_ids = {
        name: pid for pid, name in region.sql("owner", "SELECT id::text, name FROM partnership")
    }
    assert _partnership_ids(region, "alice") == {owner_ids[A]}
    total = region.sql("owner", "SELECT count(*) FROM action")[0][0]
    mine = region.sql("alice", "SELECT count(*) FROM action")[0][0]
    assert 0 < mine < total
    # Another partnership's trust is out of sight too.
    assert region.sql("owner", "SELECT count(*) FROM sync_key") == [(1,)]
    assert region.sql("alice", "SELECT count(*) FROM sync_key") == [(0,)]
    # Writing the other partnership's rows: no row is reachable; planting one is refused.
    updated = region.sql(
        "alice",
        "UPDATE action SET title = 'mine now' WHERE plan_id IN "
        f"(SELECT id FROM plan WHERE partnership_id = '{owner_ids[B]}')",
    )
    assert updated == [(0,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        region.sql(
            "alice",
            "INSERT INTO organisation (id, partnership_id, name, short_name, sector, "
            "responsible_authority, created_at, updated_at) VALUES "
            f"('{uuid.uuid4()}', '{owner_ids[B]}', 'Planted', '', '', false, now(), now())",
        )
    # Their own partnership's rows they may change.
    changed = region.sql(
        "alice",
        "UPDATE action SET title = title WHERE plan_id IN "
        f"(SELECT id FROM plan WHERE partnership_id = '{owner_ids[A]}')",
    )
    assert changed == [(mine,)]
    # The access list is theirs to read, not to change (or they could make themselves
    # regional).
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        region.sql("alice", "UPDATE partnership_role SET partnership_id = NULL")
    # The app, as the officer, opens their partnership without asking.
    with Store.open(region.url("alice")) as store:
        assert store.partnership is not None and store.partnership.name == A

    # Revoke takes it all away.
    assert _grant(region, "--role", stockport, "--revoke") == cli.EXIT_OK
    assert f"{stockport} no longer reads or writes {A}" in capsys.readouterr().out
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        region.sql("alice", "SELECT count(*) FROM action")
    assert _grant(region, "--role", stockport, "--revoke") == cli.EXIT_OK
    assert "had no access" in capsys.readouterr().out


def test_a_regional_role_sees_the_region_summary(
    region: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    gm, tameside = region.role("gm"), region.role("tameside")
    assert _grant(region, "--role", gm, "--regional") == cli.EXIT_OK
    assert _grant(region, "--role", tameside, "--partnership", B) == cli.EXIT_OK
    capsys.readouterr()
    with Store.open(region.url("rita"), readonly=True, all_partnerships=True) as store:
        with store.session() as s:
            assert [p.name for p in region_summary(s)] == [A, B]
    with Store.open(region.url("tom"), readonly=True, all_partnerships=True) as store:
        with store.session() as s:
            assert [p.name for p in region_summary(s)] == [B]
    assert cli.main(["region-summary", "--store", region.url("rita")]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert A in out and B in out

    assert cli.main(["store", "roles", "--store", region.url("owner")]) == cli.EXIT_OK
    listed = capsys.readouterr().out
    assert f"{gm}: reads every partnership (regional); held by {region.role('rita')}" in listed
    assert f"{tameside}: reads {B}; held by {region.role('tom')}" in listed
    assert "the store's owner" in listed


def test_grants_refuse_clearly(
    region: Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stockport, tameside = region.role("stockport"), region.role("tameside")
    cases = [
        (["--role", region.role("nobody"), "--partnership", A], "no database role called"),
        (["--role", stockport, "--partnership", "Salford"], "no partnership called 'Salford'"),
        (["--role", stockport], "Give either --partnership NAME"),
        (["--role", region.role("root"), "--regional"], "is a superuser"),
    ]
    for args, words in cases:
        assert _grant(region, *args) == cli.EXIT_REFUSED
        assert words in capsys.readouterr().err
    # Not the owner: an officer cannot grant themselves more.
    assert _grant(region, "--role", stockport, "--partnership", A) == cli.EXIT_OK
    assert _grant(region, "--role", tameside, "--regional", who="alice") == cli.EXIT_REFUSED
    err = capsys.readouterr().err
    assert f"Only the store's owner ({region.role('owner')})" in err
    assert f"connected as {region.role('alice')}" in err
    # One role reads one partnership (or all): moving it takes a revoke first.
    assert _grant(region, "--role", stockport, "--partnership", B) == cli.EXIT_REFUSED
    assert f"already reads {A}" in capsys.readouterr().err
    assert _partnership_ids(region, "alice") != set()
    # A store file has no roles.
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as store:
        write_sample(store)
    for command in (
        ["store", "grant", "--store", str(path), "--role", "x", "--regional"],
        ["store", "roles", "--store", str(path)],
    ):
        assert cli.main(command) == cli.EXIT_REFUSED
        assert "Only server stores have database roles" in capsys.readouterr().err
