"""Files as people have them, byte for byte: an Excel "CSV" saved in a Russian locale,
exports of Google Contacts and Outlook, vCards from phones (2.1, 3.0, 4.0)."""

from __future__ import annotations

# Excel → "CSV (разделители — точки с запятой)": Windows-1251, semicolons, CRLF, quotes
# doubled, dates as dd.mm.yyyy, a long number turned into 7,91612E+10 by Excel.
EXCEL_RU_TEXT = (
    "ФИО;Телефон;E-mail;Компания;Должность;Дата рождения;Комментарий\r\n"
    'Петров Иван Сергеевич;8 (916) 123-45-67;Ivan.Petrov@Mail.ru;"ООО ""Ромашка""";'
    "Генеральный директор;15.03.1985;\r\n"
    "Сидорова Анна Викторовна;+7 903 765-43-21;anna.sidorova@yandex.ru;ИП Сидорова;;01.12.1990;"
    '"Звонить после 18:00; просила КП"\r\n'
    "Кузнецов Олег;79057778899;;Вектор;Менеджер по закупкам;;\r\n"
    ";;;;;;\r\n"
    "Смирнова Ольга Петровна;7,91612E+10;olga@mail.ru;;;;\r\n"
    "Фёдоров Пётр;8 926 111-22-33;petr@@mail.ru;;;32.13.1990;\r\n"
)
EXCEL_RU = EXCEL_RU_TEXT.encode("cp1251")

# Google Contacts → Export → Google CSV (the long-standing column set), UTF-8, commas.
GOOGLE_HEADERS = (
    "Name,Given Name,Additional Name,Family Name,Yomi Name,Given Name Yomi,"
    "Additional Name Yomi,Family Name Yomi,Name Prefix,Name Suffix,Initials,Nickname,"
    "Short Name,Maiden Name,Birthday,Gender,Location,Billing Information,Directory Server,"
    "Mileage,Occupation,Hobby,Sensitivity,Priority,Subject,Notes,Language,Photo,"
    "Group Membership,E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value,"
    "Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,Organization 1 - Type,"
    "Organization 1 - Name,Organization 1 - Yomi Name,Organization 1 - Title,"
    "Organization 1 - Department"
)


def _google_row(**cells: str) -> str:
    columns = GOOGLE_HEADERS.split(",")
    values = [cells.get(c, "") for c in columns]
    return ",".join(f'"{v}"' if ("," in v or '"' in v) else v for v in values)


GOOGLE_CSV = (
    GOOGLE_HEADERS
    + "\n"
    + _google_row(
        **{
            "Name": "Иван Петров",
            "Given Name": "Иван",
            "Family Name": "Петров",
            "Birthday": "1985-03-15",
            "Group Membership": "* myContacts ::: Клиенты ::: VIP",
            "E-mail 1 - Type": "* Work",
            "E-mail 1 - Value": "ivan@example.com",
            "E-mail 2 - Type": "Home",
            "E-mail 2 - Value": "ivan.home@example.com",
            "Phone 1 - Type": "Mobile",
            "Phone 1 - Value": "+7 916 123-45-67 ::: +7 495 111-22-33",
            "Organization 1 - Name": "ООО Ромашка",
            "Organization 1 - Title": "Директор",
        }
    )
    + "\n"
    + _google_row(
        **{
            "Name": "Anna Smith",
            "Given Name": "Anna",
            "Family Name": "Smith",
            "Birthday": "--07-04",
            "Group Membership": "* myContacts",
            "E-mail 1 - Type": "* Other",
            "E-mail 1 - Value": "anna.smith@example.org",
            "Phone 1 - Type": "Work",
            "Phone 1 - Value": "+44 20 7946 0958",
            "Notes": 'Met at the fair, said: "call in May"',
        }
    )
    + "\n"
    + _google_row(
        **{
            "Name": "Только Телефон",
            "Phone 1 - Type": "Mobile",
            "Phone 1 - Value": "8 (903) 222-33-44",
        }
    )
    + "\n"
).encode("utf-8")

# Outlook → File → Export → CSV: every value quoted, Windows-1251 in a Russian Windows,
# "Title" is the honorific, birthdays "0.0.00" when unknown, CRLF.
OUTLOOK_HEADERS = [
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department",
    "Job Title", "Business Street", "Business City", "Business Postal Code",
    "Business Country/Region", "Business Fax", "Business Phone", "Business Phone 2",
    "Home Phone", "Mobile Phone", "Other Phone", "Birthday", "Categories", "E-mail Address",
    "E-mail Type", "E-mail Display Name", "E-mail 2 Address", "E-mail 2 Type",
    "E-mail 2 Display Name", "Notes",
]  # fmt: skip


def _outlook_row(**cells: str) -> str:
    return ",".join('"' + cells.get(c, "").replace('"', '""') + '"' for c in OUTLOOK_HEADERS)


