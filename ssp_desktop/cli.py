"""The ``ssp-desktop`` command: the GUI by default, headless subcommands for scripts.

Exit codes: 0 success; 1 ``check`` found problems, or ``bundle import`` applied a bundle
but conflicts wait or some of it was rejected; 2 refused or failed with nothing changed
(the message on stderr says why and what to do).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ssp_desktop import __version__, paths

if TYPE_CHECKING:
    import uuid

    from ssp_desktop.store.backup import RetentionChoice
    from ssp_desktop.store.engine import Store

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_REFUSED = 2


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("give 0 or more")
    return value


def _add_backup_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-backups",
        metavar="N",
        type=_positive,
        help="after the import keep the newest N import backups (default: the store's "
        "setting, else 5; never fewer than this import's own)",
    )
    parser.add_argument(
        "--keep-backup-days",
        metavar="DAYS",
        type=_positive,
        help="and keep any import backup younger than DAYS days (default: the store's "
        "setting, else 30)",
    )


def _retention(args: argparse.Namespace) -> RetentionChoice:
    from ssp_desktop.store.backup import RetentionChoice

    return RetentionChoice(args.keep_backups, args.keep_backup_days)


def _partnership_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--partnership NAME``: the partnership a store holding several is opened for."""
    parser.add_argument(
        "--partnership",
        metavar="NAME",
        # On a command, SUPPRESS keeps an earlier ``ssp-desktop --partnership X cmd``.
        default=None if top else argparse.SUPPRESS,
        help="the partnership to open the store for, when it holds several "
        "(its name or id; without it such a store is refused with the names it holds)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssp-desktop",
        description=(
            "The Community Safety Partnership's plan and board packs. "
            "With no command, opens the desktop app; `ssp-desktop FILE.sspbundle` opens it "
            "and starts importing the bundle (or hands it to the app already open)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ssp-desktop {__version__}")
    parser.add_argument(
        "--store",
        metavar="PATH",
        help=f"the store to open (default: {paths.default_store_path()})",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="open the built-in sample plan (made on first use in the data folder)",
    )
    _partnership_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="write the sample plan to a new store")
    demo.add_argument("--store", metavar="PATH", required=True, help="where to write it")
    demo.add_argument("--force", action="store_true", help="replace an existing store at PATH")

    store_cmd = sub.add_parser(
        "store",
        help="move a master copy between a file and a PostgreSQL server; officers' access",
    )
    store_sub = store_cmd.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    copy = store_sub.add_parser(
        "copy",
        help="copy a store with its whole history (file to server, server to file, ...)",
        description=(
            "Copy every table of a store, history, sync keys and trust included, to a new "
            "file or an empty PostgreSQL database (postgresql://user@host:port/database; the "
            "password comes from ~/.pgpass, a service file or the keyring). Leads' bundles "
            "made against the old copy keep importing into the new one."
        ),
    )
    copy.add_argument("--from", dest="source", metavar="STORE", required=True, help="the store")
    copy.add_argument("--to", dest="target", metavar="STORE", required=True, help="the copy")
    copy.add_argument(
        "--replace",
        action="store_true",
        help="overwrite a target that already holds a store (default: refuse)",
    )
    grant = store_sub.add_parser(
        "grant",
        help="let a database role read and write one partnership (or, --regional, all)",
        description=(
            "On a server store, as its owner: give a database role (a group role that "
            "officers' login roles are members of) the privileges it needs and its row in "
            "the access list, so that row-level security lets it read and write one "
            "partnership's records (or, with --regional, every partnership's: the region "
            "summary). Granting again changes nothing; --revoke takes the access away."
        ),
    )
    grant.add_argument("--store", metavar="URL", required=True, help="the server store")
    grant.add_argument("--role", metavar="NAME", required=True, help="the database role")
    grant.add_argument(
        "--partnership",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="the partnership the role reads (its name or id)",
    )
    grant.add_argument("--regional", action="store_true", help="the role reads every partnership")
    grant.add_argument("--revoke", action="store_true", help="take the role's access away")
    roles = store_sub.add_parser(
        "roles",
        help="list which database roles may read which partnership",
        description="On a server store: every role in the access list, what it reads, "
        "and the login roles that hold it.",
    )
    roles.add_argument("--store", metavar="URL", required=True, help="the server store")

    check = sub.add_parser("check", help="check a store for damage and inconsistencies")
    check.add_argument("--store", metavar="PATH", required=True, help="the store to check")

    xlsx = sub.add_parser("xlsx", help="import a tracker or measure data; export a workbook")
    xlsx_sub = xlsx.add_subparsers(dest="xlsx_command", metavar="ACTION", required=True)
    imp = xlsx_sub.add_parser("import", help="import an action tracker or measure data")
    imp.add_argument("--store", metavar="PATH", required=True, help="the store to import into")
    _partnership_option(imp)
    imp.add_argument("file", metavar="FILE", help="the workbook (.xlsx) or CSV file")
    imp.add_argument("--kind", choices=("actions", "measures"), help="what the file holds")
    imp.add_argument("--mapping", metavar="FILE.json", help="a saved mapping to reuse")
    imp.add_argument("--save-mapping", metavar="FILE.json", help="save the mapping used")
    imp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    imp.add_argument("--plan", metavar="TITLE", help="the plan (default: the newest)")
    imp.add_argument("--sheet", metavar="NAME", help="the sheet to read (default: found)")
    imp.add_argument("--quarter", metavar="QUARTER", help="the quarter of updates, e.g. 2024/25 Q2")
    _add_backup_options(imp)
    imp.add_argument(
        "--skip-refused", action="store_true", help="import the other rows if some are refused"
    )
    exp = xlsx_sub.add_parser("export", help="write the plan as an Excel workbook")
    exp.add_argument("--store", metavar="PATH", required=True, help="the store to export")
    _partnership_option(exp)
    exp.add_argument("--out", metavar="FILE.xlsx", required=True, help="the workbook to write")
    exp.add_argument("--plan", metavar="TITLE", help="the plan (default: the newest)")
    pack = sub.add_parser(
        "pack",
        help="export the quarterly board pack as a PDF; publish it; make a published one again",
        description=(
            "Export the board pack for a quarter (--quarter, --out). The pack prints "
            "accepted updates and values only. --list-exports shows the recorded exports; "
            "--publish marks one final and locks its quarter; --as-published makes a "
            "recorded export again from the store's history and checks its SHA-256."
        ),
    )
    pack.add_argument("--store", metavar="PATH", required=True, help="the store to read")
    _partnership_option(pack)
    pack.add_argument("--quarter", help='the quarter the pack reports on, e.g. "2023/24 Q2"')
    pack.add_argument("--out", metavar="FILE.pdf", help="the PDF to write")
    pack.add_argument(
        "--include-awaiting-review",
        action="store_true",
        help="also print submitted updates and values not yet accepted, each marked "
        '"Awaiting review" (drafts never appear)',
    )
    pack.add_argument(
        "--list-exports", action="store_true", help="list the recorded exports and their ids"
    )
    pack.add_argument(
        "--publish",
        metavar="EXPORT",
        help="publish a recorded export (its id, path or the PDF): the pack becomes final "
        "and its quarter's updates and values are locked",
    )
    pack.add_argument(
        "--as-published",
        metavar="EXPORT",
        help="make a recorded export (its id, path or the PDF) again from the store's "
        "history and check it is byte-identical (writes it to --out if given)",
    )
    pack.add_argument(
        "--plan",
        metavar="ID-OR-TITLE",
        help="the plan (default: the store's approved plan, if there is only one)",
    )
    pack.add_argument(
        "--meeting-date",
        metavar="YYYY-MM-DD",
        help="the board meeting (default: the quarter's existing pack, else today)",
    )
    pack.add_argument(
        "--password-file",
        metavar="FILE",
        help="protect the PDF (AES-256) with the password in the first line of FILE",
    )
    pack.add_argument(
        "--annual",
        metavar="YEAR",
        help='make the annual update to scrutiny for a financial year, e.g. "2023/24" '
        "(with --out), instead of a quarter's board pack",
    )
    pack.add_argument(
        "--committee",
        metavar="NAME",
        help="the scrutiny committee the annual update goes to (default: the one on the "
        "plan's latest board pack, else Communities & Housing Scrutiny Committee)",
    )
    bk = sub.add_parser(
        "backups", help="list a store's import backups; set how many are kept and where"
    )
    bk.add_argument("--store", metavar="PATH", required=True, help="the store")
    bk.add_argument(
        "--keep-last", metavar="N", type=_positive, help="keep the newest N (default 5)"
    )
    bk.add_argument(
        "--keep-days", metavar="DAYS", type=_positive, help="and any under DAYS days old (30)"
    )
    bk.add_argument(
        "--folder", metavar="DIR", help='where import backups go ("" for beside the store)'
    )
    bundle = sub.add_parser("bundle", help="share updates between copies with bundle files")
    bundle_sub = bundle.add_subparsers(dest="bundle_command", metavar="ACTION", required=True)
    export = bundle_sub.add_parser(
        "export",
        help="write a bundle: a lead copy's changes, or (with --for) a person's themes and actions",
    )
    export.add_argument("--store", metavar="PATH", required=True, help="the store to read")
    _partnership_option(export)
    export.add_argument("--out", metavar="FILE", required=True, help="the .sspbundle to write")
    export.add_argument(
        "--for",
        dest="person",
        metavar="PERSON",
        help="on the master copy: the person (email or id) the bundle is for",
    )
    export.add_argument(
        "--themes",
        metavar="CODE,CODE",
        help="with --for: the priorities their copy holds (default: as before, or those they lead)",
    )
    export.add_argument(
        "--actions",
        metavar="REF,REF",
        help="with --for: single actions their copy holds, beside or instead of themes "
        "(default: as before; for a new lead who leads no theme, the actions they lead)",
    )
    export.add_argument("--plan", metavar="TITLE", help="with --for: the plan (default: newest)")
    imp = bundle_sub.add_parser("import", help="preview and import a bundle into a store")
    imp.add_argument(
        "--store",
        metavar="PATH",
        required=True,
        help="the store to import into (may be new for a starter bundle)",
    )
    _partnership_option(imp)
    imp.add_argument("file", metavar="FILE", help="the .sspbundle to import")
    imp.add_argument("--dry-run", action="store_true", help="show the preview only; change nothing")
    _add_backup_options(imp)
    imp.add_argument(
        "--master-fingerprint",
        metavar="FP",
        help="a starter bundle: the fingerprint the strategy team read out to you (the "
        "import is refused unless it is the fingerprint of the copy that signed it)",
    )
    imp.add_argument(
        "--confirm-deletions",
        action="store_true",
        help="on the master copy: go ahead with a lead's bundle that deletes many records "
        "(it is held without this)",
    )
    recover = bundle_sub.add_parser(
        "recover", help="open a bundle with the partnership recovery key (disaster recovery)"
    )
    recover.add_argument("--key", metavar="FILE", required=True, help="the .ssprecovery file")
    recover.add_argument("--out", metavar="FILE.zip", required=True, help="the zip to write")
    recover.add_argument("file", metavar="FILE", help="the .sspbundle to open")

    join = sub.add_parser("join", help="write a join request for the strategy team")
    join.add_argument("--out", metavar="FILE", required=True, help="the .sspjoin file to write")
    join.add_argument("--name", required=True, help="your name")
    join.add_argument("--email", required=True, help="your email, as the plan records it")
    enrol = sub.add_parser(
        "enrol", help="on the master copy: enrol a join request (or the recovery key)"
    )
    enrol.add_argument("--store", metavar="PATH", required=True, help="the master copy")
    _partnership_option(enrol)
    enrol.add_argument("file", metavar="FILE", help="the .sspjoin (or .ssprecovery-public) file")
    enrol.add_argument(
        "--fingerprint",
        metavar="FP",
        required=True,
        help="the fingerprint the person read out to you (not copied from the file)",
    )
    region = sub.add_parser(
        "region-summary",
        help="each partnership's action RAG counts per priority (a region's master copy)",
    )
    region.add_argument("--store", metavar="PATH", required=True, help="the store to read")
    keys = sub.add_parser("keys", help="show this install's key fingerprint")
    replace = keys.add_mutually_exclusive_group()
    replace.add_argument(
        "--rotate", action="store_true", help="replace this install's keys (see docs/security.md)"
    )
    replace.add_argument(
        "--new",
        action="store_true",
        help="start again with new keys when the old ones are damaged or lost (then join again)",
    )
    keys.add_argument(
        "--make-recovery-key",
        metavar="NAME",
        help="write a partnership recovery key: NAME.ssprecovery-public and NAME.ssprecovery",
    )
    return parser


