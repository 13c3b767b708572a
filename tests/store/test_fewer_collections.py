"""An import's transaction keeps the garbage collector off the records it is writing
(issue 18), and gives the collector back as it found it: the same thresholds, nothing
left frozen, and garbage made during the import still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from ssp_desktop import services
from ssp_desktop.domain.records import Organisation, Partnership
from ssp_desktop.store.engine import Store, fewer_collections


class _Cycle:
    me: object = None


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of every collection the collector starts while the test runs."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.collect()
    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)


def test_what_an_import_holds_is_never_scanned_by_the_older_generations(
    collections: list[int],
) -> None:
    held: list[list[int]] = []
    with fewer_collections():
        # As an import: a few hundred thousand objects, all alive until it ends.
        held.extend([i] for i in range(300_000))
        assert collections, "the young generation is still collected"
        assert set(collections) == {0}
    collections.clear()
    # The thresholds are back as they were, and the block's objects are no longer
    # young: the next few allocations start no collection (which would scan them all).
    more = [[i] for i in range(min(100, gc.get_threshold()[0] // 2))]
    assert collections == []
    assert len(held) == 300_000 and more


def test_garbage_made_during_an_import_is_collected(collections: list[int]) -> None:
    with fewer_collections():
        made = _Cycle()
        made.me = made
        gone = weakref.ref(made)
        del made
        # Garbage that dies young goes in the block's own young collections.
        filler = [[i] for i in range(60_000)]
        assert gone() is None
    del filler
    with fewer_collections():
        made = _Cycle()
        made.me = made
        gone = weakref.ref(made)
    del made  # dies after the block: the next full collection frees it
    gc.collect()
    assert gone() is None


def test_a_bulk_transaction_leaves_the_collector_as_it_found_it(store: Store) -> None:
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with store.transaction(bulk=True) as tx:
        inside = gc.get_threshold()
        partnership = services.create(tx, Partnership(name="Test CSP", area="Testshire"))
        for n in range(50):
            services.create(tx, Organisation(partnership_id=partnership.id, name=f"Partner {n}"))
    assert inside != thresholds  # it did change them while it wrote
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen
    # A failed import too.
    with pytest.raises(RuntimeError), store.transaction(bulk=True):
        raise RuntimeError("refused")
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen


def test_a_caller_that_turned_collection_off_keeps_it_off() -> None:
    thresholds = gc.get_threshold()
    gc.set_threshold(0)
    try:
        with fewer_collections():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*thresholds)
