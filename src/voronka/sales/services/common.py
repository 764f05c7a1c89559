"""Helpers shared by the sales services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from voronka.core.errors import Collector, Forbidden


def require_writer(actor: Any) -> None:
    if actor is not None and not actor.can_write:
        raise Forbidden(_("your role is read-only"))


def require_admin(actor: Any) -> None:
    if actor is not None and not actor.is_admin:
        raise Forbidden(_("only an administrator may change this"))


def unknown_fields(errors: Collector, data: dict[str, Any], allowed: set[str]) -> None:
    for name in data:
        if name not in allowed:
            errors.add(name, _("unknown field"))


def clean_decimal(
    errors: Collector, data: dict[str, Any], name: str, *, places: int = 2, minimum: Decimal | None = Decimal(0),
    maximum: Decimal = Decimal("1e13"), required: bool = False, field: str | None = None,
) -> None:  # fmt: skip
    label = field or name
    if name not in data or data[name] in (None, ""):
        if required:
            errors.add(label, _("this field is required"))
        elif name in data:
            data[name] = None
        return
    raw = data[name]
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        errors.add(label, _("must be a number"))
        return
    try:
        value = Decimal(str(raw).replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except InvalidOperation:
        errors.add(label, _("must be a number"))
        return
    if not value.is_finite() or abs(value) >= maximum:
        errors.add(label, _("must be a number"))
        return
    if minimum is not None and value < minimum:
        errors.add(label, _("must be at least %(n)s") % {"n": minimum})
        return
    if value != value.quantize(Decimal(1).scaleb(-places)):
        errors.add(label, _("at most %(n)d digits after the point") % {"n": places})
        return
    data[name] = value


def clean_day(errors: Collector, data: dict[str, Any], name: str) -> None:
    if name not in data or data[name] in (None, ""):
        if name in data:
            data[name] = None
        return
    value = data[name]
    parsed = (
        value
        if isinstance(value, dt.date)
        else parse_date(value)
        if isinstance(value, str)
        else None
    )
    if parsed is None:
        errors.add(name, _("must be a date (YYYY-MM-DD)"))
        return
    data[name] = parsed


def clean_fk(errors: Collector, data: dict[str, Any], name: str, qs: Any, message: str) -> Any:
    """Replace an id by the object it names (from ``qs``, already restricted to what the
    actor may use); report ``message`` when there is none."""
    if name not in data or data[name] in (None, ""):
        if name in data:
            data[name] = None
        return None
    try:
        obj = qs.filter(pk=int(data[name])).first()
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        errors.add(name, message)
        return None
    data[name] = obj.pk
    return obj
