"""One writer per store: an OS file lock beside the store naming who holds it.

The lock lives in ``<store>.lock``. The operating system releases it when the holder
exits, even after a crash, so a stale lock never blocks anyone; the file's text
(host, user, pid, time) is only there to tell the second user who has the store.

POSIX uses ``flock`` (per open file, so a second open in the same process is refused
too); Windows uses ``msvcrt.locking`` on one byte far past the text, which stays
readable for the second user's message.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import sys
from pathlib import Path
from typing import IO

from ssp_desktop import __version__
from ssp_desktop.domain.errors import LockHolder, ReadOnlyLocationError, StoreLockedError

_WINDOWS_LOCK_OFFSET = 1 << 30


def lock_path_for(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


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


class StoreLock:
    """An exclusive, non-blocking writer lock on a store."""

    def __init__(self, store_path: Path) -> None:
        self.path = lock_path_for(store_path)
        self._store_path = store_path
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

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

    def release(self) -> None:
        f, self._file = self._file, None
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
