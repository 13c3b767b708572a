"""Starting the desktop app: QApplication, settings location, the main window."""

from __future__ import annotations

import gc
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ssp_desktop import __version__, paths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from ssp_desktop.ui.main_window import MainWindow

SMOKE_ENV = "SSP_DESKTOP_SMOKE"
STARTED_WITHIN_MS = 20_000
"""The garbage collector, off while the app starts, is back on by then at the latest."""
"""Set to 1: show the main window, print that it is shown, and exit (no event loop)."""


def display_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the window cannot be shown here, or None if it can be tried.

    Without a display Qt's X11 plugin aborts with a misleading remark about a missing
    library (``xcb-cursor0``) and a core dump, so this is checked before Qt is loaded. Only
    Linux and the BSDs need a display server; a platform chosen outright (``offscreen``,
    ``vnc``, ``eglfs``...) needs none.
    """
    env = os.environ if environ is None else environ
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    platform = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    wants_x11 = platform in ("", "xcb")
    wants_wayland = platform in ("", "wayland", "wayland-egl")
    if not (wants_x11 or wants_wayland):
        return None
    x11 = env.get("DISPLAY", "").strip() if wants_x11 else ""
    wayland = env.get("WAYLAND_DISPLAY", "").strip() if wants_wayland else ""
    if wayland:
        return None
    if x11:
        if _x11_display_reachable(x11):
            return None
        reason = f"the display {x11} (DISPLAY) is not running"
    elif platform == "xcb":
        reason = "DISPLAY is not set"
    elif platform:
        reason = "WAYLAND_DISPLAY is not set"
    else:
        reason = "neither DISPLAY nor WAYLAND_DISPLAY is set (an SSH session or a server?)"
    return (
        f"cannot open the window: {reason}. Start ssp-desktop from the desktop of the "
        "computer you are at, or over SSH with `ssh -X`. The commands that need no "
        "window work anywhere: see `ssp-desktop --help` (e.g. `ssp-desktop check --store "
        "PATH`, `ssp-desktop pack ...`)."
    )


def _x11_display_reachable(display: str) -> bool:
    """Whether a local X server answers on ``display`` (":0", "unix:1.0"); a remote one
    (``host:10`` from ``ssh -X``) is left to Qt."""
    match = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if match is None:
        return True
    import socket  # only for this check: the window's start does not wait for it

    name = f"/tmp/.X11-unix/X{match.group(1)}"
    # X servers on Linux listen on an abstract socket too; either one will do.
    for address in ("\0" + name, name):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            try:
                sock.connect(address)
            except OSError:
                continue
            return True
    return False


def configure_settings() -> None:
    """Keep QSettings in our config folder (moved by SSP_DESKTOP_HOME, e.g. in tests)."""
    from PySide6.QtCore import QCoreApplication, QSettings

    QCoreApplication.setOrganizationName("ssp-desktop")
    QCoreApplication.setApplicationName("ssp-desktop")
    QCoreApplication.setApplicationVersion(__version__)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(paths.config_dir())
    )


def ensure_sample_store() -> Path:
    """The sample plan's store in the data folder, written on first use."""
    path = paths.sample_store_path()
    if not path.exists():
        from ssp_desktop.sample.plan import write_sample
        from ssp_desktop.store.engine import Store

        path.parent.mkdir(parents=True, exist_ok=True)
        with Store.open(path, create=True) as store:
            write_sample(store)
    return path


def app_icon_path() -> Path:
    """The app icon (256 px PNG) from the package's resources."""
    from importlib import resources

    return Path(str(resources.files("ssp_desktop.resources").joinpath("icons/ssp-desktop-256.png")))


def pause_collector() -> Callable[[], None]:
    """Turn Python's cyclic garbage collector off while the app starts; returns the
    function that turns it back on (once; later calls do nothing).

    Starting creates a few hundred thousand objects that live as long as the app: Qt's
    wrappers, SQLAlchemy, the records' mappings, the first view's compiled queries. With
    the default thresholds the collector scans them over and over while they are being
    made, about an eighth of the time to a usable window. When the first view is shown
    they are moved out of its sight (``gc.freeze``) and it runs as usual for everything
    made after. Nothing is turned on that the caller had turned off."""
    if not gc.isenabled():
        return lambda: None
    gc.disable()
    paused = True

    def resume() -> None:
        nonlocal paused
        if paused:
            paused = False
            gc.freeze()
            gc.enable()

    return resume


