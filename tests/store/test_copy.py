"""``ssp-desktop store copy``: a master copy moved to a PostgreSQL server and back keeps
every table, its history and its identity; leads' bundles keep importing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.cli import EXIT_OK, EXIT_REFUSED, main
from ssp_desktop.domain.enums import PlanStatus
from ssp_desktop.domain.records import Action, ChangeLog, Plan
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.backend import record_tables
from ssp_desktop.store.copy import copy_store
from ssp_desktop.store.engine import Store
from ssp_desktop.store.search import find
from ssp_desktop.sync.importer import import_bundle, read_sealed
from tests.sync.helpers import lead_change, make_world


def _tables(location: Path | str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary-key order, as the models read them; not the
    server's access list (``partnership_role``: roles of one server, never copied)."""
    with Store.open(location, readonly=True) as store, store.engine.connect() as conn:
        return {
            table.name: [
                dict(row)
                for row in conn.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in record_tables()
            if table.name != "partnership_role"
        }


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("copy") / "sample.sqlite"
    with Store.open(path, create=True) as store:
        write_sample(store)
    return path


def test_the_sample_goes_to_the_server_and_back_with_every_row(
    sample_file: Path, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tables(sample_file)
    assert main(["store", "copy", "--from", str(sample_file), "--to", pg_url]) == EXIT_OK
    said = capsys.readouterr().out
    assert "every table's row count matches" in said
    on_server = _tables(pg_url)
    assert on_server == before
    back = tmp_path / "back.sqlite"
    assert main(["store", "copy", "--from", pg_url, "--to", str(back)]) == EXIT_OK
    assert _tables(back) == before
    assert len(before["change_log"]) > 100  # the whole history went, not just the records
    with Store.open(back) as store, Store.open(sample_file, readonly=True) as original:
        assert store.store_id == original.store_id and store.site_id == original.site_id
        assert store.revision() == original.revision()
        # The file copy's full-text index was filled from the copied records.
        with store.session() as s:
            title = s.scalars(select(Action.title).limit(1)).one()
            assert find(s, title.split()[0])


def test_writing_to_the_copy_continues_the_revision_numbers(sample_file: Path, pg_url: str) -> None:
    copy_store(sample_file, pg_url)
    with Store.open(pg_url) as store:
        before = store.revision()
        with store.session() as s:
            action_id = s.scalars(
                select(Action.id)
                .join(Plan, Plan.id == Action.plan_id)
                .where(Plan.status != PlanStatus.ARCHIVED)
                .limit(1)
            ).one()

        with store.transaction(actor="officer") as tx:
            action = tx.get(Action, action_id)
            assert action is not None
            services.edit(tx, action, title="Moved to the server")
        assert store.revision() > before
        with store.session() as s:
            assert s.scalar(select(ChangeLog.seq).order_by(ChangeLog.seq.desc()).limit(1)) == (
                store.revision()
            )


def test_a_target_holding_a_store_is_refused_unless_replace(
    sample_file: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_store(sample_file, pg_url)
    capsys.readouterr()
    assert main(["store", "copy", "--from", str(sample_file), "--to", pg_url]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "already holds a plan store" in err and "--replace" in err
    assert (
        main(["store", "copy", "--from", str(sample_file), "--to", pg_url, "--replace"]) == EXIT_OK
    )
    assert _tables(pg_url) == _tables(sample_file)


def test_a_failed_copy_leaves_no_file(pg_url: str, tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite"
    # An empty database holds no store to copy.
    assert main(["store", "copy", "--from", pg_url, "--to", str(target)]) == EXIT_REFUSED
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_lead_bundle_made_against_the_file_master_imports_into_the_server_copy(
    tmp_path: Path, pg_url: str
) -> None:
    world = make_world(tmp_path)
    try:
        bundle = lead_change(world, "Retitled by the lead")
        copy_store(world.master.path or "", pg_url)
        with Store.open(pg_url) as server:
            result = import_bundle(
                server, read_sealed(bundle, server, world.master_keys), file_name=bundle.name
            )
            assert result.applied and not result.problems
            with server.session() as s:
                action = s.get(Action, world.plan.action.id)
                assert action is not None and action.title == "Retitled by the lead"
    finally:
        world.close()
