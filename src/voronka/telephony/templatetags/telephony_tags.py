"""Template helpers of telephony: numbers in their international form, call durations."""

from __future__ import annotations

import json
from typing import Any

from django import template

from voronka.core.text import format_phone
from voronka.telephony.services.calls import duration_text

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """+79161234567 → +7 916 123-45-67; anything that is no E.164 number stays as it is."""
    return format_phone(value) if value and value.startswith("+") else (value or "")


@register.filter
def duration(seconds: int | None) -> str:
    return duration_text(seconds) if seconds is not None else ""


@register.filter
def as_json(value: Any) -> str:
    """A PBX event as it came, for the administrator reading a call's log (escaped later)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
