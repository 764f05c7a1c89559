"""Activities as the lists show them: one row per activity with its time said the way people
say it, and the linked records the viewer may see (never a deal or contact they cannot)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import NoReverseMatch
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.customers.selectors import (
    companies_visible_to,
    contacts_visible_to,
    get_company_for_user,
    get_contact_for_user,
)
from voronka.sales import selectors
from voronka.sales.models import Activity, ActivityKind
from voronka.sales.views.activity_forms import KIND_ICONS


def record_url(record: Any) -> str:
    """The record's card; empty while the area that draws it has no page yet."""
    try:
        return str(record.get_absolute_url())
    except (AttributeError, NoReverseMatch):
        return ""


@dataclass(frozen=True)
class RecordKind:
    """A record type activities link to, and how to fetch it for a user."""

    key: str
    label: Any
    icon: str
    get: Callable[..., Any]
    visible: Callable[[Any], QuerySet[Any]]


RECORD_KINDS: dict[str, RecordKind] = {
    "deal": RecordKind(
        "deal",
        gettext_lazy("Deal"),
        "bi-kanban",
        selectors.get_deal_for_user,
        selectors.deals_visible_to,
    ),
    "lead": RecordKind(
        "lead",
        gettext_lazy("Lead"),
        "bi-inbox",
        selectors.get_lead_for_user,
        selectors.leads_visible_to,
    ),
    "contact": RecordKind(
        "contact",
        gettext_lazy("Contact"),
        "bi-person",
        get_contact_for_user,
        contacts_visible_to,
    ),
    "company": RecordKind(
        "company",
        gettext_lazy("Company"),
        "bi-building",
        get_company_for_user,
        companies_visible_to,
    ),
}


@dataclass(frozen=True)
class RecordLink:
    kind: RecordKind
    name: str
    url: str


def record_links(user: Any, activities: Iterable[Activity]) -> dict[int, list[RecordLink]]:
    """Per activity, the linked records the user may see (one query per record type), so a
    row never names a deal or contact the user has no access to."""
    items = list(activities)
    visible: dict[str, set[int]] = {}
    for key, kind in RECORD_KINDS.items():
        ids = {getattr(a, f"{key}_id") for a in items} - {None}
        visible[key] = (
            set(kind.visible(user).filter(pk__in=ids).values_list("pk", flat=True))
            if ids
            else set()
        )
    out: dict[int, list[RecordLink]] = {}
    for a in items:
        out[a.pk] = [
            RecordLink(kind, str(getattr(a, key)), record_url(getattr(a, key)))
            for key, kind in RECORD_KINDS.items()
            if getattr(a, f"{key}_id") in visible[key]
        ]
    return out


# --- rows as the lists show them -----------------------------------------------------------------


def when_text(moment: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """A moment as people say it: "today 14:30", "tomorrow 09:00", else a short date."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    today = timezone.localdate(now) if now else timezone.localdate()
    time = formats.time_format(local, "H:i")
    if local.date() == today:
        return _("today %(time)s") % {"time": time}
    if local.date() == today + dt.timedelta(days=1):
        return _("tomorrow %(time)s") % {"time": time}
    if local.date() == today - dt.timedelta(days=1):
        return _("yesterday %(time)s") % {"time": time}
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


@dataclass
class Row:
    """One activity in a list: what the template needs, computed once."""

    activity: Activity
    icon: str
    when: str
    overdue: bool
    links: list[RecordLink] = field(default_factory=list)
    show_owner: bool = False


def make_rows(
    user: Any, activities: Iterable[Activity], *, with_links: bool, owner: Any = None
) -> list[Row]:
    items = list(activities)
    links = record_links(user, items) if with_links else {}
    now = timezone.now()
    rows = []
    for a in items:
        start = a.starts_at if a.kind == ActivityKind.MEETING and a.starts_at else a.due_at
        rows.append(
            Row(
                activity=a,
                icon=KIND_ICONS.get(a.kind, "bi-check2-square"),
                when=when_text(start, now=now),
                overdue=a.done_at is None and a.due_at is not None and a.due_at < now,
                links=links.get(a.pk, []),
                show_owner=owner is None or a.owner_id != getattr(owner, "pk", None),
            )
        )
    return rows
