"""UK financial years and quarters, the reporting periods of the strategic plan.

A UK public-sector financial year runs from 1 April to 31 March, so Q4 (January to
March) falls in the calendar year after the one the financial year is named from.
Everything here is plain value objects: frozen, ordered and hashable, so they can be
dictionary keys and sorted without ceremony.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import MAXYEAR, date

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "FinancialYear",
    "PeriodError",
    "Quarter",
    "current_quarter",
]

# Four-digit years only, so that every label we produce can be parsed back; the upper
# bound leaves room for the 31 March that ends the year inside `datetime`'s range.
MIN_YEAR = 1000
MAX_YEAR = MAXYEAR - 1

_FY_FORMS = "2023/24, 2023-24, 2023/2024, 2023-2024 or FY2023/24"
_QUARTER_FORMS = "2023/24 Q2, 2023-24 Q2, 2023-24-Q2, 2023/2024 Q2 or Q2 2023/24"

_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The second half may be two or four digits; the alternation order lets the regex engine
# backtrack from "20" to "2024" in "2023/2024 Q2".
_FY_PATTERN = r"(?:fy\s*)?(?P<start>\d{4})\s*[/-]\s*(?P<end>\d{2}|\d{4})"
_Q_PATTERN = r"q\s*(?P<q>\d+)"
_FY_RE = re.compile(rf"^{_FY_PATTERN}$")
_YEAR_THEN_Q_RE = re.compile(rf"^{_FY_PATTERN}\s*-?\s*{_Q_PATTERN}$")
_Q_THEN_YEAR_RE = re.compile(rf"^{_Q_PATTERN}\s*-?\s*{_FY_PATTERN}$")


class PeriodError(ValueError):
    """A financial year or quarter that does not exist or could not be read."""


def _normalise(text: str) -> str:
    # Users paste from spreadsheets and e-mails, so case and stray spacing must not matter.
    return " ".join(text.split()).lower()


def _unreadable(text: str, what: str, forms: str, detail: str | None = None) -> PeriodError:
    reason = f": {detail}" if detail else ""
    return PeriodError(f"Could not read {text!r} as {what}{reason}. Use a form like {forms}.")


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(
            f"The financial year starting in {year} is out of range "
            f"(years {MIN_YEAR} to {MAX_YEAR} are supported)."
        )


def _start_year(start: str, end: str) -> int | None:
    """The starting year if `end` really is the year after `start`, else None."""
    first = int(start)
    if len(end) == 2:
        return first if int(end) == (first + 1) % 100 else None
    return first if int(end) == first + 1 else None


def _fy_mismatch(start: str, end: str) -> str:
    return f"{end} is not the year after {start}"


# Labels are made once per year and quarter (a bounded set: MIN_YEAR to MAX_YEAR): an
# import logs and indexes the same few periods thousands of times.
@functools.cache
def _year_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


@functools.cache
def _quarter_label(year: int, q: int) -> str:
    return f"{_year_label(year)} Q{q}"


@dataclass(frozen=True, order=True)
class FinancialYear:
    """A UK financial year, 1 April of `start` to 31 March of the following year."""

    start: int

    def __post_init__(self) -> None:
        _check_year(self.start)

    @property
    def label(self) -> str:
        return _year_label(self.start)

    def __str__(self) -> str:
        return self.label

    @property
    def start_date(self) -> date:
        return date(self.start, 4, 1)

    @property
    def end_date(self) -> date:
        return date(self.start + 1, 3, 31)

    def contains(self, d: date) -> bool:
        return self.start_date <= d <= self.end_date

    @classmethod
    def of(cls, d: date) -> FinancialYear:
        """The financial year that the date falls in."""
        return cls(d.year if d.month >= 4 else d.year - 1)

    @classmethod
    def parse(cls, text: str) -> FinancialYear:
        """Read "2023/24", "2023-24", "2023/2024", "2023-2024" or "FY2023/24"."""
        normalised = _normalise(text)
        if not normalised:
            raise _unreadable(text, "a financial year", _FY_FORMS, "no text was given")
        match = _FY_RE.match(normalised)
        if match is None:
            raise _unreadable(text, "a financial year", _FY_FORMS)
        start = _start_year(match["start"], match["end"])
        if start is None:
            detail = _fy_mismatch(match["start"], match["end"])
            raise _unreadable(text, "a financial year", _FY_FORMS, detail)
        return cls(start)

    @classmethod
    def parse_or_none(cls, text: str | None) -> FinancialYear | None:
        """Like `parse`, but None for blank or unreadable text (for optional fields)."""
        if text is None:
            return None
        try:
            return cls.parse(text)
        except PeriodError:
            return None

    def next(self) -> FinancialYear:
        return FinancialYear(self.start + 1)

    def previous(self) -> FinancialYear:
        return FinancialYear(self.start - 1)

    def quarters(self) -> tuple[Quarter, Quarter, Quarter, Quarter]:
        return (
            Quarter(self.start, 1),
            Quarter(self.start, 2),
            Quarter(self.start, 3),
            Quarter(self.start, 4),
        )


@dataclass(frozen=True, order=True)
class Quarter:
    """A quarter of a UK financial year; `year` is the year the financial year starts in.

    Field order makes the generated ordering chronological.
    """

    year: int
    q: int

    def __post_init__(self) -> None:
        _check_year(self.year)
        if not 1 <= self.q <= 4:
            raise PeriodError(f"Quarter must be 1 to 4, not {self.q}.")

    # --- naming -------------------------------------------------------------------------

    @property
    def fy(self) -> FinancialYear:
        return FinancialYear(self.year)

    @property
    def label(self) -> str:
        return _quarter_label(self.year, self.q)

    def __str__(self) -> str:
        return self.label

    @property
    def months_label(self) -> str:
        """E.g. "Jul-Sep 2023"; Q4 is named by the calendar year it falls in ("Jan-Mar 2024")."""
        start, end = self.start_date, self.end_date
        return f"{_MONTH_ABBR[start.month - 1]}-{_MONTH_ABBR[end.month - 1]} {start.year}"

    # --- dates --------------------------------------------------------------------------

    def _first_month(self) -> tuple[int, int]:
        # Count months from January of the starting year: April is month 3 (zero-based),
        # so Q4 lands on month 12, i.e. January of the next calendar year.
        months = 3 + 3 * (self.q - 1)
        return self.year + months // 12, months % 12 + 1

    @property
    def start_date(self) -> date:
        year, month = self._first_month()
        return date(year, month, 1)

    @property
    def end_date(self) -> date:
        year, month = self._first_month()
        last_month = month + 2
        return date(year, last_month, calendar.monthrange(year, last_month)[1])

    def contains(self, d: date) -> bool:
        return self.start_date <= d <= self.end_date

    @classmethod
    def of(cls, d: date) -> Quarter:
        """The quarter that the date falls in."""
        fy_start = d.year if d.month >= 4 else d.year - 1
        return cls(fy_start, (d.month - 4) % 12 // 3 + 1)

    # --- arithmetic ---------------------------------------------------------------------

    @property
    def index(self) -> int:
        """A running count of quarters, so that quarter arithmetic is integer arithmetic."""
        return self.year * 4 + self.q - 1

    @classmethod
    def from_index(cls, index: int) -> Quarter:
        year, offset = divmod(index, 4)
        return cls(year, offset + 1)

    def shift(self, n: int) -> Quarter:
        """The quarter `n` quarters later (earlier if `n` is negative)."""
        return Quarter.from_index(self.index + n)

    def next(self) -> Quarter:
        return self.shift(1)

    def previous(self) -> Quarter:
        return self.shift(-1)

    def same_quarter_last_year(self) -> Quarter:
        return self.shift(-4)

    @classmethod
    def range(cls, first: Quarter, last: Quarter) -> list[Quarter]:
        """Every quarter from `first` to `last` inclusive; empty if `last` is before `first`."""
        return [cls.from_index(i) for i in range(first.index, last.index + 1)]

    # --- parsing ------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read a quarter such as "2023/24 Q2", "2023-24-Q2", "2023/2024 Q2" or "Q2 2023/24".

        Case and whitespace do not matter. Raises PeriodError naming the text otherwise.
        """
        normalised = _normalise(text)
        if not normalised:
            raise _unreadable(text, "a quarter", _QUARTER_FORMS, "no text was given")
        match = _YEAR_THEN_Q_RE.match(normalised) or _Q_THEN_YEAR_RE.match(normalised)
        if match is None:
            # A bare financial year is a likely slip, so say what is missing.
            if _FY_RE.match(normalised):
                detail = "it names a financial year but no quarter"
                raise _unreadable(text, "a quarter", _QUARTER_FORMS, detail)
            raise _unreadable(text, "a quarter", _QUARTER_FORMS)
        start = _start_year(match["start"], match["end"])
        if start is None:
            detail = _fy_mismatch(match["start"], match["end"])
            raise _unreadable(text, "a quarter", _QUARTER_FORMS, detail)
        q = int(match["q"])
        if not 1 <= q <= 4:
            detail = f"Q{q} is not a quarter (use Q1 to Q4)"
            raise _unreadable(text, "a quarter", _QUARTER_FORMS, detail)
        return cls(start, q)

    @classmethod
    def parse_or_none(cls, text: str | None) -> Quarter | None:
        """Like `parse`, but None for blank or unreadable text (for optional fields)."""
        if text is None:
            return None
        try:
            return cls.parse(text)
        except PeriodError:
            return None


def current_quarter(today: date | None = None) -> Quarter:
    """The quarter containing `today` (the system date if not given)."""
    return Quarter.of(today if today is not None else date.today())
