"""A store holding two partnerships: opened for one, it shows only that one's records.

The store holds the sample (Safer Stockport Partnership) and the sample written again as
a second partnership (Safer Tameside Partnership): the same plan titles, priority codes,
action refs and people's emails, so a read that forgets the partnership shows double or
the wrong one's records. One action in each is renamed so that what a user sees tells
the two apart.

It runs on both engines: on PostgreSQL the store is one database, copied for each test
from a module template (``CREATE DATABASE ... TEMPLATE``), as the file is copied.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import func, select

from ssp_desktop import cli, services
from ssp_desktop.domain.errors import BundleError, SecurityError
from ssp_desktop.domain.records import Action, ActionUpdate, MeasureValue, Person, Plan
from ssp_desktop.domain.sync_records import SyncKey
from ssp_desktop.queries import lists
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.queries.region import RAG_ORDER, region_summary
from ssp_desktop.queries.search import search_plan
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.spreadsheets import importing
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.spreadsheets.workbook import export_workbook
from ssp_desktop.store.engine import Store
from ssp_desktop.store.partnerships import PartnershipChoiceError
from ssp_desktop.sync import trust
from ssp_desktop.sync.bundle import read_bundle
from ssp_desktop.sync.export import export_changes, export_snapshot
from ssp_desktop.sync.importer import import_bundle, import_file, read_sealed
from ssp_desktop.sync.keys import (
    Identity,
    JoinRequest,
    make_recovery_key,
    read_recovery_private,
)
from ssp_desktop.sync.seal import Opener, TrustAnyone
from tests.pgserver import PgServer
from tests.sync.helpers import enrol_identity, members_of, new_identity

A = "Safer Stockport Partnership"
B = "Safer Tameside Partnership"
TITLE = {A: "Stockport only street triage hub", B: "Tameside only knife arch pilot"}
LEAD = "dcs@stockport.example"  # a person in the sample, so in both partnerships


Location = Path | str


def _database(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="module")
def template(module_store_location: Location) -> Location:
    """The two partnerships' store, made once per engine (a file, or a database)."""
    path = module_store_location
    with Store.open(path, create=True) as store:
        write_sample(store)
        write_sample(store, partnership_name=B)
    for name in (A, B):
        with Store.open(path, partnership=name) as store:
            with store.transaction(actor="test") as tx:
                plan = plan_queries.plans(tx.session)[0]
                action = tx.session.scalars(
                    select(Action).where(Action.plan_id == plan.id).order_by(Action.ref)
                ).first()
                assert action is not None
                services.edit(tx, action, title=TITLE[name])
    return path


@pytest.fixture
def two(template: Location, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Location]:
    """A fresh copy of the template for one test."""
    if isinstance(template, Path):
        path = tmp_path / "two.sqlite"
        shutil.copy(template, path)
        yield path
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.create_database(template=_database(template))
    yield url
    server.drop_database(_database(url))


@pytest.fixture
def store_a(two: Location) -> Iterator[Store]:
    with Store.open(two, partnership=A) as store:
        yield store


def _counts(store: Store) -> list[int]:
    with store.session() as s:
        return [
            int(s.scalar(select(func.count()).select_from(cls)) or 0)
            for cls in (Plan, Action, ActionUpdate, MeasureValue, Person)
        ]


def test_a_store_of_several_partnerships_is_refused_without_a_choice(two: Location) -> None:
    with pytest.raises(PartnershipChoiceError) as caught:
        Store.open(two)
    assert caught.value.names == (A, B)
    assert A in str(caught.value) and B in str(caught.value)
    with pytest.raises(PartnershipChoiceError, match="no partnership called 'Salford'"):
        Store.open(two, partnership="Salford")


def test_a_store_of_one_partnership_opens_as_before(tmp_path: Path) -> None:
    with Store.open(tmp_path / "one.sqlite", create=True) as store:
        write_sample(store)
    with Store.open(tmp_path / "one.sqlite") as store:
        assert store.partnership is not None and store.partnership.name == A


