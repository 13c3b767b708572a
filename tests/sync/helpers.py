"""A master copy and its leads' copies in temporary files, for scenario tests.

Every party has its own install keys (as if on its own computer): the master enrols
each lead's keys before their starter bundle, and every bundle is sealed and opened
for real. ``members_of``/``rewrite``/``write_zip`` open a sealed bundle with whichever
test install it was addressed to and seal the changed zip again as its sender, so a
test of the zip or merge layers gets past the envelope, as a lead's own buggy or
hostile app would.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.enums import Polarity, Unit
from ssp_desktop.domain.records import ChangeLog, Measure, Person, Priority, PriorityArea
from ssp_desktop.domain.sync_records import SyncBundle, SyncConflict
from ssp_desktop.store.engine import Store
from ssp_desktop.sync import trust
from ssp_desktop.sync.bundle import Bundle
from ssp_desktop.sync.export import export_changes, export_snapshot
from ssp_desktop.sync.importer import ImportResult, import_bundle, import_file, read_sealed
from ssp_desktop.sync.keys import Identity, JoinRequest, _raw_public, key_id
from ssp_desktop.sync.seal import MAGIC, Opened, Opener, Sealer, TrustAnyone
from tests.factories import MiniPlan, mini_plan

LEAD_A = "alice@example.org"
LEAD_B = "bob@example.org"
LEAD_R = "rita@example.org"

# Every test install's keys, by fingerprint and by recipient key id (see the docstring).
_BY_FINGERPRINT: dict[str, Identity] = {}
_BY_KEY_ID: dict[str, Identity] = {}


def new_identity() -> Identity:
    identity = Identity.generate()
    remember(identity)
    return identity


def remember(identity: Identity) -> None:
    _BY_FINGERPRINT[identity.fingerprint] = identity
    for key in identity.decryption_keys():
        _BY_KEY_ID[key_id(_raw_public(key))] = identity


def enrol_identity(master: Store, email: str, identity: Identity, name: str = "Lead") -> None:
    request = JoinRequest(name, email, identity.public, "")
    trust.enrol(master, request, identity.fingerprint)


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
    master_keys: Identity = field(default_factory=new_identity)
    keys: dict[str, Identity] = field(default_factory=dict)

    def path(self, stem: str) -> Path:
        return self.folder / f"{stem}-{next(self._names)}.sspbundle"

    def enrol(self, email: str) -> Identity:
        if email not in self.keys:
            self.keys[email] = new_identity()
            enrol_identity(self.master, email, self.keys[email])
        return self.keys[email]

    def starter(self, email: str, themes: list[str]) -> Store:
        identity = self.enrol(email)
        out = self.path("starter")
        export_snapshot(self.master, out, person=email, themes=themes, identity=self.master_keys)
        lead_path = self.folder / f"lead-{email.split('@')[0]}.sqlite"
        # The lead types the fingerprint the strategy team reads out to them.
        result = import_file(
            lead_path, out, identity=identity, master_fingerprint=self.master_keys.fingerprint
        )
        assert result.applied and result.created_store
        store = Store.open(lead_path)
        self.leads[email] = store
        return store

    def export(self, email: str) -> Path:
        out = self.path(email.split("@")[0])
        export_changes(self.leads[email], out, identity=self.keys[email])
        return out

    def read(self, bundle: Path, who: str = "master") -> Bundle:
        """The bundle as ``who`` (the master or a lead's email) opens it."""
        if who == "master":
            return read_sealed(bundle, self.master, self.master_keys)
        return read_sealed(bundle, self.leads[who], self.keys[who])

    def to_master(self, bundle: Path) -> ImportResult:
        return import_bundle(self.master, self.read(bundle), file_name=bundle.name)

    def send(self, email: str) -> ImportResult:
        return self.to_master(self.export(email))

    def snapshot(self, email: str) -> Path:
        out = self.path(f"for-{email.split('@')[0]}")
        export_snapshot(self.master, out, person=email, identity=self.master_keys)
        return out

    def reply(self, email: str) -> ImportResult:
        bundle = self.snapshot(email)
        return import_bundle(self.leads[email], self.read(bundle, email), file_name=bundle.name)

    def close(self) -> None:
        for store in self.leads.values():
            store.close()
        self.master.close()


def make_world(folder: Path, master_at: Path | str | None = None) -> World:
    """The master (at ``master_at``: a file, or a server store's URL; default a file in
    ``folder``) and, on demand, leads' copies (files in ``folder``)."""
    master = Store.open(master_at or folder / "master.sqlite", create=True)
    plan = mini_plan(master)
    with master.transaction(actor="strategy") as tx:
        person = tx.get(Person, plan.person.id)
        assert person is not None
        services.edit(tx, person, email=LEAD_A)
        for name, email in (("Bob", LEAD_B), ("Rita", LEAD_R)):
            services.create(tx, Person(partnership_id=plan.partnership.id, name=name, email=email))
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.edit(tx, measure, priority_id=plan.priority.id)
        rch = services.create(
            tx, Priority(plan_id=plan.plan.id, code="RCH", title="Reducing crime")
        )
        rch_area = services.create(tx, PriorityArea(priority_id=rch.id, title="Burglary"))
        services.add_action(tx, rch_area, ref="RCH-01", title="Target hardening")
        rch_measure = services.create(
            tx,
            Measure(
                plan_id=plan.plan.id,
                priority_id=rch.id,
                ref="M02",
                name="Burglaries",
                unit=Unit.COUNT,
                polarity=Polarity.LOWER_BETTER,
            ),
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


def unseal(bundle: Path) -> tuple[bytes, Opened]:
    """The zip inside a sealed test bundle, and what its envelope says."""
    data = bundle.read_bytes()
    for identity in list(_BY_KEY_ID.values()):
        opener = Opener.for_identity(identity, TrustAnyone())
        try:
            zip_bytes = opener.open(data)
        except Exception:
            continue
        assert opener.opened is not None
        return zip_bytes, opener.opened
    raise AssertionError(f"no test install can open {bundle}")


def reseal(path: Path, zip_bytes: bytes, opened: Opened) -> None:
    """Seal ``zip_bytes`` as ``opened``'s sender did, to the same recipients; the
    claims follow the zip's manifest when it has a readable one."""
    import io
    import json
    import zipfile

    claims = dict(opened.claims)
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
            manifest = json.loads(zf.read("manifest.json"))
        for key in claims:
            if key in manifest:
                claims[key] = manifest[key]
    except Exception:
        pass
    signer = _BY_FINGERPRINT[opened.signer.fingerprint]
    recipients = [
        _raw_public(k)
        for wanted in opened.recipients
        for k in _BY_KEY_ID[wanted].decryption_keys()
        if key_id(_raw_public(k)) == wanted
    ]
    path.write_bytes(
        Sealer(signer, recipients, claims, recovery_keys=opened.recovery_keys).seal(zip_bytes)
    )


def members_of(bundle: Path) -> dict[str, bytes]:
    import io
    import zipfile

    data = bundle.read_bytes()
    if data.startswith(MAGIC):
        data, _ = unseal(bundle)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(
    path: Path, entries: list[tuple[str, bytes]], *, attrs: dict[str, int] | None = None
) -> None:
    """A zip with exactly these entries (duplicates allowed), written without checks;
    sealed as the bundle at ``path`` was, if it was."""
    import io
    import warnings
    import zipfile

    opened = unseal(path)[1] if path.exists() and path.read_bytes().startswith(MAGIC) else None
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                if attrs and name in attrs:
                    info.external_attr = attrs[name] << 16
                zf.writestr(info, data)
    if opened is None:
        path.write_bytes(buffer.getvalue())
    else:
        reseal(path, buffer.getvalue(), opened)


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


def master_on_this_install(folder: Path) -> World:
    """A world whose master runs as this install (the window under test is the master)."""
    from ssp_desktop.sync.keys import this_install

    world = make_world(folder)
    world.master_keys = this_install()
    remember(world.master_keys)
    return world


def lead_change(world: World, title: str) -> Path:
    """Lead A (made on first use) retitles the plan's action and exports the change."""
    from ssp_desktop.domain.records import Action

    lead = world.leads.get(LEAD_A) or world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title=title)
    out = world.path("alice")
    export_changes(lead, out, identity=world.keys[LEAD_A])
    return out
