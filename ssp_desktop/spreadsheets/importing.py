"""One spreadsheet import from start to end: read, map, preview, apply.

:func:`prepare` reads the file and works out what each column means (the user may then
change it, :meth:`Prepared.with_columns`); :func:`preview` judges every row against the
store without writing; :func:`apply` takes a backup copy of the store and writes them
inside one transaction, source ``import:<file name>``, or refuses with nothing written
(and the backup removed). Older import backups are then pruned (``store/backup.py``),
never the one just made. Refused rows refuse the whole import unless the user chose to
leave them out (``skip_refused``).

The rows are judged once: given the preview it showed (``previewed``), :func:`apply`
carries out the preview's own plan of an action tracker when that plan was made for the
same file, mapping and choices, and nothing was committed to the store since (its
revision and facts, read again inside the transaction, which holds SQLite's writer
lock). Otherwise, and always on a server store (where another officer may commit while
the import writes, as for a bundle import), the rows are judged again inside the
transaction, so what is written always matches the store at that moment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Measure, Plan, StoreMeta
from ssp_desktop.progress import Progress
from ssp_desktop.queries.quarter_status import plan_quarters, reporting_quarter
from ssp_desktop.spreadsheets.actions import ActionOptions, apply_actions, plan_actions, rebind
from ssp_desktop.spreadsheets.errors import NOTHING_CHANGED, SpreadsheetError
from ssp_desktop.spreadsheets.mapping import (
    IGNORE,
    Kind,
    Mapping,
    column_targets,
    header_score,
    mapping_problems,
)
from ssp_desktop.spreadsheets.measures import MeasureOptions, apply_measures, plan_measures
from ssp_desktop.spreadsheets.plan import ImportPlan, ImportResult
from ssp_desktop.spreadsheets.reading import Limits, Table, open_source
from ssp_desktop.spreadsheets.since_export import OLD_WORKBOOK_NOTE, SinceExport, exported_revision
from ssp_desktop.spreadsheets.workbook import choose_plan, exported_partnership
from ssp_desktop.store import backup as backups
from ssp_desktop.store.backup import BackupError, RetentionChoice
from ssp_desktop.store.engine import Store, read_revision
from ssp_desktop.store.integrity import refuse_if_damaged, refuse_if_damaged_meanwhile
from ssp_desktop.store.partnerships import other_partnership_refusal, partnership_by_id

__all__ = ["ImportOptions", "Prepared", "apply", "known_comparators", "prepare", "preview"]

PREFERRED_SHEETS: dict[str, tuple[str, ...]] = {
    "actions": ("Actions", "Action tracker", "Action plan", "Tracker", "Actions tracker"),
    "measures": ("Values", "Measure values", "Measure data", "Performance", "Data"),
}


@dataclass(frozen=True)
class ImportOptions:
    plan_id: uuid.UUID | None = None
    # The quarter an action's "latest update" is for when the sheet does not say;
    # None: the reporting quarter (the last to have ended) within the plan.
    quarter: Quarter | None = None
    skip_refused: bool = False
    today: dt.date | None = None
    # Spreadsheet rows whose conflicting cells (changed in the store since the workbook
    # was exported, and in the workbook) the officer chose to write over the store's.
    write_over: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Prepared:
    """A file read and its columns given meanings: ready for a preview."""

    path: Path
    kind: Kind
    table: Table
    mapping: Mapping
    columns: tuple[str, ...]

    @property
    def problems(self) -> list[str]:
        return mapping_problems(self.kind, self.table.headers, self.columns)

    def with_columns(self, columns: Sequence[str]) -> Prepared:
        """The same file with the user's choice of column meanings (kept in the mapping)."""
        chosen = {h: t for h, t in zip(self.table.headers, columns, strict=True)}
        mapping = dataclasses.replace(self.mapping, columns=chosen)
        return dataclasses.replace(self, mapping=mapping, columns=tuple(columns))

    def with_decisions(
        self, organisations: dict[str, str | None], people: dict[str, str | None]
    ) -> Prepared:
        mapping = dataclasses.replace(
            self.mapping,
            organisations={**self.mapping.organisations, **organisations},
            people={**self.mapping.people, **people},
        )
        return dataclasses.replace(self, mapping=mapping)

    def mapping_to_save(self) -> Mapping:
        """The mapping as it stands, every column named, for reuse next quarter."""
        return dataclasses.replace(
            self.mapping,
            columns=dict(zip(self.table.headers, self.columns, strict=True)),
            sheet=self.table.sheet,
        )


