"""Password-protected PDFs: AES-256, opened only with the password."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from ssp_desktop.reports.export import ExportError
from ssp_desktop.reports.protect import protect_pdf, read_password_file


def _pdf(path: Path) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Title"] = "Board pack"
    pdf.save(path)
    return path


def test_a_protected_pdf_opens_only_with_its_password(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "pack.pdf")
    protect_pdf(path, "correct horse battery")
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(path)
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(path, password="wrong password")
    with pikepdf.open(path, password="correct horse battery") as pdf:
        assert pdf.is_encrypted
        assert pdf.encryption.R == 6 and pdf.encryption.bits == 256
        assert pdf.encryption.stream_method.name == "aesv3"  # AES-256
        assert str(pdf.docinfo["/Title"]) == "Board pack"
        assert pdf.allow.accessibility  # screen readers keep working for those who open it
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_short_or_missing_passwords_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="at least 8 characters"):
        protect_pdf(_pdf(tmp_path / "a.pdf"), "short")
    (tmp_path / "pw.txt").write_text("")
    with pytest.raises(ExportError, match="at least 8"):
        read_password_file(tmp_path / "pw.txt")
    with pytest.raises(ExportError, match="Cannot read the password file"):
        read_password_file(tmp_path / "missing.txt")
    (tmp_path / "pw.txt").write_text("  long enough password  \nsecond line ignored\n")
    assert read_password_file(tmp_path / "pw.txt") == "long enough password"
