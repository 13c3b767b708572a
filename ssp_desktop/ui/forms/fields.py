"""What a form's fields are: one :class:`FieldSpec` per field (label, attribute, kind,
choices), made by the small constructors the editors list (``text``, ``date``,
``reference``, ...). No widgets here; :mod:`ssp_desktop.ui.forms.editors` draws them.

A field's rules are not part of its spec: they belong to the record, and
:func:`ssp_desktop.services.check_field` runs them (see
:meth:`~ssp_desktop.ui.forms.record_form.RecordForm.commit`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ssp_desktop.ui.forms import choices as ch

REQUIRED_NOTE = "* required"
NONE_LABEL = "(none)"
MISSING_LABEL = "(no longer available)"
DATE_FORMAT = "d MMM yyyy"

Choice = tuple[str, Any]
Loader = Callable[[Session, Any], Sequence[Choice]]


def lower_first(label: str) -> str:
    """ "Due date" -> "due date" for "Change due date"; acronyms ("RAG") are kept."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def enum_label(member: enum.Enum) -> str:
    """The word a user sees for a closed-vocabulary value."""
    label = getattr(member, "label", None)
    if isinstance(label, str):
        return label
    return str(member.value).replace("_", " ").capitalize()


def enum_choices(cls: type[enum.Enum], label: Callable[[Any], str] = enum_label) -> Loader:
    members = [(label(m), m) for m in cls]
    return lambda _session, _record: members


# --------------------------------------------------------------------------- field specs


class Kind(enum.Enum):
    TEXT = "text"
    MULTILINE = "multiline"
    INT = "int"
    NUMBER = "number"
    PERCENT = "percent"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"  # an enum, a reference picker or a financial year
    BOOL = "bool"
    NAMES = "names"  # a short list typed on one line, separated by semicolons
    EMAIL = "email"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form: what it shows and how it is typed."""

    label: str
    attr: str
    kind: Kind
    required: bool = False
    choices: Loader | None = None
    # The entry meaning "no value" in a picker ("(none)", "Not rated"); None: no such entry.
    none_label: str | None = None
    # Tables whose changes alter this picker's list.
    depends: frozenset[str] = field(default_factory=frozenset)
    minimum: int = 0
    maximum: int = 9999
    help: str = ""


def text(label: str, attr: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(label, attr, Kind.TEXT, required=required)


def multiline(label: str, attr: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(label, attr, Kind.MULTILINE, required=required)


def whole(
    label: str, attr: str, minimum: int = 0, maximum: int = 9999, help: str = ""
) -> FieldSpec:
    return FieldSpec(label, attr, Kind.INT, minimum=minimum, maximum=maximum, help=help)


def number(label: str, attr: str, *, required: bool = False, help: str = "") -> FieldSpec:
    return FieldSpec(label, attr, Kind.NUMBER, required=required, help=help)


def money(label: str, attr: str, *, required: bool = True) -> FieldSpec:
    return FieldSpec(label, attr, Kind.MONEY, required=required, help="In pounds, e.g. 12,500")


def date(label: str, attr: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(label, attr, Kind.DATE, required=required)


def flag(label: str, attr: str, help: str = "") -> FieldSpec:
    return FieldSpec(label, attr, Kind.BOOL, help=help)


def email(label: str, attr: str) -> FieldSpec:
    return FieldSpec(label, attr, Kind.EMAIL, help="e.g. name@example.org")


def names(label: str, attr: str, *, help: str = "") -> FieldSpec:
    return FieldSpec(label, attr, Kind.NAMES, help=help)


def choice(
    label: str,
    attr: str,
    cls: type[enum.Enum],
    *,
    labels: Callable[[Any], str] = enum_label,
    none_label: str | None = None,
) -> FieldSpec:
    return FieldSpec(
        label,
        attr,
        Kind.CHOICE,
        required=none_label is None,
        choices=enum_choices(cls, labels),
        none_label=none_label,
    )


# Reference pickers: what each lists, and which tables' changes alter the list.
_REFERENCES: dict[str, tuple[Callable[[Session, ch.Scope], list[Choice]], frozenset[str]]] = {
    "organisation": (ch.organisations, frozenset({"organisation"})),
    "person": (ch.people, frozenset({"person", "organisation"})),
    "priority": (ch.priorities, frozenset({"priority", "plan"})),
    "priority_area": (ch.priority_areas, frozenset({"priority_area", "priority"})),
    "measure": (ch.measures, frozenset({"measure"})),
}


def reference(label: str, attr: str, target: str, *, required: bool = False) -> FieldSpec:
    """A picker of live records of ``target`` in the record's partnership or plan."""
    lister, depends = _REFERENCES[target]

    def load(session: Session, record: Any) -> list[Choice]:
        return lister(session, ch.scope_of(session, record))

    return FieldSpec(
        label,
        attr,
        Kind.CHOICE,
        required=required,
        choices=load,
        none_label=None if required else NONE_LABEL,
        depends=depends,
    )


def year(label: str, attr: str, years: Loader, *, none_label: str | None = None) -> FieldSpec:
    return FieldSpec(
        label,
        attr,
        Kind.CHOICE,
        required=none_label is None,
        choices=years,
        none_label=none_label,
        depends=frozenset({"plan"}),
    )
