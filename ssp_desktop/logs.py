"""The log file: what the app did, for the people who support it, without plan content.

One rotating file in the user's log folder (``paths.log_dir()``; moved by
``SSP_DESKTOP_HOME``), five files of 1 MB at most. Lines name versions, stores (by path),
record ids, change sets and errors; never a title, narrative or value. SQL parameters are
kept out of exception messages by the store's engine (``hide_parameters``), so even a
traceback carries no plan content.
"""

from __future__ import annotations

import logging
import logging.handlers
import platform
import sys
from pathlib import Path

from ssp_desktop import __version__, paths

LOG_FILE = "ssp-desktop.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"

_handler: logging.Handler | None = None


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send the app's log records to the log file; return its path, or None if the
    folder cannot be written (the app still runs; warnings then go to stderr)."""
    global _handler
    logger = logging.getLogger("ssp_desktop")
    logger.setLevel(level)
    if _handler is not None:
        return log_file()
    path: Path | None = log_file()
    assert path is not None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        print(f"ssp-desktop: cannot write the log in {path.parent}: {exc}", file=sys.stderr)
        path = None
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    _handler = handler
    logger.info(
        "ssp-desktop %s starting; Python %s on %s",
        __version__,
        platform.python_version(),
        platform.platform(terse=True),
    )
    return path


def stop_logging() -> None:
    """Detach the file (tests; a second start in one process)."""
    global _handler
    if _handler is not None:
        logging.getLogger("ssp_desktop").removeHandler(_handler)
        _handler.close()
        _handler = None
