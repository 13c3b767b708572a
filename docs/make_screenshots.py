"""Render the main screens of the app on the sample plan to docs/screenshots/*.png.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py

Uses a throw-away SSP_DESKTOP_HOME, so your own stores and settings are not touched.
Each screen is grabbed from the real window (``QWidget.grab``), light and dark palette,
at a 1366x768 laptop's size (less its taskbar) and, for some, at 1920x1080.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"
# A council laptop's 1366x768 less a 40-pixel taskbar, and a 1920x1080 desktop's.
LAPTOP = (1366, 728)
FULL_HD = (1920, 1040)


def dark_palette() -> object:
    from PySide6.QtGui import QColor, QPalette

    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1f1f1f",
        QPalette.ColorRole.WindowText: "#f0f0f0",
        QPalette.ColorRole.Base: "#141414",
        QPalette.ColorRole.AlternateBase: "#262626",
        QPalette.ColorRole.Text: "#f0f0f0",
        QPalette.ColorRole.Button: "#2b2b2b",
        QPalette.ColorRole.ButtonText: "#f0f0f0",
        QPalette.ColorRole.Highlight: "#3d7fd6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2b2b2b",
        QPalette.ColorRole.ToolTipText: "#f0f0f0",
        QPalette.ColorRole.PlaceholderText: "#a0a0a0",
        QPalette.ColorRole.Link: "#8ab4f8",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return p


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["SSP_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="ssp-shots-")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from PySide6.QtWidgets import QApplication

    from ssp_desktop.app import configure_settings, ensure_sample_store
    from ssp_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    from ssp_desktop.ui.style import install_contrast_style

    install_contrast_style(app)
    configure_settings()
    OUT.mkdir(parents=True, exist_ok=True)

    def shoot(
        name: str,
        prepare: Callable[[MainWindow], None],
        dark: bool = False,
        size: tuple[int, int] = LAPTOP,
    ) -> None:
        if dark:
            app.setPalette(dark_palette())  # type: ignore[arg-type]
        else:
            app.setPalette(app.style().standardPalette())
        window = MainWindow(open_sample=ensure_sample_store)
        window.resize(*size)
        window.show()
        prepare(window)
        for _ in range(5):
            app.processEvents()
        dialog = window.search_dialog
        shot = dialog.grab() if dialog is not None else window.grab()
        shot.save(str(OUT / f"{name}.png"))
        window.close()
        print(OUT / f"{name}.png")

    def welcome(_w: MainWindow) -> None:
        pass

    def action(w: MainWindow) -> None:
        w.open_sample()
        ws = w.workspace
        assert ws is not None
        model = ws.navigator_model
        plan = model.index(0, 0)
        priorities = model.index(0, 0, plan)
        pvp = model.index(0, 0, priorities)
        area = model.index(0, 0, pvp)
        ws.navigator.expand(area)
        ws.navigator.setCurrentIndex(model.index(0, 0, area))

    def tab(index: int) -> Callable[[MainWindow], None]:
        def prepare(w: MainWindow) -> None:
            w.open_sample()
            assert w.workspace is not None
            w.workspace.tabs.setCurrentIndex(index)

        return prepare

    def measure(w: MainWindow) -> None:
        w.open_sample()
        ws = w.workspace
        assert ws is not None
        model = ws.navigator_model
        measures = model.index(1, 0, model.index(0, 0))
        ws.navigator.expand(measures)
        ws.navigator.setCurrentIndex(model.index(0, 0, measures))

    def my_quarter(w: MainWindow) -> None:
        from ssp_desktop.queries.quarter_status import people_with_work

        w.open_sample()
        ws = w.workspace
        assert ws is not None and ws.my_quarter is not None and ws.plan_id is not None
        with ws.document.read() as session:
            people = people_with_work(session, ws.plan_id)
        lead = next(p for p in people if p.role_title.startswith("Education Safeguarding"))
        ws.my_quarter.set_person(lead.id)
        ws.tabs.setCurrentWidget(ws.my_quarter)

    def measure_chart(w: MainWindow) -> None:
        measure(w)
        ws = w.workspace
        assert ws is not None
        for _ in range(3):
            app.processEvents()
        chart = getattr(ws.editor, "chart", None)
        assert chart is not None
        ws.editor_area.ensureWidgetVisible(chart, 0, 0)

    def dashboard(w: MainWindow) -> None:
        w.open_sample()
        ws = w.workspace
        assert ws is not None and ws.dashboard is not None
        ws.tabs.setCurrentWidget(ws.dashboard)
        # A measure with a target, a tolerance band and a comparator.
        rows = ws.dashboard.scorecard_model.rows
        ws.dashboard.select_measure(next(r for r in rows if r.ref == "PSP-M2").measure_id)

    def search(w: MainWindow) -> None:
        w.open_sample()
        dialog = w.search_plan()
        assert dialog is not None
        dialog.box.setText("MARAC")
        dialog.run()

    shoot("welcome", welcome)
    shoot("action-editor", action)
    shoot("measure-editor", measure)
    shoot("action-list", tab(1))
    shoot("measure-list", tab(2))
    shoot("my-quarter", my_quarter)
    shoot("measure-chart", measure_chart)
    shoot("dashboard", dashboard)
    shoot("search", search)
    shoot("action-editor-dark", action, dark=True)
    shoot("action-list-dark", tab(1), dark=True)
    shoot("measure-editor-dark", measure, dark=True)
    shoot("action-editor-1920", action, size=FULL_HD)
    shoot("dashboard-1920", dashboard, size=FULL_HD)
    shoot("dashboard-1920-dark", dashboard, dark=True, size=FULL_HD)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
