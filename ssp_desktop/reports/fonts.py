"""The board pack's font: DejaVu Sans, shipped in ``ssp_desktop/resources/fonts``.

Every piece of text in the pack, chart labels included, is set in this family and
embedded (as a subset) in the PDF, so the pack looks the same everywhere and no reader
substitutes a font. ReportLab's built-in Helvetica is never used: it is not embedded.

The folder is found through :mod:`importlib.resources`, which works from a source
checkout, an installed wheel (the files are package data) and a frozen app.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

FAMILY = "DejaVuSans"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
BOLD_ITALIC = "DejaVuSans-BoldOblique"

FILES: dict[str, str] = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf",
}
LICENCE = "LICENSE.txt"


class FontsMissingError(RuntimeError):
    """The font files are not where the package keeps them (a broken install)."""


def fonts_dir() -> Path:
    """The folder holding the TTF files and their licence."""
    folder = resources.files("ssp_desktop.resources").joinpath("fonts")
    path = Path(str(folder))
    missing = [name for name in [*FILES.values(), LICENCE] if not (path / name).is_file()]
    if missing:
        raise FontsMissingError(
            f"The board pack's font files are missing from {path} ({', '.join(missing)}). "
            "Reinstall ssp-desktop."
        )
    return path


@functools.cache
def register_fonts() -> str:
    """Register the family with ReportLab (once per process); return its name."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = fonts_dir()
    for name, file_name in FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file_name)))
    pdfmetrics.registerFontFamily(
        FAMILY, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
    )
    # So that <b> and <i> in paragraphs pick the right face.
    addMapping(FAMILY, 0, 0, REGULAR)
    addMapping(FAMILY, 1, 0, BOLD)
    addMapping(FAMILY, 0, 1, ITALIC)
    addMapping(FAMILY, 1, 1, BOLD_ITALIC)
    return FAMILY
