"""Export of a contact or company list to CSV and XLSX: every row of the filter, not a page.

A text cell that a spreadsheet would run as a formula (it begins with = + - @, a tab or a
carriage return) gets a leading single quote (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, BinaryIO

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from voronka.core.custom_fields import definitions
from voronka.core.models import CustomField
from voronka.customers.display import custom_text
from voronka.customers.models import Contact, ContactEmail, ContactPhone
from voronka.customers.selectors import (
    CONTACT_SPEC,
    ListQuery,
    company_export_rows,
    filtered_queryset,
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


# Contact columns read as plain values; the company name through its LEFT JOIN.
CONTACT_EXPORT_COLUMNS = (
    "id", "last_name", "first_name", "middle_name", "company__name", "position", "birthday",
    "owner_id", "source", "email_consent", "sms_consent", "created_at",
)  # fmt: skip
EXPORT_CHUNK = 2000


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _of_contacts(ids: list[int]) -> RawSQL:
    """``contact_id__in=`` these ids as one parameter (an array on PostgreSQL, JSON on SQLite):
    a chunk's 2,000 placeholders cost more to prepare and parse than the query takes to run."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def _joined(pairs: Iterable[tuple[int, str]]) -> dict[int, str]:
    """{contact id: "a, b"} from (contact id, value) pairs in the order given."""
    grouped: dict[int, list[str]] = defaultdict(list)
    for contact_id, value in pairs:
        grouped[contact_id].append(value)
    return {contact_id: ", ".join(values) for contact_id, values in grouped.items()}


def _children(ids: list[int]) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """{contact id: "a, b"} of these contacts' e-mails and phones (in id order) and tags (by
    name, as ``sorted`` orders them): one query each."""
    emails = _joined(
        ContactEmail.objects.filter(contact_id__in=_of_contacts(ids))
        .order_by("id")
        .values_list("contact_id", "email")
    )
    phones = _joined(
        ContactPhone.objects.filter(contact_id__in=_of_contacts(ids))
        .order_by("id")
        .values_list("contact_id", "phone")
    )
    tag_names: dict[int, list[str]] = defaultdict(list)
    for contact_id, name in Contact.tags.through.objects.filter(
        contact_id__in=_of_contacts(ids)
    ).values_list("contact_id", "tag__name"):
        tag_names[contact_id].append(name)
    tags = {contact_id: ", ".join(sorted(names)) for contact_id, names in tag_names.items()}
    return emails, phones, tags


def _export_values(user: Any, query: ListQuery, fields: list[CustomField]) -> QuerySet[Any]:
    """The list's rows (its visibility, filters and sort) as ``CONTACT_EXPORT_COLUMNS``
    values, then the custom values when there are custom fields."""
    columns = CONTACT_EXPORT_COLUMNS + (("custom",) if fields else ())
    return (
        filtered_queryset(CONTACT_SPEC, user, query)
        .order_by(*[f"-{k.name}" if k.descending else k.name for k in query.sort])
        .values_list(*columns)
    )


def _add_owners(owners: dict[int, str], ids: set[int | None]) -> None:
    """Add the owners not yet in ``owners`` as the list shows one (``str(user)``: the full
    name, else the username)."""
    missing = {pk for pk in ids if pk is not None and pk not in owners}
    if missing:
        owners.update((u.pk, str(u)) for u in get_user_model().objects.filter(pk__in=missing))


