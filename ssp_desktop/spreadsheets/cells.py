"""Reading one cell the way councils write it: dates, numbers, RAG, statuses, periods.

Every function takes what the reader produced for a cell (``None``, ``str``, ``int``,
``float``, ``bool``, ``datetime``/``date``) and returns a typed value or raises
:class:`CellError` whose text says what was found and what to write instead. A blank
cell is ``None`` everywhere: the importers read it as "not given, leave as it is".
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable

from ssp_desktop.domain.enums import ActionStatus, Rag, ValueStatus
from ssp_desktop.domain.periods import FinancialYear, PeriodError, Quarter
from ssp_desktop.domain.validation import ValidationError, parse_number

__all__ = [
    "CellError",
    "is_blank",
    "parse_date",
    "parse_float",
    "parse_names",
    "parse_period",
    "parse_rag",
    "parse_status",
    "parse_value_status",
    "parse_year",
    "parse_yes_no",
    "text_of",
]


class CellError(ValueError):
    """A cell that cannot be read; the message names the value and the fix."""


# Written in trackers for "nothing here"; read as a blank cell.
_BLANK_WORDS = frozenset({"", "-", "–", "—", "n/a", "na", "none"})

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]00:00(?::00)?)?$")
_UK_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_WORD_DATE = re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?[\s-]+({_MONTH})[\s,-]+(\d{{4}})$")
_MONTH_RANGE = re.compile(rf"^({_MONTH})\s*(?:-|–|to)\s*({_MONTH})\s*(\d{{4}})$")

_DATE_HELP = "type it as a date such as 31/03/2025 (or 2025-03-31)"


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _BLANK_WORDS


def text_of(value: object) -> str | None:
    """The cell as text, or None when blank. Whole numbers lose their ".0"."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def prose_of(value: object) -> str | None:
    """A cell of prose (a description, a narrative, a note) as written, or None when
    blank. Unlike :func:`text_of` it keeps leading and trailing spaces (an indented list
    stays indented), so a workbook exported and imported again reads back what the store
    holds, and nothing changes."""
    if isinstance(value, str) and not is_blank(value):
        return value
    return text_of(value)


def _shown(value: object) -> str:
    text = text_of(value) or ""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def parse_date(value: object) -> dt.date | None:
    """A date cell, or text in an unambiguous form (UK day/month/year, ISO, "31 March 2025")."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise CellError(f"{_shown(value)} is a number, not a date: {_DATE_HELP}")
    text = " ".join(value.split()).lower()
    try:
        if m := _ISO_DATE.match(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _UK_DATE.match(text):
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return dt.date(year, int(m[2]), int(m[1]))
        if m := _WORD_DATE.match(text):
            return dt.date(int(m[3]), _MONTHS[m[2]], int(m[1]))
    except ValueError:
        raise CellError(f"{_shown(value)} is not a real date: {_DATE_HELP}") from None
    raise CellError(f"{_shown(value)} is text, not a date: {_DATE_HELP}")


def parse_float(value: object) -> float | None:
    """A number cell, or text such as "1,250", "85%" or "12.5"."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(f"{_shown(value)} is not a number")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise CellError(f"{_shown(value)} is not a number")
        return float(value)
    if isinstance(value, dt.date):
        raise CellError(f"{_shown(value)} is a date, not a number")
    try:
        return parse_number(str(value))
    except ValidationError as exc:
        raise CellError(str(exc)) from None


_RAG_WORDS = {
    "red": Rag.RED,
    "r": Rag.RED,
    "amber": Rag.AMBER,
    "a": Rag.AMBER,
    "green": Rag.GREEN,
    "g": Rag.GREEN,
}
_RAG_SYMBOLS = str.maketrans("", "", "\u25b2\u25c6\u25cf")


def parse_rag(value: object) -> Rag | None:
    """Red, Amber or Green (also R/A/G, any case, with or without the app's symbol)."""
    if is_blank(value):
        return None
    word = str(value).translate(_RAG_SYMBOLS).strip().lower()
    if word in _RAG_WORDS:
        return _RAG_WORDS[word]
    raise CellError(
        f"{_shown(value)} is not a RAG rating: write Red, Amber or Green "
        "(for a completed action, set the status to Complete)"
    )