def run_gui(
    store: Path | str | None = None, *, sample: bool = False, open_file: Path | None = None
) -> int:
    """Start the app. ``open_file`` (a bundle double-clicked, or ``ssp-desktop FILE``)
    goes to an app already running for this user if there is one, otherwise this app
    opens its store as usual and then starts the import wizard for the file."""
    resume_collector = pause_collector()
    try:
        return _run_gui(store, sample=sample, open_file=open_file, started=resume_collector)
    finally:
        resume_collector()


def _run_gui(
    store: Path | str | None,
    *,
    sample: bool,
    open_file: Path | None,
    started: Callable[[], None],
) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ssp_desktop.logs import setup_logging
    from ssp_desktop.ui.crash import install_crash_handler
    from ssp_desktop.ui.main_window import MainWindow

    log_path = setup_logging()
    from PySide6.QtGui import QIcon

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_settings()
    from ssp_desktop.ui.single_instance import InstanceServer, pass_to_running

    smoke = os.environ.get(SMOKE_ENV) == "1"
    forward = open_file is not None and store is None and not sample and not smoke
    if forward and open_file is not None and pass_to_running([open_file]):
        print(f"Passed {open_file.name} to the ssp-desktop window already open.", flush=True)
        return 0
    app.setWindowIcon(QIcon(str(app_icon_path())))
    from ssp_desktop.ui.style import install_contrast_style

    install_contrast_style(app)  # fields and check boxes visible in a dark palette
    # Matches the .desktop file, so Linux desktops group the window under its launcher.
    app.setDesktopFileName("ssp-desktop")
    window = MainWindow(open_sample=ensure_sample_store)
    # The first view is shown (or the start page, or a store that failed to open); and
    # should loading fail unexpectedly, the collector is not left off for the session.
    window.loaded.connect(started)
    QTimer.singleShot(STARTED_WITHIN_MS, window, started)
    # An error nobody expected shows a dialog and is logged, instead of a silent exit.
    install_crash_handler(log_path, parent=lambda: window)
    load: Callable[[], object] | None = None
    if sample:
        load = window.open_sample
    elif store is not None:
        store_path = store
        load = lambda: window.open_store(store_path, create=False)  # noqa: E731
    elif paths.default_store_path().exists():
        load = lambda: window.open_store(paths.default_store_path())  # noqa: E731
    if smoke:
        # Packaging smoke tests and the start-up benchmark: prove the window came up
        # (and, given a bundle, that the import wizard reads it), then exit. The times
        # (seconds since the epoch) let the benchmark measure from the process's launch.
        loaded: list[bool] = []
        window.load_after_paint(
            load,
            then=lambda: loaded.append(True),
            painted=lambda: print(f"main window painted at {time.time():.6f}", flush=True),
        )
        window.show()
        deadline = time.monotonic() + 120
        while not loaded and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.001)
        app.processEvents()
        print(f"main window usable at {time.time():.6f}", flush=True)
        print(f"main window shown: {window.windowTitle()}", flush=True)
        if open_file is not None:
            _smoke_open_file(app, window, open_file)
        window.close()
        return 0
    # The frame is painted first; the store and its views are loaded into it after.
    if open_file is not None:
        file_to_open = open_file
        window.load_after_paint(load, then=lambda: window.open_file(file_to_open))
    else:
        window.load_after_paint(load, then=window.offer_join_on_first_run)
    window.show()
    # Later launches with a file hand it to this window instead of opening a second app.
    server = InstanceServer(window)
    server.file_received.connect(window.open_file)
    server.listen()
    try:
        return int(app.exec())
    finally:
        server.close()


def _smoke_open_file(app: QApplication, window: MainWindow, path: Path) -> None:
    """Smoke mode with a bundle: open it as a double-click would, wait for the wizard's
    preview (read off the UI thread) and print its first two lines."""
    from ssp_desktop.ui.sync_ui import ImportBundleWizard

    window.open_file(path)
    wizard = window.findChild(ImportBundleWizard)
    if wizard is None or not wizard.isVisible():
        print("import wizard not shown", flush=True)
        return
    deadline = time.monotonic() + 60
    while wizard.job is None or wizard.job.running:
        if time.monotonic() > deadline:
            break
        app.processEvents()
        time.sleep(0.02)
    app.processEvents()
    head = " ".join(wizard.preview_page.text.toPlainText().splitlines()[:2])
    print(f"import wizard shown: {head}", flush=True)
