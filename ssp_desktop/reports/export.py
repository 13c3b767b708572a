"""Export a board pack to PDF and record it: the one entry point the CLI and UI share.

:func:`export_pack` reads the pack's content in one read transaction (so it sees one
consistent snapshot, whose change-log revision it records), renders it to a temporary
file beside the target, then moves it into place with ``os.replace`` - so a reader
never sees half a PDF and a cancelled or failed export leaves no file behind and the
old one, if any, untouched. Only then is a
:class:`~ssp_desktop.domain.records.PackExport` recorded (SHA-256, size, file name,
time, snapshot revision) in one transaction.

:func:`prepare_pack` finds or makes the meeting and pack for a plan, quarter and meeting
date; :func:`resolve_plan` finds a plan by id or title. ReportLab is imported only when
a PDF is actually drawn.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop import __version__, services
from ssp_desktop.domain.errors import DomainError, SspError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    BoardMeeting,
    BoardPack,
    PackExport,
    Plan,
)
from ssp_desktop.progress import Progress
from ssp_desktop.reports.blocks import PackDocument
from ssp_desktop.reports.pack_source import Provenance, pack_source
from ssp_desktop.services.packs import create_pack, default_meeting_title, new_pack
from ssp_desktop.store.engine import Store, fewer_collections
from ssp_desktop.store.integrity import refuse_if_damaged

__all__ = [
    "AnnualResult",
    "ExportError",
    "ExportResult",
    "check_output_path",
    "create_pack",
    "default_meeting_title",
    "export_annual",
    "export_pack",
    "find_export",
    "find_pack",
    "list_exports",
    "new_pack",
    "pack_document",
    "prepare_pack",
    "publish_export",
    "remake_export",
    "resolve_plan",
]

# Share of the progress bar given to reading the store; the rest is drawing the PDF.
_ASSEMBLY_SHARE = 20
_TOTAL = 100


class ExportError(SspError):
    """The PDF could not be written where the user asked."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    sha256: str
    size: int
    pages: int
    snapshot_seq: int
    export_id: uuid.UUID
    pack_id: uuid.UUID
    quarter: Quarter
    meeting: str


