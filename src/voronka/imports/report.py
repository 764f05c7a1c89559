"""What an import shows back: the rejected-rows CSV and the preview of the first rows.

The report keeps the file's own columns after "Row" and "Reason", in the file's delimiter, so
it opens in the same spreadsheet, the rows can be fixed there and the file imported again."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from voronka.imports import selectors
from voronka.imports.kinds import importer_class
from voronka.imports.models import ImportJob


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP "CSV injection"), yet a phone such
    as "+7 916 123-45-67" stays as typed so the fixed file imports again."""
    if text.startswith(("=", "@", "\t", "\r")) or (
        text.startswith(("+", "-")) and any(ch.isalpha() for ch in text)
    ):
        return "'" + text
    return text


class _Line:
    """A file-like that hands back what csv.writer wrote."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def take(self) -> str:
        value = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return value


def csv_lines(job: ImportJob, *, dry_run: bool) -> Iterator[str]:
    """UTF-8 with BOM (Excel reads it right) in the source file's delimiter."""
    line = _Line()
    delimiter = job.source.get("delimiter") or ";"
    writer = csv.writer(line, delimiter=delimiter)
    yield "\ufeff"
    writer.writerow([_("Row"), _("Reason"), *job.source.get("headers", [])])
    yield line.take()
    for rejection in selectors.rejections(job, dry_run=dry_run).iterator(chunk_size=2000):
        writer.writerow([rejection.row, _safe(rejection.reason), *map(_safe, rejection.values)])
        yield line.take()


def file_name(job: ImportJob, dry_run: bool) -> str:
    stem = Path(job.file_name).stem.replace('"', "")[:80] or "import"
    suffix = "check" if dry_run else "rejected"
    return f"{stem}-{suffix}-{job.pk}.csv"


def preview_labels(entity: str) -> list[str]:
    return [str(label) for label in importer_class(entity).preview_labels]
