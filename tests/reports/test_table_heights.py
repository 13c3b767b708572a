"""A table measures each row once (issue 18): the row heights kept for a table and the
pieces split from it give exactly the layout ReportLab's own measuring gives, split
after split and pass after pass, and the whole pack comes out byte for byte the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.platypus import Table as RLTable
from sqlalchemy import select

from benchmarks.synthetic import RegionWriter, Shape
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import BoardPack
from ssp_desktop.reports import render
from ssp_desktop.reports.blocks import Cell, Table
from ssp_desktop.reports.export import pack_document, prepare_pack
from ssp_desktop.reports.render import _table, render_pdf
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store

_WORD = st.sampled_from(["Reduce", "repeat", "victims", "of", "domestic", "abuse", "2024/25"])
_TEXT = st.lists(_WORD, max_size=40).map(" ".join)
_ROW = st.tuples(_TEXT, _TEXT, st.sampled_from(["", "Red", "On track"]), _TEXT)


def _pack_table(rows: list[tuple[str, str, str, str]], compact: bool) -> Table:
    return Table(
        header=(("Ref", "Action", "RAG", "Latest update"),),
        rows=tuple((a, b, Cell(c, bold=True) if c else c, d) for a, b, c, d in rows),
        widths=(1.0, 3.0, 1.0, 4.0),
        caption="Actions",
        compact=compact,
    )


def _layout(table: Any, heights: list[float], width: float) -> list[tuple[Any, ...]]:
    """Lay ``table`` out as a frame does on pages of ``heights`` (cycled), each piece
    wrapped then split: what each piece measured and how it was cut."""
    seen: list[tuple[Any, ...]] = []
    piece = table
    for n in range(60):
        room = heights[n % len(heights)]
        _w, h = piece.wrap(width, room)
        seen.append(
            (
                "wrap",
                h,
                list(piece._rowHeights),
                list(piece._rowpositions),
                piece._hmax,
                piece._nrows,
            )
        )
        if h <= room:
            return seen
        pieces = piece.split(width, room)
        seen.append(("split", [(p._nrows, list(p._rowHeights), p.ssp_rows) for p in pieces]))
        if len(pieces) != 2:
            return seen
        piece = pieces[1]
    return seen


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(_ROW, min_size=1, max_size=60),
    heights=st.lists(st.floats(min_value=30, max_value=700), min_size=1, max_size=4),
    width=st.floats(min_value=250, max_value=760),
    compact=st.booleans(),
)
def test_kept_row_heights_lay_a_table_out_as_reportlab_measures_it(
    rows: list[tuple[str, str, str, str]], heights: list[float], width: float, compact: bool
) -> None:
    block = _pack_table(rows, compact)
    render.REUSE_ROW_HEIGHTS = False
    try:
        measured = _table(block, width)
        expected = _layout(measured, heights, width)
        # ReportLab measures the same table the same way every time (a second pass).
        assert _layout(measured, heights, width) == expected
    finally:
        render.REUSE_ROW_HEIGHTS = True
    kept = _table(block, width)
    assert _layout(kept, heights, width) == expected
    # A second pass over the same table takes every height it kept, and still agrees.
    assert _layout(kept, heights, width) == expected


def _cells_measured(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counter = [0]
    measure = RLTable._listCellGeom

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return measure(self, *args, **kwargs)

    monkeypatch.setattr(RLTable, "_listCellGeom", counted)
    return counter


def test_a_long_table_measures_each_row_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [(f"A{n}", "Reduce repeat victims " * (n % 5 + 1), "Red", "Latest") for n in range(80)]
    counter = _cells_measured(monkeypatch)
    table = _table(_pack_table(rows, compact=False), 500)
    pages = _layout(table, [600, 700], 500)
    assert sum(1 for step in pages if step[0] == "split") >= 3
    cells = 81 * 4
    assert counter[0] == cells  # ReportLab measured every row for each wrap and split
    _layout(table, [600, 700], 500)
    assert counter[0] == cells  # nor again in the next pass


def _pdf_with_and_without_kept_heights(
    store: Store, pack_id: Any, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[bytes, bytes, int, int]:
    document = pack_document(store, pack_id).document
    counter = _cells_measured(monkeypatch)
    render_pdf(document, folder / "kept.pdf")
    kept_cells = counter[0]
    monkeypatch.setattr(render, "REUSE_ROW_HEIGHTS", False)
    counter[0] = 0
    render_pdf(document, folder / "measured.pdf")
    return (
        (folder / "kept.pdf").read_bytes(),
        (folder / "measured.pdf").read_bytes(),
        kept_cells,
        counter[0],
    )


@pytest.mark.sqlite_only
def test_the_sample_pack_is_the_same_with_kept_row_heights(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sample(store)
    with store.session() as s:
        pack_id = s.scalars(select(BoardPack.id)).one()
    kept, measured, kept_cells, measured_cells = _pdf_with_and_without_kept_heights(
        store, pack_id, tmp_path, monkeypatch
    )
    assert kept == measured
    assert kept_cells < measured_cells / 2


@pytest.mark.sqlite_only
def test_a_benchmark_plans_pack_is_the_same_with_kept_row_heights(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long trackers split over many pages, landscape runs and charts.
    built = RegionWriter(store, Shape.scaled(0.12, plans=1)).build()
    quarter = Quarter(2024, 2)
    pack_id = prepare_pack(store, built.plan_ids[0], quarter, meeting_date=quarter.end_date)
    kept, measured, kept_cells, measured_cells = _pdf_with_and_without_kept_heights(
        store, pack_id, tmp_path, monkeypatch
    )
    assert kept == measured
    assert kept_cells < measured_cells / 2
