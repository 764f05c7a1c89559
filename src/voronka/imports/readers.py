"""Reading the files people have: CSV in any delimiter and encoding, Excel, vCard.

:func:`inspect_file` looks at an uploaded file once (format, encoding, delimiter, header row,
a few rows for the preview) and refuses what is not a table of records with a message that
says what is wrong. :func:`iter_rows` then streams the data rows as lists of strings, each with
its row number as the user sees it in the file, so a job can skip to its checkpoint and the
rejected-rows report can point at the line to fix."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from voronka.imports import vcard

CSV = "csv"
XLSX = "xlsx"
VCARD = "vcard"
DELIMITERS = (";", ",", "\t", "|")
SAMPLE_BYTES = 256 * 1024
MAX_COLUMNS = 500
csv.field_size_limit(1024 * 1024)


class ImportFileError(Exception):
    """The file cannot be imported; the message tells the user why, in their language."""


@dataclass
class Source:
    """What :func:`inspect_file` learned about a file; stored on the job to read it again."""

    format: str
    encoding: str = ""
    delimiter: str = ""
    has_header: bool = True
    headers: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "encoding": self.encoding, "delimiter": self.delimiter,
            "has_header": self.has_header, "headers": self.headers,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls(
            format=data["format"], encoding=data.get("encoding", ""),
            delimiter=data.get("delimiter", ""), has_header=data.get("has_header", True),
            headers=list(data.get("headers", [])),
        )  # fmt: skip


# --- bytes → text ----------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1251 (Russian Excel, Outlook).

    The whole file is decoded as UTF-8 in blocks (a few ms per MB): a Windows-1251 file whose
    first megabyte happens to be ASCII is still recognised by a Cyrillic letter further on."""
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        else:
            encoding = "utf-8"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        try:
            while block := f.read(1024 * 1024):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1251"
    return encoding