StoreLocation = Path | str  # a store file, or a postgresql:// URL (kept as text)


def _location(text: str) -> StoreLocation:
    """``--store`` as given: a server URL stays text (a Path would fold its ``//``)."""
    from ssp_desktop.store.backend import is_server_location

    return text if is_server_location(text) else Path(text)


def _error(message: str) -> int:
    print(f"ssp-desktop: {message}", file=sys.stderr)
    return EXIT_REFUSED


def cmd_demo(store_path: StoreLocation, *, force: bool) -> int:
    """Write the sample plan to ``store_path``.

    The sample is built in a temporary file beside the target and moved into place
    only when complete, so a full disk or a crash never leaves half a store, and
    ``--force`` never destroys the old store unless the new one is ready. On a server
    the sample goes into an empty database in one transaction.
    """
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.progress import terminal_progress
    from ssp_desktop.sample.plan import write_sample
    from ssp_desktop.store.backend import finish_file
    from ssp_desktop.store.engine import Store
    from ssp_desktop.store.lock import StoreLock

    if isinstance(store_path, str):
        return _demo_on_server(store_path, force=force)

    target = store_path.expanduser().absolute()
    if target.is_dir():
        return _error(f"{target} is a folder; give the path of a store file to write.")
    if target.exists() and not force:
        return _error(
            f"{target} already exists; not overwriting it. "
            "Use --force to replace it, or choose another path."
        )
    if not target.parent.is_dir():
        return _error(f"the folder {target.parent} does not exist.")
    # Here, not at the top: the window's start does not wait for them.
    import sqlite3
    import tempfile

    lock: StoreLock | None = None
    tmp: Path | None = None
    _remove_abandoned_partials(target)
    try:
        if target.exists():
            lock = StoreLock(target)  # refuse to replace a store someone has open
            lock.acquire()
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        os.close(fd)
        tmp = Path(name)
        tmp.unlink()  # Store.open(create=True) makes the file itself
        with (
            terminal_progress("Writing the sample plan") as progress,
            Store.open(tmp, create=True) as store,
        ):
            summary = write_sample(store, progress=progress)
        # Fold the WAL into the main file so the one file we move is the whole store.
        finish_file(tmp)
        # A WAL (and its index) left beside the old store by a crash belongs to the old
        # file: SQLite would replay it onto the new one's pages and corrupt it. The old
        # store is being replaced (we hold its lock), so its journal goes first.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, target)
        Path(f"{tmp}.lock").unlink(missing_ok=True)  # nobody else knows the temp name
        tmp = None
    except SspError as exc:
        return _error(str(exc))
    except OSError as exc:
        reason = "the disk is full" if exc.errno == 28 else exc.strerror or str(exc)
        return _error(f"could not write {target}: {reason}. Nothing was changed.")
    except sqlite3.Error as exc:  # folding the journal in, after the store was closed
        from ssp_desktop.domain.errors import StoreFullError
        from ssp_desktop.store.engine import translate

        full = isinstance(translate(exc, target), StoreFullError)
        reason = "the disk is full" if full else str(exc)
        return _error(f"could not write {target}: {reason}. Nothing was changed.")
    finally:
        if tmp is not None:
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        if lock is not None:
            lock.release()
    print(
        f"Wrote the sample plan to {target}: {summary.plans} plans, "
        f"{summary.actions} actions, {summary.action_updates} updates, "
        f"{summary.measures} measures. Sample data - illustrative only."
    )
    return EXIT_OK


