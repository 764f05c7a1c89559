"""Reading the files people have: encodings, delimiters, Excel, vCard; what is refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.imports import samples
from voronka.imports import readers, vcard
from voronka.imports.mapping import COMPANIES, CONTACTS, suggest


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _inspect(tmp_path: Path, name: str, content: bytes) -> readers.Source:
    return readers.inspect_file(_file(tmp_path, name, content), name)


def test_excel_csv_in_a_russian_locale(tmp_path: Path) -> None:
    source = _inspect(tmp_path, "клиенты.csv", samples.EXCEL_RU)
    assert (source.format, source.encoding, source.delimiter) == ("csv", "cp1251", ";")
    assert source.headers[:3] == ["ФИО", "Телефон", "E-mail"]
    assert source.sample[0][3] == 'ООО "Ромашка"'
    assert source.sample[1][6] == "Звонить после 18:00; просила КП"
    rows = list(readers.iter_rows(tmp_path / "клиенты.csv", source))
    # The empty line is not a row; numbers are the lines of the file.
    assert [n for n, _r in rows] == [2, 3, 4, 6, 7]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8-sig", b"\xef\xbb\xbf"), ("cp1251", b""), ("utf-16", b"")],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = "Имя,Фамилия,Телефон\nИван,Петров,89161234567\nЁжик,Ёлкин,89161234568\n"
    data = prefix + text.encode("utf-16" if encoding == "utf-16" else encoding.replace("-sig", ""))
    source = _inspect(tmp_path, "x.csv", data)
    assert source.headers == ["Имя", "Фамилия", "Телефон"]
    assert source.sample[1][:2] == ["Ёжик", "Ёлкин"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    # A comma inside a value of a semicolon file (and the reverse) must not mislead it.
    other = ";" if delimiter == "," else ","
    rows = [["Name", "E-mail", "Phone"], [f'"Ann{other} Jr"', "a@b.ru", "1"], ["Bo", "b@b.ru", "2"]]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    source = _inspect(tmp_path, "x.csv", text.encode())
    assert source.delimiter == delimiter
    assert source.headers == ["Name", "E-mail", "Phone"]
    assert source.sample[0][0] == f"Ann{other} Jr"


def test_a_file_without_header_gets_column_names(tmp_path: Path) -> None:
    source = _inspect(tmp_path, "x.csv", b"Ivan;ivan@example.com;89161234567\nAnna;a@b.ru;8903\n")
    assert not source.has_header
    assert source.headers == ["Column 1", "Column 2", "Column 3"]
    assert len(source.sample) == 2


def test_xlsx_numbers_and_dates_read_as_typed(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Фамилия", "Имя", "Телефон", "Дата рождения", "ИНН"])
    sheet.append(["Петров", "Иван", 79161234567, dt.date(1985, 3, 15), 7707083893])
    sheet.append([None, None, None, None, None])
    sheet.append(["Сидорова", "Анна", "8 (903) 765-43-21", None, None])
    book.save(tmp_path / "book.xlsx")
    source = readers.inspect_file(tmp_path / "book.xlsx", "book.xlsx")
    assert source.format == "xlsx"
    assert source.sample[0] == ["Петров", "Иван", "79161234567", "1985-03-15", "7707083893"]
    assert [n for n, _r in readers.iter_rows(tmp_path / "book.xlsx", source)] == [2, 4]


def test_vcard_21_quoted_printable_from_a_phone() -> None:
    table = vcard.read_table(samples.VCARD_21.decode())
    first = dict(zip(table.headers, table.rows[0], strict=True))
    assert first["Last name"] == "Петров"
    assert first["Middle name"] == "Сергеевич"
    assert first["Full name"] == "Иван Сергеевич Петров"  # soft break inside a letter
    assert first["Organization"] == "ООО Ромашка"
    assert first["Mobile phone"] == "+7 916 123-45-67"
    assert first["Work phone"] == "8 (495) 765-43-21"
    assert first["Home e-mail"] == "ivan.petrov@mail.ru"
    assert dict(zip(table.headers, table.rows[1], strict=True))["Last name"] == "Мама"


def test_vcard_30_and_40() -> None:
    table = vcard.read_table(samples.VCARD_30.decode())
    row = dict(zip(table.headers, table.rows[0], strict=True))
    assert row["Organization"] == "Рога и копыта, ООО"
    assert row["Job title"] == "Руководитель отдела закупок"  # folded line
    assert row["E-mail"] == "maria@roga.ru"
    assert row["Categories"] == "Поставщики, Москва"
    table = vcard.read_table(samples.VCARD_40.decode())
    row = dict(zip(table.headers, table.rows[0], strict=True))
    assert row["Mobile phone"] == "+7-903-555-66-77"
    assert row["Work phone"] == "+7-812-555-66-77"  # tel: URI, extension dropped


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\r\n\r\n", "empty"),
        ("photo.csv", samples.PNG_AS_CSV, "not a text file"),
        ("broken.vcf", samples.BROKEN_VCARD, "Line 5 of the vCard file is broken"),
        ("cut.vcf", b"BEGIN:VCARD\nVERSION:3.0\nFN:X\n", "has no END:VCARD"),
        ("old.xls", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(500), "old Excel"),
        ("fake.xlsx", b"PK\x03\x04" + bytes(100), "Excel workbook"),
        ("prose.csv", "Это просто текст.\nБез таблицы вообще.\n".encode(), "No columns"),
        ("header-only.csv", b"Name;Phone\r\n", "no rows"),
    ],
)
def test_unusable_files_are_refused_clearly(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    with pytest.raises(readers.ImportFileError, match=message):
        _inspect(tmp_path, name, content)


@pytest.mark.django_db
def test_suggestions_for_google_outlook_and_russian_headers() -> None:
    google = samples.GOOGLE_HEADERS.split(",")
    mapped = {h: t for h, t in zip(google, suggest(google, CONTACTS), strict=True) if t}
    assert mapped == {
        "Name": "full_name", "Given Name": "first_name", "Additional Name": "middle_name",
        "Family Name": "last_name", "Birthday": "birthday", "Group Membership": "tags",
        "E-mail 1 - Value": "email", "E-mail 2 - Value": "email", "Phone 1 - Value": "phone",
        "Phone 2 - Value": "phone", "Organization 1 - Name": "company",
        "Organization 1 - Title": "position",
    }  # fmt: skip
    outlook = samples.OUTLOOK_HEADERS
    mapped = {h: t for h, t in zip(outlook, suggest(outlook, CONTACTS), strict=True) if t}
    assert mapped == {
        "First Name": "first_name", "Middle Name": "middle_name", "Last Name": "last_name",
        "Company": "company", "Job Title": "position", "Business Fax": "phone_other",
        "Business Phone": "phone_work", "Business Phone 2": "phone_work",
        "Home Phone": "phone_home", "Mobile Phone": "phone", "Other Phone": "phone_other",
        "Birthday": "birthday", "Categories": "tags", "E-mail Address": "email",
        "E-mail 2 Address": "email",
    }  # fmt: skip
    russian = ["ФИО", "Моб. телефон", "Эл. почта", "Организация", "Должность", "Ответственный"]
    assert suggest(russian, CONTACTS) == ["fio", "phone", "email", "company", "position", "owner"]
    assert suggest(["Наименование", "ИНН", "Сайт", "Юридический адрес"], COMPANIES) == [
        "name", "inn", "website", "legal_address",
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_single_valued_field_is_suggested_once() -> None:
    assert suggest(["Компания", "Организация", "Телефон", "Телефон 2"], CONTACTS) == [
        "company", "", "phone", "phone",
    ]  # fmt: skip