OUTLOOK_CSV = (
    ",".join(f'"{h}"' for h in OUTLOOK_HEADERS)
    + "\r\n"
    + _outlook_row(
        **{
            "Title": "г-н",
            "First Name": "Сергей",
            "Middle Name": "Иванович",
            "Last Name": "Орлов",
            "Company": "АО Вектор",
            "Job Title": "Главный инженер",
            "Business Street": "ул. Ленина, 1",
            "Business City": "Москва",
            "Business Phone": "+7 (495) 123-45-67",
            "Mobile Phone": "+7 (926) 555-44-33",
            "Birthday": "0.0.00",
            "Categories": "Поставщики;Москва",
            "E-mail Address": "s.orlov@vector.ru",
            "E-mail Type": "SMTP",
            "E-mail Display Name": "Сергей Орлов (s.orlov@vector.ru)",
        }
    )
    + "\r\n"
    + _outlook_row(
        **{
            "First Name": "Мария",
            "Last Name": "Лебедева",
            "Company": "ООО Ромашка",
            "Home Phone": "8 (812) 555-12-34",
            "Birthday": "21.06.1979",
            "E-mail Address": "maria@romashka.ru",
            "E-mail Type": "SMTP",
            "E-mail 2 Address": "m.lebedeva@mail.ru",
            "E-mail 2 Type": "SMTP",
        }
    )
    + "\r\n"
).encode("cp1251")

# Android "Export to .vcf": vCard 2.1, quoted-printable UTF-8 with a soft line break in the
# middle of a letter, bare parameters, a photo in base64 with indented lines, CRLF.
VCARD_21 = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=9F=D0=B5=D1=82=D1=80=D0=BE=D0=B2;"
    "=D0=98=D0=B2=D0=B0=D0=BD;=D0=A1=D0=B5=D1=80=D0=B3=D0=B5=D0=B5=D0=B2=D0=B8=D1=87;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD=20=D0=A1=D0=B5=D1=80=\r\n"
    "=D0=B3=D0=B5=D0=B5=D0=B2=D0=B8=D1=87=20=D0=9F=D0=B5=D1=82=D1=80=D0=BE=D0=B2\r\n"
    "TEL;CELL;PREF:+7 916 123-45-67\r\n"
    "TEL;WORK:8 (495) 765-43-21\r\n"
    "EMAIL;HOME:ivan.petrov@mail.ru\r\n"
    "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=9E=D0=9E=D0=9E =D0=A0=D0=BE=D0=BC=D0=B0=\r\n"
    "=D1=88=D0=BA=D0=B0\r\n"
    "PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsL\r\n"
    "  DBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA\r\n"
    "\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=9C=D0=B0=D0=BC=D0=B0;;;;\r\n"
    "TEL;HOME:8-903-111-22-33\r\n"
    "END:VCARD\r\n"
).encode("ascii")

# iPhone / macOS Contacts: vCard 3.0 with groups, repeated TYPE, escaped commas, folding.
VCARD_30 = (
    "BEGIN:VCARD\n"
    "VERSION:3.0\n"
    "PRODID:-//Apple Inc.//iPhone OS 17.4//EN\n"
    "N:Лебедева;Мария;Андреевна;;\n"
    "FN:Мария Андреевна Лебедева\n"
    "ORG:Рога и копыта\\, ООО;Отдел закупок\n"
    "TITLE:Руководитель отдела\n"
    "  закупок\n"
    "item1.EMAIL;type=INTERNET;type=pref:maria@roga.ru\n"
    "item1.X-ABLabel:_$!<Other>!$_\n"
    "TEL;type=CELL;type=VOICE;type=pref:+7 (926) 000-11-22\n"
    "TEL;type=WORK;type=VOICE:+7 (495) 000-11-22\n"
    "BDAY;value=date:1979-06-21\n"
    "CATEGORIES:Поставщики,Москва\n"
    "END:VCARD\n"
).encode()

# vCard 4.0 (RFC 6350): tel: URIs, quoted TYPE lists, BDAY without dashes.
VCARD_40 = (
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:Ольга Смирнова\r\n"
    "N:Смирнова;Ольга;;;\r\n"
    'TEL;VALUE=uri;TYPE="cell,voice";PREF=1:tel:+7-903-555-66-77\r\n'
    "TEL;VALUE=uri;TYPE=work:tel:+7-812-555-66-77;ext=123\r\n"
    "EMAIL;TYPE=work:olga.smirnova@example.com\r\n"
    "BDAY:19900401\r\n"
    "END:VCARD\r\n"
).encode()

BROKEN_VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Иван Петров\r\nNOTE:первая строка заметки\r\n"
    "вторая строка без отступа\r\nEND:VCARD\r\n"
).encode()

PNG_AS_CSV = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(
    range(256)
)
