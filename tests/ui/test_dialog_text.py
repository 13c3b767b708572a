"""Dialog messages are shown whole: a dialog grows with a long refusal instead of
cutting it off (before, the enrol dialog's refusal and the lead's export message were
clipped at the dialog's first size)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ssp_desktop.store.engine import Store
from ssp_desktop.ui.keys_ui import EnrolDialog
from tests.factories import mini_plan
from tests.ui import keyboard as kb

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def test_the_enrol_refusal_is_shown_whole(store: Store, qtbot: QtBot, tmp_path: Path) -> None:
    mini_plan(store)
    junk = tmp_path / "minutes.sspjoin"
    junk.write_text("Minutes of the board, 17 March 2022. " * 40)
    dialog = EnrolDialog(store)
    qtbot.addWidget(dialog)
    dialog.choose_file = lambda: junk  # type: ignore[method-assign]  # the file chosen
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.choose_button, Qt.MouseButton.LeftButton)
    qtbot.wait(20)  # the dialog lays itself out again on the next turn
    assert dialog.message.text()  # a refusal, in words
    assert kb.clipped_labels(dialog) == []
