"""Errors the store and domain raise, each with a message a user can act on.

The CLI prints ``str(error)`` and the GUI shows it in a dialog, so every message says
what happened, what it means for the user's data, and what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass


class SspError(Exception):
    """Base of every error ssp-desktop explains to a user."""


class StoreError(SspError):
    """The store cannot be opened or written."""


class StoreNotFoundError(StoreError):
    pass


class NotAStoreError(StoreError):
    pass


class CorruptStoreError(StoreError):
    pass


class StoreTooNewError(StoreError):
    pass


class ReadOnlyLocationError(StoreError):
    pass


class StoreFullError(StoreError):
    pass


class StoreBusyError(StoreError):
    pass


class WriteRaceError(StoreBusyError):
    """Another writer committed a change to the same rows first (a server store's
    serialization failure or deadlock); nothing was saved, and trying again is safe."""


class StoreUnreachableError(StoreError):
    """The database server cannot be reached (down, wrong host or port, no network)."""


class StoreAccessDeniedError(StoreError):
    """The database server refused the user name or password, or the account may not
    do what was asked."""


@dataclass(frozen=True)
class LockHolder:
    host: str
    user: str
    pid: int
    since: str
    app_version: str = ""

    def describe(self) -> str:
        return f"{self.user} on {self.host} (process {self.pid}, since {self.since})"


class StoreLockedError(StoreError):
    def __init__(self, path: str, holder: LockHolder | None) -> None:
        who = holder.describe() if holder else "another program (it did not say who)"
        super().__init__(
            f"{path} is already open for editing by {who}. Only one copy of ssp-desktop "
            "can change a store at a time: close it there, or open a different store."
        )
        self.holder = holder


class DomainError(SspError):
    """A change that breaks a rule of the plan; nothing was written."""


class DeleteBlockedError(DomainError):
    pass


class UndoRefusedError(DomainError):
    """Undo or redo would overwrite a value someone else has written since."""


@dataclass(frozen=True)
class FieldConflict:
    """A field someone else changed after the editor read it: what it holds now
    (``theirs``, written by ``by``), and what the editor would write (``yours``)."""

    entity: str
    record_id: object
    field: str
    label: str  # "title", as a sentence names it
    record: str  # "action PVP-01"
    theirs: object
    yours: object
    theirs_words: str
    yours_words: str
    by: str  # "Jane Lead on 7 Dec 2026 at 00:21", from the change log


class EditConflictError(DomainError):
    """An edit of a field another writer changed since the editor read it; nothing
    was written. ``conflict`` says who, their value and yours."""

    def __init__(self, conflict: FieldConflict) -> None:
        self.conflict = conflict
        c = conflict
        super().__init__(
            f"The {c.label} of {c.record} was changed by {c.by} while you were editing it: "
            f"theirs is {c.theirs_words}, yours is {c.yours_words}. Nothing was saved; "
            "keep theirs, or write yours again."
        )


class ChangedSinceReadError(DomainError):
    """A decision on a record another writer changed since the user read it; nothing
    was written. ``record`` names it, ``by`` who changed it and when, ``what`` their
    change in words."""

    nothing = "Nothing was saved; look at it again first."

    def __init__(self, record: str, by: str, what: str) -> None:
        self.record, self.by, self.what = record, by, what
        super().__init__(
            f"{record[:1].upper()}{record[1:]} was changed by {by} since you read it"
            f"{f' ({what})' if what else ''}. {self.nothing}"
        )


class DeleteConflictError(ChangedSinceReadError):
    """A delete of a record another writer changed since the editor read it."""

    nothing = "Nothing was deleted; look at it again, then delete it if you still mean to."


class UngovernedWriteError(RuntimeError):
    """A programming error: a record was changed outside the domain services.

    Not an :class:`SspError`: it is never the user's doing, so it is reported as a
    crash (with the code location) rather than shown as a refused edit.
    """


class ParentDeletedError(DomainError):
    pass


class BundleError(SspError):
    """A bundle file that cannot be imported (or written) here; nothing was changed."""


class BundleTooNewError(BundleError):
    """A bundle made by a newer ssp-desktop than this one understands."""


class SecurityError(BundleError):
    """A bundle refused by its envelope (signature, encryption, keys) before anything
    in it was read; or a key, join request or enrolment that cannot be used."""
