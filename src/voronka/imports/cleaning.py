"""Turning the text of one cell into a field value, the way the services would accept it.

These are pure functions over strings; each raises ValueError with the message the
rejected-rows report shows. The rules are the services' (lengths, e-mail and phone
normalization, dates in the past); what is added is only reading what people type in files:
several values in one cell, "15.03.1985", "да"."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core.text import digits, fold, normalize_email
from voronka.imports.phones import normalize_phone_fast

# Google Contacts joins several values of one field with " ::: ".
_MULTI_EMAIL = re.compile(r"\s*(?::::|[,;\s])\s*")
_MULTI_PHONE = re.compile(r"\s*(?::::|[;\n])\s*")
_DIGIT = re.compile(r"\d")
_MULTI_TAG = re.compile(r"\s*(?::::|[,;])\s*")
_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_MDY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ].*)?")
_NO_YEAR = re.compile(r"--\d{2}-?\d{2}|0{1,2}[./]0{1,2}[./]0{2,4}")
TRUE = {"1", "true", "yes", "y", "on", "x", "+", "да", "д", "истина", "согласен", "согласна"}
FALSE = {"0", "false", "no", "n", "off", "-", "нет", "н", "ложь", ""}


# A subset of what Django's EmailValidator accepts (dot-atom local part, LDH labels, a letter
# TLD): a match needs no validator call. Anything else goes through normalize_email itself.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"\.[a-z]{2,63}"
)


def normalize_email_fast(raw: str) -> str:
    """Exactly ``normalize_email(raw)``, without the validator for ordinary addresses."""
    email = (raw or "").strip().lower()
    if len(email) <= 320 and _PLAIN_EMAIL.fullmatch(email):
        return email
    return normalize_email(raw)


_EMAIL_SEPARATOR = re.compile(r"[,;\s]|:::")
_PHONE_SEPARATOR = re.compile(r"[,;\n]|:::")


def fold_fast(text: str) -> str:
    """Exactly ``fold(text)``: str.split() and the regex ``\\s`` agree on what whitespace is
    (both ask Py_UNICODE_ISSPACE), so split + join is the same as sub + strip, faster."""
    return " ".join((text or "").casefold().replace("ё", "е").split())


def phone_digits(e164: str) -> str:
    """Exactly ``digits(e164)`` for the E.164 numbers the normalizers return ("+" + digits)."""
    rest = e164[1:]
    if e164[:1] == "+" and rest.isascii() and rest.isdigit():
        return rest
    return digits(e164)


def split_emails(text: str) -> list[str]:
    value = text.strip()
    if not _EMAIL_SEPARATOR.search(value):  # one address: the usual case
        return [value] if value else []
    return [p for p in _MULTI_EMAIL.split(value) if p]


def split_phones(text: str) -> list[str]:
    """Phones of a cell; a comma separates two only when both sides are whole numbers
    (Excel's "7,91612E+10" is one mangled number, and is refused as such)."""
    value = text.strip()
    if not _PHONE_SEPARATOR.search(value):
        return [value] if value else []
    result = []
    for part in _MULTI_PHONE.split(value):
        pieces = part.split(",")
        if len(pieces) > 1 and all(len(_DIGIT.findall(p)) >= 7 for p in pieces):
            result += [p.strip() for p in pieces]
        elif part:
            result.append(part)
    return result


def split_tags(text: str) -> list[str]:
    """Tag names of a cell; Google's system groups ("* myContacts") are not tags."""
    return [p for p in _MULTI_TAG.split(text.strip()) if p and not p.startswith("* ")]


def clean_text(text: str, limit: int) -> str:
    value = text.strip()
    if len(value) > limit:
        raise ValueError(_("is longer than %(n)d characters") % {"n": limit})
    return value


def clean_emails(cells: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(cell text, kind) → [(e-mail, kind)] normalized and without repeats, as the service."""
    result: list[tuple[str, str]] = []
    seen: set[str] = set()
    for text, kind in cells:
        for part in split_emails(text):
            try:
                email = normalize_email_fast(part)
            except ValueError:
                raise ValueError(
                    _("not a valid e-mail address: %(value)s") % {"value": part}
                ) from None
            if email not in seen:
                seen.add(email)
                result.append((email, kind))
    if len(result) > 20:
        raise ValueError(_("at most 20 e-mails"))
    return result


def clean_phones(cells: list[tuple[str, str]]) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    seen: set[str] = set()
    for text, kind in cells:
        for part in split_phones(text):
            try:
                phone = normalize_phone_fast(part)
            except ValueError:
                raise ValueError(
                    _("not a valid phone number: %(value)s") % {"value": part}
                ) from None
            if phone not in seen:
                seen.add(phone)
                result.append((phone, kind))
    if len(result) > 20:
        raise ValueError(_("at most 20 phones"))
    return result


def parse_date(text: str) -> dt.date | None:
    """A birthday as people write it (see :func:`parse_day`), which must be in the past."""
    parsed = parse_day(text)
    if parsed is not None and (parsed > timezone.localdate() or parsed.year < 1900):
        raise ValueError(_("must be a real date in the past"))
    return parsed


def parse_day(text: str) -> dt.date | None:
    """A date as people write it; None for "no date" (empty, Outlook's 0/0/00, no year).

    2025-03-15, 20250315, 15.03.2025 and 15/03/2025 read as written; 3/15/2025 (month first,
    as Outlook and Google write in English) when the first number cannot be a day-month."""
    value = text.strip()
    if not value or _NO_YEAR.fullmatch(value):
        return None
    match = _ISO.fullmatch(value)
    if match:
        year, month, day = (int(g) for g in match.groups())
    elif (match := _DMY.fullmatch(value)) and "/" not in value:
        day, month, year = (int(g) for g in match.groups())
    elif match := _MDY.fullmatch(value):
        first, second, year = (int(g) for g in match.groups())
        month, day = (second, first) if first > 12 else (first, second)
    else:
        raise ValueError(_("not a date: %(value)s") % {"value": value})
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(_("not a date: %(value)s") % {"value": value}) from None


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009'")
# A currency written next to an amount: "1 234,50 ₽", "$99", "100 руб.", "12.5 EUR".
_MONEY = re.compile(r"\s*([^\d\s.,+-]*)\s*([-+]?[\d\s\u00a0\u202f\u2009'.,]*\d)\s*(\D*?)\s*")
CURRENCY_MARKS = {
    "₽": "RUB", "р": "RUB", "руб": "RUB", "рублей": "RUB", "rub": "RUB", "$": "USD",
    "usd": "USD", "долл": "USD", "€": "EUR", "eur": "EUR", "евро": "EUR",
}  # fmt: skip


def parse_decimal(text: str) -> Decimal | None:
    """A number as a spreadsheet in any locale writes it: "1 234,50", "1,234.50", "1.234,50",
    "1234.5"; None when empty. One comma alone is a decimal comma (Russian Excel). Excel's
    "7,91612E+10" is a number it has already rounded, and is refused."""
    value = text.translate(_GROUPING)
    if not value:
        return None
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif value.count(",") > 1:
        value = value.replace(",", "")
    elif "," in value:
        value = value.replace(",", ".")
    elif value.count(".") > 1:
        value = value.replace(".", "")
    if not _NUMBER.fullmatch(value):
        raise ValueError(_("not a number: %(value)s") % {"value": text.strip()})
    return Decimal(value)


def parse_money(text: str) -> tuple[Decimal | None, str]:
    """(amount, currency code written beside it or "") of "1 234,50 ₽", "$99.90", "100"."""
    match = _MONEY.fullmatch(text)
    if not match:
        if not text.strip():
            return None, ""
        raise ValueError(_("not a number: %(value)s") % {"value": text.strip()})
    before, number, after = match.groups()
    mark = fold(before or after).rstrip(".")
    currency = ""
    if mark:
        currency = CURRENCY_MARKS.get(mark, mark.upper() if len(mark) == 3 else "")
        if not currency:
            raise ValueError(_("not a number: %(value)s") % {"value": text.strip()})
    return parse_decimal(number), currency


def parse_percent(text: str) -> Decimal | None:
    """ "20%", "20", "12,5 %"; None when empty. A fraction below one without "%" is an Excel
    percent cell (it keeps 20 % as 0.2)."""
    value = text.strip()
    if value.endswith("%"):
        return parse_decimal(value[:-1])
    number = parse_decimal(value)
    if number is not None and 0 < number < 1:
        return number * 100
    return number


def parse_bool(text: str) -> bool:
    value = fold(text)
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(_("must be yes or no: %(value)s") % {"value": text.strip()})


def split_full_name(text: str, *, last_first: bool) -> tuple[str, str, str]:
    """(first, middle, last) of "Ivan Petrov" or, with ``last_first``, "Петров Иван Иванович".

    A Russian patronymic (-вич, -вна, -ична…) in third place means last-first-middle order
    whatever the column was called."""
    words = text.split()
    if not words:
        return "", "", ""
    if len(words) == 1:
        return (words[0], "", "") if not last_first else ("", "", words[0])
    if len(words) == 3 and _patronymic(words[2]):
        last_first = True
    if last_first:
        last, first, middle = words[0], words[1], " ".join(words[2:])
        return first, middle, last
    if len(words) == 2:
        return words[0], "", words[1]
    return words[0], " ".join(words[1:-1]), words[-1]


def _patronymic(word: str) -> bool:
    return fold(word).endswith(("вич", "вна", "чна", "ична", "оглы", "кызы"))


class Owners:
    """Users by username, e-mail and full name, looked up once per job."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model

        self.by_key: dict[str, int] = {}
        self.names: dict[int, str] = {}
        users = get_user_model().objects.filter(is_active=True)
        for pk, username, email, first, last in users.values_list(
            "pk", "username", "email", "first_name", "last_name"
        ):
            self.names[pk] = f"{first} {last}".strip() or username
            for key in (username, email, f"{first} {last}", f"{last} {first}"):
                folded = fold(key)
                if folded and folded not in self.by_key:
                    self.by_key[folded] = pk
        self.ids = set(self.by_key.values())

    def resolve(self, text: str) -> int:
        key = fold(text)
        if key in self.by_key:
            return self.by_key[key]
        if key.isdigit() and int(key) in self.ids:
            return int(key)
        raise ValueError(_("no such active user: %(value)s") % {"value": text.strip()})

    def name(self, pk: int) -> str:
        return self.names.get(pk, "")


def cell(values: list[str], indexes: list[int]) -> str:
    """The first non-empty value among the columns mapped to one field."""
    for i in indexes:
        value = values[i]
        if value and value.strip():
            return value
    return ""


def custom_values(values: list[str], columns: list[tuple[str, int]]) -> dict[str, Any]:
    return {key: values[i].strip() for key, i in columns if values[i].strip()}