def _demo_on_server(url: str, *, force: bool) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.sample.plan import write_sample
    from ssp_desktop.store.engine import Store

    if force:
        return _error(
            "--force replaces a store file; a server store is not replaced. Write the "
            "sample into a new, empty database instead."
        )
    try:
        with Store.open(url, create=True) as store:
            summary = write_sample(store)
            where = store.location
    except SspError as exc:
        return _error(str(exc))
    print(
        f"Wrote the sample plan to {where}: {summary.plans} plans, "
        f"{summary.actions} actions, {summary.action_updates} updates, "
        f"{summary.measures} measures. Sample data - illustrative only."
    )
    return EXIT_OK


def _remove_abandoned_partials(target: Path) -> None:
    """Delete what an earlier ``demo`` killed mid-write left beside ``target`` (its
    temporary store, journal and lock). One still being written holds its lock and is
    left alone."""
    import glob

    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.store.lock import StoreLock

    pattern = glob.escape(f"{target.parent}{os.sep}.{target.name}.") + "*.partial"
    for name in glob.glob(pattern):
        partial = Path(name)
        lock = StoreLock(partial)
        try:
            lock.acquire()
        except (SspError, OSError):
            continue
        try:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{partial}{suffix}").unlink(missing_ok=True)
        except OSError:
            pass  # litter, not harm: the next demo tries again
        finally:
            lock.release()
            Path(f"{partial}.lock").unlink(missing_ok=True)


