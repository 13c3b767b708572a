"""A published pack made again from the store's history is byte-identical (issue 16,
item 5): the sample plan's pack is exported and published, then the store moves on -
edits, a correction of a published figure, a spreadsheet import and a lead's bundle -
and ``--as-published`` still gives the same SHA-256."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import Rag, UpdateState
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    BoardPack,
    Measure,
    MeasureValue,
    Plan,
    Risk,
)
from ssp_desktop.reports.export import export_pack, publish_export, remake_export
from ssp_desktop.sample.plan import SAMPLE_QUARTER, write_sample
from ssp_desktop.services.locks import correct
from ssp_desktop.spreadsheets.importing import apply, prepare
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.export import export_changes, export_snapshot
from ssp_desktop.sync.importer import import_bundle, import_file, read_sealed
from tests.spreadsheets.sheets import write_csv
from tests.sync.helpers import enrol_identity, new_identity

LEAD = "dcs@stockport.example"


def _later_edits(store: Store) -> None:
    with store.session() as s:
        pack = s.scalars(select(BoardPack)).one()
        plan_id, quarter = pack.plan_id, pack.quarter
    with store.transaction(actor="officer") as tx:
        actions = tx.session.scalars(
            select(Action).where(Action.plan_id == plan_id).order_by(Action.ref)
        ).all()
        services.edit(tx, actions[0], title=actions[0].title + " (retitled)")
        services.edit(tx, actions[1], due_date=dt.date(2026, 3, 31))
        area = actions[2].priority_area
        services.add_action(tx, area, ref="ZZ-99", title="A new action after publication")
        risk = tx.session.scalars(select(Risk).where(Risk.plan_id == plan_id)).first()
        if risk is not None:
            services.delete(tx, risk, cascade=True)
        pack_record = tx.get(BoardPack, pack.id)
        assert pack_record is not None
        services.edit(tx, pack_record, summary="Rewritten after the meeting.")
        # A later quarter is open as ever.
        services.write_update(
            tx,
            actions[3],
            quarter.next(),
            rag=Rag.GREEN,
            narrative="Next quarter's update.",
            written_on=dt.date(2025, 1, 10),
            state=UpdateState.ACCEPTED,
        )
    with store.transaction(actor="analyst") as tx:
        value = tx.session.scalars(
            select(MeasureValue)
            .join(Measure, Measure.id == MeasureValue.measure_id)
            .where(Measure.plan_id == plan_id, MeasureValue.period == quarter)
            .order_by(Measure.ref)
        ).first()
        assert value is not None
        correct(tx, value, "Validated late", value=(value.value or 0) + 1, note="Revised")
        update = tx.session.scalars(
            select(ActionUpdate)
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(
                Action.plan_id == plan_id,
                ActionUpdate.quarter == quarter,
                ActionUpdate.is_current.is_(True),
                ActionUpdate.state == UpdateState.ACCEPTED,
            )
            .order_by(Action.ref)
        ).first()
        assert update is not None
        correct(tx, update, "Wrong RAG sent", rag=Rag.RED)


def _spreadsheet(store: Store, folder: Path, quarter: Quarter) -> None:
    with store.session() as s:
        pack = s.scalars(select(BoardPack)).one()
        ref = s.scalars(
            select(Measure.ref).where(Measure.plan_id == pack.plan_id).order_by(Measure.ref)
        ).first()
    path = write_csv(
        folder / "values.csv",
        [
            ["Ref", "Quarter", "Value"],
            [ref, quarter.next().label, 12],
            [ref, quarter.shift(2).label, 13],
        ],
    )
    result = apply(store, prepare(path))
    assert result.applied


def _bundle(store: Store, folder: Path) -> None:
    master_keys = new_identity()
    lead_keys = new_identity()
    enrol_identity(store, LEAD, lead_keys)
    with store.session() as s:
        pack = s.scalars(select(BoardPack)).one()
        plan = s.get(Plan, pack.plan_id)
        assert plan is not None
        title = plan.title
    starter = folder / "starter.sspbundle"
    export_snapshot(store, starter, person=LEAD, plan=title, identity=master_keys)
    lead_path = folder / "lead.sqlite"
    assert import_file(
        lead_path, starter, identity=lead_keys, master_fingerprint=master_keys.fingerprint
    ).applied
    with Store.open(lead_path) as lead:
        with lead.transaction() as tx:
            action = tx.session.scalars(
                select(Action).where(Action.deleted_at.is_(None)).order_by(Action.ref)
            ).first()
            assert action is not None
            services.edit(tx, action, description="Changed on the lead's laptop.")
        back = folder / "back.sspbundle"
        export_changes(lead, back, identity=lead_keys)
    result = import_bundle(store, read_sealed(back, store, master_keys), file_name=back.name)
    assert result.applied


def test_a_published_sample_pack_is_made_again_byte_for_byte(tmp_path: Path) -> None:
    with Store.open(tmp_path / "sample.sqlite", create=True) as store:
        write_sample(store)
        with store.session() as s:
            pack_id = s.scalars(select(BoardPack.id)).one()
        published = export_pack(store, pack_id, tmp_path / "published.pdf")
        publish_export(store, published.export_id, actor="strategy")
        original = (tmp_path / "published.pdf").read_bytes()

        _later_edits(store)
        _spreadsheet(store, tmp_path, SAMPLE_QUARTER)
        _bundle(store, tmp_path)
        # The store has moved on: the same pack exported now is another file.
        now = export_pack(store, pack_id, tmp_path / "now.pdf")
        assert now.sha256 != published.sha256

        remade = remake_export(store, published.export_id, tmp_path / "remade.pdf")
        assert remade.reason == ""
        assert remade.matches and remade.sha256 == published.sha256
        assert (tmp_path / "remade.pdf").read_bytes() == original
