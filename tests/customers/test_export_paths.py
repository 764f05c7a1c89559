"""The CSV export is the same file whichever way it is written (W8).

The Export button hands the rows to ``write_csv``; on PostgreSQL it has the database write the
lines with COPY, elsewhere (and for values SQL would print differently) Python writes them
row by row. A user must get the same bytes either way, in their language and time zone."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from voronka.accounts.models import User
from voronka.core.services import custom_field_create
from voronka.customers.export import _csv_cell_writer, _csv_text, contact_table, write_csv
from voronka.customers.models import Contact, Tag
from voronka.customers.selectors import CONTACT_SPEC, parse_list_query

pytestmark = pytest.mark.django_db

EXPORT = "/customers/contacts/export/"
POSTGRES = connection.vendor == "postgresql"


def _download(client: Any, zone: str = "UTC", **params: Any) -> tuple[bytes, list[str]]:
    """The file the Export button gives, and the SQL statements that made it."""
    with timezone.override(zone), CaptureQueriesContext(connection) as ctx:
        response = client.get(EXPORT, {"format": "csv", **params})
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
    return body, [q["sql"] for q in ctx.captured_queries]


def _row_by_row(user: Any, language: str, zone: str, **params: Any) -> bytes:
    """The same export written by Python one row at a time (rows handed over as a generator)."""
    user = User.objects.select_related("role").get(pk=user.pk)
    with translation.override(language), timezone.override(zone):
        headers, rows = contact_table(user, parse_list_query(CONTACT_SPEC, params, user))
        return b"".join(write_csv(headers, (row for row in rows)))


def _cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def awkward(alice: Any, bob: Any, make_user: Any, team_a: Any, make_contact: Any,
            make_company: Any, set_scope: Any) -> dict[str, Any]:  # fmt: skip
    """Contacts whose every cell is awkward in some way for a CSV writer."""
    set_scope("sales_rep", "team")
    bob.first_name, bob.last_name = "\u2003", "\u00a0"  # blank around Python's whitespace
    bob.save(update_fields=["first_name", "last_name"])
    for key, kind, options in (
        ("region", "select", ["North", "=South"]), ("budget", "money", []),
        ("score", "number", []), ("vip", "boolean", []), ("langs", "multi_select", ["ru", "en"]),
        ("since", "date", []), ("note", "long_text", []), ("site", "url", []),
    ):  # fmt: skip
        custom_field_create(entity="customers.contact", label=key.title(), key=key, type=kind,
                            options=options)  # fmt: skip
    company = make_company(alice, name="-Minus, Inc.")
    contacts = {
        "formula": make_contact(
            alice, last_name='=HYPERLINK("x")', first_name="@me", middle_name="+1",
            position="-2", company_id=company.pk, tags=["b", "A", "Ёж", "a2"],
            emails=["z@example.com", "a@example.com"], phones=["+79161234567", "+74951234567"],
            custom={"region": "=South", "budget": "1234567.5", "score": "-3.25", "vip": True,
                    "langs": ["en", "ru"], "since": "2020-02-29",
                    "note": 'line one\nline "two", three', "site": "https://example.com"},
            birthday="1980-05-17", email_consent=True,
        ),
        "quiet": make_contact(bob, last_name="", first_name="Only", custom={"vip": False}),
        "comma": make_contact(alice, last_name="Doe, Jr.", first_name='Quote"d',
                              custom={"score": 0, "budget": 100}),
    }  # fmt: skip
    # Text the services would strip (an older import, say) and a \r inside a cell.
    Contact.objects.filter(pk=contacts["formula"].pk).update(source="\tTab", middle_name="+1\r2")
    # A contact created at a whole second and one with microseconds.
    Contact.objects.filter(pk=contacts["quiet"].pk).update(
        created_at=dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.UTC)
    )
    Contact.objects.filter(pk=contacts["comma"].pk).update(
        created_at=dt.datetime(2024, 10, 27, 1, 0, 0, 120000, tzinfo=dt.UTC)
    )
    return contacts


@pytest.mark.parametrize(("language", "zone"), [("en", "UTC"), ("ru", "Europe/Moscow")])
def test_the_export_button_gives_the_same_file_as_row_by_row(
    client: Any, alice: Any, awkward: dict[str, Any], language: str, zone: str
) -> None:
    alice.language = language
    alice.save(update_fields=["language"])
    client.force_login(alice)
    body, sqls = _download(client, zone)
    assert body == _row_by_row(alice, language, zone)
    assert any(s.startswith("COPY") for s in sqls) == POSTGRES

    rows = {r[0]: r for r in _cells(body)[1:]}
    formula = rows[str(awkward["formula"].pk)]
    assert formula[1:6] == ['\'=HYPERLINK("x")', "'@me", "'+1\r2", "'-Minus, Inc.", "'-2"]
    assert formula[6] == "z@example.com, a@example.com"
    assert formula[7] == "'+79161234567, +74951234567"  # the cell starts with +
    assert formula[8] == "1980-05-17"
    assert formula[10] == "'\tTab"
    assert formula[11] == "A, a2, b, Ёж"
    yes = "Yes" if language == "en" else "Да"
    assert formula[12:14] == [yes, "No" if language == "en" else "Нет"]
    assert formula[15:] == ["'=South", "1234567.5", "-3.25", yes, "ru, en", "2020-02-29",
                            'line one\nline "two", three', "https://example.com"]  # fmt: skip
    quiet = rows[str(awkward["quiet"].pk)]
    assert quiet[9] == "bob"  # a blank full name falls back to the username
    expected = "2024-03-31 03:30:00" if zone == "Europe/Moscow" else "2024-03-31 00:30:00"
    assert quiet[14] == expected
    comma = rows[str(awkward["comma"].pk)]
    assert comma[1:3] == ["Doe, Jr.", 'Quote"d']
    assert comma[14].endswith(":00.120000")


@pytest.mark.parametrize(
    "odd",
    [{"note": ["a", "b"]}, {"score": 1e-05}, {"score": 0.1 + 0.2}, {"region": {"x": 1}},
     {"langs": ["ru", 5]}],
)  # fmt: skip
def test_values_sql_would_print_otherwise_are_written_by_python(
    client: Any, alice: Any, awkward: dict[str, Any], odd: dict[str, Any]
) -> None:
    """Data that did not come through the services (an old import, a script) still exports
    as Python prints it; such an export simply takes the row-by-row path."""
    contact = awkward["comma"]
    Contact.objects.filter(pk=contact.pk).update(custom=odd)
    client.force_login(alice)
    body, sqls = _download(client)
    assert body == _row_by_row(alice, "en", "UTC")
    assert not any(s.startswith("COPY") for s in sqls)
    row = {r[0]: r for r in _cells(body)[1:]}[str(contact.pk)]
    key, value = next(iter(odd.items()))
    header = _cells(body)[0]
    shown = row[header.index(key.title())]
    assert shown == {"note": "['a', 'b']", "score": str(value), "region": "{'x': 1}",
                     "langs": "ru, 5"}[key]  # fmt: skip


def test_a_filtered_export_has_only_its_rows_with_their_children(
    client: Any, alice: Any, charlie: Any, awkward: dict[str, Any], make_contact: Any
) -> None:
    make_contact(charlie, last_name="Outsider", tags=["A"], emails=["o@example.com"])
    client.force_login(alice)
    body, _sqls = _download(client, tag="a")
    assert body == _row_by_row(alice, "en", "UTC", tag="a")
    rows = _cells(body)[1:]
    assert [r[0] for r in rows] == [str(awkward["formula"].pk)]
    assert rows[0][11] == "A, a2, b, Ёж"
    assert Tag.objects.filter(name="A").count() == 1


@pytest.mark.parametrize(
    "value",
    ["plain", "", "=1+1", "+7", "-", "@x", "\tx", "\rx", "'quoted", None, 0, -5, 10**20, 1.5,
     -0.25, True, False, dt.date(2020, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
     dt.datetime(2024, 1, 2, 3, 4, 5, 6),  # noqa: DTZ001 - a naive one is written as it is
     decimal.Decimal("-1.50"), ["a"]],
)  # fmt: skip
def test_the_quick_cell_writer_writes_what_csv_text_writes(value: Any) -> None:
    for language, zone in (("en", "UTC"), ("ru", "Asia/Vladivostok")):
        with translation.override(language), timezone.override(zone):
            assert _csv_cell_writer()(value) == _csv_text(value)


def test_the_owner_name_is_stripped_of_what_python_strips() -> None:
    from voronka.customers.export_copy import PY_WHITESPACE

    assert "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace()) == PY_WHITESPACE
