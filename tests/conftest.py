"""Shared fixtures: every test gets its own settings and data folders, and the session
fails if anything was written to the real user's folders (tests/isolation.py).

Two engines: the ``store`` fixture is a SQLite file, and in the folders named in
``BOTH_ENGINES`` (store, services, domain, queries, sync, reports) every test that
uses it (or ``store_engine``/``store_location``) runs twice, on SQLite and on a
PostgreSQL database of a throwaway server (tests/pgserver.py, started once per
session). Mark a test ``sqlite_only`` when it is about the SQLite file itself.
``SSP_TEST_ENGINES=sqlite`` runs only SQLite (a quick local run; CI and the README's
command run both). Server fixtures: ``pg_server`` (the server), ``pg_url`` (a fresh empty
database), ``pg_store_url`` (a fresh database already holding an empty, migrated store
with its own store and site ids), ``pg_new_store_url`` (a function making more of those),
``module_store_location`` (a module's shared store, on the module's engine).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import isolation
from tests.pgserver import PgServer, PgUnavailableError

# Done on import, before any test module is collected or any fixture of any scope runs:
# a module-scoped fixture that starts the app or the CLI must find the sandbox already.
_REAL_FOLDERS = isolation.real_user_folders()
_SANDBOX = isolation.new_sandbox()
isolation.redirect(_SANDBOX)
_GUARD = isolation.WriteGuard(
    forbidden=_REAL_FOLDERS,
    allowed=[_SANDBOX.resolve(), Path(tempfile.gettempdir()).resolve()],
)
_GUARD.install()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ssp_desktop.store.engine import Store  # noqa: E402 - after the folders are moved


@pytest.fixture(scope="session", autouse=True)
def nothing_written_to_real_user_folders() -> Iterator[None]:
    """Fails the session (as an error in the last test's teardown) if any test wrote
    under the real home or XDG folders."""
    yield
    _GUARD.active = False
    shutil.rmtree(_SANDBOX, ignore_errors=True)
    if _GUARD.writes:
        listing = "\n  ".join(sorted(set(_GUARD.writes))[:50])
        pytest.fail(
            "tests wrote to the real user folders "
            f"({', '.join(map(str, _REAL_FOLDERS))}):\n  {listing}",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point SSP_DESKTOP_HOME (data, config, logs, QSettings, keys) at a fresh folder,
    and keep install keys in its file store: tests never touch the real OS keyring."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SSP_DESKTOP_HOME", str(home))
    monkeypatch.setenv("SSP_DESKTOP_KEYRING", "off")
    return home


@pytest.fixture(autouse=True)
def fresh_log() -> Iterator[None]:
    """A command run through ``cli.main`` starts the log file in that test's home; detach
    it afterwards, or a later test's log would still go to the earlier (deleted) home."""
    yield
    from ssp_desktop.logs import stop_logging

    stop_logging()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "plan.sqlite"


# -- two engines ------------------------------------------------------------------------

ENGINES = ("sqlite", "postgresql")
BOTH_ENGINES = ("store", "services", "domain", "queries", "sync", "reports")
_TESTS = Path(__file__).resolve().parent


def engines_to_test() -> list[str]:
    chosen = os.environ.get("SSP_TEST_ENGINES", "").strip()
    if not chosen:
        return list(ENGINES)
    names = [n.strip() for n in chosen.split(",") if n.strip()]
    unknown = set(names) - set(ENGINES)
    if unknown:
        raise pytest.UsageError(f"SSP_TEST_ENGINES: unknown engine(s) {sorted(unknown)}")
    return names


def pytest_report_header(config: pytest.Config) -> str:
    return f"store engines: {', '.join(engines_to_test())}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test that uses the store on both engines, in the folders that say so."""
    if "store_engine" not in metafunc.fixturenames:
        return
    folder = Path(str(metafunc.definition.path)).resolve().relative_to(_TESTS).parts[0]
    if folder not in BOTH_ENGINES or metafunc.definition.get_closest_marker("sqlite_only"):
        return
    # Module scope: a module's shared fixtures (a sample store made once) are made once
    # per engine, and the module's tests run on one engine, then the other.
    metafunc.parametrize("store_engine", engines_to_test(), scope="module")


@pytest.fixture(scope="module")
def store_engine() -> str:
    """The engine of the ``store`` fixture: "sqlite" unless parametrized (above)."""
    return "sqlite"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server for the session, on a unix socket in a temporary
    folder. Fails (never skips) when the server programs are not installed."""
    try:
        server = PgServer.start()
    except PgUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
    server.stop_with(os.getpid())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a new, empty database on the test server (dropped after the test)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


_TEMPLATE = "ssp_store_template"


@pytest.fixture(scope="session")
def pg_store_template(pg_server: PgServer) -> str:
    """A database holding a freshly migrated, empty store, copied for each test
    (migrating takes seconds; copying a database a fraction of one)."""
    url = pg_server.create_database(_TEMPLATE)
    Store.open(url, create=True).close()
    return _TEMPLATE


@pytest.fixture(scope="session")
def pg_new_store_url(pg_server: PgServer, pg_store_template: str) -> Callable[[], str]:
    """Makes a new database holding an empty store at the newest schema, with its own
    store and site ids, and returns its URL (for module-scoped fixtures; such databases
    go with the server at the end of the session)."""
    import psycopg

    def make() -> str:
        url = pg_server.create_database(template=pg_store_template)
        with psycopg.connect(url) as conn:
            for key in ("store_id", "site_id"):
                conn.execute(
                    "UPDATE store_meta SET value = %s WHERE key = %s", (str(uuid.uuid4()), key)
                )
        return url

    return make


@pytest.fixture
def pg_store_url(pg_server: PgServer, pg_new_store_url: Callable[[], str]) -> Iterator[str]:
    """The URL of a new database holding an empty store at the newest schema, with its
    own store and site ids (dropped after the test)."""
    url = pg_new_store_url()
    yield url
    # The database is the URL's path: its query (?host=/tmp/...) holds slashes too.
    pg_server.drop_database(urlsplit(url).path.lstrip("/"))


@pytest.fixture(scope="module")
def module_store_location(
    store_engine: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Path | str:
    """Where a module's shared store goes (a sample made once per module and engine):
    a new file, or a new server database holding an empty store."""
    if store_engine == "sqlite":
        return tmp_path_factory.mktemp("store") / "plan.sqlite"
    make: Callable[[], str] = request.getfixturevalue("pg_new_store_url")
    return make()


@pytest.fixture
def store_location(store_engine: str, request: pytest.FixtureRequest) -> Path | str:
    """Where the ``store`` fixture's store is: a file path, or a server URL whose
    database already holds an empty store."""
    if store_engine == "sqlite":
        path: Path = request.getfixturevalue("store_path")
        return path
    url: str = request.getfixturevalue("pg_store_url")
    return url


@pytest.fixture
def store(store_location: Path | str) -> Iterator[Store]:
    s = Store.open(store_location, create=True)
    yield s
    s.close()
