"""Unexpected errors: logged with their traceback, shown in a dialog that says nothing
was lost, and never carrying plan content into the log."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.logs import log_file, setup_logging, stop_logging
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.crash import SAFE_TEXT, CrashDialog, install_crash_handler
from ssp_desktop.ui.document import PlanDocument


@pytest.fixture
def logging_to_file() -> Iterator[Path]:
    path = setup_logging()
    assert path is not None and path == log_file()
    yield path
    stop_logging()


@pytest.fixture
def hooks() -> Iterator[None]:
    import threading

    saved = sys.excepthook, threading.excepthook
    yield
    sys.excepthook, threading.excepthook = saved


def test_an_error_in_a_slot_is_logged_and_explained(
    qtbot: QtBot, logging_to_file: Path, hooks: None
) -> None:
    seen: dict[str, str] = {}

    def show(dialog: CrashDialog) -> None:
        # Read the dialog while it exists (the handler deletes it once closed).
        for name in ("crashSummary", "crashLogLocation"):
            label = dialog.findChild(QLabel, name)
            assert label is not None
            seen[name] = label.text()
        seen["all"] = " ".join(label.text() for label in dialog.findChildren(QLabel))
        seen["details"] = dialog.details_text
        dialog.copy_details()

    install_crash_handler(logging_to_file, show=show)

    def broken_slot() -> None:
        raise RuntimeError("the widget fell over")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: "details" in seen)
    assert "RuntimeError: the widget fell over" in seen["crashSummary"]
    assert SAFE_TEXT in seen["all"]
    assert str(logging_to_file) in seen["crashLogLocation"]
    assert "Traceback" in seen["details"] and "broken_slot" in seen["details"]
    assert QGuiApplication.clipboard().text() == seen["details"]
    logged = logging_to_file.read_text(encoding="utf-8")
    assert "CRITICAL ssp_desktop.ui.crash" in logged and "the widget fell over" in logged


def test_the_log_names_records_by_id_not_by_content(
    tmp_path: Path, logging_to_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import select

    from ssp_desktop.domain.records import Action

    with Store.open(tmp_path / "plan.sqlite", create=True) as store:
        plan_id = write_sample(store).current_plan_id
        document = PlanDocument(store)
        with store.session() as s:
            action = s.scalars(
                select(Action).where(Action.ref == "PVP-01", Action.plan_id == plan_id)
            ).one()
            title, action_id = action.title, action.id

        def rename(tx: object) -> None:
            a = tx.get(Action, action_id)  # type: ignore[attr-defined]
            services.edit(tx, a, title="A secret new title about a named victim")

        document.edit("Rename", rename)

        def clash(tx: object) -> None:  # a second PVP-01: refused by the store
            a = tx.get(Action, action_id)  # type: ignore[attr-defined]
            other = tx.session.scalars(  # type: ignore[attr-defined]
                select(Action).where(Action.ref == "PVP-02", Action.plan_id == plan_id)
            ).one()
            services.edit(tx, other, ref=a.ref)

        document.edit("Clash", clash)
    logging.getLogger("ssp_desktop").handlers[-1].flush()
    logged = logging_to_file.read_text(encoding="utf-8")
    assert "committed change set" in logged and "edit refused" in logged
    assert "opened store" in logged and "closed store" in logged
    for secret in (title, "A secret new title", "PVP-01"):
        assert secret not in logged
