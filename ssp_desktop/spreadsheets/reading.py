"""Reading a workbook or CSV file safely into a table of headings and rows.

Checks come before parsing, cheapest first, so a hostile or wrong file is refused
without being loaded: the file's size; its first bytes (an encrypted workbook is an
OLE compound file, an old ``.xls`` too; a workbook is a zip); the zip's member count,
total uncompressed size and compression ratio (a "zip bomb" is refused before any
XML is read); then, once loaded, the number of rows and columns that hold data.

The heading row is found rather than assumed: trackers often start with a title, a
protective marking or a date. It is the row among the first few that the caller's
``score`` (how many headings it recognises) likes best. Merged cells in the heading
row are refused (a heading must be one cell per column), a vertical merge in the data
(a priority written once beside its actions) is filled down, and a row merged right
across is read as a section heading and skipped. Cells holding formulas are noted,
not evaluated: the importer refuses them in the columns it uses.

pandas and openpyxl are imported here, so nothing imports this module at start-up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssp_desktop.spreadsheets.errors import SpreadsheetError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FormulaCell", "Limits", "Table", "column_letter", "read_table"]

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
# How far down a heading row may be (below titles, markings and notes).
HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True)
class Limits:
    """Caps that keep a huge or hostile file from exhausting the machine."""

    max_file_bytes: int = 25 * 1024 * 1024
    # openpyxl holds the whole workbook as objects (several times its XML): 120 MB of XML
    # is far more than a 50,000-row tracker needs, and keeps memory within a laptop's.
    max_uncompressed_bytes: int = 120 * 1024 * 1024
    max_members: int = 2_000
    max_ratio: int = 250  # uncompressed / compressed, for members over 1 MB
    max_rows: int = 50_000
    max_columns: int = 250


@dataclass(frozen=True)
class FormulaCell:
    """A cell holding a formula: where, in which column of the table, and what."""

    ref: str
    column: int
    text: str


@dataclass(frozen=True, eq=False)
class Table:
    """One sheet's headings and rows as read, before any meaning is given to them.

    ``frame`` has one column per heading (numbered from 0) and is indexed by the row
    number the user sees in Excel, so every message can say "row 12". Cells are
    ``None``, ``str``, ``float``, ``int``, ``bool`` or ``datetime``.
    """

    source: str
    sheet: str | None
    sheets: tuple[str, ...]
    header_row: int
    headers: tuple[str, ...]
    letters: tuple[str, ...]
    frame: pd.DataFrame
    formulas: tuple[FormulaCell, ...] = ()
    skipped_rows: tuple[int, ...] = ()
    # (row, column) of cells filled in from a vertical merge above them, with the merged
    # range ("C3:C4"): an importer refuses them in a column that needs its own value per
    # row (a title copied from the row above is not the row's title).
    filled: Mapping[tuple[int, int], str] = field(default_factory=dict)

    def merged_from_above(self, row: int, column: int) -> str | None:
        """The merged range ("B3:B4") if this cell was filled in from the one above."""
        return self.filled.get((row, column))

    @property
    def where(self) -> str:
        return f"{self.source}, sheet {self.sheet!r}" if self.sheet else self.source

    def column_name(self, column: int) -> str:
        return f"column {self.letters[column]} ({self.headers[column]})"


def column_letter(index: int) -> str:
    """Excel's letters for a 0-based column index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


Score = Callable[[Sequence[str]], int]


def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    preferred_sheets: Sequence[str] = (),
    header_row: int | None = None,
    score: Score | None = None,
    limits: Limits | None = None,
) -> Table:
    """Read ``path`` (xlsx, xlsm or csv) into a :class:`Table`, or refuse it clearly."""
    source = open_source(path, limits)
    return source.table(
        sheet=sheet, preferred_sheets=preferred_sheets, header_row=header_row, score=score
    )


