"""The annual update to scrutiny (``pack --annual``), read back from the PDF."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pypdf
import pytest

from ssp_desktop.cli import EXIT_OK, main
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def annual(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("annual")
    store_path = folder / "sample.sqlite"
    with Store.open(store_path, create=True) as store:
        write_sample(store)
    out = folder / "annual.pdf"
    args = ["pack", "--store", str(store_path), "--annual", "2023/24", "--out", str(out)]
    assert main(args) == EXIT_OK
    return store_path, out


def test_the_annual_update_follows_the_scrutiny_report_format(
    annual: tuple[Path, Path],
) -> None:
    pages = [_norm(p.extract_text()) for p in pypdf.PdfReader(annual[1]).pages]
    text = " ".join(pages)
    assert "Report to Communities & Housing Scrutiny Committee" in pages[0]
    assert "Subject Safer Stockport Partnership Plan 2022-25: annual update 2023/24" in pages[0]
    assert "1. Purpose of the report 1.1 This report gives the Committee" in pages[0]
    # Achievements by priority, measures over four quarters, funding, next year's plan.
    assert "2.1 PVP: Protecting Vulnerable People" in text
    assert "Ref Measure Q1 Q2 Q3 Q4 Target RAG" in text
    assert "Awards against allocations, 2023/24" in text
    assert "5. The action plan for 2024/25" in text
    assert "Ref Action Priority Lead Starts Due" in text


def test_the_annual_update_is_tagged_and_the_same_each_time(
    annual: tuple[Path, Path], tmp_path: Path
) -> None:
    store_path, first = annual
    again = tmp_path / "again.pdf"
    args = ["pack", "--store", str(store_path), "--annual", "2023/24", "--out", str(again)]
    assert main(args) == EXIT_OK
    assert again.read_bytes() == first.read_bytes()
    with pikepdf.open(first) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        assert pdf.Root.MarkInfo.Marked
        assert pdf.Root.Lang == "en-GB"


def test_a_bad_year_is_refused(annual: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    assert main(["pack", "--store", str(annual[0]), "--annual", "2023", "--out", str(out)]) != 0
    assert not out.exists()
