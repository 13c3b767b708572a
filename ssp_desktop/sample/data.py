"""The sample plan's data files (``sample/data/*.json``), read with their types checked.

The files are the sample: every record the writer makes, with its text and figures,
is written out there, and records point at each other by keys the files give
(``"lead": "dcs"``, ``"area": "DA"``, ``"plan": "2022-25"``), never by record id. They
are read through :mod:`importlib.resources`, so they are found the same way from a
source checkout, an installed wheel and the PyInstaller build, and parsed with the
strict JSON hooks (no NaN, no key given twice).

Each JSON object is an :class:`Entry`: the writer asks it for a field by type
(``entry.text("title")``, ``entry.date("due")``) and a missing field, a wrong type or
an unreadable date, quarter or year is reported with the file and the object it is in.
When the writer has finished, :meth:`SampleData.check_all_read` refuses any field it
never asked for, so a misspelt key in a file is an error, not a silently lost value.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.periods import FinancialYear, PeriodError, Quarter
from ssp_desktop.strict_json import reject_constant, reject_duplicate_keys

__all__ = ["Entry", "SampleData", "SampleDataError", "load"]

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

_PACKAGE = "ssp_desktop.sample"
_FOLDER = "data"
_REQUIRED: Any = object()


class SampleDataError(SspError):
    """A data file of the sample plan is missing, unreadable or does not fit the writer."""


class Entry:
    """One JSON object of a data file, read field by field with its type checked."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise SampleDataError(_damaged(where, f"should be an object, not {_shown(raw)}"))
        self._raw: dict[str, Any] = raw
        self.where = where
        self._read: set[str] = set()
        self._children: list[Entry] = []

    def error(self, problem: str) -> SampleDataError:
        return SampleDataError(_damaged(self.where, problem))

    def has(self, key: str) -> bool:
        return key in self._raw

    def names(self) -> list[str]:
        return list(self._raw)

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key in self._raw:
            return self._raw[key]
        if default is _REQUIRED:
            raise self.error(f"{key!r} is missing")
        return default

    def _typed(self, key: str, kind: type | tuple[type, ...], what: str, default: Any) -> Any:
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return value
        # bool is an int to Python, never a number or a count in these files.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            raise self.error(f"{key!r} should be {what}, not {_shown(value)}")
        return value

    # -- plain values ----------------------------------------------------------------

    def text(self, key: str, default: str = _REQUIRED) -> str:
        value: str = self._typed(key, str, "text", default)
        return value

    def number(self, key: str) -> float:
        """A figure as the file gives it: ``18`` stays an int, ``18.0`` a float."""
        value: float = self._typed(key, (int, float), "a number", _REQUIRED)
        return value

    def optional_number(self, key: str) -> float | None:
        value: float | None = self._typed(key, (int, float, type(None)), "a number or null", None)
        return value

    def whole(self, key: str) -> int:
        value: int = self._typed(key, int, "a whole number", _REQUIRED)
        return value

    def flag(self, key: str) -> bool:
        value: bool = self._typed(key, bool, "true or false", _REQUIRED)
        return value

    def optional_flag(self, key: str) -> bool | None:
        value: bool | None = self._typed(key, (bool, type(None)), "true, false or null", None)
        return value

    def texts(self, key: str) -> list[str]:
        """A list of text (keys of other entries, names); an absent list is empty."""
        values = self._typed(key, list, "a list", [])
        for value in values:
            if not isinstance(value, str):
                raise self.error(f"{key!r} should list text, not {_shown(value)}")
        return list(values)

    def numbers(self, key: str) -> dict[str, float]:
        """An object of name -> figure (a value's comparators); absent is empty."""
        child = self.entry(key, required=False)
        return {name: child.number(name) for name in child.names()}

    # -- values written as text ------------------------------------------------------

    def date(self, key: str) -> dt.date:
        return self._parsed(key, _date, "a date written YYYY-MM-DD")

    def optional_date(self, key: str) -> dt.date | None:
        if self._get(key, None) is None:
            return None
        return self.date(key)

    def quarter(self, key: str) -> Quarter:
        return self._parsed(key, _quarter, 'a quarter written like "2024/25 Q2"')

    def year(self, key: str) -> FinancialYear:
        return self._parsed(key, _year, 'a financial year written like "2024/25"')

    def money(self, key: str) -> Decimal:
        return self._parsed(key, _money, 'an amount in pounds written as text, like "1200.00"')

    def choice(self, key: str, kind: type[E]) -> E:
        text = self._typed(key, str, "text", _REQUIRED)
        try:
            return kind(text)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in kind)
            raise self.error(f"{key!r} should be one of {allowed}, not {_shown(text)}") from None

    def optional_choice(self, key: str, kind: type[E]) -> E | None:
        if self._get(key, None) is None:
            return None
        return self.choice(key, kind)

    def by_year(self, key: str, read: Callable[[Entry, str], T]) -> list[tuple[FinancialYear, T]]:
        """An object of financial year -> value, in year order; absent is empty."""
        child = self.entry(key, required=False)
        out = []
        for label in child.names():
            try:
                year = _year(label)
            except ValueError:
                raise child.error(
                    f'{label!r} is not a financial year written like "2024/25"'
                ) from None
            out.append((year, read(child, label)))
        return sorted(out, key=lambda pair: pair[0].start)

    def _parsed(self, key: str, parse: Callable[[str], T], what: str) -> T:
        text = self._typed(key, str, what, _REQUIRED)
        try:
            return parse(text)
        except ValueError:
            raise self.error(f"{key!r} should be {what}, not {_shown(text)}") from None

    # -- nested objects --------------------------------------------------------------

    def entry(self, key: str, *, required: bool = True) -> Entry:
        raw = self._get(key, _REQUIRED if required else {})
        child = Entry(raw, f"{self.where} > {key}")
        self._children.append(child)
        return child

    def entries(self, key: str, *, named_by: str = "", required: bool = False) -> list[Entry]:
        """The objects listed under ``key``, each named in messages by its ``named_by``
        field when it has one (``actions[PVP-04]``), else by its place (``actions[3]``)."""
        raw = self._typed(key, list, "a list", _REQUIRED if required else [])
        out = []
        for i, item in enumerate(raw):
            name = item.get(named_by) if named_by and isinstance(item, dict) else None
            child = Entry(item, f"{self.where} > {key}[{name if isinstance(name, str) else i}]")
            self._children.append(child)
            out.append(child)
        return out

    def unread(self) -> Iterator[str]:
        """A message for each field the writer never asked for (a misspelt or stray key)."""
        for key in self._raw:
            if key not in self._read:
                yield _damaged_text(f"{self.where}: {key!r} is not a field the sample writer reads")
        for child in self._children:
            yield from child.unread()