def check_output_path(out: Path) -> Path:
    """The absolute target path, or ExportError saying why it cannot be written."""
    target = out.expanduser().absolute()
    if target.is_dir():
        raise ExportError(f"{target} is a folder; give the path of the PDF file to write.")
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"The folder {folder} does not exist; create it or choose another.")
    if not os.access(folder, os.W_OK):
        raise ExportError(
            f"The folder {folder} is read-only, so the pack cannot be saved there. "
            "Choose a folder you can write to."
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise ExportError(f"{target} exists and is read-only; choose another file name.")
    return target


def resolve_plan(session: Session, text: str | None) -> Plan:
    """The live plan whose id or title is ``text``; with no ``text``, the store's only
    approved plan (or its only plan)."""
    live = session.scalars(
        select(Plan).where(Plan.deleted_at.is_(None)).order_by(Plan.start_year.desc())
    ).all()
    if not live:
        raise DomainError("This store has no plan yet, so there is no board pack to make.")
    names = "; ".join(f"{p.title} ({p.id})" for p in live)
    if text is None or not text.strip():
        approved = [p for p in live if p.status.value == "approved"]
        candidates = approved if len(approved) == 1 else live
        if len(candidates) == 1:
            return candidates[0]
        raise DomainError(f"This store has more than one plan; choose one with --plan: {names}.")
    wanted = text.strip()
    with contextlib.suppress(ValueError):
        plan_id = uuid.UUID(wanted)
        for p in live:
            if p.id == plan_id:
                return p
    matches = [p for p in live if p.title.casefold() == wanted.casefold()]
    if len(matches) == 1:
        return matches[0]
    raise DomainError(f"There is no plan {wanted!r} in this store. Its plans are: {names}.")


def _plan_quarters(plan: Plan) -> tuple[Quarter, Quarter]:
    return plan.start_year.quarters()[0], plan.end_year.quarters()[-1]


def find_pack(
    session: Session,
    plan_id: uuid.UUID,
    quarter: Quarter,
    meeting_date: dt.date | None = None,
) -> uuid.UUID | None:
    """The quarter's board pack for the meeting on ``meeting_date`` (any date: the
    newest), or None. Raises DomainError for a plan that is gone or a quarter outside it."""
    plan = session.get(Plan, plan_id)
    if plan is None or plan.deleted_at is not None:
        raise DomainError("That plan is not in this store (it may have been deleted).")
    first, last = _plan_quarters(plan)
    if not first <= quarter <= last:
        raise DomainError(
            f"{quarter.label} is outside the plan {plan.title!r}, which runs from "
            f"{first.label} to {last.label}. Choose a quarter within it."
        )
    query = (
        select(BoardPack.id)
        .join(BoardMeeting, BoardMeeting.id == BoardPack.meeting_id)
        .where(
            BoardPack.plan_id == plan_id,
            BoardPack.quarter == quarter,
            BoardPack.deleted_at.is_(None),
            BoardMeeting.deleted_at.is_(None),
        )
        .order_by(BoardMeeting.meeting_date.desc())
    )
    if meeting_date is not None:
        query = query.where(BoardMeeting.meeting_date == meeting_date)
    found = session.scalars(query).first()
    return uuid.UUID(str(found)) if found is not None else None


def prepare_pack(
    store: Store,
    plan_id: uuid.UUID,
    quarter: Quarter,
    *,
    meeting_date: dt.date | None = None,
    meeting_title: str | None = None,
    actor: str | None = None,
) -> uuid.UUID:
    """The id of the board pack for ``plan_id`` and ``quarter`` at the meeting on
    ``meeting_date``, made (with its meeting) if there is none.

    With no ``meeting_date``, the quarter's newest existing pack is used, or a meeting is
    made for today."""
    with store.session() as s:
        existing = find_pack(s, plan_id, quarter, meeting_date)
    if existing is not None:
        return existing
    # Making a pack does not touch what an undo would write back: the history stays.
    with store.transaction(actor=actor, keeps_history=True) as tx:
        pack = create_pack(tx, plan_id, quarter, meeting_date or dt.date.today(), meeting_title)
        return pack.id


def _drawing_progress(progress: Progress) -> Callable[[int, int], None]:
    """The renderer's per-flowable callback: drawing fills the bar after assembly."""

    def on_flowable(done: int, total: int) -> None:
        share = _TOTAL - _ASSEMBLY_SHARE - 1
        progress.step(_ASSEMBLY_SHARE + done * share // max(total, 1), _TOTAL, "Drawing the PDF…")

    return on_flowable


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass(frozen=True)
class MadePack:
    """A pack's content as it will be drawn, with its provenance."""

    document: PackDocument
    provenance: Provenance
    quarter: Quarter


def pack_document(
    store: Store,
    pack_id: uuid.UUID,
    *,
    include_awaiting_review: bool = False,
    revision: int | None = None,
    produced_at: dt.datetime | None = None,
    step: Callable[[str], None] | None = None,
) -> MadePack:
    """The content of board pack ``pack_id`` exactly as an export draws it: read from a
    private copy of the store (one snapshot even if someone writes meanwhile), with the
    updates and values the Board may see (:mod:`~ssp_desktop.reports.pack_source`).
    With ``revision``, from the store as it was then (a published pack made again)."""
    from ssp_desktop.reports.pack import assemble_pack

    # Reading builds tens of thousands of records and rows that stay alive until the
    # document is made: the collector leaves them be meanwhile (as while drawing).
    with (
        fewer_collections(collect_after=True),
        pack_source(
            store.engine,
            pack_id,
            produced_at=produced_at,
            include_awaiting_review=include_awaiting_review,
            app_version=__version__,
            revision=revision,
        ) as (s, provenance),
    ):
        document = assemble_pack(
            s, pack_id, is_sample=store.is_sample, step=step, provenance=provenance
        )
        pack = s.get(BoardPack, pack_id)
        assert pack is not None
        return MadePack(document, provenance, pack.quarter)


def export_pack(
    store: Store,
    pack_id: uuid.UUID,
    out: Path,
    *,
    progress: Progress | None = None,
    actor: str | None = None,
    password: str | None = None,
    include_awaiting_review: bool = False,
) -> ExportResult:
    """Write board pack ``pack_id`` to ``out`` and record the export; with ``password``
    the PDF is encrypted (AES-256) and opens only with it (``reports/protect.py``).

    The pack prints accepted updates and values; ``include_awaiting_review`` adds the
    submitted ones, each marked. The file depends only on the data revision, these
    options and the production time, which an export from the same revision reuses
    (see :mod:`~ssp_desktop.reports.pack_source`): making it twice gives the same bytes.

    Honours ``progress``'s cancel at every section, chart and flowable: a cancel raises
    :class:`~ssp_desktop.progress.Cancelled` and leaves no file (nor any
    half-written one) behind."""
    from ssp_desktop.reports.render import render_pdf

    progress = progress or Progress()
    target = check_output_path(out)
    progress.step(0, _TOTAL, "Checking the store…")
    refuse_if_damaged(store, "the board pack")
    progress.step(0, _TOTAL, "Reading the plan…")
    steps = [0]

    def on_section(text: str) -> None:
        steps[0] = min(steps[0] + 1, _ASSEMBLY_SHARE - 1)
        progress.step(steps[0], _TOTAL, f"Preparing: {text}…")

    made = pack_document(
        store, pack_id, include_awaiting_review=include_awaiting_review, step=on_section
    )
    document, provenance, quarter = made.document, made.provenance, made.quarter
    snapshot_seq = provenance.snapshot
    meeting_text = document.furniture.meeting

    on_flowable = _drawing_progress(progress)

    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    tmp: Path | None = Path(name)
    try:
        assert tmp is not None
        pages = render_pdf(document, tmp, on_flowable=on_flowable)
        if password:
            from ssp_desktop.reports.protect import protect_pdf

            protect_pdf(tmp, password)
        sha256, size = _sha256(tmp)
        progress.check()  # the last moment a cancel can stop the file appearing
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        reason = "the disk is full" if exc.errno == 28 else exc.strerror or str(exc)
        raise ExportError(f"Could not write {target}: {reason}. No pack was saved.") from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)

    progress.step(_TOTAL - 1, _TOTAL, "Recording the export…")
    # The record of an export is bookkeeping: the undo history stays.
    with store.transaction(actor=actor, keeps_history=True) as tx:
        record = services.create(
            tx,
            PackExport(
                pack_id=pack_id,
                exported_at=provenance.produced_at,
                file_name=str(target),
                sha256=sha256,
                size=size,
                snapshot_seq=snapshot_seq,
                include_awaiting_review=include_awaiting_review,
                encrypted=bool(password),
                app_version=__version__,
            ),
        )
        export_id = record.id
    if progress is not None:
        with contextlib.suppress(SspError):
            progress.step(_TOTAL, _TOTAL, "Done")
    return ExportResult(
        path=target,
        sha256=sha256,
        size=size,
        pages=pages,
        snapshot_seq=snapshot_seq,
        export_id=export_id,
        pack_id=pack_id,
        quarter=quarter,
        meeting=meeting_text,
    )


# --------------------------------------------------------------------------- annual update


@dataclass(frozen=True)
class AnnualResult:
    """An annual update to scrutiny written to disk (not recorded as a board pack
    export: it is a different paper, made again from the store whenever asked)."""

    path: Path
    sha256: str
    pages: int
    year: FinancialYear
    committee: str


def export_annual(
    store: Store,
    plan: uuid.UUID | str | None,
    year: FinancialYear,
    out: Path,
    *,
    committee: str | None = None,
    progress: Progress | None = None,
) -> AnnualResult:
    """Write the annual update to scrutiny on ``plan`` (its id or title; None for the
    store's only approved plan) for ``year`` to ``out``.

    Like :func:`export_pack` it draws into a temporary file beside the target and moves
    it into place only when whole, and honours ``progress``'s cancel at every flowable:
    a cancel raises :class:`~ssp_desktop.progress.Cancelled` and leaves no file."""
    from ssp_desktop.reports.annual import assemble_annual
    from ssp_desktop.reports.render import render_pdf

    progress = progress or Progress()
    target = check_output_path(out)
    progress.step(0, _TOTAL, "Reading the plan…")
    with store.session() as session:
        found = resolve_plan(session, None if plan is None else str(plan))
        document = assemble_annual(
            session, found, year, committee=committee, is_sample=store.is_sample
        )
    progress.step(_ASSEMBLY_SHARE, _TOTAL, "Drawing the PDF…")

    on_flowable = _drawing_progress(progress)

    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    tmp: Path | None = Path(name)
    try:
        assert tmp is not None
        pages = render_pdf(document, tmp, on_flowable=on_flowable)
        sha256, _size = _sha256(tmp)
        progress.check()  # the last moment a cancel can stop the file appearing
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        reason = "the disk is full" if exc.errno == 28 else exc.strerror or str(exc)
        raise ExportError(f"Could not write {target}: {reason}. No file was saved.") from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    with contextlib.suppress(SspError):
        progress.step(_TOTAL, _TOTAL, "Done")
    return AnnualResult(
        path=target,
        sha256=sha256,
        pages=pages,
        year=year,
        committee=document.furniture.meeting,
    )


# --------------------------------------------------------------------------- publishing


def find_export(session: Session, text: str) -> PackExport:
    """A recorded export by its id, the path it was written to, or (for a PDF file
    that exists) its SHA-256. Raises DomainError naming what was looked for."""
    wanted = text.strip()
    with contextlib.suppress(ValueError):
        found = session.get(PackExport, uuid.UUID(wanted))
        if found is not None and found.deleted_at is None:
            return found
    live = PackExport.deleted_at.is_(None)
    path = Path(wanted).expanduser()
    by_name = session.scalars(
        select(PackExport)
        .where(live, PackExport.file_name == str(path.absolute()))
        .order_by(PackExport.exported_at.desc())
    ).first()
    if by_name is not None:
        return by_name
    if path.is_file():
        sha256, _size = _sha256(path)
        by_hash = session.scalars(
            select(PackExport)
            .where(live, PackExport.sha256 == sha256)
            .order_by(PackExport.exported_at)
        ).first()
        if by_hash is not None:
            return by_hash
        raise DomainError(
            f"{path} is not a pack this store recorded (no export has its SHA-256 {sha256})."
        )
    raise DomainError(
        f"There is no recorded export {wanted!r} in this store: give an export's id (see "
        "`ssp-desktop pack --list-exports`), the path it was written to, or the PDF itself."
    )


def list_exports(session: Session) -> list[tuple[PackExport, BoardPack]]:
    """Every recorded export with its pack, newest first."""
    return [
        (e, p)
        for e, p in session.execute(
            select(PackExport, BoardPack)
            .join(BoardPack, BoardPack.id == PackExport.pack_id)
            .where(PackExport.deleted_at.is_(None), BoardPack.deleted_at.is_(None))
            .order_by(PackExport.exported_at.desc(), PackExport.snapshot_seq.desc())
        ).tuples()
    ]


def publish_export(store: Store, export_id: uuid.UUID, *, actor: str | None = None) -> PackExport:
    """Publish a recorded export (``services.locks.publish``): the pack is final and its
    quarter's updates and values are locked."""
    from ssp_desktop.services.locks import publish

    with store.transaction(actor=actor) as tx:
        export = tx.get(PackExport, export_id)
        if export is None:
            raise DomainError("That export record is not in this store.")
        publish(tx, export)
    with store.session() as s:
        done = s.get(PackExport, export_id)
        assert done is not None
        return done


@dataclass(frozen=True)
class RemakeResult:
    """A recorded export made again from the store's history, and whether it matches."""

    export_id: uuid.UUID
    path: Path | None
    sha256: str
    recorded_sha256: str
    revision: int
    reason: str  # why it differs ("" when it matches)

    @property
    def matches(self) -> bool:
        return self.sha256 == self.recorded_sha256


def _first_difference(ours: Path, theirs: Path) -> str:
    """Which page of two PDFs first differs in what it draws, in words."""
    import pikepdf

    try:
        with pikepdf.open(ours) as a, pikepdf.open(theirs) as b:
            if len(a.pages) != len(b.pages):
                return f"the remake has {len(a.pages)} pages, the recorded file {len(b.pages)}"
            for n, (pa, pb) in enumerate(zip(a.pages, b.pages, strict=True), start=1):
                if pa.obj.Contents.read_bytes() != pb.obj.Contents.read_bytes():
                    return f"page {n} draws different content"
            if dict(a.docinfo) != dict(b.docinfo):
                return "the document information (metadata) differs"
            return "the pages draw the same content, so the difference is in the file's structure"
    except (pikepdf.PdfError, OSError, AttributeError) as exc:
        return f"the recorded file could not be compared ({exc})"


def remake_export(
    store: Store,
    export_id: uuid.UUID,
    out: Path | None = None,
    *,
    progress: Progress | None = None,
) -> RemakeResult:
    """Make recorded export ``export_id`` again from the store as it was at the revision
    it was made from (its production time and options as recorded), and compare SHA-256s.

    Writes the remake to ``out`` when given (nothing is recorded). The result's
    ``reason`` says exactly why a remake differs; ExportError if it cannot be made."""
    from ssp_desktop.reports.render import render_pdf
    from ssp_desktop.store.snapshot import SnapshotError

    progress = progress or Progress()
    target = check_output_path(out) if out is not None else None
    with store.session() as s:
        export = s.get(PackExport, export_id)
        if export is None or export.deleted_at is not None:
            raise ExportError("That export record is not in this store.")
        recorded, revision = export.sha256, export.snapshot_seq
        produced_at, include = export.exported_at, export.include_awaiting_review
        encrypted, version, original = export.encrypted, export.app_version, export.file_name
        pack_id = export.pack_id
    progress.step(0, _TOTAL, "Winding the store back…")
    steps = [0]

    def on_section(text: str) -> None:
        steps[0] = min(steps[0] + 1, _ASSEMBLY_SHARE - 1)
        progress.step(steps[0], _TOTAL, f"Preparing: {text}…")

    try:
        made = pack_document(
            store,
            pack_id,
            include_awaiting_review=include,
            revision=revision,
            produced_at=produced_at,
            step=on_section,
        )
    except SnapshotError as exc:
        raise ExportError(
            f"The store's history cannot be wound back to revision {revision}: {exc}"
        ) from exc

    on_flowable = _drawing_progress(progress)

    with tempfile.TemporaryDirectory(prefix="ssp-remake-") as folder:
        tmp = Path(folder) / "remake.pdf"
        render_pdf(made.document, tmp, on_flowable=on_flowable)
        sha256, _size = _sha256(tmp)
        reason = ""
        if sha256 != recorded:
            reasons = []
            if encrypted:
                reasons.append(
                    "the recorded file was protected with a password, and encryption uses "
                    "random keys, so no remake can match it byte for byte (the remake is "
                    "not encrypted)"
                )
            if not version:
                reasons.append(
                    "it was made by a version of ssp-desktop from before packs were "
                    "reproducible (it recorded no app version, and drew the time of drawing "
                    "into the file)"
                )
            elif version != __version__:
                reasons.append(
                    f"it was made with ssp-desktop {version} and this is {__version__}, "
                    "which draws packs differently"
                )
            source = Path(original)
            if source.is_file():
                theirs, _ = _sha256(source)
                if theirs != recorded:
                    reasons.append(f"the file at {source} has been changed since it was exported")
                elif not reasons:
                    reasons.append(_first_difference(tmp, source))
            if not reasons:
                reasons.append(
                    f"the data as wound back to revision {revision} does not draw the recorded "
                    "file, and the recorded file is not at its path to compare page by page"
                )
            reason = "; ".join(reasons)
        if target is not None:
            try:
                fd, name = tempfile.mkstemp(
                    prefix=f".{target.name}.", suffix=".partial", dir=target.parent
                )
                os.close(fd)
                shutil.copyfile(tmp, name)
                os.replace(name, target)
            except OSError as exc:
                raise ExportError(f"Could not write {target}: {exc.strerror or exc}.") from exc
    progress.step(_TOTAL, _TOTAL, "Done")
    return RemakeResult(export_id, target, sha256, recorded, revision, reason)