_STATUS_WORDS = {
    "not started": ActionStatus.NOT_STARTED,
    "not yet started": ActionStatus.NOT_STARTED,
    "planned": ActionStatus.NOT_STARTED,
    "in progress": ActionStatus.IN_PROGRESS,
    "ongoing": ActionStatus.IN_PROGRESS,
    "on track": ActionStatus.IN_PROGRESS,
    "started": ActionStatus.IN_PROGRESS,
    "complete": ActionStatus.COMPLETE,
    "completed": ActionStatus.COMPLETE,
    "done": ActionStatus.COMPLETE,
    "achieved": ActionStatus.COMPLETE,
    "deferred": ActionStatus.DEFERRED,
    "on hold": ActionStatus.DEFERRED,
    "cancelled": ActionStatus.CANCELLED,
    "canceled": ActionStatus.CANCELLED,
    "withdrawn": ActionStatus.CANCELLED,
}


def parse_status(value: object) -> ActionStatus | None:
    if is_blank(value):
        return None
    word = " ".join(str(value).replace("_", " ").replace("-", " ").split()).lower()
    if word in _STATUS_WORDS:
        return _STATUS_WORDS[word]
    words = ", ".join(s.label for s in ActionStatus)
    raise CellError(f"{_shown(value)} is not a status: write one of {words}")


def parse_value_status(value: object) -> ValueStatus | None:
    if is_blank(value):
        return None
    word = str(value).strip().lower()
    for status in ValueStatus:
        if word == status.value:
            return status
    raise CellError(f"{_shown(value)} is not a value status: write Provisional, Final or Withheld")


def parse_yes_no(value: object) -> bool | None:
    """Yes or No (also Y/N, True/False, 1/0); blank: not stated."""
    if is_blank(value):
        return None
    word = str(value).strip().lower()
    if word in ("yes", "y", "true", "1", "1.0"):
        return True
    if word in ("no", "n", "false", "0", "0.0"):
        return False
    raise CellError(f"{_shown(value)} is not Yes or No")


def parse_year(value: object) -> FinancialYear | None:
    """A financial year: "2023/24", "2023-24", "2023/2024"."""
    if is_blank(value):
        return None
    try:
        return FinancialYear.parse(str(value))
    except PeriodError as exc:
        raise CellError(str(exc)) from None


_PERIOD_FORMS = '"2023/24 Q2", "Q2 2023/24", "2023-24 Q2", "Jul-Sep 2023" or a date in the quarter'


def parse_period(value: object) -> Quarter | None:
    """A financial quarter in the spellings councils use.

    "2023/24 Q2", "Q2 2023/24", "2023-24 Q2", the months "Jul-Sep 2023" (the calendar
    year the months fall in, so Q4 is "Jan-Mar 2024"), or any date inside the quarter.
    """
    if is_blank(value):
        return None
    if isinstance(value, dt.date):
        return Quarter.of(value if not isinstance(value, dt.datetime) else value.date())
    if not isinstance(value, str):
        raise CellError(f"{_shown(value)} is not a quarter: write {_PERIOD_FORMS}")
    text = " ".join(value.split()).lower()
    try:
        return Quarter.parse(text)
    except PeriodError as exc:
        # Keep the reason when the text was nearly a quarter ("Q5 is not a quarter").
        near = str(exc).replace(repr(text), repr(value.strip())) if "quarter:" in str(exc) else None
    if m := _MONTH_RANGE.match(text):
        first, last = _MONTHS[m[1]], _MONTHS[m[2]]
        if first in (1, 4, 7, 10) and last == first + 2:
            return Quarter.of(dt.date(int(m[3]), first, 1))
        raise CellError(
            f"{_shown(value)} is not a financial quarter (quarters run Apr-Jun, Jul-Sep, "
            "Oct-Dec and Jan-Mar)"
        )
    try:
        day = parse_date(value)
    except CellError:
        day = None
    if day is not None:
        return Quarter.of(day)
    raise CellError(near or f"{_shown(value)} is not a quarter: write {_PERIOD_FORMS}")


def parse_names(value: object) -> list[str]:
    """Names listed in one cell: separated by semicolons or new lines, else by commas."""
    text = text_of(value)
    if text is None:
        return []
    parts: Iterable[str] = (
        re.split(r"[;\n]", text) if ";" in text or "\n" in text else text.split(",")
    )
    seen: dict[str, str] = {}
    for part in parts:
        name = " ".join(part.split())
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())
