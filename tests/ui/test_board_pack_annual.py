"""The annual update to scrutiny from the board pack builder, as the strategy team makes
it: File > Board pack…, name the scrutiny committee on the cover sheet, choose the
financial year by keyboard, export in the background (with Cancel), read the PDF."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings
from ssp_desktop.progress import Progress
from ssp_desktop.reports.export import AnnualResult
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.board_pack import BoardPackDialog
from ssp_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def builder(
    qtbot: QtBot, store_path: Path, tmp_path: Path
) -> Iterator[tuple[MainWindow, BoardPackDialog]]:
    with Store.open(store_path, create=True) as store:
        write_sample(store)
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.open_store(store_path)
    window.board_pack_action.trigger()
    dialog = window.board_pack_dialog
    assert isinstance(dialog, BoardPackDialog)
    # The file dialog and the "Open it now?" question are the desktop's; answer them.
    dialog.choose_path = lambda suggested: tmp_path / suggested
    dialog.opened = []  # type: ignore[attr-defined]
    dialog.ask_open_annual = lambda _result: True
    dialog.open_file = dialog.opened.append  # type: ignore[attr-defined]
    yield window, dialog
    dialog.close()
    window.close()


def _choose_year(qtbot: QtBot, dialog: BoardPackDialog, label: str) -> None:
    dialog.annual_year.setFocus()
    qtbot.keyClicks(dialog.annual_year, label)  # a closed combo box finds items as typed
    assert dialog.annual_year.currentText() == label


def test_the_builder_makes_the_annual_update_for_the_committee_and_year_chosen(
    builder: tuple[MainWindow, BoardPackDialog], qtbot: QtBot, tmp_path: Path
) -> None:
    _window, dialog = builder
    committee = dialog.fields["scrutiny_committee"]
    assert isinstance(committee, QLineEdit)
    committee.setFocus()
    qtbot.keyClicks(committee, "Communities and Housing Scrutiny (Stockport)")
    _choose_year(qtbot, dialog, "2023/24")
    dialog.annual_button.setFocus()
    with qtbot.waitSignal(dialog.annual_exported, timeout=120000) as done:
        qtbot.keyClick(dialog.annual_button, Qt.Key.Key_Space)
    assert done.args is not None
    result = done.args[0]
    assert isinstance(result, AnnualResult)
    assert result.path == tmp_path / "annual-update-2023-24.pdf"
    assert dialog.opened == [result.path]  # type: ignore[attr-defined]
    pages = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(result.path).pages]
    assert len(pages) == result.pages > 3
    # Typed into the cover sheet, the committee was saved on leaving the field and the
    # annual update is addressed to it.
    assert "Report to Communities and Housing Scrutiny (Stockport)" in pages[0]
    assert "annual update 2023/24" in pages[0]
    text = " ".join(pages)
    assert "2. Achievements in 2023/24" in text
    assert "5. The action plan for 2024/25" in text
    # Made from the sample plan, it says so on every page.
    assert all("Sample data - illustrative only" in p for p in pages)
    with pikepdf.open(result.path) as pdf:
        assert "/StructTreeRoot" in pdf.Root
    assert "Wrote the annual update for 2023/24" in dialog.status.text()
    qtbot.waitUntil(dialog.annual_button.isEnabled)
    # Leaving the field saved the committee on the pack, where the next update finds it.
    assert dialog.pack_id is not None


def test_cancel_stops_the_annual_update_and_leaves_no_file(
    builder: tuple[MainWindow, BoardPackDialog],
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ssp_desktop.reports import export as export_module

    _window, dialog = builder

    def slow_export(*args: object, progress: Progress, **kwargs: object) -> AnnualResult:
        # Hold the export until the user has pressed Cancel, then let it see the cancel.
        deadline = time.monotonic() + 20
        while not progress.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        return export_module.export_annual(*args, progress=progress, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("ssp_desktop.ui.board_pack.export_annual", slow_export)
    finished: list[object] = []
    cancelled: list[bool] = []
    dialog.annual_exported.connect(finished.append)
    _choose_year(qtbot, dialog, "2023/24")
    dialog.annual_button.click()
    assert not dialog.annual_button.isEnabled()
    assert dialog.job is not None and dialog.job_dialog is not None
    dialog.job.cancelled.connect(lambda: cancelled.append(True))
    cancel = dialog.job_dialog.findChild(QPushButton)
    assert cancel is not None and cancel.text() == "Cancel"
    cancel.click()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=60000)
    assert finished == []
    assert "cancelled" in dialog.status.text()
    assert [p for p in tmp_path.iterdir() if p.suffix in (".pdf", ".partial")] == []
    qtbot.waitUntil(dialog.annual_button.isEnabled)
