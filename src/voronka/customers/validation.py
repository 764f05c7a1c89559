"""Field cleaning shared by the company and contact services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from voronka.core.errors import Collector
from voronka.core.text import normalize_email, normalize_phone


def clean_str(errors: Collector, data: dict[str, Any], name: str, limit: int) -> None:
    if name not in data:
        return
    value = data[name]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(name, _("must be text"))
        return
    value = value.strip()
    if len(value) > limit:
        errors.add(name, _("is longer than %(n)d characters") % {"n": limit})
    data[name] = value


def clean_bool(errors: Collector, data: dict[str, Any], name: str) -> None:
    if name in data and not isinstance(data[name], bool):
        errors.add(name, _("must be true or false"))


def clean_date(errors: Collector, data: dict[str, Any], name: str) -> None:
    if name not in data or data[name] in (None, ""):
        if name in data:
            data[name] = None
        return
    value = data[name]
    try:
        parsed = (
            value
            if isinstance(value, dt.date)
            else parse_date(str(value))
            if isinstance(value, str)
            else None
        )
    except ValueError:  # well formed but impossible, such as 2020-13-45
        parsed = None
    if parsed is None:
        errors.add(name, _("must be a date (YYYY-MM-DD)"))
        return
    if parsed > timezone.localdate() or parsed.year < 1900:
        errors.add(name, _("must be a real date in the past"))
        return
    data[name] = parsed


def inn_is_valid(inn: str) -> bool:
    """Russian INN checksum (10 digits for organisations, 12 for individuals)."""

    def check(digits: str, weights: list[int]) -> int:
        return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10

    if len(inn) == 10:
        return check(inn, [2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(inn[9])
    if len(inn) == 12:
        return check(inn, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(inn[10]) and check(
            inn, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
        ) == int(inn[11])
    return False


def clean_inn(errors: Collector, data: dict[str, Any]) -> None:
    if not data.get("inn"):
        return
    inn = str(data["inn"]).strip().replace(" ", "")
    if inn.isdigit():
        if len(inn) not in (10, 12):
            errors.add("inn", _("an INN has 10 or 12 digits"))
        elif not inn_is_valid(inn):
            errors.add("inn", _("the INN's check digits are wrong"))
    elif not inn.replace("-", "").isalnum() or len(inn) > 32:
        errors.add("inn", _("use letters, digits and dashes (at most 32)"))
    data["inn"] = inn.upper()


def _items(raw: Any) -> list[Any] | None:
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        return list(raw)
    return None


def clean_emails(errors: Collector, raw: Any, kinds: set[str]) -> list[tuple[str, str]]:
    items = _items(raw)
    if items is None:
        errors.add("emails", _("must be a list"))
        return []
    result: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        value, kind = (item, "work") if isinstance(item, str) else (
            (item.get("email"), item.get("kind") or "work") if isinstance(item, dict) else (None, "")
        )  # fmt: skip
        if not isinstance(value, str):
            errors.add(f"emails[{i}].email", _("must be an e-mail address"))
            continue
        try:
            email = normalize_email(value)
        except ValueError:
            errors.add(f"emails[{i}].email", _("not a valid e-mail address"))
            continue
        if kind not in kinds:
            errors.add(
                f"emails[{i}].kind",
                _("must be one of: %(options)s") % {"options": ", ".join(sorted(kinds))},
            )
            continue
        if email not in {e for e, _k in result}:
            result.append((email, kind))
    if len(result) > 20:
        errors.add("emails", _("at most 20 e-mails"))
    return result


def clean_phones(errors: Collector, raw: Any, kinds: set[str]) -> list[tuple[str, str]]:
    items = _items(raw)
    if items is None:
        errors.add("phones", _("must be a list"))
        return []
    result: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        value, kind = (item, "mobile") if isinstance(item, str) else (
            (item.get("phone"), item.get("kind") or "mobile") if isinstance(item, dict) else (None, "")
        )  # fmt: skip
        if not isinstance(value, str):
            errors.add(f"phones[{i}].phone", _("must be a phone number"))
            continue
        try:
            phone = normalize_phone(value)
        except ValueError:
            errors.add(f"phones[{i}].phone", _("not a valid phone number"))
            continue
        if kind not in kinds:
            errors.add(
                f"phones[{i}].kind",
                _("must be one of: %(options)s") % {"options": ", ".join(sorted(kinds))},
            )
            continue
        if phone not in {p for p, _k in result}:
            result.append((phone, kind))
    if len(result) > 20:
        errors.add("phones", _("at most 20 phones"))
    return result