def _contact_export_values(
    user: Any, query: ListQuery, fields: list[CustomField]
) -> Iterator[list[Any]]:
    """Every contact of the list as raw cell values, in the list's order.

    The rows are those of ``filtered_queryset`` (the list's visibility, filters and sort),
    read as values and streamed in chunks; each chunk's e-mails, phones and tags are one query
    each and owners are read once. Model instances and Django's per-row prefetch cost about
    0.3 ms a row, which capped an export near 3,000 rows/s (W8)."""
    qs = _export_values(user, query, fields)
    owners: dict[int, str] = {}
    for chunk in _chunks(qs.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        emails, phones, tags = _children([row[0] for row in chunk])
        _add_owners(owners, {row[7] for row in chunk})
        for row in chunk:
            contact_id = row[0]
            cells = [
                contact_id,
                row[1],
                row[2],
                row[3],
                row[4] or "",
                row[5],
                emails.get(contact_id, ""),
                phones.get(contact_id, ""),
                row[6],
                owners.get(row[7], "") if row[7] is not None else "",
                row[8],
                tags.get(contact_id, ""),
                row[9],
                row[10],
                row[11],
            ]
            if fields:
                custom = row[12] or {}
                cells += [custom_text(cf, custom.get(cf.key)) for cf in fields]
            yield cells


def contact_table(user: Any, query: ListQuery) -> tuple[list[str], Iterable[list[Any]]]:
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
    return headers, ContactExportRows(user, query, fields)


class ContactExportRows:
    """The rows of a contact export. Iterating gives each row's typed cells (what XLSX and any
    other writer use); ``write_csv`` asks :meth:`csv_lines` first, which on PostgreSQL has the
    database write the very same CSV lines with ``COPY … TO STDOUT``."""

    def __init__(self, user: Any, query: ListQuery, fields: list[CustomField]) -> None:
        self.user = user
        self.query = query
        self.fields = fields

    def __iter__(self) -> Iterator[list[Any]]:
        return _contact_export_values(self.user, self.query, self.fields)

    def csv_lines(self, yes: str, no: str, zone: Any) -> Iterator[bytes] | None:
        """The CSV lines (``\\r\\n``-terminated, one or several whole lines per piece) of every
        row as ``write_csv`` would write them, or None when only the row-by-row path can
        promise the same bytes."""
        if connection.vendor == "sqlite":
            return _sqlite_csv_lines(self.user, self.query, self.fields, yes=yes, no=no, zone=zone)
        from voronka.customers.export_copy import contact_copy_lines

        return contact_copy_lines(self.user, self.query, self.fields, yes=yes, no=no, zone=zone)


def _sqlite_csv_lines(
    user: Any, query: ListQuery, fields: list[CustomField], *, yes: str, no: str, zone: Any
) -> Iterator[bytes]:
    """The export's CSV on SQLite: the rows of ``_contact_export_values`` read with the
    driver's own cursor and written a chunk at a time.

    Through the ORM each value passes Django's converters (a naive time made aware, JSON
    decoded, …) and then each cell ``write_csv``'s writer, which was two thirds of an export's
    time (W8). Here the driver's values (SQLite's adapters already give dates, UTC times and
    booleans) become the cells directly, with the same rules: formula-like text quoted, the
    time in the user's zone, custom values through ``custom_text``.
    tests/customers/test_export_paths.py compares the bytes with the row-by-row path's."""
    qs = _export_values(user, query, fields)
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    cell = _csv_cell_writer()
    owners: dict[int, str] = {}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    utc = dt.UTC
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(EXPORT_CHUNK):
            emails, phones, tags = _children([row[0] for row in chunk])
            _add_owners(owners, {row[7] for row in chunk})
            out = []
            for row in chunk:
                contact_id = row[0]
                texts = (
                    row[1], row[2], row[3], row[4] or "", row[5], emails.get(contact_id, ""),
                    phones.get(contact_id, ""), row[6].isoformat() if row[6] else "",
                    owners.get(row[7], "") if row[7] is not None else "", row[8],
                    tags.get(contact_id, ""),
                )  # fmt: skip
                cells: list[Any] = [contact_id]
                cells += ["'" + t if t.startswith(FORMULA_STARTS) else t for t in texts]
                created = row[11].replace(tzinfo=utc).astimezone(zone)
                cells += [
                    yes if row[9] else no,
                    yes if row[10] else no,
                    created.replace(tzinfo=None).isoformat(sep=" "),
                ]
                if fields:
                    custom = json.loads(row[12]) if row[12] else {}
                    cells += [cell(custom_text(cf, custom.get(cf.key))) for cf in fields]
                out.append(cells)
            writer.writerows(out)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()


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


def _csv_cell_writer() -> Any:
    """``_csv_text`` with the common types first: text (most cells), None, whole numbers, yes/no
    and timestamps are handled inline, anything else goes through ``_csv_text`` itself. The
    same text comes out; it only skips escape_cell's chain of checks for every cell."""
    yes, no = str(_("Yes")), str(_("No"))
    zone = timezone.get_current_timezone()

    def cell(value: Any) -> str:
        kind = type(value)
        if kind is str:
            return "'" + value if value.startswith(FORMULA_STARTS) else value
        if value is None:
            return ""
        if kind is int:
            return str(value)
        if kind is bool:
            return yes if value else no
        if kind is dt.datetime and value.utcoffset() is not None:
            return value.astimezone(zone).replace(tzinfo=None).isoformat(sep=" ")
        return _csv_text(value)

    return cell


def write_csv(headers: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """CSV in UTF-8 with a BOM (so Excel reads Cyrillic), streamed in pieces of about 64 KB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff".encode()
    cell = _csv_cell_writer()
    writer.writerow([_csv_text(v) for v in headers])
    lines = (
        rows.csv_lines(cell(True), cell(False), timezone.get_current_timezone())
        if isinstance(rows, ContactExportRows)
        else None
    )
    if lines is not None:
        out = [buffer.getvalue().encode()]
        size = 0
        for line in lines:
            out.append(line)
            size += len(line)
            if size > 64 * 1024:
                yield b"".join(out)
                out, size = [], 0
        yield b"".join(out)
        return
    for row in rows:
        writer.writerow([cell(v) for v in row])
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
