"""Whose keys a store trusts: enrolling leads, learning the master, rotation, recovery.

* The master enrols a lead's join request (:func:`enrol`) only when the fingerprint the
  user typed (read out by the lead) matches; only an enrolled person gets bundles, and
  only bundles signed by a person's enrolled key (or a key it rotated to) are imported
  as theirs.
* A lead copy trusts one signer: the master whose starter bundle made it (the keys are
  recorded when the starter is imported), and keys that master rotated to.
* Rotation: a bundle signed by an unknown key is accepted when its rotation statements
  lead, each signed by the key before, from the trusted key to the signer; the import
  then retires the old key and trusts the new one (:func:`learn`).
* Recovery keys enrolled on the master (:func:`enrol_recovery`) are recipients of every
  bundle it writes, and its snapshots tell the lead copies to add them too.
* Trust belongs to one partnership (``SyncKey.partnership_id``): a key is enrolled for
  its person's partnership, a recovery key for the partnership the store is open for,
  and a key learned from a bundle for the partnership of the bundle's plan. A store
  open for one partnership reads only that partnership's keys (the store's partnership
  filter, and row-level security on a server), so a lead's key trusted by Bolton lets
  nothing into Stockport: such a bundle is refused naming the partnership that trusts it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import utcnow
from ssp_desktop.domain.errors import BundleError, SecurityError
from ssp_desktop.domain.records import Partnership, Person, Plan
from ssp_desktop.domain.sync_records import (
    KEY_ACTIVE,
    KEY_RETIRED,
    ROLE_LEAD,
    ROLE_MASTER,
    ROLE_RECOVERY,
    SyncKey,
    SyncLead,
)
from ssp_desktop.store.engine import Store, default_actor
from ssp_desktop.store.partnerships import (
    ALL_PARTNERSHIPS,
    PartnershipRef,
    filtered_partnership,
    list_partnerships,
    other_partnership_refusal,
    partnership_by_id,
    partnership_of_plan,
)
from ssp_desktop.sync import state
from ssp_desktop.sync.keys import (
    JoinRequest,
    PublicKeys,
    RecoveryPublic,
    b64,
    normalise_fingerprint,
    recovery_fingerprint,
    unb64,
    verify_rotation,
)
from ssp_desktop.sync.manifest import KIND_CHANGES, KIND_SNAPSHOT
from ssp_desktop.sync.seal import Opened, claim_uuid

_NOTHING = "Nothing was changed."
_ENROL_HOW = (
    "ask them to make a join request on their laptop (Join a partnership, or "
    "'ssp-desktop join --out FILE --name NAME --email EMAIL'), send it to you, and enrol it "
    "once they have read you its fingerprint (File > Enrol a lead, or "
    "'ssp-desktop enrol --store PATH FILE --fingerprint FP')"
)


def _keys(row: SyncKey) -> PublicKeys:
    return PublicKeys(unb64(row.sign_key, "key"), unb64(row.enc_key, "key"))


def _walk(start: PublicKeys, signer: PublicKeys, rotations: Sequence[dict[str, object]]) -> bool:
    """True if the statements lead, each signed by the key before, from start to signer."""
    current = start.fingerprint
    for statement in rotations:
        step = verify_rotation(statement)
        if step is not None and step[0].fingerprint == current:
            current = step[1].fingerprint
    return current == signer.fingerprint


@dataclass
class StoreTrust:
    """The keys one store trusts, read once (the bundle is opened before the import's
    transaction starts). ``new_store``: a store that does not exist yet (a starter)."""

    role: str = ""
    masters: list[PublicKeys] = field(default_factory=list)
    leads: dict[uuid.UUID, list[PublicKeys]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # fingerprint -> name
    owners: dict[str, uuid.UUID] = field(default_factory=dict)  # fingerprint -> person
    lead_people: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # lead -> person
    # In a store of several partnerships: the one it is open for, the other
    # partnerships' plans, and which other partnerships trust a lead's key (by
    # fingerprint), so a refusal can name them. Empty in a store of one partnership.
    open_for: PartnershipRef | None = None
    other_plans: dict[uuid.UUID, PartnershipRef] = field(default_factory=dict)
    elsewhere: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session) -> StoreTrust:
        """What ``session``'s store trusts, for the partnership it is open for (its
        reads of the keys are filtered to that partnership)."""
        trust = cls(role=state.role(session))
        trust.lead_people = dict(
            session.execute(select(SyncLead.id, SyncLead.person_id)).tuples().all()
        )
        pid = filtered_partnership(session)
        if pid is not None:
            trust._read_other_partnerships(session, pid)
        for row in session.scalars(select(SyncKey).where(SyncKey.status == KEY_ACTIVE)):
            if row.role == ROLE_MASTER:
                trust.masters.append(_keys(row))
            elif row.role == ROLE_LEAD and row.person_id is not None:
                trust.leads.setdefault(row.person_id, []).append(_keys(row))
                trust.owners[row.fingerprint] = row.person_id
                trust.names[row.fingerprint] = row.name or row.email
        return trust

    def _read_other_partnerships(self, session: Session, pid: uuid.UUID) -> None:
        """The other partnerships' plans and lead keys this connection may read (on a
        server, row-level security may hide them: then the refusal is the plain one)."""
        across = {ALL_PARTNERSHIPS: True}
        self.open_for = partnership_by_id(session, pid)
        for plan_id, owner_id, name, area in session.execute(
            select(Plan.id, Partnership.id, Partnership.name, Partnership.area)
            .join(Partnership, Partnership.id == Plan.partnership_id)
            .where(Plan.partnership_id != pid)
            .execution_options(**across)
        ):
            self.other_plans[plan_id] = PartnershipRef(owner_id, name, area)
        for fingerprint, name in session.execute(
            select(SyncKey.fingerprint, Partnership.name)
            .join(Partnership, Partnership.id == SyncKey.partnership_id)
            .where(
                SyncKey.role == ROLE_LEAD,
                SyncKey.status == KEY_ACTIVE,
                SyncKey.partnership_id != pid,
            )
            .order_by(Partnership.name)
            .execution_options(**across)
        ):
            self.elsewhere.setdefault(fingerprint, []).append(name)

    @classmethod
    def of_store(cls, store: Store) -> StoreTrust:
        with store.session() as s:
            return cls.of(s)

    def _refuse_other_partnership(self, opened: Opened) -> None:
        """A bundle of another partnership's plan is refused before any key is judged:
        which partnership it belongs to is the useful thing to say."""
        plan_id = claim_uuid(opened, "plan_id")
        theirs = self.other_plans.get(plan_id) if plan_id is not None else None
        if theirs is not None:
            raise BundleError(other_partnership_refusal("This bundle", theirs, self.open_for))

    def _trusted_elsewhere(self, signer: PublicKeys) -> None:
        """Refuse, naming them, when only other partnerships trust ``signer``."""
        where = self.elsewhere.get(signer.fingerprint)
        if not where or self.open_for is None:
            return
        names = " and ".join(where)
        here = self.open_for.name
        raise SecurityError(
            f"This bundle is signed by a lead's key that is trusted for {names}, not for "
            f"{here} (the partnership the store is open for). Trust is given per "
            f"partnership: if they lead a theme of {here} too, enrol them for it with the "
            f"store open for {here}. To import it into {names}, open the store for that "
            "partnership. " + _NOTHING
        )

    def check(self, opened: Opened) -> PublicKeys | None:
        kind = opened.claims.get("kind")
        signer = opened.signer
        self._refuse_other_partnership(opened)
        if kind == KIND_SNAPSHOT:
            return self._from_master(opened)
        if kind != KIND_CHANGES:
            raise SecurityError(f"The bundle's signed header names no known kind. {_NOTHING}")
        if self.role == ROLE_LEAD:
            # merge refuses this with its own message (a lead's bundle on a lead copy).
            return self._from_master(opened) if self.masters else None
        person = claim_uuid(opened, "person_id")
        lead = claim_uuid(opened, "lead_id")
        owner = self.owners.get(signer.fingerprint)
        if lead in self.lead_people and self.lead_people[lead] != person:
            owner = owner or person  # the copy named is another person's
            person = self.lead_people[lead]
        if owner is not None and owner != person:
            raise SecurityError(
                f"This bundle was signed by {self.names.get(signer.fingerprint, 'one lead')}'s "
                "key but claims to come from another person's copy. It is refused: a lead can "
                "only send their own changes. Ask the sender what they meant to send. " + _NOTHING
            )
        enrolled = self.leads.get(person) if person is not None else None
        if not enrolled:
            if owner is None:
                self._trusted_elsewhere(signer)
            raise SecurityError(
                "The person this bundle comes from is not yet enrolled on this master copy "
                f"(their key is unknown here). To accept bundles from them, {_ENROL_HOW}. "
                + _NOTHING
            )
        if owner == person:
            return None
        for key in enrolled:
            if _walk(key, signer, opened.rotations):
                return key
        self._trusted_elsewhere(signer)
        raise SecurityError(
            f"This bundle is signed by a key this master copy does not know (fingerprint "
            f"{signer.fingerprint}), not by the enrolled key of the person it claims to come "
            f"from. If they made new keys without rotating, {_ENROL_HOW}. " + _NOTHING
        )

    def _from_master(self, opened: Opened) -> PublicKeys | None:
        signer = opened.signer
        if not self.masters:
            if self.role == ROLE_LEAD:
                raise SecurityError(
                    "This lead copy does not know its master copy's key (it was made before "
                    "bundles were signed), so it cannot check who sent this bundle. Ask the "
                    "strategy team to re-issue your starter bundle, and import it into a new "
                    "store. " + _NOTHING
                )
            if self.role == ROLE_MASTER:
                return None  # merge refuses a snapshot on the master with its own message
            return None  # a starter: the master's keys are learned from it
        for key in self.masters:
            if key.fingerprint == signer.fingerprint:
                return None
            if _walk(key, signer, opened.rotations):
                return key
        raise SecurityError(
            f"This bundle is signed by a key this copy does not know (fingerprint "
            f"{signer.fingerprint}), not by your master copy's key. It is refused. If the "
            "strategy team changed computers, ask them to re-issue your starter bundle. " + _NOTHING
        )


# --------------------------------------------------------------------------- learning


def _add(session: Session, role: str, keys: PublicKeys, **fields: object) -> SyncKey:
    row = SyncKey(
        id=uuid.uuid4(),
        role=role,
        sign_key=b64(keys.sign),
        enc_key=b64(keys.enc),
        fingerprint=keys.fingerprint,
        status=KEY_ACTIVE,
        enrolled_at=utcnow(),
        **fields,
    )
    session.add(row)
    return row


def _retire(session: Session, row: SyncKey, replaced_by: uuid.UUID | None) -> None:
    row.status = KEY_RETIRED
    row.retired_at = utcnow()
    row.replaced_by = replaced_by


def learn(session: Session, opened: Opened, *, sender: str = "") -> None:
    """Inside the import's transaction: trust what the bundle taught (the master's keys
    from a starter, a rotated key, the recovery keys a master names)."""
    signer = opened.signer
    kind = opened.claims.get("kind")
    role = ROLE_MASTER if kind == KIND_SNAPSHOT else ROLE_LEAD
    plan_id = claim_uuid(opened, "plan_id")
    # The bundle's plan is in the store by now (a starter has just made it).
    owner = partnership_of_plan(session, plan_id) if plan_id is not None else None
    pid = owner.id if owner is not None else None
    rows = session.scalars(
        select(SyncKey).where(SyncKey.role == role, SyncKey.status == KEY_ACTIVE)
    ).all()
    if role == ROLE_MASTER:
        if not rows:
            _add(
                session,
                ROLE_MASTER,
                signer,
                partnership_id=pid,
                name=sender,
                enrolled_by="starter bundle",
            )
        elif opened.rotated_from is not None:
            for row in rows:
                if row.fingerprint == opened.rotated_from.fingerprint:
                    new = _add(
                        session,
                        ROLE_MASTER,
                        signer,
                        partnership_id=row.partnership_id or pid,
                        name=row.name,
                        enrolled_by="rotation",
                    )
                    _retire(session, row, new.id)
        _learn_recovery(session, opened.recovery_keys, pid)
    elif opened.rotated_from is not None:
        for row in rows:
            if row.fingerprint == opened.rotated_from.fingerprint:
                new = _add(
                    session,
                    ROLE_LEAD,
                    signer,
                    partnership_id=row.partnership_id or pid,
                    person_id=row.person_id,
                    name=row.name,
                    email=row.email,
                    enrolled_by="rotation signed by the old key",
                )
                _retire(session, row, new.id)


def _learn_recovery(
    session: Session, keys: Sequence[bytes], partnership_id: uuid.UUID | None
) -> None:
    """A lead copy encrypts to exactly the recovery keys its master names."""
    wanted = {b64(k) for k in keys}
    for row in session.scalars(
        select(SyncKey).where(SyncKey.role == ROLE_RECOVERY, SyncKey.status == KEY_ACTIVE)
    ):
        if row.enc_key in wanted:
            wanted.discard(row.enc_key)
        else:
            _retire(session, row, None)
    for enc in sorted(wanted):
        raw = unb64(enc, "recovery key")
        session.add(
            SyncKey(
                id=uuid.uuid4(),
                role=ROLE_RECOVERY,
                partnership_id=partnership_id,
                enc_key=enc,
                fingerprint=recovery_fingerprint(raw),
                status=KEY_ACTIVE,
                enrolled_by="master's bundle",
            )
        )


# --------------------------------------------------------------------------- enrolling


@dataclass(frozen=True)
class Enrolled:
    person: str
    fingerprint: str
    replaced: int  # earlier keys of the person retired
    already: bool = False
    partnership: str = ""  # whose trust it is (the partnership's name)

    def describe(self) -> str:
        where = f" for {self.partnership}" if self.partnership else ""
        if self.already:
            return f"{self.person} was already enrolled{where} with fingerprint {self.fingerprint}."
        extra = " (their previous key was retired)" if self.replaced else ""
        return f"Enrolled {self.person}{where} with fingerprint {self.fingerprint}{extra}."


def check_fingerprint(expected: str, typed: str) -> None:
    """Refuse unless ``typed`` is ``expected`` (as read aloud: any case and spacing)."""
    cleaned = normalise_fingerprint(typed)
    if not cleaned:
        raise SecurityError(
            f"{typed!r} is not a fingerprint: it has eight groups of four letters and digits, "
            "like ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789. Nothing was enrolled."
        )
    if cleaned != expected:
        raise SecurityError(
            "The fingerprint does not match the request's. Do not enrol it: the file may not "
            "be the one the person made. Ask them to read their fingerprint again (Help > "
            "Keys, or 'ssp-desktop keys'), by phone or in person, and if it still differs "
            "ask for a new join request. Nothing was enrolled."
        )


def check_master_fingerprint(expected: str, typed: str | None) -> None:
    """Before a first starter bundle is trusted: refuse unless ``typed`` (what the
    strategy team read out) is the fingerprint of the key that signed it. Without this,
    anyone holding a lead's join request (which leads email) could send a starter from
    their own install, and the lead's copy would encrypt its updates to them."""
    if not (typed or "").strip():
        raise SecurityError(
            "This starter bundle makes your copy trust the master copy that signed it. "
            "Ask the strategy team to read you their fingerprint (Help > Your keys on the "
            "master copy) by phone or in person, and type it when you import (from the "
            "command line: --master-fingerprint). " + _NOTHING
        )
    cleaned = normalise_fingerprint(typed or "")
    if not cleaned:
        raise SecurityError(
            f"{typed!r} is not a fingerprint: it has eight groups of four letters and digits, "
            "like ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789. " + _NOTHING
        )
    if cleaned != expected:
        raise SecurityError(
            "The fingerprint you were read does not match the key that signed this starter "
            "bundle. Do not import it: it may not come from your strategy team. Ask them to "
            "read their fingerprint again, and if it still differs, to send the starter "
            "again. " + _NOTHING
        )