def cmd_store_copy(source: StoreLocation, target: StoreLocation, replace: bool) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.store.copy import copy_store

    try:
        result = copy_store(source, target, replace=replace)
    except SspError as exc:
        return _error(str(exc))
    print(result.describe())
    return EXIT_OK


def cmd_store_grant(
    store: StoreLocation,
    role: str,
    *,
    partnership: str | None,
    regional: bool,
    revoke: bool,
) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.store.grants import grant

    try:
        result = grant(store, role, partnership=partnership, regional=regional, revoke=revoke)
    except SspError as exc:
        return _error(str(exc))
    print(result.describe())
    return EXIT_OK


def cmd_store_roles(store: StoreLocation) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.store.grants import roles

    try:
        found = roles(store)
    except SspError as exc:
        return _error(str(exc))
    if not found:
        print("No database role is in this store's access list.")
        return EXIT_OK
    for access in found:
        notes = []
        if access.owner:
            notes.append("the store's owner")
        if not access.exists:
            notes.append("no such role on the server any more")
        held = ", ".join(access.members) if access.members else "no members"
        extra = f" ({'; '.join(notes)})" if notes else ""
        print(f"{access.role}: reads {access.reads}; held by {held}{extra}")
    return EXIT_OK


def cmd_check(store_path: StoreLocation) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.progress import terminal_progress
    from ssp_desktop.store.engine import Store
    from ssp_desktop.store.integrity import check_store

    try:
        # Damage anywhere is damage: the check reads every partnership the store holds.
        with (
            terminal_progress("Checking the store") as progress,
            Store.open(store_path, readonly=True, all_partnerships=True) as store,
        ):
            problems = check_store(store, progress=progress)
            where = store.location
    except SspError as exc:
        return _error(str(exc))
    if not problems:
        print(f"{where}: no problems found.")
        return EXIT_OK
    print(f"{where}: {len(problems)} problem(s) found:")
    for problem in problems:
        print(f"  - {problem}")
    return EXIT_PROBLEMS


def _plan_id(store: Store, title: str | None) -> uuid.UUID | None:
    """The id of the plan called ``title`` (None: let the importer choose the newest)."""
    from ssp_desktop.queries import plans as plan_queries
    from ssp_desktop.spreadsheets.errors import SpreadsheetError

    if title is None:
        return None
    with store.session() as session:
        plans = plan_queries.plans(session)
        for plan in plans:
            if plan.title.casefold() == title.strip().casefold():
                return plan.id
        names = ", ".join(repr(p.title) for p in plans) or "none"
    raise SpreadsheetError(f"There is no plan called {title!r} in the store (plans: {names}).")


