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
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.errors import DomainError, SspError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    BoardMeeting,
    BoardPack,
    ChangeLog,
    PackExport,
    Plan,
)
from ssp_desktop.progress import Progress
from ssp_desktop.services.packs import create_pack, default_meeting_title, new_pack
from ssp_desktop.store.engine import Store
from ssp_desktop.store.integrity import refuse_if_damaged

__all__ = [
    "ExportError",
    "ExportResult",
    "check_output_path",
    "create_pack",
    "default_meeting_title",
    "export_pack",
    "find_pack",
    "new_pack",
    "prepare_pack",
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


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def export_pack(
    store: Store,
    pack_id: uuid.UUID,
    out: Path,
    *,
    progress: Progress | None = None,
    actor: str | None = None,
    password: str | None = None,
) -> ExportResult:
    """Write board pack ``pack_id`` to ``out`` and record the export; with ``password``
    the PDF is encrypted (AES-256) and opens only with it (``reports/protect.py``).

    Honours ``progress``'s cancel at every section, chart and flowable: a cancel raises
    :class:`~ssp_desktop.progress.Cancelled` and leaves no file (nor any
    half-written one) behind."""
    from ssp_desktop.reports.pack import assemble_pack
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

    with store.session() as s:
        # The first read opens the read transaction: the revision and the content below
        # are the same snapshot even if someone writes meanwhile.
        snapshot_seq = int(s.scalar(select(func.coalesce(func.max(ChangeLog.seq), 0))) or 0)
        document = assemble_pack(s, pack_id, is_sample=store.is_sample, step=on_section)
        pack = s.get(BoardPack, pack_id)
        assert pack is not None
        quarter = pack.quarter
        meeting = s.get(BoardMeeting, pack.meeting_id)
        meeting_text = document.furniture.meeting if meeting is not None else ""

    def on_flowable(done: int, total: int) -> None:
        share = _TOTAL - _ASSEMBLY_SHARE - 1
        progress.step(_ASSEMBLY_SHARE + done * share // max(total, 1), _TOTAL, "Drawing the PDF…")

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
                exported_at=dt.datetime.now(dt.UTC),
                file_name=str(target),
                sha256=sha256,
                size=size,
                snapshot_seq=snapshot_seq,
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