def _looks_binary(sample: bytes, encoding: str) -> bool:
    if encoding == "utf-16":
        return False
    if b"\x00" in sample:
        return True
    text = sample.decode(encoding if encoding != "utf-8-sig" else "utf-8", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return controls > max(2, len(text) // 100)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields."""
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut in the middle
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        if common < 2:
            continue
        score = counts.count(common) / len(counts) + min(common, 50) / 1000
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- inspection ------------------------------------------------------------------------------


def inspect_file(path: Path, filename: str = "", sample_rows: int = 10) -> Source:
    """Format, encoding, delimiter, headers and the first rows; ImportFileError if unusable."""
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    name = filename.lower()
    if head.startswith(b"PK\x03\x04"):
        source = _inspect_xlsx(path, sample_rows)
    elif name.endswith((".xls",)) or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("This is an old Excel (.xls) file. Save it as .xlsx or CSV and upload it again.")
        )
    else:
        encoding = detect_encoding(path)
        if _looks_binary(head, encoding):
            raise ImportFileError(
                _("This is not a text file. Upload a CSV, an Excel (.xlsx) or a vCard (.vcf) file.")
            )
        text = head.decode(encoding, errors="ignore")
        if name.endswith((".vcf", ".vcard")) or text.lstrip("\ufeff \r\n\t").upper().startswith(
            "BEGIN:VCARD"
        ):
            source = _inspect_vcard(path, encoding, sample_rows)
        else:
            source = _inspect_csv(path, encoding, text, sample_rows)
    if not any(h.strip() for h in source.headers):
        raise ImportFileError(_("The file has no columns."))
    if not source.sample:
        raise ImportFileError(_("The file has a header but no rows to import."))
    return source


def _header_or_data(first: list[str]) -> bool:
    """Whether the first row is a header: no cell of it looks like an e-mail or a phone."""
    for cell in first:
        text = cell.strip()
        if "@" in text and "." in text.split("@")[-1]:
            return False
        digit_count = sum(ch.isdigit() for ch in text)
        if digit_count >= 7 and digit_count >= len(text) * 0.6:
            return False
    return True


def _column_names(count: int) -> list[str]:
    return [_("Column %(n)d") % {"n": i + 1} for i in range(count)]


def _finish(source: Source, rows: list[list[str]], sample_rows: int) -> Source:
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ImportFileError(_("The file is empty."))
    first = rows[0]
    width = max(len(r) for r in rows)
    if width > MAX_COLUMNS:
        raise ImportFileError(_("The file has more than %(n)d columns.") % {"n": MAX_COLUMNS})
    source.has_header = _header_or_data(first)
    if source.has_header:
        source.headers = [h.strip() for h in first] + [""] * (width - len(first))
        data = rows[1:]
    else:
        source.headers = _column_names(width)
        data = rows
    for i, header in enumerate(source.headers):
        if not header:
            source.headers[i] = _("Column %(n)d") % {"n": i + 1}
    source.sample = [_fit(r, len(source.headers)) for r in data[:sample_rows]]
    return source


def _fit(row: list[str], width: int) -> list[str]:
    if len(row) < width:
        return row + [""] * (width - len(row))
    return row[:width]


def _inspect_csv(path: Path, encoding: str, text: str, sample_rows: int) -> Source:
    delimiter = _sniff_delimiter(text)
    rows: list[list[str]] = []
    try:
        with path.open(encoding=encoding, newline="", errors="replace") as f:
            for row in csv.reader(f, delimiter=delimiter):
                rows.append(row)
                if len(rows) > sample_rows + 20:
                    break
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ImportFileError(
            _("The file cannot be read as CSV: %(error)s") % {"error": exc}
        ) from exc
    source = Source(format=CSV, encoding=encoding, delimiter=delimiter)
    source = _finish(source, rows, sample_rows)
    if len(source.headers) < 2 and not _single_column_ok(source):
        raise ImportFileError(
            _(
                "No columns were found: the file is not a table separated by commas, "
                "semicolons or tabs."
            )
        )
    return source


def _single_column_ok(source: Source) -> bool:
    """A one-column file is fine when it is a list of e-mails or phones, or its header names a
    field ("E-mail", "Телефон"); one column of prose is not a table."""
    from voronka.imports.kinds import KINDS
    from voronka.imports.mapping import suggest

    if source.has_header and any(suggest(source.headers, kind)[0] for kind in KINDS):
        return True
    cells = [r[0].strip() for r in source.sample if r and r[0].strip()]
    return bool(cells) and not _header_or_data(cells[:20])


def _inspect_xlsx(path: Path, sample_rows: int) -> Source:
    rows: list[list[str]] = []
    try:
        for _number, row in _xlsx_rows(path):
            rows.append(row)
            if len(rows) > sample_rows + 20:
                break
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(
            _("The file cannot be read as an Excel workbook (.xlsx): %(error)s")
            % {"error": type(exc).__name__}
        ) from exc
    return _finish(Source(format=XLSX), rows, sample_rows)


def _inspect_vcard(path: Path, encoding: str, sample_rows: int) -> Source:
    try:
        table = vcard.read_table(path.read_text(encoding=encoding))
    except vcard.VCardError as exc:
        raise ImportFileError(str(exc)) from exc
    if not table.rows:
        raise ImportFileError(_("The vCard file holds no cards."))
    return Source(
        format=VCARD, encoding=encoding, has_header=True, headers=table.headers,
        sample=table.rows[:sample_rows],
    )  # fmt: skip


# --- streaming rows --------------------------------------------------------------------------


def iter_rows(path: Path, source: Source) -> Iterator[tuple[int, list[str]]]:
    """(row number in the file, values) of every non-empty data row, padded to the headers."""
    width = len(source.headers)
    if source.format == CSV:
        rows: Iterator[tuple[int, list[str]]] = _csv_rows(path, source)
    elif source.format == XLSX:
        rows = _xlsx_rows(path)
    elif source.format == VCARD:
        table = vcard.read_table(path.read_text(encoding=source.encoding))
        rows = ((i + 1, r) for i, r in enumerate(table.rows))
        width = max(width, len(table.headers))
    else:
        raise ImportFileError(f"unknown format {source.format!r}")
    skip_header = source.has_header and source.format != VCARD
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if skip_header:
            skip_header = False
            continue
        yield number, (row if len(row) == width else _fit(row, width))


def _csv_rows(path: Path, source: Source) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding=source.encoding, newline="", errors="replace") as f:
        reader = csv.reader(f, delimiter=source.delimiter or ",")
        yield from enumerate(reader, start=1)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        # Excel keeps every number as a float: a phone 79161234567 comes back as 79161234567.0.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            _("The file cannot be read as an Excel workbook (.xlsx): %(error)s")
            % {"error": type(exc).__name__}
        ) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheets."))
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            row = [_cell(v) for v in values]
            while row and row[-1] == "":
                row.pop()
            yield number, row
    finally:
        workbook.close()


def count_rows(path: Path, source: Source) -> int:
    return sum(1 for _row in iter_rows(path, source))


def read_sample(path: Path, source: Source, limit: int = 10) -> list[list[str]]:
    rows = []
    for _number, row in iter_rows(path, source):
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


__all__ = [
    "CSV", "VCARD", "XLSX", "ImportFileError", "Source", "count_rows", "detect_encoding",
    "inspect_file", "iter_rows", "read_sample",
]  # fmt: skip