def cmd_xlsx_import(args: argparse.Namespace) -> int:
    """Preview, then (unless --dry-run) apply, an import; exit 2 if refused."""
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.domain.periods import PeriodError, Quarter
    from ssp_desktop.progress import terminal_progress
    from ssp_desktop.spreadsheets import importing
    from ssp_desktop.spreadsheets.mapping import Mapping
    from ssp_desktop.spreadsheets.report import preview_text
    from ssp_desktop.store.engine import Store

    _tolerant_stdout()
    try:
        quarter = Quarter.parse(args.quarter) if args.quarter else None
    except PeriodError as exc:
        return _error(str(exc))
    try:
        mapping = Mapping.load(Path(args.mapping)) if args.mapping else None
        with Store.open(_location(args.store), readonly=args.dry_run) as store:
            with terminal_progress(f"Reading {Path(args.file).name}") as progress:
                plan_id = _plan_id(store, args.plan)
                prepared = importing.prepare(
                    Path(args.file),
                    kind=args.kind,
                    mapping=mapping,
                    sheet=args.sheet,
                    comparators=importing.known_comparators(store, plan_id),
                )
                if args.save_mapping:
                    prepared.mapping_to_save().save(Path(args.save_mapping))
                options = importing.ImportOptions(
                    plan_id=plan_id,
                    quarter=quarter,
                    skip_refused=args.skip_refused,
                )
                progress.step(0, 0, "Checking the rows")
                plan = importing.preview(store, prepared, options)
            print(preview_text(prepared, plan))
            if plan.refused and not args.skip_refused:
                return _error(importing.refusal_message(plan))
            if args.dry_run:
                print("Dry run: nothing was written.")
                return EXIT_OK
            with terminal_progress("Importing") as progress:
                result = importing.apply(
                    store,
                    prepared,
                    options,
                    progress=progress,
                    retention=_retention(args),
                    previewed=plan,
                )
    except SspError as exc:
        return _error(str(exc))
    print(f"Imported {Path(args.file).name}. {result.summary()}")
    if result.backups is not None:
        print("\n".join(result.backups.lines()))
    return EXIT_OK


def cmd_xlsx_export(args: argparse.Namespace) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.progress import terminal_progress
    from ssp_desktop.spreadsheets.workbook import export_workbook
    from ssp_desktop.store.engine import Store

    _tolerant_stdout()
    try:
        with (
            terminal_progress("Writing the workbook") as progress,
            Store.open(_location(args.store), readonly=True) as store,
        ):
            plan_id = _plan_id(store, args.plan)
            result = export_workbook(store, Path(args.out), plan_id=plan_id, progress=progress)
    except SspError as exc:
        return _error(str(exc))
    print(result.summary())
    return EXIT_OK


def _tolerant_stdout() -> None:
    # Record text may hold characters the console's code page lacks (Windows): show
    # an escape rather than fail after the work is done.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def cmd_pack(
    store_path: StoreLocation,
    *,
    quarter_text: str,
    out: Path,
    plan_text: str | None,
    meeting_date_text: str | None,
    password_file: Path | None = None,
    include_awaiting_review: bool = False,
) -> int:
    """Export the board pack for a plan, quarter and meeting; record the export."""
    import datetime as dt

    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.domain.periods import PeriodError, Quarter
    from ssp_desktop.progress import terminal_progress
    from ssp_desktop.reports.export import (
        check_output_path,
        export_pack,
        prepare_pack,
        resolve_plan,
    )
    from ssp_desktop.store.engine import Store

    try:
        quarter = Quarter.parse(quarter_text)
    except PeriodError as exc:
        return _error(str(exc))
    meeting_date = None
    if meeting_date_text:
        try:
            meeting_date = dt.date.fromisoformat(meeting_date_text)
        except ValueError:
            return _error(
                f"{meeting_date_text!r} is not a date; write the meeting date as YYYY-MM-DD."
            )
    try:
        password = None
        if password_file is not None:
            from ssp_desktop.reports.protect import read_password_file

            password = read_password_file(password_file)
        target = check_output_path(out)
        with (
            terminal_progress("Making the board pack") as progress,
            Store.open(store_path) as store,
        ):
            with store.session() as session:
                plan_id = resolve_plan(session, plan_text).id
            pack_id = prepare_pack(store, plan_id, quarter, meeting_date=meeting_date)
            result = export_pack(
                store,
                pack_id,
                target,
                progress=progress,
                password=password,
                include_awaiting_review=include_awaiting_review,
            )
    except SspError as exc:
        return _error(str(exc))
    print(
        f"Wrote the board pack for {result.quarter.label} ({result.meeting}) to {result.path}: "
        f"{result.pages} pages, {result.size:,} bytes, SHA-256 {result.sha256}. "
        f"Export id {result.export_id}."
        + (" It opens only with the password." if password_file is not None else "")
        + (
            " Updates and values awaiting review are included, marked as such."
            if include_awaiting_review
            else ""
        )
    )
    return EXIT_OK


def cmd_pack_annual(
    store_path: StoreLocation,
    year_text: str,
    out: Path,
    plan_text: str | None,
    committee: str | None,
) -> int:
    """Write the annual update to scrutiny for a financial year (not recorded as a
    board pack export: it is a different paper)."""
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.domain.periods import FinancialYear, PeriodError
    from ssp_desktop.reports.export import export_annual
    from ssp_desktop.store.engine import Store

    try:
        year = FinancialYear.parse(year_text)
    except PeriodError as exc:
        return _error(str(exc))
    try:
        with Store.open(store_path, readonly=True) as store:
            result = export_annual(store, plan_text, year, out, committee=committee)
    except SspError as exc:
        return _error(str(exc))
    print(
        f"Wrote the annual update for {year.label} to {result.committee} "
        f"to {result.path}: {result.pages} pages."
    )
    return EXIT_OK


