"""Starting the desktop app: QApplication, settings location, the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ssp_desktop import __version__, paths

SMOKE_ENV = "SSP_DESKTOP_SMOKE"
"""Set to 1: show the main window, print that it is shown, and exit (no event loop)."""


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
    from ssp_desktop.models.sample import write_sample
    from ssp_desktop.models.store import Store

    path = paths.sample_store_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with Store.open(path, create=True) as store:
            write_sample(store)
    return path


def app_icon_path() -> Path:
    """The app icon (256 px PNG) from the package's resources."""
    from importlib import resources

    return Path(str(resources.files("ssp_desktop.resources").joinpath("icons/ssp-desktop-256.png")))


def run_gui(store: Path | None = None, *, sample: bool = False) -> int:
    from PySide6.QtWidgets import QApplication

    from ssp_desktop.logs import setup_logging
    from ssp_desktop.ui.crash import install_crash_handler
    from ssp_desktop.ui.main_window import MainWindow

    log_path = setup_logging()
    from PySide6.QtGui import QIcon

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_settings()
    app.setWindowIcon(QIcon(str(app_icon_path())))
    # Matches the .desktop file, so Linux desktops group the window under its launcher.
    app.setDesktopFileName("ssp-desktop")
    window = MainWindow(open_sample=ensure_sample_store)
    # An error nobody expected shows a dialog and is logged, instead of a silent exit.
    install_crash_handler(log_path, parent=lambda: window)
    if sample:
        window.open_sample()
    elif store is not None:
        window.open_store(store, create=False)
    elif paths.default_store_path().exists():
        window.open_store(paths.default_store_path())
    window.show()
    if os.environ.get(SMOKE_ENV) == "1":
        # Packaging smoke tests and the start-up benchmark: prove the window came up.
        app.processEvents()
        print(f"main window shown: {window.windowTitle()}", flush=True)
        window.close()
        return 0
    return int(app.exec())
