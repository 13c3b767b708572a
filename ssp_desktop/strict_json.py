"""Hooks for ``json.loads`` that refuse what our own writers never produce.

Shared by bundles, saved spreadsheet mappings and the sample plan's data files: NaN and
Infinity are not data, and a key given twice is ambiguous. Qt-free, no project imports.
"""

from __future__ import annotations

from typing import Any

__all__ = ["reject_constant", "reject_duplicate_keys"]


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
