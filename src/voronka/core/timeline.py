"""A record's timeline: notes, history and whatever later domains register (activities,
messages, calls), newest first. Domains plug in with :func:`register_provider`, so customers
need not know about sales."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from voronka.core.models import AuditEntry, Note


@dataclass
class TimelineItem:
    when: dt.datetime
    kind: str  # note, change, activity, message, …
    title: str
    body_html: str = ""
    actor: Any = None
    channel: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# (record, user, limit): a provider shows only what ``user`` may see of the record's items.
Provider = Callable[[models.Model, Any, int], list[TimelineItem]]
_providers: list[Provider] = []


def register_provider(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def _notes(record: models.Model, user: Any, limit: int) -> list[TimelineItem]:
    ct = ContentType.objects.get_for_model(record)
    notes = Note.objects.filter(content_type=ct, object_id=record.pk).select_related("author")
    return [
        TimelineItem(
            when=n.created_at, kind="note", title="", body_html=n.body_html, actor=n.author
        )
        for n in notes.order_by("-id")[:limit]
    ]


def _changes(record: models.Model, user: Any, limit: int) -> list[TimelineItem]:
    ct = ContentType.objects.get_for_model(record)
    entries = AuditEntry.objects.filter(content_type=ct, object_id=record.pk).select_related(
        "actor"
    )
    return [
        TimelineItem(
            when=e.created_at,
            kind="change",
            title=e.get_action_display(),
            actor=e.actor,
            channel=e.get_channel_display(),
            extra={"changes": e.changes, "action": e.action},
        )
        for e in entries.order_by("-id")[:limit]
    ]


register_provider(_notes)
register_provider(_changes)


def timeline(record: models.Model, user: Any, limit: int = 50) -> list[TimelineItem]:
    """The record's items newest first; the record itself must already be visible to ``user``,
    and each provider leaves out items ``user`` may not see (another rep's activities)."""
    items: list[TimelineItem] = []
    for provider in _providers:
        items.extend(provider(record, user, limit))
    items.sort(key=lambda i: i.when, reverse=True)
    return items[:limit]