def known_comparators(store: Store, plan_id: uuid.UUID | None = None) -> list[str]:
    """Comparator series names the plan's measures use (to recognise their columns)."""
    with store.session() as session:
        plan = choose_plan(session, plan_id)
        names: list[str] = []
        for row in session.scalars(
            select(Measure.comparator_names).where(
                Measure.plan_id == plan.id, Measure.deleted_at.is_(None)
            )
        ):
            names.extend(n for n in row if n not in names)
        return names


def prepare(
    path: Path,
    *,
    kind: Kind | None = None,
    mapping: Mapping | None = None,
    sheet: str | None = None,
    comparators: Sequence[str] = (),
    limits: Limits | None = None,
) -> Prepared:
    """Read ``path`` and give each column a meaning (from ``mapping``, else recognised).

    Without a kind (or a mapping saying one), the file is read as an action tracker
    if its headings make one, else as measure data.
    """
    if mapping is not None:
        if kind is not None and kind != mapping.kind:
            raise SpreadsheetError(
                f"The mapping is for {mapping.kind}, but the import was asked for {kind}."
            )
        kind = mapping.kind
    kinds: Sequence[Kind] = (kind,) if kind is not None else ("actions", "measures")
    candidates: list[Prepared] = []
    errors: list[SpreadsheetError] = []
    source = open_source(path, limits)  # loaded once, whichever kind it turns out to be
    for candidate in kinds:
        used = mapping or Mapping(kind=candidate)
        try:
            # The mapping's sheet is a preference: next quarter's sheet may be renamed.
            saved = (used.sheet,) if used.sheet else ()
            table = source.table(
                sheet=sheet,
                preferred_sheets=saved + PREFERRED_SHEETS[candidate],
                header_row=used.header_row,
                score=header_score(candidate),
            )
        except SpreadsheetError as exc:
            # Read as the other kind, another heading row may be chosen: only when
            # neither reading works is the file refused.
            errors.append(exc)
            continue
        columns = tuple(column_targets(table.headers, used, comparators))
        candidates.append(Prepared(path, candidate, table, used, columns))
    if not candidates:
        raise errors[0]

    def fit(p: Prepared) -> tuple[bool, int, bool]:
        # Usable first, then the one that understands more columns; actions on a tie.
        return (not p.problems, sum(c != IGNORE for c in p.columns), p.kind == "actions")

    return max(candidates, key=fit)


def _options(plan: Plan, options: ImportOptions) -> ActionOptions:
    today = options.today or dt.date.today()
    quarter = options.quarter or reporting_quarter(today, plan_quarters(plan))
    return ActionOptions(
        quarter=quarter,
        written_on=today,
        skip_refused=options.skip_refused,
        write_over=options.write_over,
    )


Write = Callable[[Transaction, Progress], None]


def _refuse_other_partnership(session: Session, prepared: Prepared, plan: Plan) -> None:
    """A workbook exported from another partnership of this store is refused: its refs
    (PVP1...) would match this partnership's records and overwrite them."""
    theirs_id = exported_partnership(prepared.path)
    if theirs_id is None or theirs_id == plan.partnership_id:
        return
    theirs = partnership_by_id(session, theirs_id)
    if theirs is None:  # from another store altogether: a tracker like any other
        return
    ours = partnership_by_id(session, plan.partnership_id)
    raise SpreadsheetError(other_partnership_refusal("This workbook", theirs, ours))


def _store_state(session: Session) -> tuple[Any, ...]:
    """What a plan of an import depends on beyond its file: the store's revision (every
    committed change of a record raises it) and its facts (its role, a lead copy's
    themes: who may change what), read in ``session``."""
    facts = tuple(session.execute(select(StoreMeta.key, StoreMeta.value).order_by(StoreMeta.key)))
    return (read_revision(session), facts)


