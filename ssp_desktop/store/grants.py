"""Officers' database grants on a server store: ``ssp-desktop store grant`` and ``roles``.

On PostgreSQL, who reads which partnership is the table ``partnership_role`` (migration
0011): a role named there with a partnership reads that partnership's rows; a role with
none is regional and reads every partnership (the region summary). Row-level security
applies it; the role still needs the ordinary table privileges to reach the tables at
all. :func:`grant` does both in one transaction, as the store's owner:

* the role must exist on the server (a council's DBA makes the group roles and grants
  them to people's login roles) and must not be a superuser or have BYPASSRLS, which
  row-level security never binds;
* it gets USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on the store's tables
  (future ones too, by default privileges, so an upgrade's new table is covered), USAGE
  on its sequences, and its row in ``partnership_role``. It may only read the access
  list itself and the migrations' version: an officer who could write
  ``partnership_role`` could make themselves regional;
* granting what a role already has changes nothing and says so; a role that reads
  another partnership is refused (revoke first: a role reads one partnership, or all);
* ``revoke`` removes the row and every privilege the grant gave.

A SQLite store has no database roles: the file itself is the boundary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy import exc as sa_exc

from ssp_desktop.domain.errors import StoreError
from ssp_desktop.store.backend import is_server_location
from ssp_desktop.store.engine import Store
from ssp_desktop.store.partnerships import (
    PartnershipChoiceError,
    PartnershipRef,
    choose,
    list_partnerships,
)

__all__ = ["GrantResult", "RoleAccess", "grant", "roles"]

_NOTHING = "Nothing was changed."
_SQLITE = (
    "Only server stores have database roles: a store file's boundary is the file "
    "itself (who can open it). " + _NOTHING
)
# Tables an officer may read but never change: the access list and the schema version.
_READ_ONLY = ("partnership_role", "alembic_version")
_WRITE = "SELECT, INSERT, UPDATE, DELETE"
REGIONAL = "every partnership (regional)"


@dataclass(frozen=True)
class GrantResult:
    role: str
    reads: str  # the partnership's name, or REGIONAL
    changed: bool
    revoked: bool = False

    def describe(self) -> str:
        if self.revoked:
            if not self.changed:
                return f"{self.role} had no access to this store; nothing to revoke."
            return f"{self.role} no longer reads or writes {self.reads} in this store."
        if not self.changed:
            return f"{self.role} already reads and writes {self.reads}; nothing to change."
        return f"{self.role} now reads and writes {self.reads} (and no other partnership)."


@dataclass(frozen=True)
class RoleAccess:
    """One row of ``store roles``: a role, what it reads, and who holds it."""

    role: str
    reads: str  # a partnership's name, REGIONAL, or what the row names if it is gone
    members: tuple[str, ...]
    exists: bool
    owner: bool


def _refuse_file(location: str | os.PathLike[str]) -> None:
    if not is_server_location(location):
        raise StoreError(_SQLITE)


def _quote(conn: Connection, role: str) -> str:
    return conn.dialect.identifier_preparer.quote(role)


def _check_owner(conn: Connection) -> str:
    """The owner of the store's tables; refused unless the connecting role is it."""
    row = conn.execute(
        text(
            "SELECT r.rolname AS owner, pg_has_role(current_user, c.relowner, 'MEMBER') AS ok, "
            "current_user AS me FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE c.oid = to_regclass('partnership_role')"
        )
    ).one_or_none()
    if row is None:
        raise StoreError("This database holds no ssp-desktop store with roles. " + _NOTHING)
    if not row.ok:
        raise StoreError(
            f"Only the store's owner ({row.owner}) can grant or revoke access; you are "
            f"connected as {row.me}. Connect as {row.owner} (postgresql://{row.owner}@...). "
            + _NOTHING
        )
    return str(row.owner)


def _check_role(conn: Connection, role: str, owner: str) -> None:
    if not role or len(role.encode("utf-8")) > 63:
        raise StoreError(f"{role!r} is not a database role name. " + _NOTHING)
    row = conn.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).one_or_none()
    if row is None:
        raise StoreError(
            f"There is no database role called {role} on this server. Ask whoever looks "
            f"after the server to create it (CREATE ROLE {role} NOLOGIN) and to grant it to "
            f"each officer's login role (GRANT {role} TO alice), then run this again. " + _NOTHING
        )
    if row.rolsuper or row.rolbypassrls:
        what = "a superuser" if row.rolsuper else "a role with BYPASSRLS"
        raise StoreError(
            f"{role} is {what}: row-level security never narrows what it reads, so a "
            f"grant to one partnership would mean nothing. Grant an ordinary role. " + _NOTHING
        )
    if role == owner:
        raise StoreError(f"{role} owns the store and already reads every partnership. " + _NOTHING)


def _reads(conn: Connection, role: str) -> tuple[bool, object]:
    """(has a row, its partnership id or None) for ``role`` in ``partnership_role``."""
    row = conn.execute(
        text("SELECT partnership_id FROM partnership_role WHERE role_name = :r"), {"r": role}
    ).one_or_none()
    return (row is not None, None if row is None else row.partnership_id)


def _name_of(held: list[PartnershipRef], pid: object) -> str:
    if pid is None:
        return REGIONAL
    for p in held:
        if str(p.id) == str(pid):
            return p.name
    return f"a partnership no longer in the store ({pid})"


