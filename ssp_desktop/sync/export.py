"""Writing bundles: a lead's changes for the master; the master's snapshot for a lead.

* :func:`export_changes` (on a lead copy): every change in its change log that did not
  come from a bundle and that the master has not acknowledged, oldest first, each with
  its before and after value. Unacknowledged changes are repeated in every bundle, so a
  later bundle supersedes an earlier one and a lost bundle loses nothing.
* :func:`export_snapshot` (on the master): a full snapshot of one lead's scope (their
  themes and actions, see :mod:`ssp_desktop.sync.scope`), tombstones included, and the
  lead's changes the master has processed (acknowledgements). The first one for a
  person is their starter bundle: importing it into a new store makes their lead copy.

Every bundle is sealed (:mod:`ssp_desktop.sync.seal`): signed with this install's key
and encrypted to its recipients: from a lead, the master's key (learned from the starter
bundle); from the master, the person's enrolled key (a person not enrolled gets nothing);
and in both directions every partnership recovery key.

The bundle's number (``sequence``) is taken, and the bundle recorded, in the transaction
that writes the file (atomically, under a temporary name first): if writing fails,
nothing is recorded and the number is not used.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import utcnow
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import (
    Action,
    ChangeLog,
    Person,
    Plan,
    Priority,
    record_classes,
)
from ssp_desktop.domain.sync_records import (
    ROLE_LEAD,
    ROLE_MASTER,
    SyncBundle,
    SyncLead,
    SyncProcessed,
)
from ssp_desktop.progress import Progress
from ssp_desktop.store.engine import Store, default_actor
from ssp_desktop.sync import codec, state, trust
from ssp_desktop.sync.bundle import write_bundle
from ssp_desktop.sync.container import ACKS, CHANGES, EXTENSION, RECORDS
from ssp_desktop.sync.keys import Identity, this_install
from ssp_desktop.sync.manifest import KIND_CHANGES, KIND_SNAPSHOT, Manifest, Scope
from ssp_desktop.sync.scope import LeadScope, snapshot_records
from ssp_desktop.sync.seal import Sealer, claims_of

_PROGRESS_EVERY = 500


@dataclass(frozen=True)
class ExportResult:
    path: Path
    kind: str
    bundle_id: uuid.UUID
    sequence: int
    count: int  # changes (lead) or records (master)
    acks: int
    size: int
    person: str = ""
    themes: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()  # refs of the single actions the lead holds

    def describe(self) -> str:
        if self.kind == KIND_CHANGES:
            what = f"{self.count} change{'s' if self.count != 1 else ''} for the master copy"
        else:
            scope = [", ".join(self.themes)] if self.themes else []
            if self.actions:
                noun = "action" if len(self.actions) == 1 else "actions"
                scope.append(f"{noun} {', '.join(self.actions)}")
            what = (
                f"{self.count} records of {' and '.join(scope) or 'no theme or action'}"
                f" for {self.person}"
                f" ({self.acks} of their changes acknowledged)"
            )
        return f"Wrote {self.path} (bundle number {self.sequence}): {what}, {self.size:,} bytes."


def _check_path(out: Path) -> Path:
    out = Path(out).expanduser().absolute()
    if out.suffix != EXTENSION:
        raise BundleError(f"Bundle files end in {EXTENSION}; choose a name like plan{EXTENSION}.")
    if out.is_dir():
        raise BundleError(f"{out} is a folder; give the name of the bundle file to write.")
    return out


def _step(progress: Progress | None, done: int, total: int, text: str) -> None:
    if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
        progress.step(done, total, text)


# --------------------------------------------------------------------------- lead


def pending_changes(session: Session, lead_id: uuid.UUID) -> list[ChangeLog]:
    """This lead copy's changes the master has not yet acknowledged, oldest first."""
    acked = select(SyncProcessed.change_id).where(SyncProcessed.lead_id == lead_id)
    return list(
        session.scalars(
            select(ChangeLog)
            .where(~ChangeLog.source.startswith("bundle:"), ChangeLog.id.not_in(acked))
            .order_by(ChangeLog.seq)
        )
    )


def change_line(session: Session, row: ChangeLog) -> dict[str, object]:
    """One change-log row as a ``changes.jsonl`` line (JSON values, as logged)."""
    line: dict[str, object] = {
        "id": str(row.id),
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "entity": row.entity,
        "record_id": str(row.record_id),
        "op": row.op,
        "field": row.field,
        "old": None if row.old is None else json.loads(row.old),
        "new": None if row.new is None else json.loads(row.new),
    }
    if row.op == "delete":
        # The master compares these with its own to tell "deleted" from "deleted after
        # you changed it" (edit vs delete).
        obj = session.get(record_classes()[row.entity], row.record_id)
        if obj is not None:
            line["record"] = codec.encode_fields(codec.record_fields(obj))
    return line