class Source:
    """A spreadsheet file checked and loaded once; each sheet is read into a table on
    request (the importer may look at it as a tracker and as measure data)."""

    def __init__(self, path: Path, limits: Limits, workbook: Any | None, grid: Grid | None):
        self.path = path
        self.limits = limits
        self._workbook = workbook
        self._grid = grid
        self._extracted: dict[
            str, tuple[Grid, list[Merge], dict[tuple[int, int], FormulaCell], str]
        ] = {}

    @property
    def sheets(self) -> tuple[str, ...]:
        return tuple(self._workbook.sheetnames) if self._workbook is not None else ()

    def table(
        self,
        *,
        sheet: str | None = None,
        preferred_sheets: Sequence[str] = (),
        header_row: int | None = None,
        score: Score | None = None,
    ) -> Table:
        if self._workbook is None:
            assert self._grid is not None
            grid = {r: dict(cells) for r, cells in self._grid.items()}
            return _build_table(
                self.path.name, None, (), grid, [], {}, header_row, score, self.limits
            )
        if sheet is None:
            return self._best_sheet(preferred_sheets, header_row, score)
        if sheet not in self._extracted:
            self._extracted[sheet] = _extract(self.path, self._workbook, sheet, ())
        raw, merges, formulas, name = self._extracted[sheet]
        grid = {r: dict(cells) for r, cells in raw.items()}  # the table fills merges in
        return _build_table(
            self.path.name, name, self.sheets, grid, merges, formulas, header_row, score,
            self.limits,
        )  # fmt: skip

    def _best_sheet(
        self, preferred: Sequence[str], header_row: int | None, score: Score | None
    ) -> Table:
        """A sheet named as expected ("Actions"), else the readable sheet whose headings
        are best recognised (a workbook often opens on notes or a chart)."""
        assert self._workbook is not None
        worksheets = list(self._workbook.worksheets)
        visible = [ws for ws in worksheets if ws.sheet_state == "visible"] or worksheets
        if not visible:
            raise SpreadsheetError(f"{self.path.name} has no worksheets.")
        wanted = {p.casefold() for p in preferred}
        names = [ws.title for ws in visible if ws.title.casefold() in wanted][:1]
        if not names:
            names = [
                ws.title for ws in visible if any(c.value is not None for c in ws._cells.values())
            ] or [visible[0].title]
        best: tuple[int, int, Table] | None = None
        first_error: SpreadsheetError | None = None
        for index, name in enumerate(names):
            try:
                table = self.table(sheet=name, header_row=header_row, score=score)
            except SpreadsheetError as exc:
                first_error = first_error or exc
                continue
            rank = score(table.headers) if score else 0
            if best is None or (rank, -index) > (best[0], best[1]):
                best = (rank, -index, table)
        if best is None:
            assert first_error is not None
            raise first_error
        return best[2]


def open_source(path: Path, limits: Limits | None = None) -> Source:
    """Check ``path`` (size, kind, zip sizes) and load it, or refuse it clearly."""
    limits = limits or Limits()
    name = path.name
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise SpreadsheetError(f"{path} is a folder, not a spreadsheet.")
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise SpreadsheetError(f"There is no file at {path}.") from None
    except OSError as exc:
        raise SpreadsheetError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if size == 0:
        raise SpreadsheetError(f"{name} is an empty file: there is nothing to import.")
    if size > limits.max_file_bytes:
        raise SpreadsheetError(
            f"{name} is {size / 2**20:.1f} MB, more than the "
            f"{limits.max_file_bytes / 2**20:.0f} MB a spreadsheet import accepts. "
            "Split it, or remove pictures and unused sheets."
        )
    if head.startswith(OLE_MAGIC):
        raise SpreadsheetError(_ole_message(path))
    if head.startswith(ZIP_MAGIC):
        _check_zip(path, limits)
        return Source(path, limits, _load_workbook(path), None)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        raise SpreadsheetError(
            f"{name} is not an Excel workbook (it may be damaged, or renamed from another "
            "kind of file). Open it in Excel, save it as an Excel Workbook (.xlsx) and try again."
        )
    return Source(path, limits, None, _load_csv(path, limits))


