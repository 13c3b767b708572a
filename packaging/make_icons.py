"""Render ssp_desktop/resources/icons/ssp-desktop.svg to the PNG sizes and the Windows .ico.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py

The outputs are committed; run this again only after changing the SVG.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "ssp_desktop" / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "ssp-desktop.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"ssp-desktop-{size}.png"))
        if size == 256:
            image.save(str(ICONS / "ssp-desktop.ico"))
    print(f"wrote {len(SIZES)} PNGs and ssp-desktop.ico to {ICONS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
