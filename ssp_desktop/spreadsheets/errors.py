"""The error a spreadsheet import or export explains to its user.

Raised before anything is written (reading, mapping, planning) or from inside the
import's one transaction (which then rolls back), so the store is always as it was.
"""

from __future__ import annotations

from ssp_desktop.domain.errors import SspError

NOTHING_CHANGED = "Nothing was imported; the store is as it was."


class SpreadsheetError(SspError):
    """A spreadsheet that cannot be read or imported, with what to do about it."""
