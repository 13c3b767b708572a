"""A throwaway PostgreSQL server for the tests and benchmarks: one cluster in a temporary
folder, listening only on a unix socket in that folder, gone when stopped.

Used by the ``pg_server`` fixture (tests/conftest.py) and by ``scripts/pg-test-server``
(``start``/``url``/``stop`` by hand or from a benchmark). The server binaries are
Debian's (``postgresql`` package, installed by ``scripts/setup --test``). PostgreSQL
refuses to run as root, and the tests run as root in CI: then the cluster belongs to
the ``postgres`` user and its programs run through ``runuser``. Durability is switched
off (fsync, synchronous commit): the data is scratch.

Run as a program: ``python -m tests.pgserver start|url|stop [FOLDER]``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

__all__ = ["PgServer", "PgUnavailableError", "find_bindir"]

INSTALL_HINT = (
    "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found. The tests "
    "run the store tests on a real server too. Install it with `scripts/setup --test` "
    "(it installs Debian's postgresql package) or `sudo apt-get install postgresql`; set "
    "SSP_PG_BINDIR to the folder holding initdb if it is elsewhere."
)
SUPERUSER = "postgres"
DEFAULT_FOLDER = Path(tempfile.gettempdir()) / f"ssp-pg-test-{os.getuid()}"
ROOT = Path(__file__).resolve().parents[1]


class PgUnavailableError(RuntimeError):
    """No PostgreSQL server programs on this machine (the message says how to install)."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name) or ["0"])


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl: $SSP_PG_BINDIR, Debian's newest
    /usr/lib/postgresql/N/bin, ``pg_config --bindir``, or the PATH."""
    given = os.environ.get("SSP_PG_BINDIR")
    candidates: list[Path] = [Path(given)] if given else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PgUnavailableError(INSTALL_HINT)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class PgServer:
    """A cluster in ``folder`` (data in ``folder/data``, socket in ``folder``)."""

    def __init__(self, folder: Path, bindir: Path | None = None) -> None:
        self.folder = folder
        self.bindir = bindir or find_bindir()
        self.data = folder / "data"
        self.log = folder / "server.log"
        self._watcher: subprocess.Popen[bytes] | None = None

    # -- running the server's programs ----------------------------------------------

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / program), *args]
        if _as_root():
            cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def _checked(self, program: str, *args: str) -> None:
        done = self._run(program, *args)
        if done.returncode != 0:
            tail = ""
            if self.log.exists():
                tail = "\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(
                f"{program} failed (exit {done.returncode}): {done.stderr.strip()}"
                f"{done.stdout.strip()}{tail}"
            )

    # -- life cycle -------------------------------------------------------------------

    @classmethod
    def start(cls, folder: Path | None = None) -> PgServer:
        """Make a cluster in ``folder`` (default: a new temporary folder) and start it;
        a cluster already running there is reused."""
        bindir = find_bindir()
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="ssp-pg-"))
        folder.mkdir(parents=True, exist_ok=True)
        server = cls(folder, bindir)
        if server.running():
            return server
        if _as_root():
            shutil.chown(folder, SUPERUSER, SUPERUSER)
        if not (server.data / "PG_VERSION").exists():
            server._checked(
                "initdb",
                "-D", str(server.data),
                "-U", SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )  # fmt: skip
        options = (
            f"-k {folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB "
            # Each test's database is a copy of a template: copy the files rather than
            # write the copy to the WAL (FILE_COPY below), and keep the WAL small.
            "-c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=64MB"
        )
        server._checked(
            "pg_ctl", "-D", str(server.data), "-l", str(server.log), "-o", options, "-w", "start"
        )
        return server

    def stop_with(self, pid: int) -> None:
        """Stop the server and delete its folder when process ``pid`` ends, however it
        ends: a test run killed by a timeout or ^C twice never reaches its teardown, and
        its server would run on. A small watcher process of its own session (so a
        signal to the test run's process group does not reach it) looks once a second;
        it also ends when the folder is gone (stopped as usual)."""
        self._watcher = subprocess.Popen(
            [sys.executable, "-m", "tests.pgserver", "watch", str(pid), str(self.folder)],
            cwd=ROOT,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def running(self) -> bool:
        if not (self.data / "postmaster.pid").exists():
            return False
        return self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def stop(self, *, remove: bool = True) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self._watcher is not None and remove:
            # It sees the folder gone within a second and ends.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watcher.wait(timeout=10)

    # -- databases --------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of ``database`` on this server (over its unix socket)."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.folder}"

    def admin(self, *statements: str) -> None:
        """Run statements outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def create_database(self, name: str | None = None, *, template: str = "template0") -> str:
        """A new database (a copy of ``template``); returns its URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        strategy = " STRATEGY FILE_COPY" if self.version() >= 150000 else ""
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
        return self.url(name)

    def version(self) -> int:
        """The server's version number (150004 for 15.4)."""
        if not hasattr(self, "_version"):
            import psycopg

            with psycopg.connect(self.url(), autocommit=True) as conn:
                self._version = int(conn.info.server_version)
        return self._version

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def watch(pid: int, folder: Path) -> None:
    """Wait for ``pid`` to end, then stop the server in ``folder`` (see ``stop_with``)."""
    while _alive(pid) and folder.exists():
        time.sleep(1)
    if folder.exists():
        PgServer(folder).stop()


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "watch":
        watch(int(argv[1]), Path(argv[2]))
        return 0
    if not argv or argv[0] not in ("start", "url", "stop"):
        print("usage: scripts/pg-test-server start|url|stop [FOLDER]", file=sys.stderr)
        return 2
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_FOLDER
    try:
        if argv[0] == "start":
            print(PgServer.start(folder).url())
        elif argv[0] == "url":
            server = PgServer(folder)
            if not server.running():
                print(f"no test server is running in {folder}", file=sys.stderr)
                return 1
            print(server.url())
        else:
            PgServer(folder).stop()
    except PgUnavailableError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
