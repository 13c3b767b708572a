"""Row-level security on PostgreSQL (migration 0011), with real roles on the test server.

The store is made by an ordinary (not superuser) owner role, as a council's DBA would
make it: a superuser passes every policy, and a table's owner does too unless the table
FORCES row-level security, which 0011 does. Officers of each partnership and a regional
reader connect as their own login roles; raw SQL is how a curious officer with a SQL
client would try to read another partnership's records.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text

from ssp_desktop.domain.records import Action, Plan
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.queries.region import region_summary
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store
from ssp_desktop.store.partnerships import PartnershipChoiceError
from tests.pgserver import PgServer

A = "Safer Stockport Partnership"
B = "Safer Tameside Partnership"


@dataclass(frozen=True)
class Region:
    name: str  # the database
    server: PgServer
    ids: dict[str, uuid.UUID]  # partnership ids by name

    def url(self, user: str) -> str:
        return self.server.url(self.name).replace("postgresql://postgres@", f"postgresql://{user}@")

    def sql(self, user: str, *statements: str, setting: str | None = None) -> list[list[tuple]]:
        import psycopg

        with psycopg.connect(self.url(user)) as conn:
            if setting is not None:
                conn.execute("SELECT set_config('ssp.partnership_ids', %s, false)", (setting,))
            results = []
            for statement in statements:
                cur = conn.execute(statement.encode())
                results.append(cur.fetchall() if cur.description else [(cur.rowcount,)])
            conn.rollback()
            return results


@pytest.fixture(scope="module")
def region(pg_server: PgServer) -> Iterator[Region]:
    tag = uuid.uuid4().hex[:8]
    name = f"rls_{tag}"
    owner, a, b, regional = (
        f"{r}_{tag}" for r in ("owner", "officers_a", "officers_b", "regional")
    )
    pg_server.admin(
        f"CREATE ROLE {owner} LOGIN",
        f"CREATE ROLE {a} NOLOGIN",
        f"CREATE ROLE {b} NOLOGIN",
        f"CREATE ROLE {regional} NOLOGIN",
        f"CREATE ROLE alice_{tag} LOGIN IN ROLE {a}",
        f"CREATE ROLE bob_{tag} LOGIN IN ROLE {b}",
        f"CREATE ROLE rita_{tag} LOGIN IN ROLE {regional}",
    )
    pg_server.create_database(name)
    pg_server.admin(f'ALTER DATABASE "{name}" OWNER TO {owner}')
    region = Region(name, pg_server, {})
    with Store.open(region.url(owner), create=True) as store:
        write_sample(store)
        write_sample(store, partnership_name=B)
    import psycopg

    with psycopg.connect(region.url(owner)) as conn:
        ids = dict((n, i) for i, n in conn.execute("SELECT id, name FROM partnership").fetchall())
        for role in (a, b, regional):
            conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}".encode())
            every = "SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public"
            conn.execute(f"GRANT {every} TO {role}".encode())
            conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}".encode())
        conn.execute(
            "INSERT INTO partnership_role (role_name, partnership_id) VALUES "
            "(%s, %s), (%s, %s), (%s, NULL)",
            (a, ids[A], b, ids[B], regional),
        )
    region.ids.update(ids)
    yield region
    pg_server.drop_database(name)


def _user(region: Region, who: str) -> str:
    return f"{who}_{region.name.removeprefix('rls_')}"


COUNT = "SELECT count(*) FROM action"


def test_every_partnership_table_forces_row_level_security(region: Region) -> None:
    owner = _user(region, "owner")
    rows = region.sql(
        owner,
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = "
        "'public'::regnamespace AND NOT (relrowsecurity AND relforcerowsecurity) ORDER BY 1",
    )[0]
    unprotected = {r[0] for r in rows}
    # Only the tables that hold no partnership's records are left open (the revision
    # counter is one number for the whole store).
    assert unprotected == {
        "alembic_version",
        "store_meta",
        "partnership_role",
        "store_revision",
    }


def test_an_officer_cannot_read_another_partnerships_rows(region: Region) -> None:
    alice = _user(region, "alice")
    b_id = region.ids[B]
    total = region.sql(_user(region, "owner"), COUNT)[0][0][0]
    mine, theirs, plans, log = region.sql(
        alice,
        COUNT,
        f"SELECT count(*) FROM action a JOIN plan p ON p.id = a.plan_id "
        f"WHERE p.partnership_id = '{b_id}'",
        "SELECT DISTINCT partnership_id FROM plan",
        f"SELECT count(*) FROM change_log c JOIN organisation o ON o.id = c.record_id "
        f"WHERE o.partnership_id = '{b_id}'",
    )
    assert mine[0][0] * 2 == total and mine[0][0] > 0
    assert theirs == [(0,)]
    assert plans == [(region.ids[A],)]
    assert log == [(0,)]
    # The session setting narrows; it never widens what the role may read.
    (narrowed,) = region.sql(alice, COUNT, setting=str(b_id))
    assert narrowed == [(0,)]


def test_an_officer_cannot_change_another_partnerships_rows(region: Region) -> None:
    import psycopg

    alice = _user(region, "alice")
    b_id = region.ids[B]
    (updated,) = region.sql(
        alice,
        "UPDATE action SET title = 'mine now' WHERE plan_id IN "
        f"(SELECT id FROM plan WHERE partnership_id = '{b_id}')",
    )
    assert updated == [(0,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        region.sql(
            alice,
            "INSERT INTO organisation (id, partnership_id, name, short_name, sector, "
            "responsible_authority, created_at, updated_at) VALUES "
            f"('{uuid.uuid4()}', '{b_id}', 'Planted', '', '', false, now(), now())",
        )


def test_the_regional_role_reads_both(region: Region) -> None:
    rita = _user(region, "rita")
    total = region.sql(_user(region, "owner"), COUNT)[0]
    assert region.sql(rita, COUNT)[0] == total
    (narrowed,) = region.sql(rita, COUNT, setting=str(region.ids[B]))
    assert narrowed[0][0] * 2 == total[0][0]


def test_the_owner_is_bound_by_the_policies_too(region: Region) -> None:
    # FORCE: the owner reads everything only through its regional row, and the app's
    # setting narrows it like anyone else.
    owner = _user(region, "owner")
    total = region.sql(owner, COUNT)[0][0][0]
    (narrowed,) = region.sql(owner, COUNT, setting=str(region.ids[A]))
    assert narrowed[0][0] * 2 == total


def test_the_app_as_an_officer_opens_their_partnership_without_asking(region: Region) -> None:
    with Store.open(region.url(_user(region, "bob"))) as store:
        assert store.partnership is not None and store.partnership.name == B
        with store.session() as s:
            assert {p.partnership_id for p in plan_queries.plans(s)} == {region.ids[B]}
            assert [p.name for p in region_summary(s)] == [B]


def test_the_app_as_the_regional_role_asks_then_narrows(region: Region) -> None:
    url = region.url(_user(region, "rita"))
    with pytest.raises(PartnershipChoiceError):
        Store.open(url)
    with Store.open(url, partnership=A) as store, store.session() as s:
        plan_ids = set(s.scalars(select(Action.plan_id)))
        owners = set(s.scalars(select(Plan.partnership_id).where(Plan.id.in_(plan_ids))))
        assert owners == {region.ids[A]}
        # The server is told too: raw SQL on the app's connection sees A's rows only.
        raw = s.execute(text("SELECT DISTINCT partnership_id FROM plan")).scalars().all()
        assert raw == [region.ids[A]]
    with Store.open(url, partnership=A) as store, store.session() as s:
        # The region summary still reads every partnership the role may read.
        assert [p.name for p in region_summary(s)] == [A, B]
    with Store.open(url, readonly=True, all_partnerships=True) as store, store.session() as s:
        assert [p.name for p in region_summary(s)] == [A, B]


def test_the_migrations_table_map_follows_the_records() -> None:
    """0011 writes its table map out; with the table 0012 put under the same policy
    (``sync_key``, carrying ``partnership_id``) it must name every table of partnership
    data the app's filter knows, each by the same way up to its partnership."""
    import importlib.util
    from pathlib import Path

    from ssp_desktop.domain.records import Partnership
    from ssp_desktop.store import partnerships

    script = (
        Path(partnerships.__file__).parent / "migrations" / "versions" / "0011_partnership_rls.py"
    )
    spec = importlib.util.spec_from_file_location("m0011", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected: dict[str, tuple[str, str | None] | None] = {}
    for cls in partnerships.scoped_classes():
        table = cls.__tablename__
        if cls is Partnership:
            expected[table] = None
        elif "partnership_id" in cls.__table__.columns:
            expected[table] = ("partnership_id", None)
        elif table == "sync_processed":
            expected[table] = ("lead_id", "sync_lead")
        else:
            step = partnerships._owner_column(cls)
            assert step is not None
            expected[table] = (step[0], step[1].__tablename__)
    assert expected == {**module.TABLES, "sync_key": ("partnership_id", None)}
