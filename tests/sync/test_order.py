"""Non-conflicting changes from several leads give the same master in any import order."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, Measure, MeasureValue, PriorityArea
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.export import export_changes
from ssp_desktop.sync.importer import import_bundle, read_sealed
from tests.sync.helpers import LEAD_A, LEAD_B, World

# Edits no two leads share: each is given to one lead at most, so none can conflict.
EDITS = [
    ("title", "A new title"),
    ("description", "A new description"),
    ("value", 0),
    ("value", 1),
    ("value", 2),
    ("action", "PVP-10"),
    ("action", "PVP-11"),
    ("action", "PVP-12"),
]


def _copy(source: Path, target: Path) -> Store:
    sqlite_backup(source, target)
    return Store.open(target)


def _edit(store: Store, world: World, kind: str, arg: object) -> None:
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, world.plan.action.id)
        measure = tx.get(Measure, world.plan.measure.id)
        area = tx.get(PriorityArea, world.plan.area.id)
        assert action is not None and measure is not None and area is not None
        if kind in ("title", "description"):
            services.edit(tx, action, **{kind: arg})
        elif kind == "value":
            assert isinstance(arg, int)
            services.record_value(tx, measure, Quarter(2022, 1 + arg), 50.0 + arg)
        else:
            services.add_action(tx, area, ref=str(arg), title=f"Action {arg}")


def _state(store: Store) -> tuple[object, ...]:
    with store.session() as s:
        actions = sorted(
            (a.ref, a.title, a.description)
            for a in s.scalars(select(Action).where(Action.deleted_at.is_(None)))
        )
        values = sorted((str(v.period), v.value) for v in s.scalars(select(MeasureValue)))
    return tuple(actions), tuple(values)


@pytest.mark.sqlite_only  # each example starts from a file copy of the master
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    owners=st.lists(
        st.sampled_from([None, LEAD_A, LEAD_B]), min_size=len(EDITS), max_size=len(EDITS)
    ),
    order=st.randoms(use_true_random=False),
)
def test_non_conflicting_changes_give_the_same_result_in_any_order(
    world: World, owners: list[str | None], order: object
) -> None:
    leads = {
        email: world.leads.get(email) or world.starter(email, ["PVP"]) for email in (LEAD_A, LEAD_B)
    }
    folder = world.folder / f"example-{len(list(world.folder.glob('example-*')))}"
    folder.mkdir()
    copies = {e: _copy(s.path, folder / f"{e}.sqlite") for e, s in leads.items()}
    bundles: list[Path] = []
    try:
        for (kind, arg), owner in zip(EDITS, owners, strict=True):
            if owner is None:
                continue
            _edit(copies[owner], world, kind, arg)
            out = folder / f"{len(bundles)}.sspbundle"
            export_changes(
                copies[owner], out, identity=world.keys[owner]
            )  # one bundle per edit: each repeats the last
            bundles.append(out)
    finally:
        for store in copies.values():
            store.close()
    shuffled = list(bundles)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    results = []
    for name, sequence in (("in-order", bundles), ("shuffled", shuffled)):
        master = _copy(world.master.path, folder / f"master-{name}.sqlite")
        try:
            for bundle in sequence:
                result = import_bundle(master, read_sealed(bundle, master, world.master_keys))
                assert result.preview.conflicts == []
            results.append(_state(master))
        finally:
            master.close()
    assert results[0] == results[1]
    added = sum(
        1 for (kind, _), owner in zip(EDITS, owners, strict=True) if kind == "action" and owner
    )
    values = sum(
        1 for (kind, _), owner in zip(EDITS, owners, strict=True) if kind == "value" and owner
    )
    actions, measure_values = results[0]
    assert (len(actions), len(measure_values)) == (2 + added, values)  # PVP-01, RCH-01 + new
