"""The pack's font maps text to its embedded subsets as ReportLab's TrueType font does
(issue 18): the same runs of codes for any text in any order, and the same subsets."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase.ttfonts import TTFont

from ssp_desktop.reports import fonts

# ASCII, accented and other letters (enough of them to fill the first subset and start
# a second), a no-break space, and characters the font does not have.
_CHARS = st.one_of(
    st.sampled_from([*"abc XYZ 0.%-–é’ŵ", "\xa0", "\u4e00", "\U0001f600"]),
    st.characters(min_codepoint=0x20, max_codepoint=0x52F),
)
_TEXTS = st.lists(st.text(alphabet=_CHARS, max_size=40), max_size=40)


class _Doc:
    """Stands for a PDF document: fonts keep their subsets per document."""


def _state(font: Any, doc: _Doc) -> tuple[Any, ...]:
    state = font.state[doc]
    return (dict(state.assignments), [list(s) for s in state.subsets], state.nextCode)


@functools.cache
def _fonts(bold: bool) -> tuple[Any, TTFont]:
    """Ours and ReportLab's, loaded once (each document gets its own subsets)."""
    path = str(fonts.fonts_dir() / fonts.FILES[fonts.BOLD if bold else fonts.REGULAR])
    return fonts.subset_font_class()("Ours", path), TTFont("Theirs", path)


@settings(max_examples=200, deadline=None)
@given(texts=_TEXTS, bold=st.booleans())
def test_text_maps_to_the_codes_reportlabs_font_gives(texts: list[str], bold: bool) -> None:
    ours, theirs = _fonts(bold)
    mine, other = _Doc(), _Doc()
    # Each text twice: once with characters new to the document, once all seen.
    for text in texts + texts:
        assert ours.splitString(text, mine) == theirs.splitString(text, other)
    if texts:
        assert _state(ours, mine) == _state(theirs, other)


def test_text_whose_characters_are_known_takes_the_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = str(fonts.fonts_dir() / fonts.FILES[fonts.REGULAR])
    ours, theirs = fonts.subset_font_class()("Ours", path), TTFont("Theirs", path)
    mine, other = _Doc(), _Doc()
    ours.splitString("Reduce repeat victims", mine)
    theirs.splitString("Reduce repeat victims", other)
    expected = theirs.splitString("victims repeat", other)

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("ReportLab's path taken for characters already seen")

    monkeypatch.setattr(TTFont, "splitString", refused)
    assert ours.splitString("victims repeat", mine) == expected
