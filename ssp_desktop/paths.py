"""Where ssp-desktop keeps things on this computer.

Defaults come from platformdirs (``~/.local/share/ssp-desktop`` on Linux,
``%LOCALAPPDATA%\\ssp-desktop`` on Windows). ``SSP_DESKTOP_HOME`` moves all of it to
one folder: tests use it, and so can a second profile on one machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ssp-desktop"
HOME_ENV = "SSP_DESKTOP_HOME"
STORE_FILE = "plan.sqlite"
SAMPLE_FILE = "sample-plan.sqlite"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    home = _home()
    if home:
        return home / "config"
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    home = _home()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def keys_dir() -> Path:
    """This install's keys (public keys; private keys too when no OS keyring is used)."""
    return config_dir() / "keys"


def keyring_service() -> str:
    """The OS keyring entry's service name: one per ``SSP_DESKTOP_HOME``, so a second
    profile on one machine has its own keys."""
    home = _home()
    if home is None:
        return APP_NAME
    import hashlib

    digest = hashlib.sha256(str(home.absolute()).encode("utf-8")).hexdigest()[:12]
    return f"{APP_NAME}:{digest}"


def default_store_path() -> Path:
    return data_dir() / STORE_FILE


def sample_store_path() -> Path:
    return data_dir() / SAMPLE_FILE
