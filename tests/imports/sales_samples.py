"""Sales files as people have them, byte for byte: deals saved from a Russian Excel as "CSV
(разделители — точки с запятой)", a deals workbook (.xlsx), a price list, a leads export."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

NBSP = "\u00a0"  # Russian Excel groups thousands with a no-break space

# Windows-1251, semicolons, CRLF; amounts as Excel shows them ("1 234,50"), dates dd.mm.yyyy;
# quotes only where a cell has quotes or semicolons. Row 4 names a stage the pipeline lacks.
DEALS_RU_TEXT = (
    "ID;Название сделки;Сумма;Валюта;Воронка;Этап;Ответственный;E-mail контакта;Компания;ИНН;"
    "Дата закрытия;Комментарий\r\n"
    f"A-1;Поставка станков;1{NBSP}234,50;RUB;Оптовые продажи;Переговоры;Ольга Смирнова;"
    'Ivan.Petrov@Mail.ru;"ООО ""Ромашка""";7707083893;31.12.2026;\r\n'
    f"A-2;Внедрение CRM;250{NBSP}000;;Оптовые продажи;предложение;bob;nobody@example.com;"
    "Вектор;;15.11.2026;звонить после 18:00\r\n"
    "A-3;Лицензии;12000;USD;Оптовые продажи;Отгрузка;alice;;;;;\r\n"
    ";;;;;;;;;;;\r\n"
    "A-4;Сервисный контракт;99,9;;;;;;;;2027-01-31;\r\n"
)
DEALS_RU = DEALS_RU_TEXT.encode("cp1251")
PIPELINE = "Оптовые продажи"
STAGES = ["Новая", "Предложение", "Переговоры", "Успешно"]


def xlsx(rows: list[list[Any]]) -> bytes:
    """An Excel workbook (openpyxl) with these rows on its first sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# An English export: numbers and dates as real Excel cells, not text.
DEALS_XLSX_ROWS: list[list[Any]] = [
    ["Deal name", "Amount", "Currency", "Pipeline", "Stage", "Owner", "Contact email", "Company",
     "Expected close date", "Probability", "External ID"],
    ["Annual support", 48000.5, "EUR", "Оптовые продажи", "Предложение", "alice@example.com",
     None, "Вектор", dt.datetime(2026, 10, 1), 0.4, 1001],  # noqa: DTZ001 (Excel: naive)
    ["Pilot project", 1500, None, None, None, "alice", "ivan.petrov@mail.ru", None, None, "60%",
     1002],
    ["Renewal", "twelve", None, "Retail", None, "ghost", None, None, "31.02.2026", None, 1003],
]  # fmt: skip

# A price list from a Russian Excel (1C-like): SKU, prices in two currencies, VAT "20%" and
# "Без НДС", units, active flags as "да"/"нет".
PRICES_TEXT = (
    "Артикул;Наименование;Цена, руб.;Цена, USD;Ед. изм.;НДС;Категория;Описание;Активен\r\n"
    f"ST-100;Станок токарный;1{NBSP}234{NBSP}567,80;13{NBSP}500,00;шт;20%;Станки;"
    '"Станок ""Универсал"", 220 В";да\r\n'
    "SRV-1;Наладка;15000;;час;Без НДС;Услуги;;да\r\n"
    "ST-200;Станок фрезерный;abc;;шт;20;Станки;;нет\r\n"
    ";Без артикула;100;;шт;;;;\r\n"
)
PRICES = PRICES_TEXT.encode("cp1251")

# Leads from a landing page's form export (Tilda-like): UTF-8 with BOM, commas.
LEADS_TEXT = (
    "\ufeffName,Phone,Email,Comment,utm_source,utm_campaign,Источник\n"
    "Иван Петров,+7 (916) 123-45-67,ivan@example.com,Нужен расчёт на 10 станков,yandex,spring,"
    "Сайт\n"
    "Анна,8 903 765 43 21,,Перезвонить,google,spring,Сайт\n"
    'Пётр,,petr@@example.com,"Ошибся в адресе, бывает",,,Сайт\n'
    ",,orders@vector.example,Прайс по почте,,,Выставка\n"
)
LEADS = LEADS_TEXT.encode("utf-8")
