"""Signed and encrypted bundles (issue 7): every refusal happens before the content is
read, with a message saying what to do, and leaves the store as it was."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.errors import SecurityError
from ssp_desktop.domain.records import Action
from ssp_desktop.domain.sync_records import KEY_ACTIVE, KEY_RETIRED, ROLE_LEAD, SyncKey
from ssp_desktop.sync import trust
from ssp_desktop.sync.bundle import read_bundle
from ssp_desktop.sync.container import unpack
from ssp_desktop.sync.export import export_snapshot
from ssp_desktop.sync.importer import import_file, read_sealed
from ssp_desktop.sync.keys import (
    Identity,
    JoinRequest,
    b64,
    make_recovery_key,
    read_recovery_private,
    read_recovery_public,
)
from ssp_desktop.sync.seal import Opener, Sealer, TrustAnyone, encrypt
from tests.sync.helpers import (
    LEAD_A,
    LEAD_B,
    World,
    bundle_count,
    new_identity,
    unseal,
)


def _changed_lead_bundle(world: World, title: str = "Changed on the lead") -> Path:
    lead = world.leads.get(LEAD_A) or world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title=title)
    return world.export(LEAD_A)


def _refused_on_master(world: World, path: Path, match: str) -> str:
    before = (world.master.revision(), bundle_count(world.master))
    with pytest.raises(SecurityError, match=match) as err:
        world.to_master(path)
    assert (world.master.revision(), bundle_count(world.master)) == before
    assert "Nothing was changed" in str(err.value)
    return str(err.value)


def _sealed_as(path: Path, signer: Identity, *, claims: dict[str, object] | None = None) -> None:
    """Seal the bundle at ``path`` again, signed by ``signer`` (same recipients)."""
    zip_bytes, opened = unseal(path)
    new_claims = {**opened.claims, **(claims or {})}
    recipients = [k for k in _recipient_keys(opened.recipients)]
    path.write_bytes(Sealer(signer, recipients, new_claims).seal(zip_bytes))


def _recipient_keys(ids: tuple[str, ...]) -> list[bytes]:
    from tests.sync.helpers import _BY_KEY_ID, _raw_public, key_id

    return [
        _raw_public(k)
        for wanted in ids
        for k in _BY_KEY_ID[wanted].decryption_keys()
        if key_id(_raw_public(k)) == wanted
    ]


# --------------------------------------------------------------------------- refusals


def test_a_bundle_from_an_unknown_signer_is_refused(world: World) -> None:
    path = _changed_lead_bundle(world)
    _sealed_as(path, new_identity())  # a stranger's keys, claiming Alice's copy
    message = _refused_on_master(world, path, "signed by a key this master copy does not know")
    assert "enrol" in message


def test_a_bundle_with_a_bad_signature_is_refused(world: World) -> None:
    path = _changed_lead_bundle(world)
    zip_bytes, opened = unseal(path)
    alice = world.keys[LEAD_A]
    # Alice's public keys in the header, but signed by someone else's private key.
    forged = replace(alice, sign=new_identity().sign)
    plaintext = Sealer(forged, [], opened.claims).signed(
        zip_bytes, _recipient_keys(opened.recipients)
    )
    # The signed header names Alice's key (same length, so the framing still holds).
    plaintext = plaintext.replace(b64(forged.public.sign).encode(), b64(alice.public.sign).encode())
    path.write_bytes(encrypt(plaintext, _recipient_keys(opened.recipients)))
    _refused_on_master(world, path, "bad signature")


def test_a_changed_zip_under_a_valid_signature_is_refused(world: World) -> None:
    path = _changed_lead_bundle(world)
    zip_bytes, opened = unseal(path)
    recipients = _recipient_keys(opened.recipients)
    plaintext = Sealer(world.keys[LEAD_A], [], opened.claims).signed(zip_bytes, recipients)
    tampered = plaintext[:-30] + bytes(b ^ 1 for b in plaintext[-30:])
    path.write_bytes(encrypt(tampered, recipients))
    _refused_on_master(world, path, "bad signature")


def test_a_bundle_from_one_lead_claiming_to_be_from_another_is_refused(world: World) -> None:
    world.starter(LEAD_B, ["RCH"])
    bob = world.read(world.export(LEAD_B)).manifest
    path = _changed_lead_bundle(world)
    # Alice's install signs a bundle that claims to come from Bob's copy.
    zip_bytes, opened = unseal(path)
    claims = {**opened.claims, "lead_id": str(bob.lead_id), "person_id": str(bob.person_id)}
    path.write_bytes(
        Sealer(world.keys[LEAD_A], _recipient_keys(opened.recipients), claims).seal(zip_bytes)
    )
    message = _refused_on_master(world, path, "claims to come from another person")
    assert "Lead" in message  # names whose key signed it


def test_a_lead_naming_another_leads_copy_is_refused(world: World) -> None:
    world.starter(LEAD_B, ["RCH"])
    bob = world.read(world.export(LEAD_B)).manifest
    path = _changed_lead_bundle(world)
    # Alice's own person, but Bob's lead copy: still someone else's copy.
    zip_bytes, opened = unseal(path)
    claims = {**opened.claims, "lead_id": str(bob.lead_id)}
    path.write_bytes(
        Sealer(world.keys[LEAD_A], _recipient_keys(opened.recipients), claims).seal(zip_bytes)
    )
    _refused_on_master(world, path, "claims to come from another person")


def test_altered_ciphertext_is_refused_by_authentication(world: World) -> None:
    path = _changed_lead_bundle(world)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x40
    path.write_bytes(bytes(data))
    _refused_on_master(world, path, "changed or damaged after it was sealed")


def test_an_altered_clear_header_is_refused(world: World) -> None:
    path = _changed_lead_bundle(world)
    data = path.read_bytes()
    head = data.index(b'"nonce":"') + 9
    flipped = b"A" if data[head : head + 1] != b"A" else b"B"
    path.write_bytes(data[:head] + flipped + data[head + 1 :])
    _refused_on_master(world, path, "changed or damaged after it was sealed")


def test_a_bundle_not_addressed_to_this_install_is_refused(world: World) -> None:
    world.starter(LEAD_A, ["PVP"])
    world.starter(LEAD_B, ["RCH"])
    for_alice = world.snapshot(LEAD_A)
    bob = world.leads[LEAD_B]
    before = bob.revision()
    with pytest.raises(SecurityError, match="not addressed to this install") as err:
        read_sealed(for_alice, bob, world.keys[LEAD_B])
    assert world.keys[LEAD_B].fingerprint in str(err.value)
    assert bob.revision() == before


def test_a_re_addressed_bundle_is_refused(world: World) -> None:
    """Someone who could open a bundle encrypts its signed content to another install."""
    world.starter(LEAD_A, ["PVP"])
    path = world.snapshot(LEAD_A)
    zip_bytes, opened = unseal(path)
    signed = Sealer(world.master_keys, [], opened.claims).signed(
        zip_bytes, _recipient_keys(opened.recipients)
    )
    world.starter(LEAD_B, ["RCH"])
    path.write_bytes(encrypt(signed, [world.keys[LEAD_B].public.enc]))
    with pytest.raises(SecurityError, match="re-addressed"):
        read_sealed(path, world.leads[LEAD_B], world.keys[LEAD_B])


def test_a_bundle_from_a_person_not_enrolled_is_refused(world: World) -> None:
    path = _changed_lead_bundle(world)
    with world.master.transaction() as tx:  # the master withdraws Alice's enrolment
        for row in tx.session.scalars(select(SyncKey)):
            row.status = KEY_RETIRED
    message = _refused_on_master(world, path, "not yet enrolled")
    assert "ssp-desktop enrol" in message


def test_export_for_a_person_not_enrolled_is_refused_with_how_to_enrol(world: World) -> None:
    out = world.path("for-bob")
    with pytest.raises(SecurityError, match="Bob is not enrolled") as err:
        export_snapshot(
            world.master, out, person=LEAD_B, themes=["RCH"], identity=world.master_keys
        )
    assert "join" in str(err.value) and "enrol" in str(err.value)
    assert not out.exists()


def test_a_manifest_that_differs_from_the_signed_claims_is_refused(world: World) -> None:
    path = _changed_lead_bundle(world)
    zip_bytes, opened = unseal(path)
    members = unpack(zip_bytes)
    manifest = json.loads(members["manifest.json"])
    manifest["sequence"] = manifest["sequence"] + 5
    members["manifest.json"] = json.dumps(manifest).encode()
    from ssp_desktop.sync.container import pack

    # Signed by Alice, but the signed claims keep the true sequence number.
    path.write_bytes(
        Sealer(world.keys[LEAD_A], _recipient_keys(opened.recipients), opened.claims).seal(
            pack(members)
        )
    )
    _refused_on_master(world, path, "does not match what its sender signed")


def test_a_plain_zip_is_refused(world: World) -> None:
    path = _changed_lead_bundle(world)
    zip_bytes, _ = unseal(path)
    path.write_bytes(zip_bytes)
    _refused_on_master(world, path, "not sealed")


def test_a_lead_copy_trusts_only_its_master(world: World) -> None:
    world.starter(LEAD_A, ["PVP"])
    path = world.snapshot(LEAD_A)
    _sealed_as(path, new_identity())  # another "master" signs Alice's snapshot
    with pytest.raises(SecurityError, match="not by your master copy's key"):
        read_sealed(path, world.leads[LEAD_A], world.keys[LEAD_A])


# --------------------------------------------------------------------------- content


def test_an_encrypted_bundle_holds_none_of_the_plans_text(world: World) -> None:
    path = _changed_lead_bundle(world, "Safeguarding review of IDVA caseloads")
    starter = sorted(world.folder.glob("starter-*.sspbundle"))[0]
    plan_text = ("Vulnerable people", "Domestic abuse", "Fund IDVAs", "PVP", "Safeguarding")
    for bundle in (path, starter):
        data = bundle.read_bytes()
        inside = b"".join(unpack(unseal(bundle)[0]).values())
        carried = [t for t in plan_text if t.encode() in inside]
        assert carried  # the bundle does carry the plan's text, only not readably
        # Only texts long enough not to turn up by chance: random ciphertext (and the
        # base64 of its header) holds any given 3 bytes in about one bundle in 300.
        for text in (*carried, LEAD_A, str(world.plan.plan.id), "manifest.json", "jsonl"):
            if len(text) >= 6:
                assert text.encode() not in data, text


def test_round_trip_master_to_lead_to_master(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    with lead.session() as s:
        (master_key,) = s.scalars(select(SyncKey).where(SyncKey.role == "master")).all()
    assert master_key.fingerprint == world.master_keys.fingerprint
    _changed_lead_bundle(world, "Changed on the lead")
    result = world.send(LEAD_A)
    assert result.applied
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title == "Changed on the lead"
    assert world.reply(LEAD_A).applied


def test_key_rotation_keeps_later_bundles_flowing(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    old = world.keys[LEAD_A]
    snapshot_for_old_key = world.snapshot(LEAD_A)  # made before the master learns
    new = old.rotated()
    from tests.sync.helpers import remember

    remember(new)
    world.keys[LEAD_A] = new
    # The lead's next bundle is signed by the new key and carries the old key's word.
    path = _changed_lead_bundle(world, "After rotation")
    assert world.to_master(path).applied
    with world.master.session() as s:
        rows = s.scalars(select(SyncKey).where(SyncKey.role == ROLE_LEAD)).all()
        status = {r.fingerprint: r.status for r in rows}
    assert status == {old.fingerprint: KEY_RETIRED, new.fingerprint: KEY_ACTIVE}
    # The snapshot encrypted to the old key still opens (the old key is kept) ...
    assert world.read(snapshot_for_old_key, LEAD_A).manifest.kind == "snapshot"
    # ... and later bundles flow both ways under the new key.
    assert world.reply(LEAD_A).applied
    later = _changed_lead_bundle(world, "Later still")
    assert world.to_master(later).applied
    with lead.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title == "Later still"


def test_a_forged_rotation_is_refused(world: World) -> None:
    world.starter(LEAD_A, ["PVP"])
    stranger = new_identity()
    # A rotation statement signed by the stranger's own (not Alice's) key.
    fake = replace(stranger, rotations=stranger.rotated().rotations)
    path = _changed_lead_bundle(world)
    _sealed_as(path, fake)
    _refused_on_master(world, path, "does not know")


def test_enrol_refuses_a_wrong_fingerprint(world: World) -> None:
    bob = Identity.generate()
    request = JoinRequest("Bob", LEAD_B, bob.public, "")
    wrong = Identity.generate().fingerprint
    with pytest.raises(SecurityError, match="does not match"):
        trust.enrol(world.master, request, wrong)
    with pytest.raises(SecurityError, match="not a fingerprint"):
        trust.enrol(world.master, request, "1234")
    with world.master.session() as s:
        assert s.scalars(select(SyncKey).where(SyncKey.email == LEAD_B)).all() == []
    # Read aloud, typed in lower case with spaces: accepted.
    typed = bob.fingerprint.lower().replace("-", " ")
    assert "Enrolled Bob" in trust.enrol(world.master, request, typed).describe()


def test_enrol_needs_the_person_in_the_store(world: World) -> None:
    stranger = Identity.generate()
    request = JoinRequest("Zed", "zed@example.org", stranger.public, "")
    with pytest.raises(SecurityError, match="no person with the email zed@example.org"):
        trust.enrol(world.master, request, stranger.fingerprint)


def test_reissued_starter_for_a_new_install_replaces_the_old_key(world: World) -> None:
    world.starter(LEAD_A, ["PVP"])
    old = world.keys.pop(LEAD_A)
    laptop = new_identity()
    trust.enrol(world.master, JoinRequest("Alice", LEAD_A, laptop.public, ""), laptop.fingerprint)
    out = world.path("reissue")
    export_snapshot(world.master, out, person=LEAD_A, identity=world.master_keys)
    result = import_file(
        world.folder / "new-laptop.sqlite",
        out,
        identity=laptop,
        master_fingerprint=world.master_keys.fingerprint,
    )
    assert result.applied and result.created_store
    with pytest.raises(SecurityError, match="not addressed"):  # the old laptop cannot read it
        read_bundle(out, envelope=Opener.for_identity(old, TrustAnyone()))


def test_the_recovery_key_opens_every_bundle(world: World, tmp_path: Path) -> None:
    public = make_recovery_key(tmp_path / "r.ssprecovery-public", tmp_path / "r.ssprecovery")
    assert (tmp_path / "r.ssprecovery").stat().st_mode & 0o777 == 0o600
    key = read_recovery_public(tmp_path / "r.ssprecovery-public")
    with pytest.raises(SecurityError, match="does not match"):
        trust.enrol_recovery(world.master, key, Identity.generate().fingerprint)
    trust.enrol_recovery(world.master, key, public.fingerprint)
    world.starter(LEAD_A, ["PVP"])  # the starter tells the lead copy about the key
    lead_bundle = _changed_lead_bundle(world)
    recovery = Opener([read_recovery_private(tmp_path / "r.ssprecovery")], TrustAnyone())
    for path in (sorted(world.folder.glob("starter-*"))[0], lead_bundle):
        assert read_bundle(path, envelope=recovery).manifest.plan_id == world.plan.plan.id
    assert world.to_master(lead_bundle).applied


def test_the_master_can_rotate_its_keys_too(world: World) -> None:
    world.starter(LEAD_A, ["PVP"])
    new = world.master_keys.rotated()
    from tests.sync.helpers import remember

    remember(new)
    world.master_keys = new
    assert world.reply(LEAD_A).applied  # the lead copy learns the new key from the old one
    path = _changed_lead_bundle(world, "To the new master key")
    _, opened = unseal(path)
    assert opened.recipients == (new.public.key_id,)
    assert world.to_master(path).applied