@dataclass(eq=False)
class _Judged:
    """A preview's plan of an action tracker, kept (in :attr:`ImportPlan.work`) so the
    import can carry it out rather than judge every row again."""

    store: tuple[str, object]
    state: tuple[Any, ...]
    prepared: Prepared
    options: ImportOptions
    today: dt.date
    # The plan's writes made ready in the import's session (None: judge again).
    ready: Callable[[Session], Write | None]

    def fits(self, store: Store, prepared: Prepared, options: ImportOptions) -> bool:
        # Leaving refused rows out is decided after the rows are judged (the preview
        # offers it once it has shown them): it does not change their plan.
        asked = dataclasses.replace(options, skip_refused=self.options.skip_refused)
        return (
            self.store == _store_key(store)
            and self.prepared is prepared
            and self.options == asked
            and self.today == (options.today or dt.date.today())
        )


def _store_key(store: Store) -> tuple[str, object]:
    partnership = store.partnership.id if store.partnership is not None else None
    return (store.location, partnership)


def _judge(
    session: Session, prepared: Prepared, options: ImportOptions, revision: int
) -> tuple[ImportPlan, Write, Callable[[Session], Write | None] | None]:
    """The plan of the import, how to write it (valid in ``session`` only), and, for an
    action tracker, how to make those writes ready in another session."""
    problems = prepared.problems
    if problems:
        raise SpreadsheetError(" ".join(problems) + " " + NOTHING_CHANGED)
    plan = choose_plan(session, options.plan_id)
    _refuse_other_partnership(session, prepared, plan)
    exported_at = exported_revision(prepared.path)
    if prepared.kind == "actions":
        action_options = _options(plan, options)
        since = (
            SinceExport(session, exported_at, ("action", "action_update"))
            if exported_at is not None
            else None
        )
        result, planner, ops = plan_actions(
            session,
            plan,
            prepared.table,
            prepared.columns,
            prepared.mapping,
            action_options,
            revision,
            since,
        )
        if since is None:
            result = dataclasses.replace(result, notes=(*result.notes, OLD_WORKBOOK_NOTE))

        def write_actions(tx: Transaction, progress: Progress) -> None:
            apply_actions(tx, planner, ops, action_options, progress)

        def ready(other: Session) -> Write | None:
            rebound = rebind(other, planner, ops)
            if rebound is None:
                return None
            planner_there, ops_there = rebound

            def write_there(tx: Transaction, progress: Progress) -> None:
                apply_actions(tx, planner_there, ops_there, action_options, progress)

            return write_there

        return result, write_actions, ready
    since_m = (
        SinceExport(session, exported_at, ("measure_value",)) if exported_at is not None else None
    )
    result_m, values, changes = plan_measures(
        session,
        plan,
        prepared.table,
        prepared.columns,
        prepared.mapping,
        MeasureOptions(skip_refused=options.skip_refused, write_over=options.write_over),
        revision,
        since_m,
    )
    if since_m is None:
        result_m = dataclasses.replace(result_m, notes=(*result_m.notes, OLD_WORKBOOK_NOTE))

    def write_measures(tx: Transaction, progress: Progress) -> None:
        apply_measures(tx, values, changes, progress)

    # Measure data is judged again in the import's transaction: its plan holds the
    # value records it read, which belong to the preview's session.
    return result_m, write_measures, None


def preview(store: Store, prepared: Prepared, options: ImportOptions | None = None) -> ImportPlan:
    """What the import would do, row by row. Writes nothing.

    Passed to :func:`apply` as ``previewed``, the plan is carried out as it stands if
    the store has not changed since."""
    refuse_if_damaged(store, "the import")
    options = options or ImportOptions()
    revision = store.revision()
    with store.session() as session:
        # The first read fixes what this session sees (SQLite begins its transaction
        # here): the plan below is of exactly this state.
        state = _store_state(session)
        result, _write, ready = _judge(session, prepared, options, revision)
    if ready is None or store.backend.kind != "sqlite":
        return result
    work = _Judged(
        store=_store_key(store),
        state=state,
        prepared=prepared,
        options=options,
        today=options.today or dt.date.today(),
        ready=ready,
    )
    return dataclasses.replace(result, work=work)


