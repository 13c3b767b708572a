"""Password protection of exported PDFs (AES-256, PDF 2.0 security handler, R=6).

The board pack is public once the board has met, but drafts circulate before that and
carry OFFICIAL-SENSITIVE commentary. :func:`protect_pdf` encrypts a finished PDF in
place with ``pikepdf``: the password is needed to open it (user password); the owner
password (random unless given) guards printing and copying rights, which stay allowed
(screen readers need text extraction: the pack must stay accessible to those who may
open it). The password itself is never stored or logged.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from ssp_desktop.reports.export import ExportError

MIN_PASSWORD = 8


def check_password(password: str) -> str:
    """``password`` if it is usable, else a refusal saying why."""
    if len(password) < MIN_PASSWORD:
        raise ExportError(
            f"The PDF password must be at least {MIN_PASSWORD} characters long. No pack was saved."
        )
    return password


def protect_pdf(path: Path, password: str, *, owner_password: str | None = None) -> None:
    """Encrypt the PDF at ``path`` with AES-256 so it opens only with ``password``."""
    import pikepdf

    check_password(password)
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".protect", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        with pikepdf.open(path) as pdf:
            pdf.save(
                tmp,
                encryption=pikepdf.Encryption(
                    user=password,
                    owner=owner_password or secrets.token_urlsafe(24),
                    R=6,
                    allow=pikepdf.Permissions(extract=True, accessibility=True),
                ),
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_password_file(path: Path) -> str:
    """The password in the first line of ``path`` (so it never appears in a command line
    or shell history)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"Cannot read the password file {path}: {exc.strerror or exc}.") from exc
    lines = text.splitlines()
    return check_password(lines[0].strip() if lines else "")