# --------------------------------------------------------------------------- sniffing


def _ole_message(path: Path) -> str:
    # An encrypted OOXML package is a compound file whose directory names the streams
    # "EncryptionInfo" and "EncryptedPackage" (UTF-16 names in the directory sectors).
    with path.open("rb") as f:
        data = f.read(min(path.stat().st_size, 4 * 1024 * 1024))
    if "EncryptedPackage".encode("utf-16-le") in data:
        return (
            f"{path.name} is protected with a password, so it cannot be read. Open it in "
            "Excel, remove the password (File > Info > Protect Workbook > Encrypt with "
            "Password, clear the box) and save it again, then import that copy."
        )
    return (
        f"{path.name} is an old-style Excel file (.xls, Excel 97-2003). Open it in Excel "
        "and save it as an Excel Workbook (.xlsx), then import that."
    )


def _check_zip(path: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SpreadsheetError(
            f"{path.name} is damaged or is not an Excel workbook. Open it in Excel, save it "
            "as an Excel Workbook (.xlsx) and try again."
        ) from None
    names = {i.filename for i in infos}
    if len(infos) > limits.max_members:
        raise SpreadsheetError(f"{path.name} has too many parts ({len(infos):,}) to be a tracker.")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise SpreadsheetError(
            f"{path.name} unpacks to {total / 2**20:,.0f} MB, more than the "
            f"{limits.max_uncompressed_bytes / 2**20:,.0f} MB an import accepts. "
            "Split the workbook or delete unused sheets."
        )
    for info in infos:
        if info.file_size > 2**20 and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise SpreadsheetError(
                f"{path.name} looks malformed: its part {info.filename} unpacks "
                f"{info.file_size // max(info.compress_size, 1):,} times larger than it is "
                "stored. It was not read."
            )
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            kind = "a Word document"
        elif any(n.startswith("ppt/") for n in names):
            kind = "a PowerPoint presentation"
        elif "content.xml" in names:
            kind = "an OpenDocument file (save it from LibreOffice as Excel 2007-365 .xlsx)"
        else:
            kind = "a zip file"
        raise SpreadsheetError(f"{path.name} is not an Excel workbook: it is {kind}.")


# --------------------------------------------------------------------------- loading

Grid = dict[int, dict[int, Any]]  # row number (1-based) -> column index (0-based) -> value
Merge = tuple[int, int, int, int]  # min_row, min_col (0-based), max_row, max_col (0-based)


def _load_workbook(path: Path) -> Any:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, conditional
            # formats): irrelevant to reading values, and noise for the user.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, data_only=False, keep_links=False, rich_text=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SpreadsheetError(
            f"{path.name} could not be read as an Excel workbook ({type(exc).__name__}). "
            "Open it in Excel, save it again as .xlsx and try again."
        ) from None


