"""Read a federation's spreadsheet (CSV or XLSX) into rows, refusing what cannot be read reliably."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .problems import Problem

# An XLSX file is a zip archive: a few megabytes can unpack to gigabytes (a "zip bomb"). The sheets
# of the largest import allowed (SEKG_IMPORT_MAX_ROWS rows) unpack to a few hundred megabytes.
MAX_XLSX_UNCOMPRESSED = 1 << 30


@dataclass
class Table:
    columns: list[str]
    rows: list[dict[str, str]]  # row number (as in the spreadsheet, header = 1) -> values by column
    numbers: list[int]


class UnreadableError(Exception):
    """The file cannot be read as a table; the problems say why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.en for p in problems))
        self.problems = problems


def read_table(path: Path, data: bytes | None = None) -> Table:
    """Read CSV (UTF-8, `,` or `;` separated) or XLSX (first sheet) into a table of strings."""
    path = Path(path)
    data = path.read_bytes() if data is None else data
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(data)
    if path.suffix.lower() in {".csv", ".txt", ""}:
        return _read_csv(data)
    raise UnreadableError([Problem(0, None, path.suffix, "unsupported file type; use .csv or .xlsx",
                                   "tipo di file non supportato; usare .csv o .xlsx")])


def _read_csv(data: bytes) -> Table:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableError([Problem(line, None, repr(data[exc.start:exc.start + 4]),
                                       f"the file is not UTF-8 (byte {exc.start}, line {line}); save it as "
                                       "CSV UTF-8", f"il file non è in UTF-8 (byte {exc.start}, riga {line}); "
                                       "salvarlo come CSV UTF-8")]) from None
    if not text.strip():
        raise UnreadableError([Problem(0, None, "", "the file is empty", "il file è vuoto")])
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise UnreadableError([Problem(reader.line_num, None, "", f"malformed CSV: {exc}",
                                       f"CSV non valido: {exc}")]) from None
    return _table(records)


def _unpacked_size(data: bytes) -> int:
    """Return how many bytes the archive's parts declare unpacked (zipfile never reads past that); 0 if not a zip."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return 0  # load_workbook says what is wrong with it


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    unpacked = _unpacked_size(data)
    if unpacked > MAX_XLSX_UNCOMPRESSED:
        raise UnreadableError([Problem(0, None, "", f"the workbook unpacks to {unpacked} bytes; the limit is "
                                       f"{MAX_XLSX_UNCOMPRESSED}: save it as CSV or split it",
                                       f"la cartella di lavoro scompattata occupa {unpacked} byte; il limite è "
                                       f"{MAX_XLSX_UNCOMPRESSED}: salvarla come CSV o dividerla")])
    records = []
    try:
        # read-only mode parses the sheets lazily: a damaged sheet fails while its rows are read
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise ValueError("the workbook has no sheet")
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                records.append([_cell(v) for v in values])
        finally:
            workbook.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl and its XML parser raise many kinds; all mean "not readable"
        message = str(exc)[:300] or type(exc).__name__
        raise UnreadableError([Problem(0, None, "", f"not a readable XLSX workbook: {message}",
                                       f"cartella di lavoro XLSX non leggibile: {message}")]) from None
    return _table(records)


def _cell(value) -> str:
    """Write a spreadsheet cell as text: dates as ISO dates, whole numbers without '.0'."""
    import datetime

    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(records: list[list[str]]) -> Table:
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()
    if not records:
        raise UnreadableError([Problem(0, None, "", "the file is empty", "il file è vuoto")])
    header = [cell.strip() for cell in records[0]]
    while header and not header[-1]:
        header.pop()
    problems = []
    seen = set()
    for index, name in enumerate(header):
        if not name:
            problems.append(Problem(1, f"#{index + 1}", "", "a column has no name", "una colonna non ha nome"))
        elif name in seen:
            problems.append(Problem(1, name, name, "the column appears twice", "la colonna compare due volte"))
        seen.add(name)
    if problems:
        raise UnreadableError(problems)
    rows, numbers = [], []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len([c for c in record[len(header):] if c.strip()]) > 0:
            raise UnreadableError([Problem(number, None, "", "the row has more cells than the header has columns",
                                           "la riga ha più celle delle colonne dell'intestazione")])
        rows.append({name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header)})
        numbers.append(number)
    return Table(header, rows, numbers)