def _person_by_email(session: Session, email: str) -> Person:
    found = [
        p
        for p in session.scalars(
            select(Person).where(Person.email.is_not(None), Person.deleted_at.is_(None))
        )
        if (p.email or "").strip().lower() == email.strip().lower()
    ]
    if len(found) != 1:
        why = "no person" if not found else "more than one person"
        raise SecurityError(
            f"This store has {why} with the email {email}. Add them (or correct their email) "
            "under Partners and people, then enrol the request again. Nothing was enrolled."
        )
    return found[0]


def enrol(store: Store, request: JoinRequest, typed: str, *, actor: str | None = None) -> Enrolled:
    """Enrol a lead's join request on the master, if ``typed`` is its fingerprint."""
    check_fingerprint(request.fingerprint, typed)
    with store.transaction(actor=actor, source="sync", keeps_history=True) as tx:
        s = tx.session
        if state.role(s) == ROLE_LEAD:
            raise SecurityError(
                "This store is a lead copy; leads are enrolled on the master copy. "
                "Nothing was enrolled."
            )
        person = _person_by_email(s, request.email)
        pid = person.partnership_id
        partnership = partnership_by_id(s, pid)
        where = partnership.name if partnership is not None else ""
        # One install's keys belong to one person of a partnership; the same install
        # may be enrolled for another partnership too, as that partnership's person.
        other = s.scalar(
            select(SyncKey).where(
                SyncKey.fingerprint == request.fingerprint,
                SyncKey.status == KEY_ACTIVE,
                SyncKey.person_id != person.id,
                SyncKey.partnership_id == pid,
            )
        )
        if other is not None:
            raise SecurityError(
                f"These keys are already enrolled for {other.name or other.email}. One "
                "install's keys belong to one person. Nothing was enrolled."
            )
        current = s.scalars(
            select(SyncKey).where(
                SyncKey.role == ROLE_LEAD,
                SyncKey.person_id == person.id,
                SyncKey.status == KEY_ACTIVE,
            )
        ).all()
        label = f"{person.name} ({person.email})"
        if any(r.fingerprint == request.fingerprint for r in current):
            return Enrolled(label, request.fingerprint, 0, already=True, partnership=where)
        row = _add(
            s,
            ROLE_LEAD,
            request.keys,
            partnership_id=pid,
            person_id=person.id,
            name=request.name,
            email=request.email,
            enrolled_by=actor or default_actor(),
        )
        for old in current:
            _retire(s, old, row.id)
        return Enrolled(label, request.fingerprint, len(current), partnership=where)


