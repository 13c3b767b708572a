"""``ssp-desktop check`` finds a value, target or allocation whose id does not match
its natural key (two people entering the same quarter must make one record)."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    FundingAllocation,
    MeasureTarget,
    MeasureValue,
    natural_id_hex,
)
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store
from ssp_desktop.store.integrity import check_store


def test_ids_that_do_not_match_their_natural_key_are_named(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as store:
        write_sample(store)
        with store.session() as s:
            value = s.query(MeasureValue).first()
            allocation = s.query(FundingAllocation).first()
            assert value is not None and allocation is not None
            value_id, value_expected = value.id, value.make_id(value.measure_id, value.period)
            allocation_id = allocation.id
        assert check_store(store) == []
    wrong_value, wrong_allocation = uuid.uuid4(), uuid.uuid4()
    conn = sqlite3.connect(path)  # as a hand edit or another tool might
    conn.execute("UPDATE measure_value SET id = ? WHERE id = ?", (wrong_value.hex, value_id.hex))
    conn.execute(
        "UPDATE funding_allocation SET id = ? WHERE id = ?",
        (wrong_allocation.hex, allocation_id.hex),
    )
    conn.commit()
    conn.close()
    with Store.open(path, readonly=True) as store:
        problems = [p for p in check_store(store) if p.kind == "natural key"]
    assert [str(p) for p in problems] == [
        f"natural key: measure_value {wrong_value} should have id {value_expected} "
        "(from its measure and period)",
        f"natural key: funding_allocation {wrong_allocation} should have id {allocation_id} "
        "(from its stream and year)",
    ]


@given(parent=st.uuids(), year=st.integers(min_value=2000, max_value=2099), q=st.integers(1, 4))
def test_the_checks_quick_ids_are_each_records_own(parent: uuid.UUID, year: int, q: int) -> None:
    """The check works ids out as hex (``natural_id_hex``, from the table name, the
    parent and the key's label) rather than through each class's ``make_id``: they must
    agree, for every kind of record with a natural key."""
    quarter, fy = Quarter(year, q), FinancialYear(year)
    for cls, key in ((MeasureValue, quarter), (MeasureTarget, fy), (FundingAllocation, fy)):
        made = cls.make_id(parent, key)  # type: ignore[attr-defined]
        assert natural_id_hex(cls.__tablename__, parent, key.label) == made.hex
        assert made.version == 5