@dataclass(frozen=True)
class SampleData:
    """The sample's data files, one entry per file."""

    partnership: Entry
    frameworks: Entry
    plans: Entry
    measures: Entry
    actions: Entry
    funding: Entry
    risks: Entry
    board: Entry

    def check_all_read(self) -> None:
        for f in fields(self):
            for problem in getattr(self, f.name).unread():
                raise SampleDataError(problem)


def load(folder: Traversable | None = None) -> SampleData:
    """Read every data file of the sample: from the package, however it is installed,
    or from ``folder`` (a copy being edited or tested)."""
    if folder is None:
        folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    parts: dict[str, Entry] = {}
    for f in fields(SampleData):
        name = f"{f.name}.json"
        try:
            text = folder.joinpath(name).read_text(encoding="utf-8")
            raw = json.loads(
                text, object_pairs_hook=reject_duplicate_keys, parse_constant=reject_constant
            )
        except FileNotFoundError:
            raise SampleDataError(
                f"The sample plan's data file {name} is missing from this installation of "
                "ssp-desktop, so the sample plan was not written. Reinstall ssp-desktop."
            ) from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SampleDataError(_damaged(name, f"cannot be read ({exc})")) from None
        parts[f.name] = Entry(raw, name)
    return SampleData(**parts)


# --------------------------------------------------------------------------- helpers


def _damaged(where: str, problem: str) -> str:
    return _damaged_text(f"{where}: {problem}")


def _damaged_text(problem: str) -> str:
    return (
        f"The sample plan's data files do not fit the writer: {problem}. "
        "The sample plan was not written."
    )


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _date(text: str) -> dt.date:
    value = dt.date.fromisoformat(text)
    if value.isoformat() != text:
        raise ValueError(text)
    return value


def _canonical(parse: Callable[[str], T]) -> Callable[[str], T]:
    """``parse``, refusing any spelling but the label the app itself shows."""

    def read(text: str) -> T:
        try:
            value = parse(text)
        except PeriodError as exc:
            raise ValueError(text) from exc
        if getattr(value, "label", None) != text:
            raise ValueError(text)
        return value

    return read


_quarter = _canonical(Quarter.parse)
_year = _canonical(FinancialYear.parse)


def _money(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value
