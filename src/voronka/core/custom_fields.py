"""Validation and querying of custom field values, the same for every entity.

Values are stored in the record's ``custom`` JSON column keyed by the field's key: numbers as
JSON numbers, dates as ISO strings (so they sort and compare as text), select values as their
option string, multi-select as a list."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from voronka.core.errors import Collector
from voronka.core.models import CustomField, CustomFieldType
from voronka.core.text import normalize_email, normalize_phone, validate_url

T = CustomFieldType
MAX_TEXT = 255
MAX_LONG_TEXT = 10_000

# Entities that carry custom fields; each domain registers its own in AppConfig.ready().
ENTITIES: dict[str, str] = {}


def register_entity(entity: str, label: str) -> None:
    ENTITIES[entity] = label


def definitions(entity: str) -> list[CustomField]:
    return list(CustomField.objects.filter(entity=entity).order_by("position", "id"))


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_value(field: CustomField, value: Any) -> Any:
    """The stored form of ``value`` for ``field``; ValueError with a user-facing message."""
    if _is_empty(value):
        return None
    kind = field.type
    if kind in (T.TEXT, T.LONG_TEXT):
        if not isinstance(value, str | int | float | decimal.Decimal) or isinstance(value, bool):
            raise ValueError(_("must be text"))
        text = str(value).strip()
        limit = MAX_TEXT if kind == T.TEXT else MAX_LONG_TEXT
        if len(text) > limit:
            raise ValueError(_("is longer than %(n)d characters") % {"n": limit})
        return text
    if kind in (T.NUMBER, T.MONEY):
        if isinstance(value, bool):
            raise ValueError(_("must be a number"))
        try:
            number = decimal.Decimal(str(value).replace(" ", "").replace(",", "."))
        except decimal.InvalidOperation as exc:
            raise ValueError(_("must be a number")) from exc
        if not number.is_finite() or abs(number) >= decimal.Decimal("1e15"):
            raise ValueError(_("must be a number"))
        if kind == T.MONEY:
            number = number.quantize(decimal.Decimal("0.01"))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == T.DATE:
        parsed = value if isinstance(value, dt.date) else parse_date(str(value))
        if parsed is None or isinstance(parsed, dt.datetime):
            raise ValueError(_("must be a date (YYYY-MM-DD)"))
        return parsed.isoformat()
    if kind == T.DATETIME:
        try:
            parsed_dt = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
        except ValueError:
            parsed_dt = None
        if parsed_dt is None:
            raise ValueError(_("must be a date and time (ISO 8601)"))
        if parsed_dt.tzinfo is None:
            parsed_dt = parsed_dt.replace(tzinfo=dt.UTC)
        return parsed_dt.astimezone(dt.UTC).isoformat()
    if kind == T.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes", "on", "да"}:
            return True
        if text in {"false", "0", "no", "off", "нет"}:
            return False
        raise ValueError(_("must be yes or no"))
    if kind == T.SELECT:
        if str(value) not in field.options:
            raise ValueError(
                _("must be one of: %(options)s") % {"options": ", ".join(field.options)}
            )
        return str(value)
    if kind == T.MULTI_SELECT:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            raise ValueError(_("must be a list of options"))
        bad = [str(v) for v in values if str(v) not in field.options]
        if bad:
            raise ValueError(_("unknown options: %(bad)s") % {"bad": ", ".join(bad)})
        return [o for o in field.options if o in {str(v) for v in values}]
    if kind == T.URL:
        return validate_url(str(value))
    if kind == T.EMAIL:
        return normalize_email(str(value))
    if kind == T.PHONE:
        return normalize_phone(str(value))
    raise ValueError(_("unknown field type"))


def clean_custom(
    entity: str,
    values: dict[str, Any] | None,
    *,
    existing: dict[str, Any] | None = None,
    errors: Collector,
    fields: Iterable[CustomField] | None = None,
) -> dict[str, Any]:
    """Merge ``values`` into ``existing`` after validating each against its definition.

    Unknown keys and wrong types are reported as ``custom.<key>``; required fields must end up
    with a value."""
    defs = {f.key: f for f in (fields if fields is not None else definitions(entity))}
    result = dict(existing or {})
    if values is not None and not isinstance(values, dict):
        errors.add("custom", _("must be an object keyed by custom field"))
        return result
    for key, raw in (values or {}).items():
        field = defs.get(key)
        if field is None:
            errors.add(f"custom.{key}", _("unknown custom field"))
            continue
        try:
            cleaned = clean_value(field, raw)
        except ValueError as exc:
            errors.add(f"custom.{key}", str(exc))
            continue
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    for key, field in defs.items():
        if field.required and _is_empty(result.get(key)):
            errors.add(f"custom.{key}", _("this field is required"))
    # Values of fields since deleted are dropped on the next write.
    return {k: v for k, v in result.items() if k in defs}
