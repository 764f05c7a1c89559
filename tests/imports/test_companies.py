"""Importing companies: INN checks and dedupe by INN, e-mail or phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from voronka.core.events import json_safe
from voronka.core.models import AuditEntry
from voronka.customers.models import Company
from voronka.customers.services import company_search_text, company_snapshot
from voronka.imports.models import ImportRejection

pytestmark = pytest.mark.django_db

FILE = (
    "Наименование;ИНН;Сайт;Телефон;Эл. почта;Численность;Город;Юридический адрес;Теги\r\n"
    "Ромашка;7707083893;romashka.ru;8 (495) 123-45-67;INFO@romashka.ru;120;Москва;"
    "г. Москва, ул. Ленина, 1;Опт, VIP\r\n"
    "Вектор;7707083894;;;;;Казань;;\r\n"
    "Гранит;;https://granit.example;;sales@granit.example;1-10;;;\r\n"
    ";500100732259;;;;;;;\r\n"
).encode("cp1251")


def test_a_company_file(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    job = upload(alice, "companies", "companies.csv", FILE)
    assert job.mapping == ["name", "inn", "website", "phone", "email", "size", "region",
                           "legal_address", "tags"]  # fmt: skip
    job = run_import(alice, job)
    assert (job.created, job.rejected) == (2, 2)
    romashka = Company.objects.get(name="Ромашка")
    assert (romashka.inn, romashka.website, romashka.phone, romashka.email, romashka.size) == (
        "7707083893", "https://romashka.ru", "+74951234567", "info@romashka.ru", "51-250",
    )  # fmt: skip
    assert [(a.kind, a.address) for a in romashka.addresses.all()] == [
        ("legal", "г. Москва, ул. Ленина, 1")
    ]
    assert sorted(t.name for t in romashka.tags.all()) == ["VIP", "Опт"]
    assert romashka.owner_id == alice.pk
    reasons = dict(ImportRejection.objects.filter(job=job).values_list("row", "reason"))
    assert reasons == {
        3: "INN / tax id: the INN's check digits are wrong (7707083894)",
        5: "Name: this field is required",
    }
    for company in Company.objects.prefetch_related("tags", "addresses"):
        assert company.search_text == company_search_text(company)
        entry = AuditEntry.objects.get(object_id=company.pk, content_type__model="company")
        assert (entry.channel, entry.changes) == ("import", json_safe(company_snapshot(company)))


def test_companies_dedupe_by_inn(
    alice: Any, make_company: Callable[..., Any], upload: Callable[..., Any],
    run_import: Callable[..., Any],
) -> None:  # fmt: skip
    existing = make_company(alice, name="ПАО Сбербанк", inn="7707083893")
    job = run_import(alice, upload(alice, "companies", "c.csv", FILE), dedupe="skip")
    assert (job.created, job.skipped) == (1, 1)
    job = run_import(alice, upload(alice, "companies", "c.csv", FILE), dedupe="update")
    assert (job.created, job.updated) == (0, 2)  # Гранит now exists too (by e-mail)
    existing.refresh_from_db()
    assert (existing.name, existing.region) == ("Ромашка", "Москва")