def enrol_recovery(
    store: Store, key: RecoveryPublic, typed: str, *, actor: str | None = None
) -> Enrolled:
    """Add the partnership recovery key as a recipient of every bundle this master writes."""
    check_fingerprint(key.fingerprint, typed)
    with store.transaction(actor=actor, source="sync", keeps_history=True) as tx:
        s = tx.session
        if state.role(s) == ROLE_LEAD:
            raise SecurityError(
                "The recovery key is enrolled on the master copy. Nothing was enrolled."
            )
        partnership = _open_partnership(store, s)
        existing = s.scalar(
            select(SyncKey).where(
                SyncKey.role == ROLE_RECOVERY,
                SyncKey.fingerprint == key.fingerprint,
                SyncKey.status == KEY_ACTIVE,
                SyncKey.partnership_id == partnership.id,
            )
        )
        if existing is not None:
            return Enrolled(
                "the recovery key", key.fingerprint, 0, already=True, partnership=partnership.name
            )
        s.add(
            SyncKey(
                id=uuid.uuid4(),
                role=ROLE_RECOVERY,
                partnership_id=partnership.id,
                name="Partnership recovery key",
                enc_key=b64(key.enc),
                fingerprint=key.fingerprint,
                status=KEY_ACTIVE,
                enrolled_by=actor or default_actor(),
            )
        )
    return Enrolled("the recovery key", key.fingerprint, 0, partnership=partnership.name)


