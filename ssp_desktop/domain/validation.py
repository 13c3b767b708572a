"""Plain-English checks of what a user typed, made before anything is written.

The forms run these as a field is left, so a mistake is explained beside the field
("'abc' is not a number") instead of surfacing later as a database constraint. They
are Qt-free so the same rules serve an importer or a command-line tool, and tests
can state them as tables.

Every check raises :class:`ValidationError`, whose text is a sentence fragment with no
trailing full stop, ready to follow "Error: " in a form.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, String, func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.enums import Unit
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear

__all__ = [
    "ValidationError",
    "check_date_in_range",
    "check_dates",
    "check_email",
    "check_figure",
    "check_length",
    "check_not_negative",
    "check_percentage",
    "check_range",
    "check_ref_free",
    "check_required",
    "check_text",
    "check_unique",
    "check_whole_in_range",
    "check_years",
    "format_number",
    "parse_money",
    "parse_names",
    "parse_number",
    "parse_optional_number",
    "parse_whole_number",
    "text_limit",
]


class ValidationError(DomainError):
    """A value a user typed that cannot be saved, with the reason in plain English.

    A :class:`DomainError`, so a check that fails inside a transaction (the race where
    someone else took the ref a moment ago) refuses the edit like any other rule.
    """


# Thousands separators must be in the right places, so "1,2,3" is refused rather than
# silently read as 123; a trailing % is allowed because people type "85%" for 85.
_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?%?$")
_MONEY_RE = re.compile(r"^£?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
# The shape only (something@domain.tld): whether a mailbox exists is not ours to know.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")

# Numeric(12, 2): ten digits of pounds.
MAX_MONEY = Decimal("9999999999.99")


def check_required(label: str, text: str | None) -> str:
    """The text without surrounding spaces; "Title is required" if nothing is left."""
    stripped = (text or "").strip()
    if not stripped:
        raise ValidationError(f"{label} is required")
    return stripped


def check_length(label: str, text: str, limit: int | None) -> str:
    """Refuse text longer than its column holds (SQLite would not, PostgreSQL would)."""
    if limit is not None and len(text) > limit:
        raise ValidationError(
            f"{label} is too long: {len(text):,} characters, at most {limit:,} are allowed"
        )
    return text


# How much text a field without a column length may hold. Generous for what people
# write (a quarterly narrative is typically 100-400 words; 10,000 characters is about
# 1,600), small enough that every accepted text prints in the board pack and travels in
# a bundle. A title or name is a line or two, however its column is declared.
MAX_TEXT = 10_000
MAX_TITLE = 500
_TITLE_FIELDS = frozenset({"title", "name", "project"})

# Dates the plan can hold: a partnership's plans start after the Crime and Disorder Act
# (1998) and nothing is planned beyond this century. A date outside is a typing slip
# ("9999-12-31"), and would overflow the financial-year arithmetic.
FIRST_DATE = dt.date(1990, 1, 1)
LAST_DATE = dt.date(2099, 12, 31)

# A measure's decimal places: the editor's range. More are noise in a board pack's
# table, and hundreds would not fit its column.
MAX_DECIMALS = 4

# PostgreSQL's INTEGER (the master copy may move there): larger values are refused
# rather than overflowing on the server.
MAX_INTEGER = 2**31 - 1

# Characters that are no text: C0 and C1 controls (tab, line feed and carriage return
# are text), the bidirectional overrides, embeddings and isolates (they make a line read
# differently from what it holds), non-characters, and lone surrogates. Excel, XML and
# PDF cannot carry them, so accepting one would stop a workbook export or a pack.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def text_limit(column: ColumnElement[Any]) -> int | None:
    """The most characters ``column`` may hold: its declared length, else the domain's
    limit for long text (titles and names shorter); None for a column that is not text."""
    if not isinstance(column.type, String):
        return None
    if column.type.length is not None:
        return int(column.type.length)
    info = getattr(column, "info", {})
    named = info.get("max_length")
    if named is not None:
        return int(named)
    return MAX_TITLE if getattr(column, "key", "") in _TITLE_FIELDS else MAX_TEXT


def _char_name(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name.lower()}" if name else "")


def check_text(label: str, text: str, limit: int | None) -> str:
    """Text that fits its field and holds only characters that are text.

    The same rule for a form, a spreadsheet cell and a bundle's field, so whatever is
    accepted can be exported to a workbook, printed in the pack and sent in a bundle.
    """
    check_length(label, text, limit)
    found = _FORBIDDEN.search(text)
    if found is not None:
        raise ValidationError(
            f"{label} contains a control character ({_char_name(found.group())}) at "
            f"position {found.start() + 1}; remove it and try again"
        )
    return text


def check_date_in_range(label: str, value: dt.date) -> dt.date:
    """A date the plan can hold (see ``FIRST_DATE``/``LAST_DATE``)."""
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValidationError(
            f"{label} must be between {FIRST_DATE.day} {FIRST_DATE:%B %Y} and "
            f"{LAST_DATE.day} {LAST_DATE:%B %Y}"
        )
    return value


def check_whole_in_range(label: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ValidationError(f"{label} must be a whole number from {low:,} to {high:,}")
    return value


def _is_blank(text: str | None) -> bool:
    return text is None or not text.strip()


def parse_number(text: str | None, label: str = "A number") -> float:
    """A number as people type it: "12", "-3.5", "1,250", "85%"."""
    if _is_blank(text):
        raise ValidationError(f"{label} is required")
    assert text is not None
    stripped = text.strip()
    compact = stripped.replace(" ", "")
    if not _NUMBER_RE.match(compact) or not any(c.isdigit() for c in compact):
        raise ValidationError(f"'{stripped}' is not a number")
    value = float(compact.rstrip("%").replace(",", ""))
    if not math.isfinite(value):  # pragma: no cover - the pattern admits no inf/nan
        raise ValidationError(f"'{stripped}' is not a number")
    return value


def parse_optional_number(text: str | None, label: str = "A number") -> float | None:
    """Like :func:`parse_number`, but blank means "no value" (None)."""
    return None if _is_blank(text) else parse_number(text, label)


def parse_whole_number(text: str | None, label: str = "A whole number") -> int:
    """A whole number: "12" or "1,200"; "1.5" is refused, not rounded."""
    value = parse_number(text, label)
    if not value.is_integer():
        raise ValidationError(f"'{(text or '').strip()}' is not a whole number")
    return int(value)


def parse_money(text: str | None, label: str = "Amount") -> Decimal:
    """An amount in pounds: "£12,500", "12500.50". Exact (Decimal), never negative."""
    if _is_blank(text):
        raise ValidationError(f"{label} is required")
    assert text is not None
    stripped = text.strip()
    compact = stripped.replace(" ", "")
    if compact.startswith("-") or compact.startswith("£-"):
        raise ValidationError("An amount cannot be negative")
    if not _MONEY_RE.match(compact) or not any(c.isdigit() for c in compact):
        raise ValidationError(f"'{stripped}' is not an amount in pounds")
    try:
        amount = Decimal(compact.lstrip("£").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValidationError(f"'{stripped}' is not an amount in pounds") from None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationError(f"'{stripped}' has more than two decimal places (pence)")
    if amount > MAX_MONEY:
        raise ValidationError(f"An amount cannot be more than £{MAX_MONEY:,.2f}")
    return amount.quantize(Decimal("0.01"))


def check_percentage(value: float) -> float:
    """A percentage is 0 to 100 inclusive."""
    if value > 100:
        raise ValidationError("A percentage cannot be over 100")
    if value < 0:
        raise ValidationError("A percentage cannot be below 0")
    return value


def check_not_negative(label: str, value: float | Decimal) -> None:
    if value < 0:
        raise ValidationError(f"{label} cannot be negative")


def check_figure(unit: Unit, value: float) -> None:
    """A measure's figure in its unit: a percentage is 0 to 100, a count or a rate is
    not negative. One rule for the editors, My quarter, spreadsheets and bundles."""
    if unit is Unit.PERCENT:
        check_percentage(value)
    else:
        check_not_negative(f"A {unit.value}", value)


def check_range(label: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValidationError(
            f"{label} must be between {format_number(low)} and {format_number(high)}"
        )


def check_dates(start: dt.date | None, due: dt.date | None) -> None:
    """A due date may not come before the start date (either may be missing)."""
    if start is not None and due is not None and due < start:
        raise ValidationError("The due date is before the start date")


def check_years(first: FinancialYear, last: FinancialYear) -> None:
    """A plan's period: its last financial year may not come before its first."""
    if last < first:
        raise ValidationError("The plan's last year is before its first year")


