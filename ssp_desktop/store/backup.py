"""Copies of a live store: taken before every schema upgrade and before every import,
and the import backups pruned so they do not fill the disk.

The engine-specific copying lives in ``backend.py`` (``Backend.backup``: SQLite's
online backup API, consistent even while the store is open, WAL content included;
``pg_dump`` on a server).

Import backups are named ``<store>.backup-<when>-before-<what>.sqlite`` (``.pgdump``
for a server store) and kept in the store's folder (a server store's: the data
folder's ``backups/``), or in the folder the store's ``backup_folder`` setting names. After each
import the oldest are removed, keeping the newest ``keep_last`` and any younger than
``keep_days`` days (:class:`Retention`, from the store's ``backup_keep_last`` and
``backup_keep_days`` settings, or given on the command line), and never the one the
import has just made. Schema-upgrade backups (``-schema-``) are never pruned.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ssp_desktop.store.backend import sqlite_backup

if TYPE_CHECKING:
    from ssp_desktop.store.engine import Store

__all__ = [
    "BackupCopy",
    "BackupError",
    "BackupReport",
    "Retention",
    "RetentionChoice",
    "backup_folder",
    "import_backups",
    "prune_import_backups",
    "prune_store_backups",
    "settings",
    "sqlite_backup",
    "store_anchor",
    "take_import_backup",
    "take_store_backup",
    "writes_ahead",
]

# store_meta keys (strings, like every setting there).
KEEP_LAST_KEY = "backup_keep_last"
KEEP_DAYS_KEY = "backup_keep_days"
FOLDER_KEY = "backup_folder"


class BackupError(Exception):
    """The backup could not be made; the message says why, and that nothing changed."""


@dataclass(frozen=True)
class Retention:
    """Which import backups are kept: the newest ``keep_last``, and any younger than
    ``keep_days`` days."""

    keep_last: int = 5
    keep_days: int = 30

    def __post_init__(self) -> None:
        if self.keep_last < 1:
            raise ValueError("keep at least the newest backup (keep_last 1 or more)")
        if self.keep_days < 0:
            raise ValueError("the days to keep backups cannot be negative")

    @classmethod
    def from_settings(
        cls, meta: Mapping[str, str], keep_last: int | None = None, keep_days: int | None = None
    ) -> Retention:
        """The store's settings (``backup_keep_last``, ``backup_keep_days``), each
        replaced by the value given (a command-line option) and defaulted if unset or
        unreadable."""
        default = cls()

        def read(key: str, given: int | None, fallback: int) -> int:
            if given is not None:
                return given
            try:
                return int(meta.get(key, "") or fallback)
            except ValueError:
                return fallback

        return cls(
            keep_last=read(KEEP_LAST_KEY, keep_last, default.keep_last),
            keep_days=read(KEEP_DAYS_KEY, keep_days, default.keep_days),
        )

    def describe(self) -> str:
        return f"the newest {self.keep_last} and any under {self.keep_days} days old"


@dataclass(frozen=True)
class RetentionChoice:
    """Retention asked for this time (command-line options); None: the store's setting."""

    keep_last: int | None = None
    keep_days: int | None = None

    def resolve(self, meta: Mapping[str, str]) -> Retention:
        keep_last = None if self.keep_last is None else max(1, self.keep_last)
        return Retention.from_settings(meta, keep_last, self.keep_days)


@dataclass
class BackupReport:
    """Where this import's backup is, and how much space the import backups take."""

    path: Path
    count: int = 0
    total_bytes: int = 0
    removed: list[Path] = field(default_factory=list)
    retention: Retention = field(default_factory=Retention)
    problem: str | None = None  # old backups that could not be removed, and why

    def lines(self) -> list[str]:
        """The import summary's words about backups (command line and window alike)."""
        out = [f"A copy of the store from before the import: {self.path}"]
        removed = (
            f"; {len(self.removed)} older one{'s' if len(self.removed) != 1 else ''} removed"
            if self.removed
            else ""
        )
        out.append(
            f"Import backups in {self.path.parent}: {self.count}, using "
            f"{human_size(self.total_bytes)}{removed} (keeping {self.retention.describe()})."
        )
        if self.problem:
            out.append(self.problem)
        return out


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def settings(meta: Callable[[str], str]) -> dict[str, str]:
    """The backup settings from a store's metadata reader (``Store.meta``)."""
    return {key: meta(key) for key in (KEEP_LAST_KEY, KEEP_DAYS_KEY, FOLDER_KEY)}


def backup_folder(store_path: Path, meta: Mapping[str, str]) -> Path:
    """Where import backups of the store go: the ``backup_folder`` setting (relative
    to the store's folder), else beside the store."""
    chosen = (meta.get(FOLDER_KEY) or "").strip()
    if not chosen:
        return store_path.parent
    folder = Path(chosen).expanduser()
    return folder if folder.is_absolute() else store_path.parent / folder


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SUFFIXES = (".sqlite", ".pgdump")


