"""Starting the window where there is no display: the app's own words, exit 2.

Qt alone aborts there with a core dump and a remark about a missing library
(``xcb-cursor0``) that is in fact installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ssp_desktop.app import display_problem
from ssp_desktop.cli import EXIT_REFUSED

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="only X11 and Wayland need a display server"
)


def run_app(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    return subprocess.run(
        [sys.executable, "-m", "ssp_desktop", *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=120,
    )


def test_the_window_without_a_display_says_so_and_what_to_do(tmp_path: Path) -> None:
    out = run_app("--sample")
    assert out.returncode == EXIT_REFUSED
    assert out.stderr.startswith("ssp-desktop: cannot open the window: neither DISPLAY nor")
    assert "ssh -X" in out.stderr and "ssp-desktop --help" in out.stderr
    assert "xcb" not in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_a_display_that_is_not_running_is_named() -> None:
    free = 4000 + uuid.uuid4().int % 1000  # no X server listens this high
    out = run_app(DISPLAY=f":{free}")
    assert out.returncode == EXIT_REFUSED
    assert f"the display :{free} (DISPLAY) is not running" in out.stderr


def test_a_running_local_display_lets_qt_try(tmp_path: Path) -> None:
    number = 5000 + uuid.uuid4().int % 1000
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(f"\0/tmp/.X11-unix/X{number}")  # where an X server listens on Linux
        server.listen(1)
        assert display_problem({"DISPLAY": f":{number}"}) is None
        assert display_problem({"DISPLAY": f"unix:{number}.0"}) is None
    assert display_problem({"DISPLAY": f":{number}"}) is not None


@pytest.mark.parametrize(
    "env",
    [
        {"QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "vnc:size=800x600"},
        {"WAYLAND_DISPLAY": "wayland-0"},
        {"DISPLAY": "laptop.example:10.0"},  # ssh -X: Qt is left to reach it
    ],
)
def test_a_display_or_a_headless_platform_needs_no_check(env: dict[str, str]) -> None:
    assert display_problem(env) is None


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"QT_QPA_PLATFORM": "xcb"}, "DISPLAY is not set"),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "WAYLAND_DISPLAY is not set"),
    ],
)
def test_a_platform_asked_for_without_its_display(env: dict[str, str], reason: str) -> None:
    problem = display_problem(env)
    assert problem is not None and reason in problem