def withdraw(store: Store, key_id: uuid.UUID, *, actor: str | None = None) -> str:
    """Stop trusting a lead's key or a recovery key, for the partnership the store is
    open for only (kept as retired, so the history still says who signed what). Returns
    what was done, in words."""
    with store.transaction(actor=actor, source="sync", keeps_history=True) as tx:
        s = tx.session
        partnership = _open_partnership(store, s)
        row = s.get(SyncKey, key_id)
        if row is None or row.partnership_id != partnership.id or row.status != KEY_ACTIVE:
            raise SecurityError(
                f"That key is not trusted for {partnership.name} (any more). Nothing was changed."
            )
        if row.role == ROLE_MASTER:
            raise SecurityError(
                "This is the master copy's key: it is how this copy knows that bundles come "
                "from the strategy team, so it cannot be withdrawn. Nothing was changed."
            )
        who = (
            "The recovery key"
            if row.role == ROLE_RECOVERY
            else f"{row.name or row.email}'s key ({row.fingerprint})"
        )
        _retire(s, row, None)
    after = (
        "bundles for this partnership are no longer encrypted to it"
        if row.role == ROLE_RECOVERY
        else "bundles signed by it are refused; enrol a new join request to trust them again"
    )
    return f"{who} is no longer trusted for {partnership.name}: {after}."


