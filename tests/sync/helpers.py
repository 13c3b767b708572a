"""A master copy and its leads' copies in temporary files, for scenario tests."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from ssp_desktop.models import domain
from ssp_desktop.models.entities import ChangeLog, Measure, Person, Priority, PriorityArea
from ssp_desktop.models.enums import Polarity, Unit
from ssp_desktop.models.store import Store
from ssp_desktop.models.sync_state import SyncBundle, SyncConflict
from ssp_desktop.sync.bundle import read_bundle
from ssp_desktop.sync.export import export_changes, export_snapshot
from ssp_desktop.sync.importer import ImportResult, import_bundle, import_file
from tests.factories import MiniPlan, mini_plan

LEAD_A = "alice@example.org"
LEAD_B = "bob@example.org"
LEAD_R = "rita@example.org"


@dataclass
class World:
    """The master (PVP and RCH themes) and any number of lead copies."""

    folder: Path
    master: Store
    plan: MiniPlan
    rch: Priority
    rch_area: PriorityArea
    rch_measure: Measure
    leads: dict[str, Store] = field(default_factory=dict)
    _names: itertools.count[int] = field(default_factory=itertools.count)

    def path(self, stem: str) -> Path:
        return self.folder / f"{stem}-{next(self._names)}.sspbundle"

    def starter(self, email: str, themes: list[str]) -> Store:
        out = self.path("starter")
        export_snapshot(self.master, out, person=email, themes=themes)
        lead_path = self.folder / f"lead-{email.split('@')[0]}.sqlite"
        result = import_file(lead_path, out)
        assert result.applied and result.created_store
        store = Store.open(lead_path)
        self.leads[email] = store
        return store

    def export(self, email: str) -> Path:
        out = self.path(email.split("@")[0])
        export_changes(self.leads[email], out)
        return out

    def to_master(self, bundle: Path) -> ImportResult:
        return import_bundle(self.master, read_bundle(bundle), file_name=bundle.name)

    def send(self, email: str) -> ImportResult:
        return self.to_master(self.export(email))

    def snapshot(self, email: str) -> Path:
        out = self.path(f"for-{email.split('@')[0]}")
        export_snapshot(self.master, out, person=email)
        return out

    def reply(self, email: str) -> ImportResult:
        bundle = self.snapshot(email)
        return import_bundle(self.leads[email], read_bundle(bundle), file_name=bundle.name)

    def close(self) -> None:
        for store in self.leads.values():
            store.close()
        self.master.close()


def make_world(folder: Path) -> World:
    master = Store.open(folder / "master.sqlite", create=True)
    plan = mini_plan(master)
    with master.transaction(actor="strategy") as tx:
        person = tx.get(Person, plan.person.id)
        assert person is not None
        person.email = LEAD_A
        for name, email in (("Bob", LEAD_B), ("Rita", LEAD_R)):
            tx.add(Person(partnership_id=plan.partnership.id, name=name, email=email))
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        measure.priority_id = plan.priority.id
        rch = tx.add(Priority(plan_id=plan.plan.id, code="RCH", title="Reducing crime"))
        rch_area = tx.add(PriorityArea(priority_id=rch.id, title="Burglary"))
        domain.add_action(tx, rch_area, ref="RCH-01", title="Target hardening")
        rch_measure = tx.add(
            Measure(
                plan_id=plan.plan.id,
                priority_id=rch.id,
                ref="M02",
                name="Burglaries",
                unit=Unit.COUNT,
                polarity=Polarity.LOWER_BETTER,
            )
        )
    return World(folder, master, plan, rch, rch_area, rch_measure)


def revision(store: Store) -> int:
    return store.revision()


def bundle_count(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(SyncBundle)) or 0)


def open_conflicts(store: Store) -> list[SyncConflict]:
    with store.session() as s:
        return list(s.scalars(select(SyncConflict).where(SyncConflict.status == "open")))


def log_rows(store: Store, record_id: uuid.UUID) -> list[ChangeLog]:
    with store.session() as s:
        return list(
            s.scalars(
                select(ChangeLog).where(ChangeLog.record_id == record_id).order_by(ChangeLog.seq)
            )
        )


def members_of(bundle: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(bundle) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(
    path: Path, entries: list[tuple[str, bytes]], *, attrs: dict[str, int] | None = None
) -> None:
    """A zip with exactly these entries (duplicates allowed), written without checks."""
    import warnings
    import zipfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                if attrs and name in attrs:
                    info.external_attr = attrs[name] << 16
                zf.writestr(info, data)


def rewrite(
    bundle: Path,
    replace: dict[str, bytes] | None = None,
    *,
    manifest: dict[str, object] | None = None,
    resign: bool = True,
) -> None:
    """Change members (and manifest fields), recomputing the manifest's checksums so the
    file gets past them to whatever the test is about."""
    import hashlib
    import json

    members = members_of(bundle)
    members.update(replace or {})
    data = json.loads(members["manifest.json"])
    data.update(manifest or {})
    if resign:
        for name in data["members"]:
            if name in members:
                body = members[name]
                data["members"][name] = {
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "size": len(body),
                }
        for name, key in (
            ("changes.jsonl", "changes"),
            ("records.jsonl", "records"),
            ("acks.jsonl", "acks"),
        ):
            if name in members and key in data.get("counts", {}):
                data["counts"][key] = members[name].count(b"\n")
    members["manifest.json"] = json.dumps(data).encode()
    write_zip(bundle, list(members.items()))
