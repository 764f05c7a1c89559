"""Suggested mappings of sales files (English and Russian headers, CRM exports) and the way
amounts, percents and dates are read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from voronka.core.errors import ServiceValidationError
from voronka.imports.cleaning import parse_day, parse_money, parse_percent
from voronka.imports.mapping import clean_mapping, suggest


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "headers", "expected"),
    [
        ("deals", ["Сделка", "Бюджет, руб.", "Стадия сделки", "Ответственный за сделку",
                   "Телефон контакта", "Контрагент", "Планируемая дата закрытия"],
         ["title", "amount", "stage", "owner", "contact_phone", "company",
          "expected_close_date"]),
        ("deals", ["Deal Name", "Deal Value", "Pipeline", "Deal Stage", "Deal Owner",
                   "Close Date", "Deal ID"],
         ["title", "amount", "pipeline", "stage", "owner", "expected_close_date",
          "external_id"]),
        ("products", ["Код товара", "Номенклатура", "Цена за ед.", "Валюта", "Ставка НДС",
                      "Единица измерения", "Группа товаров", "В продаже"],
         ["sku", "name", "price", "currency", "vat_rate", "unit", "category", "active"]),
        ("products", ["Article", "Item", "Price (EUR)", "Price, $", "Tax rate"],
         ["sku", "name", "price:EUR", "price", "vat_rate"]),
        ("leads", ["ФИО", "Телефон", "E-mail", "Компания", "ИНН", "UTM_SOURCE", "Комментарий",
                   "Статус"],
         ["fio", "phone", "email", "company_name", "inn", "utm_source", "message", "status"]),
    ],
)  # fmt: skip
def test_suggestions(kind: str, headers: list[str], expected: list[str]) -> None:
    assert suggest(headers, kind) == expected


@pytest.mark.django_db
def test_what_each_kind_needs_mapped() -> None:
    with pytest.raises(ServiceValidationError, match="Choose the column with the deal name"):
        clean_mapping("deals", ["Сумма"], ["amount"])
    with pytest.raises(ServiceValidationError) as exc:
        clean_mapping("products", ["Цена"], ["price"])
    assert [e.message for e in exc.value.errors] == [
        "Choose the column with the SKU (article).", "Choose the column with the product name.",
    ]  # fmt: skip
    assert clean_mapping("leads", ["Телефон"], ["phone"]) == ["phone"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,50", (Decimal("1234.50"), "")),
        ("1\u00a0234\u00a0567,89 ₽", (Decimal("1234567.89"), "RUB")),
        ("1,234.50", (Decimal("1234.50"), "")),
        ("1.234,50 €", (Decimal("1234.50"), "EUR")),
        ("$99.90", (Decimal("99.90"), "USD")),
        ("100 руб.", (Decimal(100), "RUB")),
        ("12 500 USD", (Decimal(12500), "USD")),
        ("", (None, "")),
    ],
)
def test_amounts_as_spreadsheets_write_them(
    text: str, expected: tuple[Decimal | None, str]
) -> None:
    assert parse_money(text) == expected


@pytest.mark.parametrize("text", ["7,91612E+10", "двенадцать", "1 234,50 попугаев", "1-2"])
def test_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_money(text)


def test_percents_and_dates() -> None:
    assert parse_percent("20%") == Decimal(20)
    assert parse_percent("12,5 %") == Decimal("12.5")
    assert parse_percent("0.4") == Decimal(40)  # an Excel percent cell
    assert parse_percent("0,5%") == Decimal("0.5")
    assert parse_day("31.12.2030") == dt.date(2030, 12, 31)  # in the future: fine for deals
    assert parse_day("2030-01-15") == dt.date(2030, 1, 15)
    with pytest.raises(ValueError, match="not a date"):
        parse_day("31.02.2030")