def _extract(
    path: Path, wb: Any, sheet: str | None, preferred: Sequence[str]
) -> tuple[Grid, list[Merge], dict[tuple[int, int], FormulaCell], str]:
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    sheets = tuple(wb.sheetnames)
    worksheets = list(wb.worksheets)
    chosen = None
    if sheet is not None:
        chosen = next((ws for ws in worksheets if ws.title == sheet), None)
        if chosen is None:
            chosen = next(
                (ws for ws in worksheets if ws.title.casefold() == sheet.casefold()), None
            )
        if chosen is None:
            raise SpreadsheetError(
                f"{path.name} has no sheet called {sheet!r}; its sheets are "
                f"{', '.join(repr(s) for s in sheets)}."
            )
    else:
        visible = [ws for ws in worksheets if ws.sheet_state == "visible"] or worksheets
        wanted = [p.casefold() for p in preferred]
        for candidate in wanted:
            chosen = next((ws for ws in visible if ws.title.casefold() == candidate), None)
            if chosen is not None:
                break
        if chosen is None:
            chosen = next(
                (ws for ws in visible if any(c.value is not None for c in ws._cells.values())),
                visible[0] if visible else None,
            )
        if chosen is None:
            raise SpreadsheetError(f"{path.name} has no worksheets.")
    grid: Grid = {}
    formulas: dict[tuple[int, int], FormulaCell] = {}
    for (row, col), cell in chosen._cells.items():
        value = cell.value
        if value is None:
            continue
        if cell.data_type == "f" or isinstance(value, ArrayFormula | DataTableFormula):
            text = value.text if isinstance(value, ArrayFormula) else str(value)
            formulas[(row, col - 1)] = FormulaCell(cell.coordinate, col - 1, str(text or "")[:80])
            value = f"={text}" if text and not str(text).startswith("=") else text
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if "%" in (cell.number_format or ""):
                # Excel keeps 85% as 0.85; the user typed, and sees, 85.
                value = round(value * 100, 9)
        elif isinstance(value, dt.time):
            value = value.isoformat()
        grid.setdefault(row, {})[col - 1] = value
    merges = [
        (r.min_row, r.min_col - 1, r.max_row, r.max_col - 1) for r in chosen.merged_cells.ranges
    ]
    return grid, merges, formulas, chosen.title