def export_changes(
    store: Store,
    out: Path,
    *,
    actor: str | None = None,
    identity: Identity | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write this lead copy's unacknowledged changes to ``out``, sealed with ``identity``
    (this install's keys unless given)."""
    out = _check_path(out)
    with store.session() as s:
        copy = state.lead_copy(s)
        if copy is None:
            raise BundleError(
                "This store is not a lead copy, so it has no changes to send to a master. "
                "On the master copy, export a bundle for a person (--for PERSON)."
            )
        rows = pending_changes(s, copy.lead_id)
        lines = []
        for i, row in enumerate(rows, start=1):
            if row.entity in record_classes():
                lines.append(change_line(s, row))
            _step(progress, i, len(rows), "Collecting your changes…")
        codes = tuple(s.scalars(select(Priority.code).where(Priority.id.in_(copy.themes))).all())
        refs = _refs(s, copy.actions)
        recipients = [trust.master_key(s).enc, *trust.recovery_keys(s)]
    identity = identity or this_install()
    bundle_id = uuid.uuid4()
    with store.transaction(actor=actor, source="sync", keeps_history=True) as tx:
        sequence = state.next_sequence(tx.session)
        manifest = Manifest(
            kind=KIND_CHANGES,
            bundle_id=bundle_id,
            plan_id=copy.plan_id,
            master_store_id=copy.master_store_id,
            sender_site_id=store.site_id,
            sender_store_id=store.store_id,
            lead_id=copy.lead_id,
            person_id=copy.person_id,
            scope=Scope(copy.plan_id, copy.themes, codes, copy.actions, refs),
            base_master_revision=copy.master_revision,
            sequence=sequence,
            created_at=utcnow(),
            created_by=actor or default_actor(),
            members={},
        )
        sealer = Sealer(identity, recipients, claims_of(manifest))
        written, size = write_bundle(out, manifest, {CHANGES: lines}, envelope=sealer)
        tx.session.add(_outgoing(written, out))
    return ExportResult(out, KIND_CHANGES, bundle_id, sequence, len(lines), 0, size)


def _outgoing(manifest: Manifest, out: Path) -> SyncBundle:
    return SyncBundle(
        id=manifest.bundle_id,
        direction="out",
        kind=manifest.kind,
        plan_id=manifest.plan_id,
        sender_site_id=manifest.sender_site_id,
        lead_id=manifest.lead_id,
        sequence=manifest.sequence,
        created_at=manifest.created_at,
        file_name=out.name,
        summary=dict(manifest.counts),
    )


# --------------------------------------------------------------------------- master


def find_person(session: Session, who: str) -> Person:
    """A person by email (any case) or id."""
    who = who.strip()
    person: Person | None = None
    try:
        person_id: uuid.UUID | None = uuid.UUID(who)
    except ValueError:
        person_id = None
    if person_id is not None:
        person = session.get(Person, person_id)
    else:
        matches = session.scalars(
            select(Person).where(Person.email.is_not(None), Person.deleted_at.is_(None))
        ).all()
        found = [p for p in matches if (p.email or "").lower() == who.lower()]
        person = found[0] if len(found) == 1 else None
        if len(found) > 1:
            raise BundleError(f"More than one person has the email {who}; give their id.")
    if person is None or person.deleted_at is not None:
        raise BundleError(
            f"There is no person {who!r} in this store. Give their email address as it is "
            "recorded under Partners and people, or their id."
        )
    return person


def _refs(session: Session, action_ids: Iterable[uuid.UUID]) -> tuple[str, ...]:
    """The refs of these actions, one per id, in their order (a bundle names them)."""
    ids = list(action_ids)
    rows = session.execute(select(Action.id, Action.ref).where(Action.id.in_(ids)))
    by_id: dict[uuid.UUID, str] = {action_id: ref for action_id, ref in rows}
    return tuple(by_id.get(i, "(not in this copy)") for i in ids)


def _theme_codes(session: Session, plan_id: uuid.UUID) -> set[str]:
    return {
        c.upper()
        for c in session.scalars(
            select(Priority.code).where(Priority.plan_id == plan_id, Priority.deleted_at.is_(None))
        )
    }


def _action_refs(session: Session, plan_id: uuid.UUID) -> set[str]:
    return {
        r.upper()
        for r in session.scalars(
            select(Action.ref).where(Action.plan_id == plan_id, Action.deleted_at.is_(None))
        )
    }


def _choose_plan(
    session: Session, plan: str | None, codes: list[str] | None, refs: list[str] | None = None
) -> Plan:
    plans = session.scalars(
        select(Plan).where(Plan.deleted_at.is_(None)).order_by(Plan.start_year.desc())
    ).all()
    if plan:
        chosen = [p for p in plans if str(p.id) == plan or p.title.lower() == plan.lower()]
        if not chosen:
            raise BundleError(f"There is no plan {plan!r} in this store.")
        return chosen[0]
    if codes or refs:
        for candidate in plans:  # newest first
            if {c.upper() for c in codes or ()} <= _theme_codes(session, candidate.id) and {
                r.upper() for r in refs or ()
            } <= _action_refs(session, candidate.id):
                return candidate
        wanted = [f"themes {', '.join(codes)}"] if codes else []
        wanted += [f"actions {', '.join(refs)}"] if refs else []
        raise BundleError(
            f"No plan in this store has all the {' and '.join(wanted)}. Give the codes of "
            "the plan's priorities (--themes PVP,RCH) and the refs of its actions "
            "(--actions PVP-01,PVP-03)."
        )
    if not plans:
        raise BundleError("This store has no plan to share.")
    return plans[0]


def _unique(names: list[str] | None) -> list[str]:
    """Codes or refs as given, each once (any case), blanks dropped."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names or ():
        name = name.strip()
        if name and name.upper() not in seen:
            seen.add(name.upper())
            out.append(name)
    return out


def lead_for(
    session: Session,
    person: Person,
    *,
    themes: list[str] | None,
    actions: list[str] | None = None,
    plan: str | None = None,
) -> tuple[SyncLead, list[Priority], list[Action]]:
    """The lead copy record for ``person``, made or re-scoped as ``themes`` (priority
    codes) and ``actions`` (action refs) say, with the themes and actions it holds.

    Given either (or both), the copy holds exactly those: themes alone clear the action
    set, actions alone the themes. Given neither, an existing lead copy keeps its
    scope, and a new one holds the themes the person leads, else the actions they lead
    (an action lead gets their actions).
    """
    themes, actions = _unique(themes), _unique(actions)
    existing = None
    if not themes and not actions and not plan:
        existing = session.scalar(
            select(SyncLead)
            .where(SyncLead.person_id == person.id)
            .order_by(SyncLead.updated_at.desc())
            .limit(1)
        )
    chosen = (
        session.get(Plan, existing.plan_id)
        if existing
        else _choose_plan(session, plan, themes, actions)
    )
    if chosen is None:
        raise BundleError("The plan of this person's lead copy is no longer in this store.")
    priorities = session.scalars(
        select(Priority).where(Priority.plan_id == chosen.id, Priority.deleted_at.is_(None))
    ).all()
    plan_actions = session.scalars(
        select(Action)
        .where(Action.plan_id == chosen.id, Action.deleted_at.is_(None))
        .order_by(Action.ref)
    ).all()
    picked_actions: list[Action]
    if themes or actions:
        by_code = {p.code.upper(): p for p in priorities}
        missing = [c for c in themes if c.upper() not in by_code]
        if missing:
            raise BundleError(
                f"The plan {chosen.title} has no theme {', '.join(missing)}; its themes are "
                f"{', '.join(sorted(by_code)) or 'none'}."
            )
        picked = [by_code[c.upper()] for c in themes]
        by_ref = {a.ref.upper(): a for a in plan_actions}
        unknown = [r for r in actions if r.upper() not in by_ref]
        if unknown:
            raise BundleError(
                f"The plan {chosen.title} has no action {', '.join(unknown)}; give the refs "
                "of its actions as the action list shows them, e.g. --actions PVP-01,PVP-03."
            )
        picked_actions = [by_ref[r.upper()] for r in actions]
    elif existing:
        ids = {uuid.UUID(t) for t in existing.themes}
        picked = [p for p in priorities if p.id in ids]
        # Tombstones too: a deleted action's deletion still has to reach the copy.
        picked_actions = list(
            session.scalars(
                select(Action)
                .where(
                    Action.plan_id == chosen.id,
                    Action.id.in_([uuid.UUID(a) for a in existing.actions]),
                )
                .order_by(Action.ref)
            )
        )
    else:
        picked = [p for p in priorities if p.lead_person_id == person.id]
        picked_actions = (
            [] if picked else [a for a in plan_actions if a.lead_person_id == person.id]
        )
        if not picked and not picked_actions:
            raise BundleError(
                f"{person.name} leads no theme or action of {chosen.title}; say which themes "
                "or actions their copy holds with --themes CODE,CODE or --actions REF,REF."
            )
    lead = existing or session.scalar(
        select(SyncLead).where(SyncLead.plan_id == chosen.id, SyncLead.person_id == person.id)
    )
    theme_ids = [str(p.id) for p in picked]
    action_ids = [str(a.id) for a in picked_actions]
    if lead is None:
        lead = SyncLead(
            id=uuid.uuid4(),
            plan_id=chosen.id,
            person_id=person.id,
            themes=theme_ids,
            actions=action_ids,
        )
        session.add(lead)
    elif lead.themes != theme_ids or list(lead.actions or ()) != action_ids:
        lead.themes = theme_ids
        lead.actions = action_ids
        lead.updated_at = utcnow()
    return lead, picked, picked_actions


def export_snapshot(
    store: Store,
    out: Path,
    *,
    person: str,
    themes: list[str] | None = None,
    actions: list[str] | None = None,
    plan: str | None = None,
    actor: str | None = None,
    identity: Identity | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write a snapshot of ``person``'s scope (their starter or update bundle), sealed
    with ``identity`` (this install's keys unless given) for the person's enrolled key.

    ``themes`` (priority codes) and ``actions`` (action refs) set the scope as
    :func:`lead_for` says; without either, the person's copy keeps its scope."""
    out = _check_path(out)
    identity = identity or this_install()
    with store.transaction(actor=actor, source="sync", keeps_history=True) as tx:
        s = tx.session
        if state.role(s) == ROLE_LEAD:
            raise BundleError(
                "This store is a lead copy; only the master copy makes bundles for people. "
                "Export without --for to send your changes to the master."
            )
        who = find_person(s, person)
        lead_keys = trust.lead_key(s, who)  # refuses a person who is not enrolled
        recovery = trust.recovery_keys(s)
        lead, picked, picked_actions = lead_for(s, who, themes=themes, actions=actions, plan=plan)
        s.flush()
        if progress is not None:
            progress.step(0, 0, "Collecting the records of the themes and actions…")
        lead_scope = LeadScope(
            lead.plan_id, tuple(p.id for p in picked), tuple(a.id for a in picked_actions)
        )
        records = snapshot_records(s, lead_scope, who.id)
        lines = []
        for i, record in enumerate(records, start=1):
            lines.append(
                codec.record_to_json(
                    codec.RecordLine(
                        type(record).__tablename__,
                        record.id,
                        record.deleted_at is not None,
                        codec.record_fields(record),
                    )
                )
            )
            _step(progress, i, len(records), "Writing the records…")
        acks = [
            codec.ack_to_json(codec.AckLine(p.change_id, p.outcome))
            for p in s.scalars(
                select(SyncProcessed)
                .where(SyncProcessed.lead_id == lead.id)
                .order_by(SyncProcessed.processed_at)
            )
        ]
        state.put_meta(s, sync_role=ROLE_MASTER)
        sequence = state.next_sequence(s)
        bundle_id = uuid.uuid4()
        codes = tuple(p.code for p in picked)
        refs = tuple(a.ref for a in picked_actions)
        manifest = Manifest(
            kind=KIND_SNAPSHOT,
            bundle_id=bundle_id,
            plan_id=lead.plan_id,
            master_store_id=store.store_id,
            sender_site_id=store.site_id,
            sender_store_id=store.store_id,
            lead_id=lead.id,
            person_id=who.id,
            scope=Scope(lead.plan_id, lead_scope.themes, codes, lead_scope.actions, refs),
            base_master_revision=store_revision(s),
            sequence=sequence,
            created_at=utcnow(),
            created_by=actor or default_actor(),
            members={},
            sample=store.is_sample,
        )
        sealer = Sealer(
            identity, [lead_keys.enc, *recovery], claims_of(manifest), recovery_keys=recovery
        )
        written, size = write_bundle(out, manifest, {RECORDS: lines, ACKS: acks}, envelope=sealer)
        s.add(_outgoing(written, out))
        person_label = who.email or who.name
    return ExportResult(
        out,
        KIND_SNAPSHOT,
        bundle_id,
        sequence,
        len(lines),
        len(acks),
        size,
        person_label,
        codes,
        refs,
    )


def store_revision(session: Session) -> int:
    """The master's revision its snapshot was read at (in commit order)."""
    from ssp_desktop.store.engine import read_revision

    return read_revision(session)
