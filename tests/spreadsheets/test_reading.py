"""Reading spreadsheets: what is found, and every bad file refused with a clear reason."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from ssp_desktop.domain.periods import Quarter
from ssp_desktop.spreadsheets.cells import CellError, parse_date, parse_period
from ssp_desktop.spreadsheets.errors import SpreadsheetError
from ssp_desktop.spreadsheets.importing import prepare
from ssp_desktop.spreadsheets.mapping import header_score
from ssp_desktop.spreadsheets.reading import OLE_MAGIC, Limits, read_table
from tests.spreadsheets.sheets import TRACKER_HEADINGS, write_csv, write_xlsx


def test_heading_row_is_found_below_titles_and_markings(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["OFFICIAL-SENSITIVE"],
            ["Safer Stockport action tracker 2024/25", None, None, None, "Printed 1 Oct"],
            [],
            TRACKER_HEADINGS,
            ["PVP-01", "Fund IDVAs", "PVP"],
        ],
        merges=["A2:D2"],
    )
    table = read_table(path, score=header_score("actions"))
    assert table.header_row == 4
    assert table.headers[:2] == ("Ref No.", "Action")
    assert list(table.frame.index) == [5]
    assert table.sheet == "Tracker"


def test_a_priority_merged_down_its_actions_is_filled_in(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["Ref", "Action", "Theme"],
            ["Protecting vulnerable people"],
            ["PVP-01", "Fund IDVAs", "PVP"],
            ["PVP-02", "Train staff", None],
        ],
        merges=["A2:C2", "C3:C4"],
    )
    table = read_table(path, score=header_score("actions"))
    assert table.skipped_rows == (2,)  # the section heading row merged across
    assert table.frame.loc[4, 2] == "PVP"


def test_percentages_read_as_the_number_shown(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [["Measure", "Quarter", "Value"], ["Feel safe", "2023/24 Q2", 0.855]],
        formats={"C2": "0.0%"},
    )
    table = read_table(path)
    assert table.frame.loc[2, 2] == pytest.approx(85.5)


@pytest.mark.parametrize(
    ("text", "quarter"),
    [
        ("2023/24 Q2", Quarter(2023, 2)),
        ("Q2 2023/24", Quarter(2023, 2)),
        ("2023-24 Q2", Quarter(2023, 2)),
        ("Jul-Sep 2023", Quarter(2023, 2)),
        ("July - September 2023", Quarter(2023, 2)),
        ("Jan-Mar 2024", Quarter(2023, 4)),
        (dt.datetime(2023, 9, 30), Quarter(2023, 2)),
        ("30/09/2023", Quarter(2023, 2)),
        ("2024-01-15", Quarter(2023, 4)),
    ],
)
def test_periods_in_council_spellings(text: object, quarter: Quarter) -> None:
    assert parse_period(text) == quarter


@pytest.mark.parametrize("text", ["2023/24 Q5", "Summer 2023", "Aug-Oct 2023", "2023/24"])
def test_unreadable_periods_say_which_forms_work(text: str) -> None:
    with pytest.raises(CellError, match=r"2023/24 Q2|quarter"):
        parse_period(text)


def test_dates_written_as_text_are_read_when_unambiguous_and_explained_otherwise() -> None:
    assert parse_date("31/03/2025") == dt.date(2025, 3, 31)
    assert parse_date("2025-03-31") == dt.date(2025, 3, 31)
    assert parse_date("31 March 2025") == dt.date(2025, 3, 31)
    with pytest.raises(CellError, match="is text, not a date: type it as a date"):
        parse_date("end of March")
    with pytest.raises(CellError, match="not a real date"):
        parse_date("31/02/2025")


def test_csv_in_windows_code_page_with_semicolons(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        [["Ref", "Action", "Lead"], ["PVP-01", "Café outreach", "Police"]],
        sep=";",
        encoding="cp1252",
    )
    table = read_table(path, score=header_score("actions"))
    assert table.headers == ("Ref", "Action", "Lead")
    assert table.frame.loc[2, 1] == "Café outreach"
    assert table.sheet is None


# --------------------------------------------------------------------------- bad files


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "tracker.xlsx"
    path.write_bytes(b"%PDF-1.7 not really a spreadsheet")
    with pytest.raises(SpreadsheetError, match="is not an Excel workbook"):
        read_table(path)
    binary = tmp_path / "photo.dat"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(SpreadsheetError, match="neither an Excel workbook"):
        read_table(binary)


def test_a_word_document_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "tracker.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(SpreadsheetError, match="it is a Word document"):
        read_table(path)


def test_password_protected_workbook(tmp_path: Path) -> None:
    # Excel saves an encrypted workbook as an OLE compound file with these streams.
    path = tmp_path / "secret.xlsx"
    body = bytearray(4096)
    body[1024:1024] = "EncryptionInfo".encode("utf-16-le")
    body[2048:2048] = "EncryptedPackage".encode("utf-16-le")
    path.write_bytes(OLE_MAGIC + bytes(body))
    with pytest.raises(SpreadsheetError, match="protected with a password") as err:
        read_table(path)
    assert "remove the password" in str(err.value)


def test_old_xls_workbook(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(OLE_MAGIC + bytes(4096))
    with pytest.raises(SpreadsheetError, match=r"old-style Excel file \(\.xls"):
        read_table(path)


def test_merged_headings_are_refused_with_the_range(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["Ref", "Action", "Dates", None, "RAG"],
            [None, None, "Start", "Due", None],
            ["PVP-01", "Fund IDVAs", "01/04/2024", "31/03/2025", "Green"],
        ],
        merges=["C1:D1"],
    )
    with pytest.raises(SpreadsheetError, match=r"cells C1:D1 are merged in the heading row"):
        read_table(path, score=header_score("actions"))


def test_headings_over_two_rows_merged_down_are_refused(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["Ref", "Action", "Progress", None],
            [None, None, "RAG", "Update"],
            ["PVP-01", "Fund IDVAs", "Green", "On track"],
        ],
        merges=["A1:A2", "B1:B2", "C1:D1"],
    )
    with pytest.raises(SpreadsheetError, match=r"merged in the heading row"):
        read_table(path, score=header_score("actions"))


def test_empty_sheet_and_headings_without_rows(tmp_path: Path) -> None:
    empty = write_xlsx(tmp_path / "empty.xlsx", [])
    with pytest.raises(SpreadsheetError, match="is empty"):
        read_table(empty)
    only_headings = write_xlsx(tmp_path / "headings.xlsx", [TRACKER_HEADINGS])
    with pytest.raises(SpreadsheetError, match="no rows of data"):
        read_table(only_headings)
    blank_csv = tmp_path / "blank.csv"
    blank_csv.write_text("\n,,\n")
    with pytest.raises(SpreadsheetError, match="is empty"):
        read_table(blank_csv)


def test_file_size_cap(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "big.csv", [["Ref", "Action"]] + [[f"A{i}", "x" * 50] for i in range(100)]
    )
    with pytest.raises(SpreadsheetError, match=r"more than the 0 MB"):
        read_table(path, limits=Limits(max_file_bytes=1000))


def test_row_cap(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "rows.csv", [["Ref", "Action"]] + [[f"A{i}", "x"] for i in range(60)]
    )
    with pytest.raises(SpreadsheetError, match="an import takes at most 50 rows|more than 50 rows"):
        read_table(path, limits=Limits(max_rows=50))
    assert len(read_table(path, limits=Limits(max_rows=60)).frame) == 60


def test_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (8 * 1024 * 1024))
    with pytest.raises(SpreadsheetError, match="unpacks .* times larger"):
        read_table(path)
    with pytest.raises(SpreadsheetError, match="unpacks to 8 MB"):
        read_table(path, limits=Limits(max_uncompressed_bytes=1024 * 1024))


def test_damaged_zip(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(SpreadsheetError, match="damaged or is not an Excel workbook"):
        read_table(path)


def test_unknown_sheet_names_the_sheets_there(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", [["Ref", "Action"], ["A", "B"]])
    with pytest.raises(SpreadsheetError, match="no sheet called 'Q3'; its sheets are 'Tracker'"):
        read_table(path, sheet="Q3")


def test_the_kind_is_found_from_the_headings(tmp_path: Path) -> None:
    measures = write_csv(
        tmp_path / "m.csv",
        [["Measure", "Period", "Value", "GM"], ["Feel safe", "2023/24 Q1", 80, 78]],
    )
    assert prepare(measures).kind == "measures"
    tracker = write_csv(tmp_path / "a.csv", [TRACKER_HEADINGS, ["PVP-01", "Fund IDVAs"]])
    assert prepare(tracker).kind == "actions"


def test_the_sheet_with_recognised_headings_is_chosen(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "book.xlsx",
        [["How to fill in this tracker"], ["Use one row", "per action"]],
        sheet="Read me",
        extra_sheets={"Chart data": [], "2024-25": [TRACKER_HEADINGS, ["PVP-01", "Fund"]]},
    )
    table = read_table(path, score=header_score("actions"))
    assert table.sheet == "2024-25"
    assert table.sheets == ("Read me", "Chart data", "2024-25")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_excel_unicode_text_is_read(tmp_path: Path, encoding: str) -> None:
    """Excel's "Unicode Text" is UTF-16, tab separated (with a byte order mark; some
    tools leave it out). It used to be refused as "not a CSV text file"."""
    path = write_csv(
        tmp_path / "t.txt",
        [["Ref", "Action", "Lead"], ["PVP-01", "Café outreach — ☂", "Police"]],
        sep="\t",
        encoding=encoding,
    )
    assert b"\x00" in path.read_bytes()
    table = read_table(path, score=header_score("actions"))
    assert table.headers == ("Ref", "Action", "Lead")
    assert table.frame.loc[2, 1] == "Café outreach — ☂"


def test_a_cell_filled_in_from_a_vertical_merge_is_marked(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [["Ref", "Action", "Theme"], ["PVP-01", "Fund IDVAs", "PVP"], ["PVP-02", None, None]],
        merges=["B2:B3", "C2:C3"],
    )
    table = read_table(path, score=header_score("actions"))
    assert table.merged_from_above(3, 1) == "B2:B3"
    assert table.merged_from_above(2, 1) is None  # the merge's own (top) cell
