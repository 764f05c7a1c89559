"""Keyset (cursor) pagination: a page costs the same at row 10 and row 1,000,000.

A page is ``{"items": [...], "next_cursor": "…" or None}``. The cursor is the sort values of
the last row, base64-encoded JSON; no COUNT(*) is ever run."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet

from voronka.core.errors import ServiceValidationError
from voronka.core.prefetch import prefetch

M = TypeVar("M")


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


@dataclass(frozen=True)
class SortKey:
    """One column of the sort: the name of a field or annotation, and its direction."""

    name: str
    descending: bool = False


def _encode(values: list[Any]) -> str:
    def default(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return {"dt": v.isoformat()}
        if isinstance(v, dt.date):
            return {"d": v.isoformat()}
        return str(v)

    raw = json.dumps(values, default=default, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ServiceValidationError.single("cursor", "malformed cursor") from exc
    if not isinstance(values, list) or len(values) != size:
        raise ServiceValidationError.single("cursor", "malformed cursor")
    out: list[Any] = []
    try:
        for v in values:
            if isinstance(v, dict) and "dt" in v:
                out.append(dt.datetime.fromisoformat(v["dt"]))
            elif isinstance(v, dict) and "d" in v:
                out.append(dt.date.fromisoformat(v["d"]))
            else:
                out.append(v)
    except (TypeError, ValueError) as exc:
        raise ServiceValidationError.single("cursor", "malformed cursor") from exc
    return out


def _after(keys: list[SortKey], values: list[Any]) -> Q:
    """(a, b, id) > (va, vb, vid) spelled out, so every database can use the sort index."""
    condition = Q()
    for i, key in enumerate(keys):
        step = Q(**{f"{k.name}": values[j] for j, k in enumerate(keys[:i])})
        op = "lt" if key.descending else "gt"
        step &= Q(**{f"{key.name}__{op}": values[i]})
        condition |= step
    return condition


def keyset_page(
    qs: QuerySet[Any], keys: list[SortKey], cursor: str | None, limit: int
) -> Page[Any]:
    """One page of ``qs`` ordered by ``keys`` (which must end with a unique key such as id)."""
    limit = max(1, min(int(limit), 500))
    order = [f"-{k.name}" if k.descending else k.name for k in keys]
    qs = qs.order_by(*order)
    if cursor:
        try:
            qs = qs.filter(_after(keys, _decode(cursor, len(keys))))
        except (TypeError, ValueError, DjangoValidationError) as exc:
            # A tampered cursor whose values do not fit the sort columns.
            raise ServiceValidationError.single("cursor", "malformed cursor") from exc
    # Children are fetched for the page's rows only, by our own prefetch (see core.prefetch).
    lookups = list(qs._prefetch_related_lookups)  # type: ignore[attr-defined]
    rows = list(qs.prefetch_related(None)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([_value(last, k.name) for k in keys])
    prefetch(rows, lookups)
    return Page(items=rows, next_cursor=next_cursor)


def _value(obj: Any, name: str) -> Any:
    current = obj
    for part in name.split("__"):
        current = getattr(current, part, None)
        if current is None:
            return None
    return current