def test_each_partnership_sees_only_its_own_records(two: Location) -> None:
    with Store.open(two, all_partnerships=True) as everything:
        total = _counts(everything)
    seen = {}
    for name in (A, B):
        with Store.open(two, partnership=name.upper()) as store:
            seen[name] = _counts(store)
            with store.session() as s:
                plans = plan_queries.plans(s)
                assert {p.partnership_id for p in plans} == {store.partnership.id}  # type: ignore[union-attr]
    assert seen[A] == seen[B]
    assert [a + b for a, b in zip(seen[A], seen[B], strict=True)] == total


def test_the_action_list_shows_the_open_partnerships_actions(two: Location) -> None:
    rows = {}
    plan_ids = {}
    for name in (A, B):
        with Store.open(two, partnership=name) as store, store.session() as s:
            plan_ids[name] = plan_queries.plans(s)[0].id
            rows[name] = lists.action_rows(s, plan_ids[name])
    titles = {name: {r.title for r in rows[name]} for name in (A, B)}
    assert TITLE[A] in titles[A] and TITLE[B] not in titles[A]
    assert TITLE[B] in titles[B] and TITLE[A] not in titles[B]
    assert [r.ref for r in rows[A]] == [r.ref for r in rows[B]]  # the same refs, apart
    # Asked for the other partnership's plan by id, the list is empty.
    with Store.open(two, partnership=A) as store, store.session() as s:
        assert lists.action_rows(s, plan_ids[B]) == []
        assert s.get(Plan, plan_ids[B]) is None


def test_search_finds_only_the_open_partnerships_records(store_a: Store) -> None:
    with store_a.session() as s:
        found = {h.title for g in search_plan(s, "only") for h in g.hits}
        assert any(TITLE[A] in t for t in found)
        assert not any("Tameside" in t for t in found)
        # The sample's people are in both partnerships: each is found once.
        people = [h for g in search_plan(s, "Director of Children") for h in g.hits]
        assert len({h.record_id for h in people}) == len(people) > 0
        visible = set(s.scalars(select(Person.id)))
        assert {h.record_id for h in people if h.entity == "person"} <= visible


def _pdf_text(path: Path) -> str:
    return " ".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def test_each_partnerships_pack_prints_only_its_own_plan(two: Location, tmp_path: Path) -> None:
    texts = {}
    for name in (A, B):
        out = tmp_path / f"{name[6:10]}.pdf"
        code = cli.main(
            [
                "pack",
                "--store",
                str(two),
                "--partnership",
                name,
                "--quarter",
                "2024/25 Q2",
                "--out",
                str(out),
            ]
        )
        assert code == cli.EXIT_OK
        texts[name] = " ".join(_pdf_text(out).split())
    assert "Tameside" not in texts[A] and TITLE[A] in texts[A]
    assert TITLE[B] in texts[B] and TITLE[A] not in texts[B]


