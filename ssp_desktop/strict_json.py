"""Hooks for ``json.loads`` that refuse what our own writers never produce.

Shared by bundles, saved spreadsheet mappings and the sample plan's data files: NaN and
Infinity are not data, and a key given twice is ambiguous. Qt-free, no project imports.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["find_lone_surrogate", "reject_constant", "reject_duplicate_keys"]

# A surrogate can reach parsed JSON only through a \uD800-\uDFFF escape (UTF-8 cannot
# encode one), so text without such an escape need not be walked.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def reject_constant(token: str) -> Any:
    """``json.loads`` ``parse_constant``: NaN and Infinity are not data we write."""
    raise ValueError(f"{token} is not allowed")


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` ``object_pairs_hook``: a key given twice is ambiguous, so refused."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice")
        out[key] = value
    return out


def _walk_has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_walk_has_surrogate(k) or _walk_has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_walk_has_surrogate(v) for v in value)
    return False


def find_lone_surrogate(text: str, value: Any) -> bool:
    """True if ``value`` (parsed from ``text``) holds a lone surrogate ("\\ud800").

    JSON allows the escape, Python's parser keeps it, but it is no character: it cannot
    be written as UTF-8 (to the store, a workbook or a PDF), so it is refused on entry.
    A surrogate pair is parsed into one real character and passes.
    """
    if not _SURROGATE_ESCAPE.search(text):
        return False
    return _walk_has_surrogate(value)
