"""Background jobs: results, explained and unexpected errors, and cancel."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from ssp_desktop.domain.errors import StoreError
from ssp_desktop.progress import Progress
from ssp_desktop.ui.workers import UNEXPECTED, Job, JobDialog


def test_job_runs_off_the_ui_thread_and_reports_progress(qtbot: QtBot) -> None:
    seen: list[tuple[int, int, str]] = []
    ui_thread = threading.get_ident()

    def work(progress: Progress) -> int:
        for i in range(3):
            progress.step(i + 1, 3, f"step {i + 1}")
        return threading.get_ident()

    job = Job(work)
    job.progress.connect(lambda d, t, s: seen.append((d, t, s)))
    with qtbot.waitSignal(job.succeeded, timeout=5000) as result:
        job.start()
    assert result.args is not None
    assert result.args[0] != ui_thread
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert seen[-1] == (3, 3, "step 3")
    assert not job.running


def test_explained_errors_pass_their_message_without_a_traceback(qtbot: QtBot) -> None:
    def work(_progress: Progress) -> None:
        raise StoreError("The disk is full. Nothing was saved.")

    job = Job(work)
    with qtbot.waitSignal(job.failed, timeout=5000) as failed:
        job.start()
    assert failed.args == ["The disk is full. Nothing was saved.", ""]


def test_unexpected_errors_say_nothing_was_saved_and_carry_details(qtbot: QtBot) -> None:
    def work(_progress: Progress) -> None:
        raise ZeroDivisionError("boom")

    job = Job(work)
    with qtbot.waitSignal(job.failed, timeout=5000) as failed:
        job.start()
    assert failed.args is not None
    message, details = failed.args
    assert message == UNEXPECTED
    assert "ZeroDivisionError: boom" in details


def test_cancel_stops_the_work_at_its_next_step(qtbot: QtBot) -> None:
    started = threading.Event()
    steps: list[int] = []

    def work(progress: Progress) -> None:
        started.set()
        for i in range(10_000):
            progress.step(i, 10_000)
            steps.append(i)
            threading.Event().wait(0.001)

    job = Job(work)
    dialog = JobDialog(job, "Exporting", "Exporting the workbook…")
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.start()
        assert started.wait(5)
        button = dialog.findChild(QPushButton)
        assert button is not None and button.text() == "Cancel"
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert len(steps) < 10_000
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_a_job_cannot_be_started_twice(qtbot: QtBot) -> None:
    gate = threading.Event()
    job = Job(lambda _p: gate.wait(5))
    job.start()
    with pytest.raises(RuntimeError):
        job.start()
    with qtbot.waitSignal(job.finished, timeout=5000):
        gate.set()