def check_email(text: str | None) -> str | None:
    """None for a blank address; otherwise the address if it looks like one."""
    if _is_blank(text):
        return None
    assert text is not None
    stripped = text.strip()
    if not _EMAIL_RE.match(stripped):
        raise ValidationError(
            f"'{stripped}' is not an email address (it should look like name@example.org)"
        )
    return stripped


def parse_names(text: str | None) -> list[str]:
    """A list of names typed on one line, separated by semicolons: "GM average; England".

    Semicolons rather than commas, because comparator names contain commas ("England
    and Wales, excluding London"). Each name may appear once.
    """
    names = [part.strip() for part in (text or "").split(";")]
    names = [n for n in names if n]
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise ValidationError(f"{name} is listed twice")
        seen.add(name.casefold())
    return names


def format_number(value: float | int | None) -> str:
    """A number as a user would type it back: "12", "12.5", "" for no value."""
    if value is None:
        return ""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _noun(cls: type[Record]) -> str:
    return str(cls.__tablename__).replace("_", " ")


def check_unique(
    session: Session,
    cls: type[Record],
    *,
    scope_field: str,
    scope_id: uuid.UUID,
    scope_noun: str,
    field: str,
    value: str,
    record_id: uuid.UUID | None,
) -> None:
    """Refuse ``value`` if another live record in the same scope already uses it.

    Compared without regard to case: two actions "PVP-01" and "pvp-01" in one board
    pack would read as the same action, although the database would allow them.
    """
    column: Any = getattr(cls, field)
    query = select(cls.id).where(
        getattr(cls, scope_field) == scope_id,
        cls.deleted_at.is_(None),
        func.lower(column) == value.strip().lower(),
    )
    if record_id is not None:
        query = query.where(cls.id != record_id)
    if session.scalar(query.limit(1)) is not None:
        raise ValidationError(
            f"Another {_noun(cls)} in this {scope_noun} already has the "
            f"{field.replace('_', ' ')} {value.strip()}"
        )


def check_ref_free(
    session: Session,
    cls: type[Record],
    plan_id: uuid.UUID,
    ref: str,
    record_id: uuid.UUID | None,
) -> None:
    """ "Another action in this plan already has the ref PVP-01" (actions, measures, risks)."""
    check_unique(
        session,
        cls,
        scope_field="plan_id",
        scope_id=plan_id,
        scope_noun="plan",
        field="ref",
        value=ref,
        record_id=record_id,
    )
