"""Activities on the timelines of contacts, companies, deals and leads."""

from __future__ import annotations

from typing import Any

from django.db import models

from voronka.core.timeline import TimelineItem, register_provider


def _activities(record: models.Model, user: Any, limit: int) -> list[TimelineItem]:
    from voronka.customers.models import Company, Contact
    from voronka.sales.models import Activity, Deal, Lead

    field = {Contact: "contact", Company: "company", Deal: "deal", Lead: "lead"}.get(type(record))
    if field is None:
        return []
    rows = (
        Activity.objects.visible_to(user)
        .filter(**{field: record})
        .select_related("owner")
        .order_by("-created_at")[:limit]
    )
    return [
        TimelineItem(
            when=a.done_at or a.created_at,
            kind="activity",
            title=f"{a.get_kind_display()}: {a.subject}",
            body_html="",
            actor=a.owner,
            extra={
                "activity_id": a.pk,
                "done": a.done_at is not None,
                "due_at": a.due_at,
                "activity_kind": a.kind,
            },
        )
        for a in rows
    ]


def register() -> None:
    register_provider(_activities)