def cmd_pack_list(store_path: StoreLocation) -> int:
    """Print the recorded exports, newest first."""
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.reports.export import list_exports
    from ssp_desktop.store.engine import Store

    try:
        with Store.open(store_path) as store, store.session() as s:
            rows = list_exports(s)
            if not rows:
                print("No board pack has been exported from this store yet.")
            for export, pack in rows:
                state = (
                    f"published {export.published_at:%d %b %Y %H:%M} UTC by {export.published_by}"
                    if export.published_at
                    else "not published"
                )
                print(
                    f"{export.id}  {pack.quarter.label}  {export.exported_at:%d %b %Y %H:%M} UTC"
                    f"  revision {export.snapshot_seq}  {state}  {export.file_name}"
                )
    except SspError as exc:
        return _error(str(exc))
    return EXIT_OK


def cmd_pack_publish(store_path: StoreLocation, text: str) -> int:
    """Publish a recorded export: final, attributed, its quarter locked."""
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.reports.export import find_export, publish_export
    from ssp_desktop.store.engine import Store

    try:
        with Store.open(store_path) as store:
            with store.session() as s:
                export_id = find_export(s, text).id
            export = publish_export(store, export_id)
    except SspError as exc:
        return _error(str(exc))
    print(
        f"Published {export.file_name} (SHA-256 {export.sha256}) on "
        f"{export.published_at:%d %B %Y at %H:%M} UTC by {export.published_by}. Its quarter's "
        "updates and values are locked: a later change needs a reason and is listed in the "
        "next pack."
    )
    return EXIT_OK


def cmd_pack_remake(store_path: StoreLocation, text: str, out: Path | None) -> int:
    """Make a recorded export again from the store's history; compare SHA-256s."""
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.reports.export import find_export, remake_export
    from ssp_desktop.store.engine import Store

    try:
        with Store.open(store_path) as store:
            with store.session() as s:
                export_id = find_export(s, text).id
            result = remake_export(store, export_id, out)
    except SspError as exc:
        return _error(str(exc))
    where = f" Wrote it to {result.path}." if result.path is not None else ""
    if result.matches:
        print(
            f"Made the pack again from revision {result.revision}: byte-identical to the "
            f"recorded export (SHA-256 {result.sha256}).{where}"
        )
        return EXIT_OK
    print(
        f"ssp-desktop: the pack made again from revision {result.revision} differs from the "
        f"recorded export: SHA-256 {result.sha256}, recorded {result.recorded_sha256}. "
        f"Why: {result.reason}.{where}",
        file=sys.stderr,
    )
    return EXIT_REFUSED


def cmd_bundle_export(
    store_path: StoreLocation,
    out: Path,
    *,
    person: str | None,
    themes: str | None,
    plan: str | None,
    actions: str | None = None,
) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.progress import terminal_progress
    from ssp_desktop.store.engine import Store
    from ssp_desktop.sync.export import export_changes, export_snapshot

    for flag, value in (("--themes", themes), ("--actions", actions)):
        if value is not None and person is None:
            return _error(f"{flag} goes with --for PERSON (the master's bundle for a lead).")
    codes = [c.strip() for c in themes.split(",") if c.strip()] if themes else None
    refs = [r.strip() for r in actions.split(",") if r.strip()] if actions else None
    try:
        with terminal_progress("Writing the bundle") as progress, Store.open(store_path) as store:
            if person is not None:
                result = export_snapshot(
                    store,
                    out,
                    person=person,
                    themes=codes,
                    actions=refs,
                    plan=plan,
                    progress=progress,
                )
            else:
                result = export_changes(store, out, progress=progress)
    except SspError as exc:
        return _error(str(exc))
    print(result.describe())
    return EXIT_OK


def cmd_backups(args: argparse.Namespace) -> int:
    """Save any backup setting given, then list the import backups and their size."""
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.store import backup
    from ssp_desktop.store.engine import Store

    changes: dict[str, str] = {}
    if args.keep_last is not None:
        changes[backup.KEEP_LAST_KEY] = str(max(1, args.keep_last))
    if args.keep_days is not None:
        changes[backup.KEEP_DAYS_KEY] = str(args.keep_days)
    if args.folder is not None:
        changes[backup.FOLDER_KEY] = args.folder
    try:
        with Store.open(_location(args.store), readonly=not changes) as store:
            if changes:
                store.set_meta(**changes)
            settings = backup.settings(store.meta)
            anchor = backup.store_anchor(store)
            folder = backup.backup_folder(anchor, settings)
            retention = backup.Retention.from_settings(settings)
            found = backup.import_backups(anchor, folder) if folder.is_dir() else []
            name = store.name
    except SspError as exc:
        return _error(str(exc))
    total = sum(p.stat().st_size for p in found)
    print(f"Import backups of {name} in {folder}: {len(found)}, using {backup.human_size(total)}.")
    print(f"After each import the app keeps {retention.describe()}.")
    for path in found:
        print(f"  {path.name}  {backup.human_size(path.stat().st_size)}")
    return EXIT_OK


