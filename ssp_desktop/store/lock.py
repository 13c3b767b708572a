"""One writer per store, and a hold on the store file nothing else in the process can break.

**The writer lock** lives in ``<store>.lock`` beside the store's *real* path (symlinks
resolved), so two names for one store share one lock. The operating system releases it
when the holder exits, even after a crash, so a stale lock never blocks anyone; the
file's text (host, user, pid, time) is only there to tell the second user who has the
store. POSIX uses ``flock`` (per open file, so a second open in the same process is
refused too); Windows uses ``msvcrt.locking`` on one byte far past the text, which stays
readable for the second user's message.

**The hold** (Linux): SQLite guards a WAL store with POSIX ``fcntl`` locks, and POSIX
drops *all* of a process's locks on a file the moment *any* descriptor of that process
on the file is closed. Qt's file dialog sniffing the folder, a backup tool, a hash: any
open-and-close of the store or its ``-shm`` in this process silently leaves the app
unlocked, and the next outside SQLite reader to close believes it is the last user,
checkpoints and deletes the WAL the app is still writing to (later edits then vanish).
So, while a store is open for writing, this module also keeps open-file-description
locks (``F_OFD_SETLK``), which belong to one descriptor and survive other closes:

* a read lock on SQLite's SHARED byte range of the store: no other process can take
  the EXCLUSIVE lock that deleting the WAL (or changing the journal mode) needs;
* a read lock on the ``-shm`` file's dead-man-switch byte: no other process believes it
  is the first user and wipes the shared WAL index under the app;
* a write lock on a byte of the store SQLite never uses: the writer lock keyed on the
  file itself, so a hard link (another name for the same file) is refused too.

Windows locks belong to a handle and are not affected; macOS has no OFD locks, so there
the writer lock is the ``.lock`` file alone.

What opens the store file in this process besides SQLite (audited for issue 21): Qt's
file dialogs (they read the store, its ``-wal`` and ``-shm`` to guess their type);
``engine.inspect_header`` when a store is opened (harmless unless the same store is
already open here, e.g. a second Open of it); this hold itself, closed only after every
connection. Backups (``backup.sqlite_backup``, the bundle importer's), the integrity
check and the checkpoint after an import (``background.Checkpointer``) go through SQLite
connections, which share one set of locks per file and defer closing descriptors while
another connection holds locks, so they are safe; nothing hashes or copies the store
file; the writer lock is another file. The hold makes the first two harmless too, and
any such path added later.
"""

from __future__ import annotations

import datetime as dt
import errno
import getpass
import json
import os
import socket
import struct
import sys
from pathlib import Path
from typing import IO

from ssp_desktop import __version__
from ssp_desktop.domain.errors import LockHolder, ReadOnlyLocationError, StoreLockedError

_WINDOWS_LOCK_OFFSET = 1 << 30

# SQLite's lock bytes (os_unix.c): PENDING at 1 GiB, RESERVED next, then 510 SHARED bytes;
# in the -shm file, 8 lock bytes from 120 and the dead-man switch at 128.
_SQLITE_PENDING = 0x40000000
_SQLITE_SHARED_FIRST = _SQLITE_PENDING + 2
_SQLITE_SHARED_SIZE = 510
_SHM_DMS = 128
# Ours: past SQLite's 512 bytes, so no SQLite anywhere ever asks for it.
_WRITER_BYTE = _SQLITE_PENDING + 0x400

_F_OFD_SETLK: int | None = None
if sys.platform.startswith("linux"):
    import fcntl as _fcntl

    _F_OFD_SETLK = getattr(_fcntl, "F_OFD_SETLK", None)


def real_store_path(store_path: Path) -> Path:
    """The store's own name: symlinks resolved, so every path to it agrees."""
    return Path(os.path.realpath(store_path))


def lock_path_for(store_path: Path) -> Path:
    real = real_store_path(store_path)
    return real.with_name(real.name + ".lock")


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers); the pid still identifies us
        return "unknown user"


