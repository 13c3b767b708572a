"""The tests' throwaway PostgreSQL server does not outlive a test run that is killed
(a timeout, ^C twice) before its teardown: its watcher stops it and deletes its folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.pgserver import ROOT, PgServer

STARTER = (
    "import os, time\n"
    "from tests.pgserver import PgServer\n"
    "server = PgServer.start()\n"
    "server.stop_with(os.getpid())\n"
    "print(server.folder, flush=True)\n"
    "time.sleep(600)\n"
)


def test_a_killed_run_leaves_no_server_behind() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", STARTER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as run:
        assert run.stdout is not None
        folder = Path(run.stdout.readline().strip())
        server = PgServer(folder)
        assert server.running()
        os.kill(run.pid, signal.SIGKILL)  # no teardown, no atexit
        run.wait()
    deadline = time.monotonic() + 60
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not folder.exists(), "the server of a killed run was left running"
    assert not server.running()