def cmd_bundle_import(
    store_path: StoreLocation,
    file: Path,
    *,
    dry_run: bool,
    confirm_deletions: bool = False,
    master_fingerprint: str | None = None,
    retention: RetentionChoice | None = None,
) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.progress import terminal_progress
    from ssp_desktop.sync.importer import import_file
    from ssp_desktop.sync.preview import HELD, describe

    try:
        with terminal_progress(f"Importing {file.name}") as progress:
            result = import_file(
                store_path,
                file,
                dry_run=dry_run,
                progress=progress,
                confirm_deletions=confirm_deletions,
                master_fingerprint=master_fingerprint,
                retention=retention,
            )
    except SspError as exc:
        return _error(str(exc))
    preview = result.preview
    print(describe(preview))
    if preview.status == HELD and not dry_run:
        return EXIT_REFUSED
    if dry_run:
        print("Dry run: nothing was changed.")
    elif result.applied:
        if result.created_store:
            print(f"Made the lead copy {store_path}.")
        if result.backups is not None:
            print("\n".join(result.backups.lines()))
        for problem in result.problems:
            print(f"Check: {problem}")
        if result.conflicts_waiting:
            print(
                f"{result.conflicts_waiting} conflict(s) wait for a decision: open the store "
                "in ssp-desktop and choose Conflicts."
            )
    partial = bool(preview.conflicts or preview.rejected)
    return EXIT_PROBLEMS if partial else EXIT_OK


def _split_file_argument(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """Take a file to open out of ``argv`` (``ssp-desktop FILE``, how the desktop passes a
    double-clicked bundle): the first word that is neither an option nor a command."""
    commands: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands.update(action.choices)
    skip_next = False
    for i, word in enumerate(argv):
        if skip_next:
            skip_next = False
            continue
        if word in ("--store", "--partnership"):
            skip_next = True
            continue
        if word.startswith("-"):
            continue
        if word in commands:
            return None
        del argv[i]
        return word
    return None


def cmd_bundle_recover(key: Path, file: Path, out: Path) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.sync.keys import read_recovery_private
    from ssp_desktop.sync.seal import Opener, TrustAnyone

    try:
        opener = Opener([read_recovery_private(key)], TrustAnyone(), file.name)
        data = opener.open(file.read_bytes())
        # Readable by the user only from the moment it exists (never a moment with the
        # umask's permissions), and never over an existing file.
        try:
            fd = os.open(
                out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600
            )
        except FileExistsError:
            return _error(f"{out} exists; give a new file name.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as exc:
        return _error(f"Cannot read or write a file: {exc.strerror or exc}.")
    except SspError as exc:
        return _error(str(exc))
    assert opener.opened is not None
    print(
        f"Wrote {out}: the bundle's content, signed by {opener.opened.signer.fingerprint}. "
        "It is OFFICIAL-SENSITIVE and NOT encrypted: keep it safe and delete it when done."
    )
    return EXIT_OK


def cmd_join(out: Path, *, name: str, email: str) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.sync.keys import this_install, write_join_request

    try:
        request = write_join_request(out, name=name, email=email, identity=this_install())
    except SspError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"Could not write the join request: {exc.strerror or exc}.")
    print(f"Wrote your join request for {request.name} <{request.email}>.")
    print("Send it to the strategy team, then read them this fingerprint by phone or in person:")
    print(f"  {request.fingerprint}")
    return EXIT_OK


def cmd_enrol(store_path: StoreLocation, file: Path, *, fingerprint: str) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.store.engine import Store
    from ssp_desktop.sync import trust
    from ssp_desktop.sync.keys import (
        RECOVERY_PUBLIC_EXTENSION,
        read_join_request,
        read_recovery_public,
    )

    if isinstance(store_path, Path) and not store_path.exists():
        return _error(f"There is no store at {store_path}. Enrol people on the master copy.")
    try:
        with Store.open(store_path) as store:
            if file.name.endswith(RECOVERY_PUBLIC_EXTENSION):
                result = trust.enrol_recovery(store, read_recovery_public(file), fingerprint)
            else:
                result = trust.enrol(store, read_join_request(file), fingerprint)
    except SspError as exc:
        return _error(str(exc))
    print(result.describe())
    return EXIT_OK


def cmd_region_summary(store_path: StoreLocation) -> int:
    """Print each partnership's RAG counts per priority as a table."""
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.queries.region import region_summary, summary_table
    from ssp_desktop.store.engine import Store

    _tolerant_stdout()
    try:
        with (
            Store.open(store_path, readonly=True, all_partnerships=True) as store,
            store.session() as session,
        ):
            summaries = region_summary(session)
            sample = store.is_sample
    except SspError as exc:
        return _error(str(exc))
    if not summaries:
        print("The store holds no partnership yet.")
        return EXIT_OK
    rows = summary_table(summaries)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"{len(summaries)} partnership(s); action RAG from each one's current plan.")
    if sample:
        print("Sample data - illustrative only.")
    return EXIT_OK