def _decode_utf16(path: Path, raw: bytes) -> str | None:
    """Excel's "Unicode Text" (and "CSV UTF-16"): UTF-16 with a byte order mark, or
    without one when every other byte of ASCII text is zero. None if it is not."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    else:
        head = raw[:4096]
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and odd.count(0) > 0.9 * len(odd) and 0 not in even:
            encoding = "utf-16-le"
        elif len(head) >= 4 and even.count(0) > 0.9 * len(even) and 0 not in odd:
            encoding = "utf-16-be"
        else:
            return None
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise SpreadsheetError(
            f"{path.name} looks like Unicode text (UTF-16) but is damaged: it could not be "
            "read. Save it from Excel again, as CSV UTF-8 (Comma delimited)."
        ) from None


def _load_csv(path: Path, limits: Limits) -> Grid:
    raw = path.read_bytes()
    utf16 = _decode_utf16(path, raw)
    if utf16 is not None:
        text = utf16.removeprefix("\ufeff")
    elif b"\x00" in raw[:65536]:
        raise SpreadsheetError(
            f"{path.name} is not a spreadsheet: it is neither an Excel workbook (.xlsx) nor "
            "a CSV text file."
        )
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Excel on Windows saves "CSV (Comma delimited)" in the Windows code page.
            text = raw.decode("cp1252", errors="replace")
    sample = text[:65536]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    grid: Grid = {}
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1):
            cells = {i: v for i, v in enumerate(record) if v.strip()}
            if cells:
                grid[number] = cells
                if len(grid) > limits.max_rows + HEADER_SEARCH_ROWS:
                    break
    except csv.Error as exc:
        raise SpreadsheetError(f"{path.name} is not a readable CSV file ({exc}).") from None
    return grid


# --------------------------------------------------------------------------- the table


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _range_text(merge: Merge) -> str:
    r1, c1, r2, c2 = merge
    return f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}"


def _build_table(
    source: str,
    sheet: str | None,
    sheets: tuple[str, ...],
    grid: Grid,
    merges: list[Merge],
    formulas: dict[tuple[int, int], FormulaCell],
    header_row: int | None,
    score: Score | None,
    limits: Limits,
) -> Table:
    import pandas as pd

    where = f"{source}, sheet {sheet!r}" if sheet else source
    if not grid:
        raise SpreadsheetError(f"{where} is empty: there is nothing to import.")
    data_rows = len(grid)
    if data_rows > limits.max_rows + 1:
        raise SpreadsheetError(
            f"{where} has more than {limits.max_rows:,} rows with data; an import takes at "
            f"most {limits.max_rows:,}. Split it into smaller files."
        )
    width = max(max(cells) for cells in grid.values()) + 1
    if width > limits.max_columns:
        raise SpreadsheetError(
            f"{where} uses {width:,} columns; an import reads at most {limits.max_columns}. "
            "Delete the columns you do not need."
        )
    rows = sorted(grid)
    if header_row is None:
        candidates = [r for r in rows[:HEADER_SEARCH_ROWS] if len(grid[r]) >= 2]
        if not candidates:
            raise SpreadsheetError(
                f"{where} has no heading row: put one heading per column in a row above "
                "the data (for example Ref, Action, Lead, Due, RAG)."
            )

        def rank(r: int) -> int:
            return score([_cell_text(grid[r].get(c)) for c in range(width)]) if score else 0

        header_row = max(candidates, key=lambda r: (rank(r), -r))
    elif header_row not in grid:
        raise SpreadsheetError(
            f"Row {header_row} of {where} is empty, so it cannot be the headings."
        )
    for merge in merges:
        r1, _c1, r2, _c2 = merge
        if r1 <= header_row <= r2:
            raise SpreadsheetError(
                f"{where}: cells {_range_text(merge)} are merged in the heading row "
                f"(row {header_row}). Headings must be one row with one cell per column: "
                "unmerge them (Home > Merge & Center) and give each column its own heading."
            )
    header_formulas = [f.ref for (r, _c), f in formulas.items() if r == header_row]
    if header_formulas:
        raise SpreadsheetError(
            f"{where}: the heading in {header_formulas[0]} is a formula. Type the heading as text."
        )
    # Fill vertical merges in the data; a row merged across is a section heading.
    skipped: set[int] = set()
    filled: dict[tuple[int, int], str] = {}
    for merge in merges:
        r1, c1, r2, c2 = merge
        if r2 < header_row:
            continue
        value = grid.get(r1, {}).get(c1)
        if c1 == c2:
            for r in range(r1 + 1, r2 + 1):
                if value is not None:
                    grid.setdefault(r, {})[c1] = value
                    filled[(r, c1)] = _range_text(merge)
            continue
        outside = [c for c in grid.get(r1, {}) if not c1 <= c <= c2]
        if r1 == r2 and not outside:
            skipped.add(r1)
            continue
        raise SpreadsheetError(
            f"{where}: cells {_range_text(merge)} are merged across columns. Each column "
            "needs its own value in every row: unmerge them and fill in the cells."
        )
    headers: list[str] = []
    seen: dict[str, int] = {}
    letters = tuple(column_letter(c) for c in range(width))
    data_numbers = [r for r in sorted(grid) if r > header_row and r not in skipped]
    for c in range(width):
        heading = _cell_text(grid[header_row].get(c))
        if not heading:
            heading = f"(column {letters[c]})"
        key = heading.casefold()
        if key in seen:
            heading = f"{heading} ({letters[c]})"
        seen[key] = c
        headers.append(heading)
    if not data_numbers:
        raise SpreadsheetError(
            f"{where} has headings in row {header_row} but no rows of data below them: "
            "there is nothing to import."
        )
    if len(data_numbers) > limits.max_rows:
        raise SpreadsheetError(
            f"{where} has {len(data_numbers):,} rows; an import takes at most "
            f"{limits.max_rows:,}. Split it into smaller files."
        )
    records = [[grid[r].get(c) for c in range(width)] for r in data_numbers]
    frame = pd.DataFrame(records, index=data_numbers, columns=range(width), dtype=object)
    kept_formulas = tuple(
        f for (r, _c), f in sorted(formulas.items()) if r > header_row and r not in skipped
    )
    return Table(
        source=source,
        sheet=sheet,
        sheets=sheets,
        header_row=header_row,
        headers=tuple(headers),
        letters=letters,
        frame=frame,
        formulas=kept_formulas,
        skipped_rows=tuple(sorted(skipped)),
        filled=filled,
    )
