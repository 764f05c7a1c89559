"""What the fast paths of a big contact import must not change: every row found by search
afterwards (the trigram index is merged on a second connection on PostgreSQL while rows are
streamed), the same rows whether chunks are big or small, and the chunk boundaries a resumed
run relies on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from voronka.customers.models import Contact, ContactEmail, ContactPhone
from voronka.customers.selectors import contact_search
from voronka.imports.models import ImportChunk
from voronka.imports.runner import FIRST_CHUNK_ROWS

pytestmark = pytest.mark.django_db


def _file(rows: int) -> bytes:
    lines = ["Фамилия;Имя;E-mail;Телефон;Компания"]
    for i in range(rows):
        lines.append(f"Щукин{i};Жорж;zh.{i}@bulk.example;8 (902) {i // 10000:03d}-{i % 10000:04d};"
                     f"{'Альфа' if i % 3 else ''}")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def test_every_imported_contact_is_found_by_search(
    admin: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    rows = 2_500
    job = run_import(admin, upload(admin, "contacts", "big.csv", _file(rows)), size=1_000)
    assert (job.created, job.rows_total) == (rows, rows)
    assert ContactEmail.objects.count() == ContactPhone.objects.count() == rows
    assert [c.last_name for c in contact_search(admin, "щукин1234")] == ["Щукин1234"]
    assert [c.last_name for c in contact_search(admin, "zh.2499@bulk")] == ["Щукин2499"]
    assert [c.last_name for c in contact_search(admin, "9020001234")] == ["Щукин1234"]
    if connection.vendor == "postgresql":
        # Through the trigram index itself (pending list and merged entries alike).
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(
                "SELECT count(*) FROM customers_contact WHERE search_text LIKE %s", ["%жорж%"]
            )
            assert cur.fetchone()[0] == rows


def test_on_postgresql_the_first_chunk_is_short_and_the_rest_full(
    admin: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    rows = FIRST_CHUNK_ROWS + 6_000
    job = run_import(admin, upload(admin, "contacts", "big.csv", _file(rows)), size=5_000)
    chunks = list(ImportChunk.objects.filter(job=job).values_list("first_row", "rows"))
    if connection.vendor == "postgresql":
        first = FIRST_CHUNK_ROWS
        assert chunks == [(0, first), (first, 5_000), (first + 5_000, 1_000)]
    else:
        assert chunks == [(0, 5_000), (5_000, 2_000)]
    assert (job.rows_done, job.rows_total, Contact.objects.count()) == (rows, rows, rows)