def take_import_backup(
    store_path: Path,
    folder: Path,
    what: str,
    *,
    copy: Callable[[Path], None] | None = None,
    suffix: str = ".sqlite",
) -> Path:
    """Copy the store into ``folder`` before an import of ``what`` (a short label);
    BackupError, with nothing left behind, if it cannot be made. ``copy`` writes the
    copy (default: SQLite's backup of ``store_path``)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    label = _UNSAFE.sub("-", what).strip("-")[:40] or "import"
    target = folder / f"{store_path.stem}.backup-{stamp}-before-{label}{suffix}"
    n = 2
    while target.exists():  # two imports in one second
        target = folder / f"{store_path.stem}.backup-{stamp}-{n}-before-{label}{suffix}"
        n += 1
    if not folder.is_dir():
        raise BackupError(
            f"Could not back up the store before importing: the backup folder {folder} "
            "does not exist. Nothing was changed."
        )
    try:
        if copy is None:
            sqlite_backup(store_path, target)
        else:
            copy(target)
    except (OSError, sqlite3.Error) as exc:
        target.unlink(missing_ok=True)
        raise BackupError(
            f"Could not back up the store before importing ({exc}) into {folder}. "
            "Nothing was changed."
        ) from exc
    return target


def import_backups(store_path: Path, folder: Path) -> list[Path]:
    """The store's import backups in ``folder``, newest first."""
    found = [
        p
        for p in folder.glob(f"{glob_escape(store_path.stem)}.backup-*-before-*")
        if p.suffix in _SUFFIXES and p.is_file()
    ]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def prune_import_backups(
    store_path: Path, current: Path, retention: Retention, now: float | None = None
) -> BackupReport:
    """Remove the import backups ``retention`` does not keep, never ``current`` (the
    one just made), and report what is left. A backup that cannot be removed is kept
    and named in ``problem``; pruning never fails an import."""
    folder = current.parent
    now = time.time() if now is None else now
    report = BackupReport(path=current, retention=retention)
    try:
        backups = import_backups(store_path, folder)
    except OSError as exc:
        report.problem = f"Could not look through the old backups in {folder} ({exc})."
        backups = [current]
    failed: list[str] = []
    for position, path in enumerate(backups):
        try:
            age_days = (now - path.stat().st_mtime) / 86400
        except OSError:
            continue
        # Newest first: the first keep_last are the newest (this import's among them).
        if path == current or position < retention.keep_last or age_days < retention.keep_days:
            continue
        try:
            path.unlink()
            report.removed.append(path)
        except OSError as exc:
            failed.append(f"{path.name} ({exc.strerror or exc})")
    if failed:
        report.problem = (
            f"Could not remove {len(failed)} old backup{'s' if len(failed) != 1 else ''}: "
            + "; ".join(failed[:3])
            + ". They are kept; free the space by hand if needed."
        )
    total = 0
    count = 0
    for path in backups:
        if path in report.removed:
            continue
        try:
            total += path.stat().st_size
            count += 1
        except OSError:
            continue
    report.count, report.total_bytes = count, total
    return report


# -- a store's own backups (file or server) -------------------------------------------


def store_anchor(store: Store) -> Path:
    """The path a store's import backups are named and placed by: its file, or for a
    server store a name in the data folder's ``backups/`` (the folder ``pg_dump``
    writes to)."""
    if store.path is not None:
        return Path(store.path)
    probe = store.backend.backup_path("before-import")
    return probe.parent / (probe.name.split(".backup-")[0] + ".server")


def take_store_backup(store: Store, what: str) -> Path:
    """The import backup of ``store`` before an import of ``what``: SQLite's backup
    beside the file, ``pg_dump`` for a server store; BackupError if it cannot be made."""
    anchor = store_anchor(store)
    folder = backup_folder(anchor, settings(store.meta))
    if store.path is not None:
        return take_import_backup(anchor, folder, what)
    if folder == anchor.parent:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(
                f"Could not back up the store before importing: {folder} could not be "
                f"made ({exc.strerror or exc}). Nothing was changed."
            ) from exc
    return take_import_backup(anchor, folder, what, copy=store.backend.backup, suffix=".pgdump")


def prune_store_backups(
    store: Store, current: Path, choice: RetentionChoice | None = None
) -> BackupReport:
    """Prune ``store``'s import backups after an import that made ``current``."""
    chosen = (choice or RetentionChoice()).resolve(settings(store.meta))
    return prune_import_backups(store_anchor(store), current, chosen)


def writes_ahead(session: Session) -> bool:
    """Whether the SQLite store of ``session`` keeps a write-ahead log: then what its
    transaction writes reaches only the log until it commits, and a reader on another
    connection sees the store as it was."""
    mode = session.connection().exec_driver_sql("PRAGMA journal_mode").scalar()
    return str(mode).lower() == "wal"


class BackupCopy:
    """The backup an import takes before its writes count, made by ``take`` (which
    raises the importer's own error when it cannot be made).

    A file store is copied by a second thread while the import's transaction writes:
    the transaction holds SQLite's writer lock from its start, so nobody else can
    commit, and a reader (SQLite's backup, one consistent read) sees exactly the store
    the import is applied to, without the import's own uncommitted writes (WAL). The
    import waits for the copy before it commits (:meth:`finish`). A server store is
    dumped before the transaction (:meth:`take`: ``pg_dump`` is a program of its own)."""

    def __init__(self, take: Callable[[], Path]) -> None:
        self._take = take
        self.path: Path | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._copy: Future[Path] | None = None

    def take(self) -> None:
        """Take the copy now."""
        self.path = self._take()

    def start(self, session: Session, wal: bool | None = None) -> None:
        """Start copying from inside the import's transaction (``session``), before it
        writes anything. Without a write-ahead log a reader could hold up the writer's
        commit, so then the copy is taken here, at once. ``wal``: what
        :func:`writes_ahead` says, if the caller has asked already."""
        if not (writes_ahead(session) if wal is None else wal):
            self.take()
            return
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssp-backup")
        self._copy = self._pool.submit(self._take)

    def finish(self) -> None:
        """Wait for the copy; its error (no room, no folder) stops the import."""
        if self._copy is not None:
            try:
                self.path = self._copy.result()
            finally:
                self._stop()

    def discard(self) -> None:
        """The import failed: no copy is left behind (one still being made is waited for)."""
        if self._copy is not None:
            try:
                self.path = self._copy.result()
            except BaseException:
                self.path = None
            finally:
                self._stop()
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _stop(self) -> None:
        self._copy = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