def _previewed_write(
    store: Store,
    session: Session,
    prepared: Prepared,
    options: ImportOptions,
    previewed: ImportPlan | None,
) -> tuple[ImportPlan, Write] | None:
    """The preview's plan and its writes made ready in ``session``, if it is the plan of
    this import and nothing was committed to the store since it was made; else None."""
    work = previewed.work if previewed is not None else None
    if not isinstance(work, _Judged) or not work.fits(store, prepared, options):
        return None
    if _store_state(session) != work.state:
        return None
    write = work.ready(session)
    if write is None:
        return None
    assert previewed is not None
    return dataclasses.replace(previewed, work=None), write


def _take_backup(store: Store, prepared: Prepared) -> Path:
    try:
        return backups.take_store_backup(store, prepared.path.stem)
    except BackupError as exc:
        raise SpreadsheetError(str(exc)) from exc


def refusal_message(result: ImportPlan, limit: int = 10) -> str:
    refused = result.refused
    lines = [
        f"{len(refused)} row(s) of {result.source} cannot be imported, so nothing was "
        "imported; the store is as it was. Correct them in the spreadsheet and try again "
        "(or leave them out on purpose):"
    ]
    for row in refused[:limit]:
        lines.append(f"  row {row.row} {row.key}: {row.text}")
    if len(refused) > limit:
        lines.append(f"  ... and {len(refused) - limit} more")
    return "\n".join(lines)


def apply(
    store: Store,
    prepared: Prepared,
    options: ImportOptions | None = None,
    *,
    progress: Progress | None = None,
    actor: str | None = None,
    retention: RetentionChoice | None = None,
    previewed: ImportPlan | None = None,
) -> ImportResult:
    """Judge and write every row in one transaction; on any refusal nothing is written.

    ``previewed``: the preview of this import the user saw (:func:`preview` with the
    same ``prepared`` and ``options``); its plan is written without judging the rows
    again unless the store changed since. A backup copy of the store is taken as the
    rows are written (``backup.BackupCopy``), and the store is checked for damage
    meanwhile; a damaged store is refused before anything is committed. The backup is
    removed again if nothing was written, and older import backups are pruned after a
    successful import."""
    options = options or ImportOptions()
    progress = progress or Progress()
    copying = backups.BackupCopy(lambda: _take_backup(store, prepared))
    # The store's check runs on a thread of its own while the import writes, and its
    # backup on another (a file store's: see BackupCopy); a damaged store is refused
    # before anything is committed, its backup removed.
    with refuse_if_damaged_meanwhile(store, "the import") as refuse:
        try:
            if store.is_server:
                refuse()
                progress.step(0, 0, "Taking a backup copy of the store")
                copying.take()  # pg_dump, before the transaction
            progress.step(0, 0, "Checking the rows")
            revision = store.revision()
            source = f"import:{prepared.path.name}"[:200]
            with store.transaction(actor=actor, source=source, bulk=True) as tx:
                if not store.is_server:
                    wal = backups.writes_ahead(tx.session)
                    if not wal:
                        # Without a write-ahead log, writes reach the store's file
                        # before the commit: the check comes first, then the copy.
                        refuse()
                    copying.start(tx.session, wal)
                # The transaction holds SQLite's writer lock from its start: nobody can
                # commit between this check and the writes.
                ready = (
                    _previewed_write(store, tx.session, prepared, options, previewed)
                    if store.backend.kind == "sqlite"
                    else None
                )
                if ready is not None:
                    result, write = ready
                else:
                    result, write, _ready = _judge(tx.session, prepared, options, revision)
                if result.refused and not options.skip_refused:
                    raise SpreadsheetError(refusal_message(result))
                progress.check()
                write(tx, progress)
                refuse()  # never a commit to a damaged store
                copying.finish()  # nor one without its backup
                progress.check()  # a cancel at the last moment still saves nothing
                change_set = str(tx.context.change_set)
        except BaseException:
            copying.discard()
            raise
    backup = copying.path
    assert backup is not None
    report = None
    if store.revision() == revision:
        backup.unlink(missing_ok=True)  # nothing changed: nothing to go back to
    else:
        report = backups.prune_store_backups(store, backup, retention)
    return ImportResult(
        plan=result,
        applied=True,
        change_set=change_set,
        skipped=len(result.refused),
        backups=report,
    )
