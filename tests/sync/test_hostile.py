"""Hostile and damaged bundle files: each is refused with a clear message and the store
is left exactly as it was (issue 6, "Hostile files")."""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssp_desktop import services
from ssp_desktop.domain.errors import BundleError, BundleTooNewError
from ssp_desktop.domain.records import Action
from ssp_desktop.sync import manifest as manifest_module
from ssp_desktop.sync.bundle import read_bundle
from ssp_desktop.sync.container import Limits
from ssp_desktop.sync.importer import opener
from tests.sync.helpers import (
    LEAD_A,
    World,
    bundle_count,
    make_world,
    members_of,
    rewrite,
    write_zip,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One master for the module: every test here must leave it untouched anyway."""
    w = make_world(tmp_path_factory.mktemp("hostile"))
    lead = w.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, w.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Changed on the lead")
    w.export(LEAD_A)
    yield w
    w.close()


@pytest.fixture
def bundle(world: World, tmp_path: Path) -> Path:
    """A fresh copy of a valid bundle of one lead's changes."""
    (original,) = world.folder.glob("alice-*.sspbundle")
    copy = tmp_path / "alice.sspbundle"
    shutil.copyfile(original, copy)
    return copy


@pytest.fixture
def untouched(world: World, bundle: Path) -> Iterator[None]:
    """After the test: the master has the same data and imported nothing, no backup."""
    before = (world.master.revision(), bundle_count(world.master))
    yield
    assert (world.master.revision(), bundle_count(world.master)) == before
    assert not list(world.folder.glob("*.backup-*"))


def refused(world: World, path: Path, match: str, *, limits: Limits | None = None) -> str:
    with pytest.raises(BundleError, match=match) as err:
        if limits is None:
            world.to_master(path)
        else:
            read_bundle(
                path,
                envelope=opener(world.master, world.master_keys, path.name),
                limits=limits,
            )
    message = str(err.value)
    assert "Nothing was changed" in message
    return message


pytestmark = pytest.mark.usefixtures("untouched")


def test_a_file_that_is_not_a_zip(world: World, tmp_path: Path) -> None:
    path = tmp_path / "minutes.sspbundle"
    path.write_text("Minutes of the SSP Board\n" * 100)
    refused(world, path, "not an ssp-desktop bundle")


def test_a_truncated_bundle(world: World, bundle: Path) -> None:
    data = bundle.read_bytes()
    bundle.write_bytes(data[: len(data) // 2])
    refused(world, bundle, "cut short")


def test_a_member_path_that_climbs_out(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    write_zip(bundle, [*members.items(), ("../../evil.sh", b"rm -rf ~")])
    refused(world, bundle, "climbs out of the bundle")


def test_an_absolute_member_path(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    write_zip(bundle, [*members.items(), ("/etc/cron.d/evil", b"* * * * * x")])
    refused(world, bundle, "absolute path")


def test_a_link_member(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    members["changes.jsonl"] = b"/etc/passwd"
    write_zip(bundle, list(members.items()), attrs={"changes.jsonl": stat.S_IFLNK | 0o777})
    refused(world, bundle, "contains a link")


def test_duplicate_members(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    write_zip(bundle, [*members.items(), ("changes.jsonl", b"{}\n")])
    refused(world, bundle, "'changes.jsonl' twice")


def test_an_unexpected_member(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    write_zip(bundle, [*members.items(), ("notes.txt", b"hello")])
    refused(world, bundle, "unexpected file")


def test_a_member_the_manifest_does_not_list(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    write_zip(bundle, [*members.items(), ("records.jsonl", b"")])
    refused(world, bundle, "does not match its manifest")


def test_a_zip_bomb_by_ratio_is_stopped_while_inflating(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    members["changes.jsonl"] = b" " * (20 * 1024 * 1024)
    write_zip(bundle, list(members.items()))
    refused(world, bundle, "zip bomb")


def test_a_zip_bomb_by_size_is_refused_from_its_header(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    members["changes.jsonl"] = os.urandom(300_000).hex().encode()  # 600 kB, little ratio
    write_zip(bundle, list(members.items()))
    refused(world, bundle, "would unpack to", limits=Limits(max_member_bytes=100_000))


def test_the_total_size_cap_holds_while_inflating(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    members["changes.jsonl"] = os.urandom(300_000).hex().encode()
    write_zip(bundle, list(members.items()))
    refused(world, bundle, "unpacks to more than", limits=Limits(max_total_bytes=200_000))


def test_an_oversized_file_is_refused_before_reading(world: World, bundle: Path) -> None:
    refused(world, bundle, "more than a bundle may be", limits=Limits(max_file_bytes=100))


def test_too_many_members(world: World, bundle: Path) -> None:
    write_zip(bundle, [(f"part{i}.json", b"{}") for i in range(20)])
    refused(world, bundle, "holds 20 files")


def test_a_huge_manifest(world: World, bundle: Path) -> None:
    data = json.loads(members_of(bundle)["manifest.json"])
    data["padding"] = "x" * (2 * 1024 * 1024)
    rewrite(bundle, {"manifest.json": json.dumps(data).encode()})
    refused(world, bundle, "too large")


def test_a_deeply_nested_manifest(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    text = members["manifest.json"].decode()
    nested = "[" * 5000 + "]" * 5000
    members["manifest.json"] = text.replace('"counts":', f'"deep": {nested}, "counts":').encode()
    write_zip(bundle, list(members.items()))
    refused(world, bundle, "nested more deeply")


def test_nan_in_json(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    text = members["manifest.json"].decode()
    members["manifest.json"] = text.replace('"sequence":1', '"sequence":NaN').encode()
    assert b"NaN" in members["manifest.json"]
    write_zip(bundle, list(members.items()))
    refused(world, bundle, "NaN is not allowed")


def test_nan_in_a_payload_line(world: World, bundle: Path) -> None:
    lines = members_of(bundle)["changes.jsonl"].decode().splitlines()
    line = json.loads(lines[0])
    line["seq"] = float("nan")
    rewrite(bundle, {"changes.jsonl": (json.dumps(line) + "\n").encode()})
    refused(world, bundle, "Line 1 of changes.jsonl .*NaN")


def test_duplicate_keys_in_json(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    text = members["manifest.json"].decode()
    members["manifest.json"] = text.replace('"sequence":1', '"sequence":1,"sequence":9').encode()
    write_zip(bundle, list(members.items()))
    refused(world, bundle, "'sequence' appears twice")


def test_a_wrong_type_in_the_manifest(world: World, bundle: Path) -> None:
    rewrite(bundle, manifest={"sequence": "1"})
    refused(world, bundle, "sequence should be a whole number")


def test_a_wrong_type_in_a_record(world: World, bundle: Path) -> None:
    lines = [json.loads(x) for x in members_of(bundle)["changes.jsonl"].splitlines()]
    for line in lines:
        if line["field"] == "title":
            line["new"] = 42
    rewrite(bundle, {"changes.jsonl": "".join(json.dumps(x) + "\n" for x in lines).encode()})
    refused(world, bundle, "title should be text")


def test_an_unknown_format_version(world: World, bundle: Path) -> None:
    rewrite(bundle, manifest={"format_version": 7, "min_reader_version": 7})
    message = refused(world, bundle, "newer ssp-desktop")
    assert "Update ssp-desktop" in message


def test_a_newer_record_schema_asks_for_an_update(world: World, bundle: Path) -> None:
    rewrite(bundle, manifest={"schema_version": manifest_module.SCHEMA_VERSION + 1})
    with pytest.raises(BundleTooNewError, match="Update ssp-desktop"):
        world.to_master(bundle)


def test_another_plans_bundle(world: World, bundle: Path) -> None:
    rewrite(bundle, manifest={"plan_id": str(uuid.uuid4())})
    refused(world, bundle, "another plan")


def test_a_bundle_for_another_master_copy(world: World, bundle: Path) -> None:
    rewrite(bundle, manifest={"master_store_id": str(uuid.uuid4())})
    refused(world, bundle, "different master copy")


def test_a_checksum_mismatch(world: World, bundle: Path) -> None:
    members = members_of(bundle)
    members["changes.jsonl"] = members["changes.jsonl"].replace(b"Changed on", b"Changed by")
    write_zip(bundle, list(members.items()))
    refused(world, bundle, "does not match its checksum")


def test_a_natural_key_with_a_forged_id(world: World, bundle: Path) -> None:
    line = {
        "id": str(uuid.uuid4()),
        "seq": 999,
        "at": "2024-01-01T00:00:00+00:00",
        "actor": "x",
        "entity": "measure_value",
        "record_id": str(uuid.uuid4()),
        "op": "create",
        "field": None,
        "old": None,
        "new": {
            "measure_id": str(world.plan.measure.id),
            "period": "2022/23 Q1",
            "value": 1.0,
            "comparator_values": {},
            "status": "provisional",
            "note": "",
            "significant": None,
            "comparator_significant": None,
            "state": "draft",
            "review_note": "",
            "rank": "",
        },
    }
    rewrite(bundle, {"changes.jsonl": (json.dumps(line) + "\n").encode()})
    refused(world, bundle, "does not match its natural key")


@pytest.mark.parametrize("where", ["manifest", "line"])
def test_a_lone_surrogate_in_json(world: World, bundle: Path, where: str) -> None:
    """``"\\ud800"`` is valid JSON syntax but no text: it cannot be stored or printed."""
    members = members_of(bundle)
    if where == "manifest":
        text = members["manifest.json"].decode()
        assert '"created_by":"' in text
        members["manifest.json"] = text.replace(
            '"created_by":"', '"created_by":"\\ud800', 1
        ).encode()
        write_zip(bundle, list(members.items()))
        refused(world, bundle, "manifest .*lone surrogate")
    else:
        lines = [json.loads(x) for x in members["changes.jsonl"].splitlines()]
        body = "".join(json.dumps(x) + "\n" for x in lines)
        body = body.replace("Changed on the lead", "Changed \\udc00on the lead")
        assert "\\udc00" in body
        rewrite(bundle, {"changes.jsonl": body.encode()})
        refused(world, bundle, "Line 1 of changes.jsonl .*lone surrogate")
