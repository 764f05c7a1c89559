"""Panels that later domains add to a record card (a contact's deals, a company's activities),
so customers need not know about sales.

A panel is a URL that renders an HTML fragment for one record; the card loads it with htmx
(`hx-trigger="load"`). The fragment's view checks visibility itself like any other view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class Panel:
    entity: str  # "contact", "company" or "deal"
    key: str  # unique per entity, used as the element id
    url_name: str  # reversed with the record's pk as the only argument
    order: int = 100
    visible: Callable[[Any], bool] | None = None  # gets the user; None means everyone


_panels: dict[tuple[str, str], Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[(panel.entity, panel.key)] = panel


def panels_for(entity: str, record_pk: int, user: Any) -> list[dict[str, str]]:
    """The panels of one card, in order, as {key, url} for the template."""
    found = sorted(
        (p for p in _panels.values() if p.entity == entity), key=lambda p: (p.order, p.key)
    )
    return [
        {"key": p.key, "url": reverse(p.url_name, args=[record_pk])}
        for p in found
        if p.visible is None or p.visible(user)
    ]