def test_a_pack_of_a_store_of_several_needs_the_partnership(
    two: Location, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.pdf"
    args = ["pack", "--store", str(two), "--quarter", "2024/25 Q2", "--out", str(out)]
    assert cli.main(args) == cli.EXIT_REFUSED
    err = capsys.readouterr().err
    assert "--partnership" in err and A in err and B in err
    assert not out.exists()


def test_the_workbook_holds_only_the_open_partnership(two: Location, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    for name in (A, B):
        with Store.open(two, partnership=name) as store:
            out = tmp_path / f"{name[6:10]}.xlsx"
            export_workbook(store, out)
        wb = load_workbook(out, read_only=True)
        cells = {
            str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
        }
        wb.close()
        other = B if name == A else A
        assert TITLE[name] in cells and TITLE[other] not in cells


def test_a_workbook_of_one_partnership_is_refused_in_another(two: Location, tmp_path: Path) -> None:
    out = tmp_path / "stockport.xlsx"
    with Store.open(two, partnership=A) as store:
        export_workbook(store, out)
    with Store.open(two, partnership=B) as store:
        before = store.revision()
        prepared = importing.prepare(out, kind="actions", sheet="Actions")
        with pytest.raises(SpreadsheetError) as caught:
            importing.apply(store, prepared)
        assert store.revision() == before
    message = str(caught.value)
    assert f"belongs to {A}" in message and f"open for {B}" in message
    assert "Nothing was changed" in message
    # Back into its own partnership it is a tracker like any other.
    with Store.open(two, partnership=A) as store:
        importing.preview(store, importing.prepare(out, kind="actions", sheet="Actions"))


def test_a_bundle_holds_only_the_open_partnerships_records(two: Location, tmp_path: Path) -> None:
    out = tmp_path / "lead.sspbundle"
    master_keys = new_identity()
    with Store.open(two, partnership=A) as store:
        enrol_identity(store, LEAD, new_identity())
        export_snapshot(store, out, person=LEAD, identity=master_keys)
        with store.session() as s:
            ours = {str(i) for i in s.scalars(select(Action.id))}
    with Store.open(two, partnership=B) as store, store.session() as s:
        theirs = {str(i) for i in s.scalars(select(Action.id))}
    payload = b"".join(v for k, v in members_of(out).items() if k.endswith(".jsonl"))
    assert any(i.encode() in payload for i in ours)
    assert not any(i.encode() in payload for i in theirs)
    assert b"Tameside" not in payload


def test_a_bundle_of_one_partnership_is_refused_in_another(two: Location, tmp_path: Path) -> None:
    # A lead of A gets a starter from A, changes an action and sends it back; the
    # strategy officer imports it with the store open for B.
    master_keys, lead_keys = new_identity(), new_identity()
    starter = tmp_path / "starter.sspbundle"
    with Store.open(two, partnership=A) as store:
        enrol_identity(store, LEAD, lead_keys)
        export_snapshot(store, starter, person=LEAD, identity=master_keys)
    lead_path = tmp_path / "lead.sqlite"
    import_file(lead_path, starter, identity=lead_keys, master_fingerprint=master_keys.fingerprint)
    with Store.open(lead_path) as lead:
        with lead.transaction(actor="lead") as tx:
            action = tx.session.scalars(select(Action).order_by(Action.ref)).first()
            assert action is not None
            services.edit(tx, action, description="Changed on the lead's laptop")
        changes = tmp_path / "changes.sspbundle"
        export_changes(lead, changes, identity=lead_keys)
    with Store.open(two, partnership=B) as store:
        before = store.revision()
        with pytest.raises(BundleError) as caught:
            import_bundle(store, read_sealed(changes, store, master_keys), file_name="c")
        assert store.revision() == before
    assert f"This bundle belongs to {A}, but the store is open for {B}" in str(caught.value)
    assert "Nothing was changed" in str(caught.value)
    with Store.open(two, partnership=A) as store:
        result = import_bundle(store, read_sealed(changes, store, master_keys), file_name="c")
        assert result.applied


def test_the_region_summary_counts_every_partnership(two: Location) -> None:
    with Store.open(two, all_partnerships=True) as store, store.session() as s:
        summary = region_summary(s)
    assert [p.name for p in summary] == [A, B]
    for p in summary:
        assert [line.code for line in p.priorities] == ["PVP", "PSP", "ROR"]
    with Store.open(two, partnership=A) as store, store.session() as s:
        live = s.scalar(
            select(func.count(Action.id)).where(
                Action.deleted_at.is_(None), Action.plan_id == plan_queries.plans(s)[0].id
            )
        )
    assert sum(summary[0].counts[r] for r in RAG_ORDER) == live


def test_region_summary_prints_rag_in_words(
    two: Location, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["region-summary", "--store", str(two)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    for word in ("Red", "Amber", "Green", "Not rated", A, B, "All priorities"):
        assert word in out
    assert "Sample data - illustrative only." in out


def test_a_new_id_never_leaks_between_partnerships(store_a: Store, two: Location) -> None:
    # A record made while open for A belongs to A: B cannot read it.
    with store_a.transaction(actor="test") as tx:
        plan = plan_queries.plans(tx.session)[0]
        person = services.create(
            tx, Person(id=uuid.uuid4(), partnership_id=plan.partnership_id, name="New officer")
        )
    store_a.close()
    with Store.open(two, partnership=B) as store, store.session() as s:
        assert s.get(Person, person.id) is None


# --------------------------------------------------------------------------- trust


def _lead_copy(
    two: Location, name: str, tmp_path: Path, lead_keys: Identity
) -> tuple[Path, Identity]:
    """A lead's copy of ``name``'s plan, made from a starter encrypted to ``lead_keys``
    (enrolled for ``name`` here), with one change made on it; and the master's keys."""
    master_keys = new_identity()
    starter = tmp_path / f"starter-{name[6:10]}.sspbundle"
    with Store.open(two, partnership=name) as store:
        enrol_identity(store, LEAD, lead_keys)
        export_snapshot(store, starter, person=LEAD, identity=master_keys)
    lead_path = tmp_path / f"lead-{name[6:10]}.sqlite"
    import_file(lead_path, starter, identity=lead_keys, master_fingerprint=master_keys.fingerprint)
    with Store.open(lead_path) as lead, lead.transaction(actor="lead") as tx:
        action = tx.session.scalars(select(Action).order_by(Action.ref)).first()
        assert action is not None
        services.edit(tx, action, description="Changed on the lead's laptop")
    return lead_path, master_keys


def test_a_leads_key_trusted_by_one_partnership_lets_nothing_into_another(
    two: Location, tmp_path: Path
) -> None:
    # The lead's Tameside copy was made for their old laptop's keys; their new laptop's
    # keys are enrolled for Stockport only. Its bundle of Tameside changes is refused,
    # naming Stockport, until Tameside enrols the new keys too.
    old_laptop, new_laptop = new_identity(), new_identity()
    with Store.open(two, partnership=A) as store:
        enrol_identity(store, LEAD, new_laptop)
    lead_path, master_b = _lead_copy(two, B, tmp_path, old_laptop)
    changes = tmp_path / "changes.sspbundle"
    with Store.open(lead_path) as lead:
        export_changes(lead, changes, identity=new_laptop)
    with Store.open(two, partnership=B) as store:
        before = store.revision()
        with pytest.raises(SecurityError) as caught:
            import_bundle(store, read_sealed(changes, store, master_b), file_name="c")
        assert store.revision() == before
        message = str(caught.value)
        assert f"trusted for {A}, not for {B}" in message
        assert f"enrol them for it with the store open for {B}" in message
        assert "Nothing was changed" in message
        enrolled = trust.enrol(
            store, JoinRequest("Lead", LEAD, new_laptop.public, ""), new_laptop.fingerprint
        )
        assert enrolled.partnership == B and f"for {B}" in enrolled.describe()
        result = import_bundle(store, read_sealed(changes, store, master_b), file_name="c")
        assert result.applied
    # Stockport's trust is its own: it holds the new laptop's key alone, Tameside both
    # (the old one retired by the new enrolment).
    for name, expected in (
        (A, {(new_laptop.fingerprint, "active")}),
        (B, {(old_laptop.fingerprint, "retired"), (new_laptop.fingerprint, "active")}),
    ):
        with Store.open(two, partnership=name) as store, store.session() as s:
            rows = s.scalars(select(SyncKey).where(SyncKey.role == "lead")).all()
            assert {(r.fingerprint, r.status) for r in rows} == expected
            assert {r.partnership_id for r in rows} == {store.partnership.id}  # type: ignore[union-attr]


def test_a_recovery_key_is_a_recipient_of_its_own_partnerships_bundles_only(
    two: Location, tmp_path: Path
) -> None:
    public, private = tmp_path / "r.ssprecovery-public", tmp_path / "r.ssprecovery"
    key = make_recovery_key(public, private)
    with Store.open(two, partnership=A) as store:
        trust.enrol_recovery(store, key, key.fingerprint)
    recovery = Opener([read_recovery_private(private)], TrustAnyone(), "the bundle")
    for name in (A, B):
        lead_keys = new_identity()
        out = tmp_path / f"{name[6:10]}.sspbundle"
        with Store.open(two, partnership=name) as store:
            enrol_identity(store, LEAD, lead_keys)
            export_snapshot(store, out, person=LEAD, identity=new_identity())
        if name == A:
            assert read_bundle(out, envelope=recovery).manifest.kind == "snapshot"
        else:
            with pytest.raises(SecurityError):
                read_bundle(out, envelope=recovery)


def test_store_copy_keeps_each_partnerships_trust(
    two: Location, tmp_path: Path, store_engine: str, request: pytest.FixtureRequest
) -> None:
    from ssp_desktop.store.copy import copy_store

    lead_keys = new_identity()
    with Store.open(two, partnership=B) as store:
        enrol_identity(store, LEAD, lead_keys)

    def trusted(location: Location) -> dict[str, set[str]]:
        found = {}
        for name in (A, B):
            with Store.open(location, partnership=name) as store, store.session() as s:
                found[name] = set(s.scalars(select(SyncKey.fingerprint)))
        return found

    expected = {A: set(), B: {lead_keys.fingerprint}}
    assert trusted(two) == expected
    file_copy = tmp_path / "copy.sqlite"
    copy_store(two, file_copy)  # server to file, or file to file
    assert trusted(file_copy) == expected
    if store_engine == "postgresql":
        back = request.getfixturevalue("pg_url")
        copy_store(file_copy, back)  # and file to server
        assert trusted(back) == expected


def test_a_region_store_from_before_0012_keeps_the_trust_it_gave(
    two: Location, tmp_path: Path
) -> None:
    # Before 0012 a key was trusted store-wide: a lead's key belonged to its person's
    # partnership anyway, but a recovery key was a recipient of every partnership's
    # bundles. Upgrading keeps exactly that: the recovery key, once per partnership.
    from alembic import command

    from ssp_desktop.store.engine import _alembic_config

    lead_keys = new_identity()
    key = make_recovery_key(tmp_path / "r.ssprecovery-public", tmp_path / "r.ssprecovery")
    with Store.open(two, partnership=A) as store:
        enrol_identity(store, LEAD, lead_keys)
        trust.enrol_recovery(store, key, key.fingerprint)
    with Store.open(two, all_partnerships=True) as store:
        cfg = _alembic_config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0011")
    for name, lead_trusted in ((A, 1), (B, 0)):
        with Store.open(two, partnership=name) as store, store.session() as s:  # upgrades
            assert len(trust.recovery_keys(s)) == 1
            leads = s.scalars(select(SyncKey).where(SyncKey.role == "lead")).all()
            assert len(leads) == lead_trusted


def test_trust_is_withdrawn_only_in_the_open_partnership(two: Location) -> None:
    lead_keys = new_identity()
    with Store.open(two, partnership=B) as store:
        enrol_identity(store, LEAD, lead_keys)
        with store.session() as s:
            key_id = s.scalars(select(SyncKey.id)).one()
    with Store.open(two, partnership=A) as store:
        with pytest.raises(SecurityError, match=f"not trusted for {A}"):
            trust.withdraw(store, key_id)
    with Store.open(two, partnership=B) as store:
        assert f"no longer trusted for {B}" in trust.withdraw(store, key_id)
        with store.session() as s:
            assert trust.enrolled_people(s) == []