def cmd_keys(*, rotate: bool, recovery: str | None, new: bool = False) -> int:
    from ssp_desktop.domain.errors import SspError
    from ssp_desktop.sync import keys

    try:
        if recovery:
            stem = Path(recovery).expanduser()
            public_path = stem.with_name(stem.name + keys.RECOVERY_PUBLIC_EXTENSION)
            private_path = stem.with_name(stem.name + keys.RECOVERY_PRIVATE_EXTENSION)
            if public_path.exists() or private_path.exists():
                return _error(f"{public_path} or {private_path} exists; choose another name.")
            public = keys.make_recovery_key(public_path, private_path)
            print(f"Wrote the recovery key: {public_path} (enrol it on the master copy) and")
            print(f"{private_path} (keep it OFFLINE: print it or store it in a safe, then")
            print("delete it from this computer). Its fingerprint:")
            print(f"  {public.fingerprint}")
            return EXIT_OK
        if new:
            identity = keys.replace_identity()
            print("Made new keys for this install; the old ones are gone.")
            print("Bundles sent to the old keys cannot be opened here. Join again: send the")
            print("strategy team a new join request (ssp-desktop join) and read them the")
            print("fingerprint below.")
        elif rotate:
            old = keys.this_install().fingerprint
            identity = keys.rotate_identity()
            print(f"Replaced this install's keys (was {old}).")
            print("Your next bundle tells the master copy, signed with your old key.")
        else:
            identity = keys.this_install()
    except SspError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"Could not keep the keys: {exc.strerror or exc}.")
    print(f"This install's fingerprint: {identity.fingerprint}")
    print(f"Private keys kept in: {keys.key_location()}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    words = list(sys.argv[1:] if argv is None else argv)
    file_text = _split_file_argument(parser, words)
    args = parser.parse_args(words)
    if args.command is not None:
        from ssp_desktop.logs import setup_logging

        setup_logging()
    # A light module: the window paints its frame before SQLAlchemy loads.
    from ssp_desktop.store.requested import request

    # Always set, so that a second run in one process does not inherit the first's.
    request(args.partnership)
    if args.command == "xlsx":
        return cmd_xlsx_import(args) if args.xlsx_command == "import" else cmd_xlsx_export(args)
    if args.command == "demo":
        return cmd_demo(_location(args.store), force=args.force)
    if args.command == "store":
        if args.store_command == "grant":
            return cmd_store_grant(
                _location(args.store),
                args.role,
                partnership=args.partnership,
                regional=args.regional,
                revoke=args.revoke,
            )
        if args.store_command == "roles":
            return cmd_store_roles(_location(args.store))
        return cmd_store_copy(_location(args.source), _location(args.target), args.replace)
    if args.command == "check":
        return cmd_check(_location(args.store))
    if args.command == "pack":
        if args.list_exports:
            return cmd_pack_list(_location(args.store))
        if args.publish:
            return cmd_pack_publish(_location(args.store), args.publish)
        if args.as_published:
            return cmd_pack_remake(
                _location(args.store), args.as_published, Path(args.out) if args.out else None
            )
        if args.annual:
            if not args.out:
                return _error("give --out for the annual update's PDF.")
            return cmd_pack_annual(
                _location(args.store), args.annual, Path(args.out), args.plan, args.committee
            )
        if not args.quarter or not args.out:
            return _error(
                "give --quarter and --out to export a pack (or --list-exports, --publish "
                "or --as-published)."
            )
        return cmd_pack(
            _location(args.store),
            quarter_text=args.quarter,
            out=Path(args.out),
            plan_text=args.plan,
            meeting_date_text=args.meeting_date,
            password_file=Path(args.password_file) if args.password_file else None,
            include_awaiting_review=args.include_awaiting_review,
        )
    if args.command == "backups":
        return cmd_backups(args)
    if args.command == "join":
        return cmd_join(Path(args.out), name=args.name, email=args.email)
    if args.command == "enrol":
        return cmd_enrol(_location(args.store), Path(args.file), fingerprint=args.fingerprint)
    if args.command == "region-summary":
        return cmd_region_summary(_location(args.store))
    if args.command == "keys":
        return cmd_keys(rotate=args.rotate, recovery=args.make_recovery_key, new=args.new)
    if args.command == "bundle" and args.bundle_command == "recover":
        return cmd_bundle_recover(Path(args.key), Path(args.file), Path(args.out))
    if args.command == "bundle" and args.bundle_command == "export":
        return cmd_bundle_export(
            _location(args.store),
            Path(args.out),
            person=args.person,
            themes=args.themes,
            plan=args.plan,
            actions=args.actions,
        )
    if args.command == "bundle":
        return cmd_bundle_import(
            _location(args.store),
            Path(args.file),
            dry_run=args.dry_run,
            confirm_deletions=args.confirm_deletions,
            master_fingerprint=args.master_fingerprint,
            retention=_retention(args),
        )
    if args.store and args.sample:
        return _error("give either --store or --sample, not both.")
    open_file: Path | None = None
    if file_text is not None:
        from ssp_desktop.sync.container import EXTENSION

        open_file = Path(file_text).expanduser()
        if open_file.suffix.lower() != EXTENSION:
            return _error(
                f"{open_file.name} is not a bundle file ({EXTENSION}); ssp-desktop FILE "
                "opens bundles. To import a spreadsheet, use `ssp-desktop xlsx import`."
            )
        if not open_file.is_file():
            return _error(f"there is no bundle at {open_file}.")
    from ssp_desktop.app import display_problem, run_gui

    problem = display_problem()
    if problem is not None:
        return _error(problem)
    return run_gui(
        store=_location(args.store) if args.store else None, sample=args.sample, open_file=open_file
    )


if __name__ == "__main__":
    raise SystemExit(main())
