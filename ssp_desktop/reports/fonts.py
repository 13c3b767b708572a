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
from typing import Any

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

    folder = fonts_dir()
    font_class = subset_font_class()
    for name, file_name in FILES.items():
        pdfmetrics.registerFont(font_class(name, str(folder / file_name)))
    pdfmetrics.registerFontFamily(
        FAMILY, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
    )
    # So that <b> and <i> in paragraphs pick the right face.
    addMapping(FAMILY, 0, 0, REGULAR)
    addMapping(FAMILY, 1, 0, BOLD)
    addMapping(FAMILY, 0, 1, ITALIC)
    addMapping(FAMILY, 1, 1, BOLD_ITALIC)
    return FAMILY


@functools.cache
def subset_font_class() -> type[Any]:
    """ReportLab's TrueType font, mapping text it has seen the characters of faster.

    Every string the pack draws goes through ``TTFont.splitString``, which maps each
    character, in Python, to its code in one of the subsets embedded in the PDF (giving
    a new character the next free code) and groups the codes into runs of one subset:
    about a tenth of drawing the pack's text. Once each character of a string has its
    code and every code is in the first subset (the pack's text, once its first pages
    are drawn), the answer is one run of those codes, looked up here in C; anything
    else (a new character, a no-break space, one missing from the font, a later
    subset) takes ReportLab's own path, which also gives the new codes. The subsets
    and the text drawn are the same either way (tests/reports/test_fonts.py)."""
    from reportlab.pdfbase.ttfonts import TTFont

    class SubsetFont(TTFont):  # type: ignore[misc]
        def splitString(
            self, text: str | bytes, doc: Any, encoding: str = "utf-8"
        ) -> list[tuple[int, bytes]]:
            state = self.state.get(doc)
            if state is not None and text and isinstance(text, str):
                try:
                    codes = bytes(map(state.assignments.__getitem__, map(ord, text)))
                except (KeyError, ValueError):  # a new character, or a code past 255
                    pass
                else:
                    return [(0, codes)]
            runs: list[tuple[int, bytes]] = super().splitString(text, doc, encoding)
            return runs

    return SubsetFont
