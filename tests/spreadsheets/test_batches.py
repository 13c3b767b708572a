"""Rows that add new actions are written a run at a time (``services.add_actions``);
a rule only the write can check that refuses one of them names the same row, with the
same words, as when every row is written on its own, and nothing is imported.

(That the runs write the same rows and change log as row by row is in
``tests/domain/test_bulk_writes.py``.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import ActionUpdate
from ssp_desktop.services import locks
from ssp_desktop.spreadsheets import actions as sheet_actions
from ssp_desktop.spreadsheets.errors import NOTHING_CHANGED, SpreadsheetError
from ssp_desktop.spreadsheets.importing import ImportOptions, apply, prepare, preview
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan
from tests.spreadsheets.sheets import TRACKER_HEADINGS, write_xlsx

Q2 = Quarter(2024, 2)
OPTIONS = ImportOptions(quarter=Q2, today=dt.date(2024, 10, 20))


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    return mini_plan(store)


@pytest.mark.parametrize("batches", [True, False])
@pytest.mark.parametrize("previewed", [True, False])
def test_a_refusal_at_the_write_names_its_row_and_imports_nothing(
    store: Store,
    mini: MiniPlan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    batches: bool,
    previewed: bool,
) -> None:
    rows = [
        [f"NEW-{i}", f"New action {i}", "PVP", "Domestic abuse", "Police", None, "Police",
         dt.datetime(2024, 4, 1), dt.datetime(2025, 3, 31), "In progress", "Green",
         f"Update of row {i}."]
        for i in range(1, 7)
    ]  # fmt: skip
    path = write_xlsx(tmp_path / "tracker.xlsx", [["Tracker"], TRACKER_HEADINGS, *rows])
    prepared = prepare(path)
    shown = preview(store, prepared, OPTIONS) if previewed else None
    real = locks.lock_for
    lock = locks.Lock(
        mini.plan.id, Q2, mini.plan.id, dt.datetime(2024, 10, 1, tzinfo=dt.UTC), "Chair", "Board"
    )

    def fourth_row_locked(session: Any, record: Any, quarter: Quarter | None = None) -> Any:
        if isinstance(record, ActionUpdate) and record.narrative == "Update of row 4.":
            return lock
        return real(session, record, quarter)

    monkeypatch.setattr(locks, "lock_for", fourth_row_locked)
    monkeypatch.setattr(sheet_actions, "BATCHES", batches)
    before = store.revision()
    with pytest.raises(SpreadsheetError) as caught:
        apply(store, prepared, OPTIONS, previewed=shown)
    # The heading is row 2 of the sheet: the fourth action is on row 6.
    assert str(caught.value).startswith(
        "Row 6 (NEW-4) cannot be imported: NEW-4's update for 2024/25 Q2 is locked: "
    )
    assert str(caught.value).endswith(NOTHING_CHANGED)
    assert store.revision() == before
