"""A lead copy made from the sample plan is sample data too: the starter bundle says so,
and the copy shows the banner and uses the sample's own meeting date.

Before, the copy lost the marking: no banner, and its dashboard used today's date."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE
from ssp_desktop.ui.main_window import MainWindow
from tests.sync.helpers import LEAD_A, World


def test_a_starter_from_the_sample_makes_a_sample_copy(world: World) -> None:
    world.master.set_meta(sample="1")  # as the sample writer marks its store
    assert world.master.is_sample
    lead = world.starter(LEAD_A, ["PVP"])
    assert lead.is_sample


def test_a_starter_from_a_real_plan_makes_a_real_copy(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    assert not lead.is_sample


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_the_sample_copy_opens_with_the_banner_and_the_samples_date(
    world: World, qtbot: QtBot
) -> None:
    world.master.set_meta(sample="1")
    lead = world.starter(LEAD_A, ["PVP"])
    path = lead.path
    lead.close()
    del world.leads[LEAD_A]
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.open_store(path)
    assert window.banner.isVisible()
    assert window.workspace is not None and window.workspace.today == SAMPLE_MEETING_DATE
    window.close_store()
