"""Older bundles are upgraded; mutated bundles import or are refused cleanly."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ssp_desktop import services
from ssp_desktop.domain.errors import BundleError, SspError
from ssp_desktop.domain.records import Action, PriorityArea
from ssp_desktop.services import add_action
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.store.integrity import check_integrity
from ssp_desktop.sync import manifest as manifest_module
from ssp_desktop.sync.importer import import_bundle, read_sealed
from tests.sync.helpers import LEAD_A, World, bundle_count, members_of, rewrite

# The fuzzer's dictionary: values that have broken importers before (issue 22), beside
# the random ones. Text a field cannot hold (too long, control characters, a lone
# surrogate, a bidirectional override), numbers past every column, dates past the plan.
TEXT_PAYLOADS = [
    "x" * 10_001,
    "w " * 60_000,
    "a\x0bb",
    "bell\x07",
    "nul\x00byte",
    "\u202eevil",
    "lone \ud800 surrogate",
    "\udfff",
    "\ufffe",
    "  leading spaces",
    '=HYPERLINK("http://x")',
    "line\r\nbreak\ttab",
    "😀 astral",
]
NUMBER_PAYLOADS = [2**31, 2**62, -(2**31) - 1, -1, 400, 10**400, 1e308, -0.0]
DATE_PAYLOADS = ["9999-12-31", "0001-01-01", "2024-02-30", "1899-12-31T00:00:00+00:00"]
PAYLOADS = st.sampled_from([*TEXT_PAYLOADS, *NUMBER_PAYLOADS, *DATE_PAYLOADS])

# How many examples each fuzz test tries: small enough for every CI run (a few seconds),
# larger when asked for (SSP_FUZZ_EXAMPLES=2000 for a long run before a release).
FUZZ_EXAMPLES = int(os.environ.get("SSP_FUZZ_EXAMPLES", "25"))

# Each example starts from a file copy of the master (the backup API): the fuzzing is
# about reading bundles, which is the same whatever engine the master runs on.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def bundle(world: World) -> Path:
    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        area = tx.get(PriorityArea, world.plan.area.id)
        assert action is not None and area is not None
        services.edit(tx, action, title="Changed on the lead")
        add_action(tx, area, ref="PVP-09", title="Added on the lead")
    return world.export(LEAD_A)


def test_an_older_record_schema_is_upgraded_on_import(
    world: World, bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def upgrade_1_to_2(member: str, line: dict[str, object]) -> dict[str, object]:
        calls.append(member)
        if line.get("field") == "title" and isinstance(line.get("new"), str):
            line = {**line, "new": str(line["new"]).upper()}
        return line

    current = manifest_module.SCHEMA_VERSION
    monkeypatch.setattr(manifest_module, "SCHEMA_VERSION", current + 1)
    monkeypatch.setitem(manifest_module.PAYLOAD_UPGRADES, current, upgrade_1_to_2)
    world.to_master(bundle)
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title == "CHANGED ON THE LEAD"
    assert calls and set(calls) == {"changes.jsonl"}


def _fresh_master(world: World, name: str) -> Store:
    copy = world.folder / f"{name}.sqlite"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    sqlite_backup(world.master.path, copy)
    return Store.open(copy)


def _try_import(world: World, path: Path, name: str) -> None:
    store = _fresh_master(world, name)
    try:
        before = (store.revision(), bundle_count(store))
        try:
            import_bundle(store, read_sealed(path, store, world.master_keys))
        except SspError as exc:
            assert str(exc)  # a message for the user, not a traceback
            assert (store.revision(), bundle_count(store)) == before  # nothing half-applied
        assert check_integrity(store) == []
    finally:
        store.close()


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cuts=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6
    ),
    truncate=st.none() | st.floats(0.05, 1),
)
def test_byte_mutated_bundles_import_or_are_refused_cleanly(
    world: World, bundle: Path, cuts: list[tuple[float, int]], truncate: float | None
) -> None:
    data = bytearray(bundle.read_bytes())
    for where, byte in cuts:
        data[int(where * len(data))] = byte
    if truncate is not None:
        data = data[: int(truncate * len(data))]
    path = world.folder / "mutated.sspbundle"
    path.write_bytes(bytes(data))
    if bytes(data) != bundle.read_bytes():
        # Any change to a sealed bundle is caught by its envelope (authentication, or
        # the header no longer naming this install) before anything in it is parsed.
        store = _fresh_master(world, "fuzz-bytes")
        try:
            before = (store.revision(), bundle_count(store))
            with pytest.raises(BundleError, match=_ENVELOPE_REFUSALS):
                read_sealed(path, store, world.master_keys)
            assert (store.revision(), bundle_count(store)) == before
        finally:
            store.close()
    else:
        _try_import(world, path, "fuzz-bytes")


_ENVELOPE_REFUSALS = "changed or damaged after it was sealed|not addressed|not an ssp-desktop"


JSON_VALUES = st.recursive(
    PAYLOADS
    | st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _encodable(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_value_mutated_bundles_import_or_are_refused_cleanly(
    world: World, bundle: Path, data: st.DataObject
) -> None:
    """Mutations that keep the checksums right, so they reach the record checks."""
    members = members_of(bundle)
    lines = [json.loads(x) for x in members["changes.jsonl"].splitlines()]
    manifest = json.loads(members["manifest.json"])
    target = data.draw(st.sampled_from(["manifest", "line"]))
    if target == "manifest":
        key = data.draw(st.sampled_from(sorted(manifest)))
        manifest[key] = data.draw(JSON_VALUES)
        # The seal signs claims copied from the manifest as UTF-8, so a lone surrogate
        # there cannot even be sealed by this test's helper; a bundle carrying one is
        # refused by name in test_hostile.test_a_lone_surrogate_in_json.
        assume(_encodable(manifest[key]))
    else:
        line = lines[data.draw(st.integers(0, len(lines) - 1))]
        key = data.draw(st.sampled_from(sorted(line)))
        if key == "new" and isinstance(line["new"], dict) and line["new"]:
            inner = data.draw(st.sampled_from(sorted(line["new"])))
            line["new"][inner] = data.draw(JSON_VALUES)
        else:
            line[key] = data.draw(JSON_VALUES)
    body = "".join(json.dumps(x) + "\n" for x in lines).encode()
    path = world.folder / "mutated.sspbundle"
    path.write_bytes(bundle.read_bytes())
    rewrite(path, {"changes.jsonl": body})
    if target == "manifest":
        signed = json.loads(members_of(path)["manifest.json"])
        signed[key] = manifest[key]
        rewrite(path, {"manifest.json": json.dumps(signed).encode()}, resign=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest()
    _try_import(world, path, "fuzz-values")


def test_a_schema_1_measure_value_from_a_lead_arrives_awaiting_review(
    world: World, bundle: Path
) -> None:
    import json

    from ssp_desktop.domain.enums import UpdateState
    from ssp_desktop.domain.periods import Quarter
    from ssp_desktop.domain.records import MeasureValue
    from tests.sync.helpers import rewrite

    period = Quarter.parse("2022/23 Q1")
    value_id = MeasureValue.make_id(world.plan.measure.id, period)
    line = {
        "id": "6f1c0e53-6d55-4a8f-9a43-7f7d1b8f0a11",
        "seq": 999,
        "at": "2024-01-01T00:00:00+00:00",
        "actor": "lead",
        "entity": "measure_value",
        "record_id": str(value_id),
        "op": "create",
        "field": None,
        "old": None,
        "new": {  # schema 1: no "state"
            "measure_id": str(world.plan.measure.id),
            "period": period.label,
            "value": 71.0,
            "comparator_values": {},
            "status": "provisional",
            "note": "",
            "significant": None,
            "comparator_significant": None,
        },
    }
    rewrite(
        bundle,
        {"changes.jsonl": (json.dumps(line) + "\n").encode()},
        manifest={"schema_version": 1},
    )
    world.to_master(bundle)
    with world.master.session() as s:
        value = s.get(MeasureValue, value_id)
        assert value is not None and value.value == 71.0
        # A lead's value is theirs to submit; only the master accepts it.
        assert value.state is UpdateState.SUBMITTED


@settings(
    # Each example exports a workbook too: fewer of them keep the CI run to seconds.
    max_examples=max(8, FUZZ_EXAMPLES // 2),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=st.sampled_from(TEXT_PAYLOADS) | st.text(max_size=40),
    field=st.sampled_from(["title", "description"]),
)
def test_text_payloads_are_refused_or_can_be_exported_and_printed(
    world: World, bundle: Path, payload: str, field: str
) -> None:
    """Issue 22: text the master accepted (control characters, surrogates, 100,000
    characters) later stopped a workbook export or the board pack. Whatever a bundle gets
    into the store must go out again."""
    from ssp_desktop.spreadsheets.workbook import export_workbook

    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    for line in lines:
        if line["field"] == "title":
            line["field"] = field
            line["new"] = payload
    body = "".join(json.dumps(x) + "\n" for x in lines)
    path = world.folder / "payload.sspbundle"
    path.write_bytes(bundle.read_bytes())
    rewrite(path, {"changes.jsonl": body.encode()})
    store = _fresh_master(world, "fuzz-text")
    try:
        try:
            import_bundle(store, read_sealed(path, store, world.master_keys))
        except SspError as exc:
            assert str(exc)
        with store.session() as s:
            action = s.get(Action, world.plan.action.id)
            assert action is not None
            stored = getattr(action, field)
        assert stored == payload or stored in ("Fund IDVAs", "")  # applied whole, or not
        if stored == payload:
            export_workbook(store, world.folder / "fuzz.xlsx")
    finally:
        store.close()