def grant(
    location: str | os.PathLike[str],
    role: str,
    *,
    partnership: str | None = None,
    regional: bool = False,
    revoke: bool = False,
) -> GrantResult:
    """Let ``role`` read and write ``partnership`` (or, ``regional``, every partnership)
    of the server store at ``location``; with ``revoke``, take its access away. Runs as
    the connecting role, which must own the store. Raises StoreError (nothing changed)."""
    _refuse_file(location)
    if not revoke and regional == bool(partnership and partnership.strip()):
        raise StoreError(
            "Give either --partnership NAME (the role reads that partnership) or "
            "--regional (it reads every partnership). " + _NOTHING
        )
    with Store.open(location, all_partnerships=True) as store:
        try:
            with store.engine.begin() as conn:
                return _grant(conn, store, role, partnership, regional, revoke)
        except sa_exc.DBAPIError as exc:
            raise store.backend.translate(exc) from exc


def _grant(
    conn: Connection,
    store: Store,
    role: str,
    partnership: str | None,
    regional: bool,
    revoke: bool,
) -> GrantResult:
    owner = _check_owner(conn)
    _check_role(conn, role, owner)
    with store.session() as s:
        held = list_partnerships(s)
    wanted: PartnershipRef | None = None
    if partnership and partnership.strip():
        try:
            wanted = choose(held, partnership)
        except PartnershipChoiceError as exc:
            raise StoreError(str(exc)) from exc
        if wanted is None:
            raise StoreError("This store holds no partnership yet. " + _NOTHING)
    has_row, current = _reads(conn, role)
    quoted = _quote(conn, role)
    if revoke:
        return _revoke(conn, role, quoted, held, has_row, current, wanted, regional)
    target = None if regional else wanted.id if wanted is not None else None
    if has_row and str(current) != str(target):
        raise StoreError(
            f"{role} already reads {_name_of(held, current)}. A role reads one partnership, "
            f"or every one: revoke it first (ssp-desktop store grant --store URL --role "
            f"{role} --revoke), then grant again. " + _NOTHING
        )
    reads = _name_of(held, target)
    # Granted again even when the row is there: tables an upgrade added are covered.
    _privileges(conn, quoted, grant=True)
    if has_row:
        return GrantResult(role, reads, changed=False)
    conn.execute(
        text("INSERT INTO partnership_role (role_name, partnership_id) VALUES (:r, :p)"),
        {"r": role, "p": target},
    )
    return GrantResult(role, reads, changed=True)


def _revoke(
    conn: Connection,
    role: str,
    quoted: str,
    held: list[PartnershipRef],
    has_row: bool,
    current: object,
    wanted: PartnershipRef | None,
    regional: bool,
) -> GrantResult:
    reads = _name_of(held, current)
    asked = REGIONAL if regional else wanted.name if wanted is not None else None
    if has_row and asked is not None and asked != reads:
        raise StoreError(f"{role} reads {reads}, not {asked}. " + _NOTHING)
    _privileges(conn, quoted, grant=False)
    if not has_row:
        return GrantResult(role, asked or "this store", changed=False, revoked=True)
    conn.execute(text("DELETE FROM partnership_role WHERE role_name = :r"), {"r": role})
    return GrantResult(role, reads, changed=True, revoked=True)


def _privileges(conn: Connection, quoted: str, *, grant: bool) -> None:
    if grant:
        statements = [
            f"GRANT USAGE ON SCHEMA public TO {quoted}",
            f"GRANT {_WRITE} ON ALL TABLES IN SCHEMA public TO {quoted}",
            *(f"REVOKE INSERT, UPDATE, DELETE ON {t} FROM {quoted}" for t in _READ_ONLY),
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {_WRITE} ON TABLES TO {quoted}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {quoted}",
        ]
    else:
        statements = [
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {quoted}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {quoted}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
            f"REVOKE USAGE ON SCHEMA public FROM {quoted}",
        ]
    for statement in statements:
        conn.exec_driver_sql(statement)


def roles(location: str | os.PathLike[str]) -> list[RoleAccess]:
    """Who may see what in the server store at ``location``: every row of the access
    list, with the login roles holding it. Readable by any role that may open the store
    (each sees the whole list; it names roles, not records)."""
    _refuse_file(location)
    with Store.open(location, readonly=True, all_partnerships=True) as store:
        try:
            with store.engine.connect() as conn:
                owner = conn.execute(
                    text(
                        "SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                        "WHERE c.oid = to_regclass('partnership_role')"
                    )
                ).scalar()
                rows = conn.execute(
                    text(
                        "SELECT a.role_name, a.partnership_id, g.oid IS NOT NULL AS present, "
                        "ARRAY(SELECT m.rolname FROM pg_auth_members x "
                        "JOIN pg_roles m ON m.oid = x.member WHERE x.roleid = g.oid "
                        "ORDER BY m.rolname) AS members "
                        "FROM partnership_role a LEFT JOIN pg_roles g ON g.rolname = a.role_name "
                        "ORDER BY a.role_name"
                    )
                ).all()
            with store.session() as s:
                held = list_partnerships(s)
        except sa_exc.DBAPIError as exc:
            raise store.backend.translate(exc) from exc
    return [
        RoleAccess(
            role=r.role_name,
            reads=_name_of(held, r.partnership_id),
            members=tuple(r.members or ()),
            exists=bool(r.present),
            owner=r.role_name == owner,
        )
        for r in rows
    ]