def read_holder(lock_path: Path) -> LockHolder | None:
    try:
        data = json.loads(lock_path.read_text(encoding="utf-8") or "null")
        return LockHolder(
            host=str(data["host"]),
            user=str(data["user"]),
            pid=int(data["pid"]),
            since=str(data["since"]),
            app_version=str(data.get("app_version", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def ofd_locks_available() -> bool:
    """Whether this platform gives the hold (Linux open-file-description locks)."""
    return _F_OFD_SETLK is not None


def _ofd_lock(fd: int, kind: int, start: int, length: int) -> None:
    """Take an open-file-description lock without waiting; OSError if another holds it."""
    import fcntl

    assert _F_OFD_SETLK is not None
    # struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
    # (0 for OFD locks), padded as the C struct is.
    request = struct.pack("hhqqi4x", kind, os.SEEK_SET, start, length, 0)
    fcntl.fcntl(fd, _F_OFD_SETLK, request)


class StoreLock:
    """An exclusive, non-blocking writer lock on a store, and (after :meth:`hold`) the
    hold that keeps other processes from breaking the store while it is open."""

    def __init__(self, store_path: Path) -> None:
        self.path = lock_path_for(store_path)
        self._store_path = store_path
        self._file: IO[str] | None = None
        self._store_fd: int | None = None
        self._shm_fd: int | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    @property
    def holding_store(self) -> bool:
        """Whether the OFD hold on the store file is in place (Linux, after :meth:`hold`)."""
        return self._store_fd is not None

    def acquire(self) -> None:
        try:
            f = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held while locked
        except PermissionError as exc:
            raise ReadOnlyLocationError(
                f"Cannot write the lock file {self.path}: the folder is read-only. "
                "Copy the store to a folder you can write to and open it there."
            ) from exc
        try:
            self._lock(f)
        except OSError:
            f.close()
            raise StoreLockedError(str(self._store_path), read_holder(self.path)) from None
        try:
            # Another name for the same file (a hard link) has another .lock: the file's
            # own lock byte settles it before anything is read or migrated.
            self._take_writer_byte()
        except BaseException:
            self._unlock(f)
            f.close()
            raise
        holder = {
            "host": socket.gethostname(),
            "user": _current_user(),
            "pid": os.getpid(),
            "since": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "app_version": __version__,
        }
        f.seek(0)
        f.truncate()
        f.write(json.dumps(holder))
        f.flush()
        self._file = f

    def hold(self) -> None:
        """Keep other processes from deleting the WAL or wiping its index while the
        store is open (see the module's docstring). Call once SQLite has the store open
        in WAL mode (the ``-shm`` file exists); release with :meth:`release` only after
        every SQLite connection to the store is closed."""
        if _F_OFD_SETLK is None or self._file is None:
            return
        import fcntl

        self._take_writer_byte()
        assert self._store_fd is not None
        _ofd_lock(self._store_fd, fcntl.F_RDLCK, _SQLITE_SHARED_FIRST, _SQLITE_SHARED_SIZE)
        if self._shm_fd is None:
            shm = Path(f"{real_store_path(self._store_path)}-shm")
            fd = os.open(shm, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
            try:
                _ofd_lock(fd, fcntl.F_RDLCK, _SHM_DMS, 1)
            except BaseException:
                os.close(fd)
                raise
            self._shm_fd = fd

    def _take_writer_byte(self) -> None:
        if _F_OFD_SETLK is None or self._store_fd is not None:
            return
        import fcntl

        real = real_store_path(self._store_path)
        try:
            fd = os.open(real, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return  # a store being made: hold() takes the byte once SQLite has made it
        except PermissionError:
            return  # opened read-only elsewhere; SQLite's own open reports it clearly
        try:
            _ofd_lock(fd, fcntl.F_WRLCK, _WRITER_BYTE, 1)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise StoreLockedError(str(self._store_path), None) from None
            raise
        self._store_fd = fd

    def release(self) -> None:
        f, self._file = self._file, None
        # Closing these also drops this process's POSIX (SQLite) locks on the files, so
        # the store's connections must be closed first (Store.close does).
        for fd in (self._shm_fd, self._store_fd):
            if fd is not None:
                os.close(fd)
        self._shm_fd = self._store_fd = None
        if f is None:
            return
        try:
            f.seek(0)
            f.truncate()
            f.flush()
        except OSError:
            pass  # a full disk must not stop us letting go of the lock
        finally:
            self._unlock(f)
            f.close()

    @staticmethod
    def _lock(f: IO[str]) -> None:
        if sys.platform == "win32":
            import msvcrt

            f.seek(_WINDOWS_LOCK_OFFSET)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            f.seek(0)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    @staticmethod
    def _unlock(f: IO[str]) -> None:
        try:
            if sys.platform == "win32":
                import msvcrt

                f.seek(_WINDOWS_LOCK_OFFSET)
                msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        except OSError:
            pass  # closing the file releases it anyway
