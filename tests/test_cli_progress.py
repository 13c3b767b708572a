"""Progress on the command line: a bar on stderr when it is a terminal, nothing when it
is a pipe or a file (scripts and CI), and stdout the same either way."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from ssp_desktop.progress import Cancelled, terminal_progress

ROOT = Path(__file__).resolve().parents[1]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(args: list[str], *, stderr_on_terminal: bool, env: dict[str, str]) -> tuple[int, str, str]:
    """``python -m ssp_desktop ARGS``: stdout piped; stderr a pseudo-terminal (80 columns)
    or piped. Returns the exit code, stdout and what stderr received."""
    cmd = [sys.executable, "-m", "ssp_desktop", *args]
    if not stderr_on_terminal:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        return done.returncode, done.stdout, done.stderr
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    os.close(terminal)
    received = b""
    while True:  # read as it comes, so a full pty buffer never blocks the command
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the command has closed its end
            break
        if not chunk:
            break
        received += chunk
    os.close(controller)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=300), out, received.decode(errors="replace")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    return {**os.environ, "SSP_DESKTOP_HOME": str(home), "COLUMNS": "80"}


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_demo_and_check_show_a_bar_on_a_terminal_and_stay_quiet_in_a_pipe(
    tmp_path: Path, env: dict[str, str], terminal: bool
) -> None:
    store = tmp_path / "plan.sqlite"
    code, demo_out, demo_err = _run(
        ["demo", "--store", str(store)], stderr_on_terminal=terminal, env=env
    )
    assert code == 0, demo_err
    assert demo_out.startswith(f"Wrote the sample plan to {store}")
    code, check_out, check_err = _run(
        ["check", "--store", str(store)], stderr_on_terminal=terminal, env=env
    )
    assert code == 0, check_err
    assert check_out == f"{store}: no problems found.\n"
    if terminal:
        # Each stage is named as it starts; the bar is cleared at the end.
        assert "Actions and updates" in demo_err
        assert "Duplicate records" in check_err and "/7" in check_err
        assert check_err.endswith("\r")
    else:
        assert demo_err == ""
        assert check_err == ""


def test_pack_shows_its_progress_on_a_terminal_and_prints_the_same_summary(
    tmp_path: Path, env: dict[str, str]
) -> None:
    store = tmp_path / "plan.sqlite"
    assert _run(["demo", "--store", str(store)], stderr_on_terminal=False, env=env)[0] == 0
    outputs = []
    for terminal in (True, False):
        pdf = tmp_path / f"pack-{terminal}.pdf"
        code, out, err = _run(
            ["pack", "--store", str(store), "--quarter", "2024/25 Q2", "--out", str(pdf)],
            stderr_on_terminal=terminal,
            env=env,
        )
        assert code == 0, err
        assert pdf.exists()
        outputs.append((out, err))
    (tty_out, tty_err), (pipe_out, pipe_err) = outputs
    assert "%|" in tty_err  # a bar with a count of pages or steps
    assert pipe_err == ""
    # The same summary either way (but for the file name and the export's own id).
    assert tty_out.split(" to ")[0] == pipe_out.split(" to ")[0]
    assert "Wrote the board pack for 2024/25 Q2" in pipe_out


def test_stages_are_named_and_counted_on_a_terminal() -> None:
    stream = _Terminal()
    with terminal_progress("Checking", stream) as progress:
        progress.step(0, 0, "Reading the file…")
        progress.step(0, 4, "Rows")
        progress.step(3, 4, "Rows")
    text = stream.getvalue()
    assert "Reading the file" in text
    assert "Rows:" in text and "0/4" in text  # later counts are drawn at most 10 times a second


def test_nothing_is_written_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with terminal_progress("Checking", stream) as progress:
        progress.step(1, 2, "Rows")
    assert stream.getvalue() == ""


def test_a_cancel_still_stops_the_work_and_clears_the_bar() -> None:
    stream = _Terminal()
    with pytest.raises(Cancelled), terminal_progress("Checking", stream) as progress:
        progress.step(1, 4, "Rows")
        progress.cancel()
        progress.step(2, 4, "Rows")
    assert stream.getvalue().endswith("\r")
