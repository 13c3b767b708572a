"""Review and sign-off as the board pack shows it (issue 16): only accepted updates and
values in print (submitted ones when asked, marked), provenance, publishing and the
period lock, corrections listed in the next pack, and packs made again byte for byte."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pikepdf
import pypdf
import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import PackStatus, Rag, UpdateState
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    BoardPack,
    ChangeLog,
    Measure,
    MeasureValue,
    PackExport,
)
from ssp_desktop.domain.validation import ValidationError
from ssp_desktop.reports.export import (
    export_pack,
    pack_document,
    prepare_pack,
    publish_export,
    remake_export,
)
from ssp_desktop.services.locks import LockedError, correct, correction
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q = Quarter.parse("2023/24 Q2")


def _text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() or "" for p in pypdf.PdfReader(path).pages).split())


def _pack_for(store: Store, mp: MiniPlan, quarter: Quarter = Q) -> uuid.UUID:
    return prepare_pack(store, mp.plan.id, quarter, meeting_date=dt.date(2023, 11, 20))


def _update(
    store: Store, mp: MiniPlan, text: str, state: UpdateState, rag: Rag = Rag.AMBER
) -> None:
    with store.transaction() as tx:
        action = tx.get(Action, mp.action.id)
        assert action is not None
        services.write_update(
            tx, action, Q, rag=rag, narrative=text, written_on=dt.date(2023, 10, 9), state=state
        )


def _value(store: Store, mp: MiniPlan, quarter: Quarter, figure: float, state: UpdateState) -> None:
    with store.transaction() as tx:
        measure = tx.get(Measure, mp.measure.id)
        assert measure is not None
        value = services.record_value(tx, measure, quarter, figure)
        services.edit(tx, value, state=state)


@pytest.fixture
def mp(store: Store) -> MiniPlan:
    plan = mini_plan(store)
    with store.transaction() as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.set_target(tx, measure, FinancialYear(2023), 50.0)
    return plan


# --------------------------------------------------------------------------- review


def test_drafts_never_print_and_a_later_draft_leaves_the_accepted_update_in_print(
    store: Store, mp: MiniPlan, tmp_path: Path
) -> None:
    _update(store, mp, "Accepted: two IDVAs in post.", UpdateState.ACCEPTED, Rag.GREEN)
    _update(store, mp, "Draft: still thinking.", UpdateState.DRAFT, Rag.RED)
    pack_id = _pack_for(store, mp)
    for include in (False, True):
        text = _text(
            export_pack(
                store, pack_id, tmp_path / f"p{include}.pdf", include_awaiting_review=include
            ).path
        )
        assert "Accepted: two IDVAs in post." in text
        assert "Draft: still thinking." not in text
        assert "Awaiting review:" not in text


def test_a_submitted_update_and_value_print_only_when_asked_and_marked(
    store: Store, mp: MiniPlan, tmp_path: Path
) -> None:
    _update(store, mp, "Submitted: recruitment delayed.", UpdateState.SUBMITTED, Rag.RED)
    _value(store, mp, Q.previous(), 40.0, UpdateState.ACCEPTED)
    _value(store, mp, Q, 61.0, UpdateState.SUBMITTED)
    pack_id = _pack_for(store, mp)

    plain = _text(export_pack(store, pack_id, tmp_path / "plain.pdf").path)
    assert "recruitment delayed" not in plain
    assert "61.0%" not in plain and "40.0%" in plain  # the accepted value is the latest
    assert "Not included: this pack shows accepted updates and values only" in plain

    path = export_pack(store, pack_id, tmp_path / "review.pdf", include_awaiting_review=True).path
    marked = _text(path)
    assert "Awaiting review: Submitted: recruitment delayed." in marked
    assert "61.0% (provisional) (awaiting review)" in marked  # scorecard
    assert "61.0% Provisional, awaiting review" in marked  # the chart's data table
    assert "Included, each marked “Awaiting review”" in marked
    assert "These counts include 1 action update and 1 measure value awaiting review" in marked
    # The marking is text inside the tagged content (the tracker cell, the chart's data
    # table), so a screen reader reads it where it is printed.
    document = pack_document(store, pack_id, include_awaiting_review=True).document
    cells = [
        str(cell.text if hasattr(cell, "text") else cell)
        for block in document.blocks()
        if hasattr(block, "rows")
        for row in block.rows
        for cell in row
    ]
    assert any(c.startswith("Awaiting review: Submitted") for c in cells)
    assert any("awaiting review" in c.lower() for c in cells if "61" in c or "Provisional" in c)
    with pikepdf.open(path) as pdf:
        assert str(pdf.docinfo["/IncludesUpdatesAwaitingReview"]) == "yes"


# --------------------------------------------------------------------------- provenance


def test_the_cover_and_metadata_give_the_data_revision_and_times(
    store: Store, mp: MiniPlan, tmp_path: Path
) -> None:
    _update(store, mp, "Accepted.", UpdateState.ACCEPTED)
    pack_id = _pack_for(store, mp)
    with store.session() as s:
        last = s.scalars(select(ChangeLog).order_by(ChangeLog.seq.desc()).limit(1)).one()
        revision, as_at = last.seq, last.at
    result = export_pack(store, pack_id, tmp_path / "p.pdf")
    text = _text(result.path)
    assert f"Data revision {revision}" in text
    assert f"{as_at:%H:%M} UTC" in text
    with pikepdf.open(result.path) as pdf:
        info = {str(k)[1:]: str(v) for k, v in pdf.docinfo.items()}
    assert info["DataRevision"] == str(revision)
    assert info["DataAsAt"].startswith(as_at.strftime("%Y-%m-%dT%H:%M"))
    assert info["AppVersion"]
    with store.session() as s:
        export = s.get(PackExport, result.export_id)
        assert export is not None
        assert info["Produced"] == export.exported_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        assert info["CreationDate"] == export.exported_at.strftime("D:%Y%m%d%H%M%S+00'00'")


def test_a_past_quarter_shows_the_plan_as_it_stood_at_the_quarters_end(
    store: Store, mp: MiniPlan, tmp_path: Path
) -> None:
    _update(store, mp, "Accepted.", UpdateState.ACCEPTED)
    pack_id = _pack_for(store, mp)
    with store.session() as s:
        due_then = s.get(Action, mp.action.id).due_date  # type: ignore[union-attr]
    # The change log dates this edit today, long after 2023/24 Q2 ended.
    with store.transaction() as tx:
        action = tx.get(Action, mp.action.id)
        assert action is not None
        services.edit(tx, action, due_date=dt.date(2026, 3, 31))
    made = pack_document(store, pack_id)
    assert made.provenance.plan_as_at == Q.end_date
    text = _text(export_pack(store, pack_id, tmp_path / "p.pdf").path)
    assert "as it stood at the quarter's end (30 September 2023)" in text
    assert "31 Mar 2026" not in text
    if due_then is not None:
        assert f"{due_then:%d %b %Y}".lstrip("0") in text or f"{due_then:%d %b %Y}" in text


# --------------------------------------------------------------------------- publishing


def _published(store: Store, mp: MiniPlan, tmp_path: Path) -> uuid.UUID:
    _update(store, mp, "Accepted: on track.", UpdateState.ACCEPTED, Rag.GREEN)
    _value(store, mp, Q, 45.0, UpdateState.ACCEPTED)
    result = export_pack(store, _pack_for(store, mp), tmp_path / "q2.pdf")
    publish_export(store, result.export_id, actor="strategy")
    return result.export_id


def test_publishing_marks_the_pack_final_and_records_who_and_when(
    store: Store, mp: MiniPlan, tmp_path: Path
) -> None:
    export_id = _published(store, mp, tmp_path)
    with store.session() as s:
        export = s.get(PackExport, export_id)
        assert export is not None and export.published_at is not None
        assert export.published_by == "strategy"
        pack = s.get(BoardPack, export.pack_id)
        assert pack is not None and pack.status is PackStatus.FINAL
    with pytest.raises(DomainError, match="already published"):
        publish_export(store, export_id)


def test_an_export_older_than_a_change_to_its_quarter_cannot_be_published(
    store: Store, mp: MiniPlan, tmp_path: Path
) -> None:
    _value(store, mp, Q, 45.0, UpdateState.ACCEPTED)
    result = export_pack(store, _pack_for(store, mp), tmp_path / "q2.pdf")
    _value(store, mp, Q, 47.0, UpdateState.ACCEPTED)
    with pytest.raises(DomainError, match="came after this export"):
        publish_export(store, result.export_id)
    with store.session() as s:
        export = s.get(PackExport, result.export_id)
        assert export is not None and export.published_at is None


def test_a_locked_figure_changes_only_as_a_correction_with_a_reason(
    store: Store, mp: MiniPlan, tmp_path: Path
) -> None:
    _published(store, mp, tmp_path)
    before = store.revision()
    with pytest.raises(LockedError, match="locked: 2023/24 Q2 was published to the Board"):
        _value(store, mp, Q, 48.0, UpdateState.ACCEPTED)
    with pytest.raises(LockedError, match="M01's value"):
        with store.transaction() as tx:
            value = tx.get(MeasureValue, MeasureValue.make_id(mp.measure.id, Q))
            assert value is not None
            services.delete(tx, value)
    with pytest.raises(LockedError):
        _update(store, mp, "Rewritten.", UpdateState.ACCEPTED, Rag.RED)
    assert store.revision() == before  # nothing half-written
    # Other quarters are open as ever.
    _value(store, mp, Q.next(), 50.0, UpdateState.ACCEPTED)

    with pytest.raises(ValidationError, match="Give the reason"):
        with store.transaction() as tx:
            value = tx.get(MeasureValue, MeasureValue.make_id(mp.measure.id, Q))
            assert value is not None
            correct(tx, value, "  ", value=48.0)
    with store.transaction(actor="analyst") as tx:
        value = tx.get(MeasureValue, MeasureValue.make_id(mp.measure.id, Q))
        assert value is not None
        correct(tx, value, "Police validated the figure late", value=48.0)
    with store.transaction(actor="analyst") as tx:
        update = tx.session.scalars(
            select(ActionUpdate).where(
                ActionUpdate.action_id == mp.action.id, ActionUpdate.is_current.is_(True)
            )
        ).one()
        correct(tx, update, "Lead sent the wrong RAG", rag=Rag.AMBER)
    # The same services the forms use, inside a correction.
    with store.transaction(actor="analyst") as tx, correction(tx, "Comparator published"):
        measure = tx.get(Measure, mp.measure.id)
        assert measure is not None
        services.record_value(tx, measure, Q, 48.0, note="Validated")
    with store.session() as s:
        reasons = set(
            s.scalars(
                select(ChangeLog.reason).where(
                    ChangeLog.seq > before, ChangeLog.reason.is_not(None)
                )
            )
        )
    assert reasons == {
        "Police validated the figure late",
        "Lead sent the wrong RAG",
        "Comparator published",
    }

    # The next pack lists each correction: what, old, new, reason, who.
    text = _text(export_pack(store, _pack_for(store, mp, Q.next()), tmp_path / "q3.pdf").path)
    assert "Revised since the last published pack" in text
    assert (
        "M01 Feel safe, 2023/24 Q2: value 45.0% 48.0% Police validated the figure late analyst"
        in text
    )
    assert (
        "PVP-01 update for 2023/24 Q2 Green. Accepted: on track. Amber. Accepted: on track." in text
    )
    assert "Lead sent the wrong RAG" in text and "Comparator published" in text


def test_an_import_cannot_change_a_locked_value(store: Store, mp: MiniPlan, tmp_path: Path) -> None:
    from ssp_desktop.spreadsheets.errors import SpreadsheetError
    from ssp_desktop.spreadsheets.importing import apply, prepare, preview, refusal_message
    from tests.spreadsheets.sheets import write_csv

    _published(store, mp, tmp_path)
    before = store.revision()
    path = write_csv(
        tmp_path / "v.csv",
        [["Ref", "Quarter", "Value"], ["M01", Q.label, 49], ["M01", Q.next().label, 51]],
    )
    plan = preview(store, prepare(path))
    assert "M01's value for 2023/24 Q2 is locked" in refusal_message(plan)
    with pytest.raises(SpreadsheetError, match="is locked"):
        apply(store, prepare(path))
    assert store.revision() == before


# --------------------------------------------------------------------------- reproducible


def test_the_same_pack_twice_is_the_same_file(store: Store, mp: MiniPlan, tmp_path: Path) -> None:
    _update(store, mp, "Accepted.", UpdateState.ACCEPTED)
    pack_id = _pack_for(store, mp)
    first = export_pack(store, pack_id, tmp_path / "a.pdf")
    second = export_pack(store, pack_id, tmp_path / "b.pdf")
    assert first.sha256 == second.sha256
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    # A change of data is a new revision: a new production time and a new file.
    _update(store, mp, "Accepted again.", UpdateState.ACCEPTED)
    assert export_pack(store, pack_id, tmp_path / "c.pdf").sha256 != first.sha256


def test_a_remake_that_differs_says_why(
    store: Store, mp: MiniPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_id = _published(store, mp, tmp_path)
    import ssp_desktop.reports.export as export_module

    monkeypatch.setattr(export_module, "__version__", "99.0")
    result = remake_export(store, export_id)
    assert not result.matches
    assert "this is 99.0, which draws packs differently" in result.reason