def _open_partnership(store: Store, session: Session) -> PartnershipRef:
    """The partnership whose trust a key enrolled now joins: the one the store is open
    for (a store of one partnership is open for it)."""
    if store.partnership is not None:
        return store.partnership
    held = list_partnerships(session)
    if len(held) == 1:
        return held[0]
    if not held:
        raise SecurityError(
            "This store holds no partnership yet, so there is no partnership to trust the "
            "key. Make or import the plan first. Nothing was enrolled."
        )
    raise SecurityError(
        "This store holds several partnerships and is not open for one of them: trust is "
        "given per partnership. Open the store for the partnership (--partnership) and "
        "enrol the key again. Nothing was enrolled."
    )


# --------------------------------------------------------------------------- recipients


def recovery_keys(session: Session) -> list[bytes]:
    return [
        unb64(r.enc_key, "recovery key")
        for r in session.scalars(
            select(SyncKey)
            .where(SyncKey.role == ROLE_RECOVERY, SyncKey.status == KEY_ACTIVE)
            .order_by(SyncKey.enrolled_at)
        )
    ]


def lead_key(session: Session, person: Person) -> PublicKeys:
    """The enrolled key of ``person``, or a refusal saying how to enrol them."""
    row = session.scalar(
        select(SyncKey)
        .where(
            SyncKey.role == ROLE_LEAD,
            SyncKey.person_id == person.id,
            SyncKey.status == KEY_ACTIVE,
        )
        .order_by(SyncKey.enrolled_at.desc())
        .limit(1)
    )
    if row is None:
        raise SecurityError(
            f"{person.name} is not enrolled, so no bundle can be made for them (bundles are "
            f"encrypted to the person's own key). To enrol them, {_ENROL_HOW}. {_NOTHING}"
        )
    return _keys(row)


def master_key(session: Session) -> PublicKeys:
    row = session.scalar(
        select(SyncKey)
        .where(SyncKey.role == ROLE_MASTER, SyncKey.status == KEY_ACTIVE)
        .order_by(SyncKey.enrolled_at.desc())
        .limit(1)
    )
    if row is None:
        raise SecurityError(
            "This lead copy does not know its master copy's key (it was made before bundles "
            "were signed and encrypted), so it cannot encrypt a bundle for it. Ask the "
            "strategy team to re-issue your starter bundle. " + _NOTHING
        )
    return _keys(row)


def enrolled_people(session: Session) -> list[SyncKey]:
    return list(
        session.scalars(
            select(SyncKey).where(SyncKey.status == KEY_ACTIVE).order_by(SyncKey.role, SyncKey.name)
        )
    )
