"""Export of a contact or company list to CSV and XLSX: every row of the filter, not a page.

A text cell that a spreadsheet would run as a formula (it begins with = + - @, a tab or a
carriage return) gets a leading single quote (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from voronka.core.custom_fields import definitions
from voronka.customers.display import custom_text
from voronka.customers.selectors import (
    ListQuery,
    company_export_rows,
    contact_export_rows,
)
from voronka.customers.services import COMPANY_ENTITY, CONTACT_ENTITY

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """The value safe to open in a spreadsheet: formula-like text is quoted, numbers kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return value
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        # Spreadsheets have no time zones: write the wall clock of the user's zone.
        value = (
            timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        )
        return value
    if hasattr(value, "isoformat"):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _owner(record: Any) -> str:
    return str(record.owner) if record.owner_id and record.owner else ""


def _tags(record: Any) -> str:
    return ", ".join(sorted(t.name for t in record.tags.all()))


def contact_table(user: Any, query: ListQuery) -> tuple[list[str], Iterator[list[Any]]]:
    """Headers and rows of every contact the list shows, custom fields as columns."""
    fields = definitions(CONTACT_ENTITY)
    headers = [
        _("ID"),
        _("Last name"),
        _("First name"),
        _("Middle name"),
        _("Company"),
        _("Position"),
        _("E-mails"),
        _("Phones"),
        _("Birthday"),
        _("Owner"),
        _("Source"),
        _("Tags"),
        _("Agrees to e-mail marketing"),
        _("Agrees to SMS marketing"),
        _("Created"),
    ] + [cf.label for cf in fields]

    def rows() -> Iterator[list[Any]]:
        for c in contact_export_rows(user, query):
            custom = c.custom or {}
            yield [
                c.pk,
                c.last_name,
                c.first_name,
                c.middle_name,
                c.company.name if c.company_id and c.company else "",
                c.position,
                ", ".join(e.email for e in c.emails.all()),
                ", ".join(p.phone for p in c.phones.all()),
                c.birthday,
                _owner(c),
                c.source,
                _tags(c),
                c.email_consent,
                c.sms_consent,
                c.created_at,
            ] + [custom_text(cf, custom.get(cf.key)) for cf in fields]

    return headers, rows()


def company_table(user: Any, query: ListQuery) -> tuple[list[str], Iterator[list[Any]]]:
    fields = definitions(COMPANY_ENTITY)
    headers = [
        _("ID"),
        _("Name"),
        _("Legal name"),
        _("INN / tax id"),
        _("Industry"),
        _("Size"),
        _("Website"),
        _("Phone"),
        _("E-mail"),
        _("Region"),
        _("Addresses"),
        _("Owner"),
        _("Tags"),
        _("Created"),
    ] + [cf.label for cf in fields]

    def rows() -> Iterator[list[Any]]:
        for c in company_export_rows(user, query):
            custom = c.custom or {}
            yield [
                c.pk,
                c.name,
                c.legal_name,
                c.inn,
                c.industry,
                c.get_size_display(),
                c.website,
                c.phone,
                c.email,
                c.region,
                "; ".join(a.address for a in c.addresses.all()),
                _owner(c),
                _tags(c),
                c.created_at,
            ] + [custom_text(cf, custom.get(cf.key)) for cf in fields]

    return headers, rows()


def _csv_text(value: Any) -> str:
    value = escape_cell(value)
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def write_csv(headers: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """CSV in UTF-8 with a BOM (so Excel reads Cyrillic), streamed line by line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff".encode()
    writer.writerow([_csv_text(v) for v in headers])
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def write_xlsx(headers: list[str], rows: Iterable[list[Any]]) -> BinaryIO:
    """An XLSX workbook written in constant memory (openpyxl's write-only mode) to a temporary
    file, returned open at its start; the file disappears when it is closed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Export"))
    sheet.append([escape_cell(h) for h in headers])
    for row in rows:
        sheet.append([escape_cell(v) for v in row])
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(tmp)
    tmp.seek(0)
    return tmp
