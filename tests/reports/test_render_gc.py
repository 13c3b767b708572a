"""Drawing and reading a pack hold the garbage collector off their own objects (issue 18)
and give everything back when done: nothing is left frozen, the thresholds are restored,
and the pack's garbage is collected."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest
from sqlalchemy import select

from ssp_desktop.domain.records import BoardPack
from ssp_desktop.reports.export import pack_document
from ssp_desktop.reports.render import render_pdf
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store


@pytest.mark.sqlite_only
def test_a_render_leaves_the_collector_as_it_found_it(store: Store, tmp_path: Path) -> None:
    write_sample(store)
    with store.session() as s:
        pack_id = s.scalars(select(BoardPack.id)).one()
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    made = pack_document(store, pack_id)
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen

    # Garbage only a collection frees (a cycle), alive while the render freezes what
    # exists: it must be the collector's again afterwards.
    class Cycle:
        me: object = None

    cycle = Cycle()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    pages = render_pdf(made.document, tmp_path / "pack.pdf")
    assert pages > 1
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen
    del cycle
    gc.collect()
    assert gone() is None


@pytest.mark.sqlite_only
def test_a_drawn_pack_leaves_no_garbage_behind(store: Store, tmp_path: Path) -> None:
    """A pack's structure tree is full of cycles: drawn again and again (a draft
    exported after each fix), each pack's would wait in memory for a full collection
    that Python may not start for a long time. Drawing collects it as it ends."""
    write_sample(store)
    with store.session() as s:
        pack_id = s.scalars(select(BoardPack.id)).one()
    made = pack_document(store, pack_id)
    gc.collect()
    for attempt in range(3):
        assert render_pdf(made.document, tmp_path / f"pack-{attempt}.pdf") > 1
        left = gc.collect()
        assert left < 500, f"export {attempt + 1} left {left} objects for the collector"
