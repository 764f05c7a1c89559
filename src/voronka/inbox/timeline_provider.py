"""Messages of a contact's or lead's conversations on the record's timeline."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.html import escape, linebreaks

from voronka.core.timeline import TimelineItem, register_provider


def _messages(record: models.Model, user: Any, limit: int) -> list[TimelineItem]:
    from voronka.customers.models import Contact
    from voronka.inbox.models import Conversation, Message
    from voronka.sales.models import Lead

    if isinstance(record, Contact):
        conversations = Conversation.objects.filter(contact_id=record.pk)
    elif isinstance(record, Lead):
        conversations = Conversation.objects.filter(lead_id=record.pk)
    else:
        return []
    visible = conversations.visible_to(user).values("id")
    qs = Message.objects.filter(conversation_id__in=visible).select_related(
        "conversation", "author"
    )
    items = []
    for m in qs.order_by("-id")[:limit]:
        items.append(
            TimelineItem(
                when=m.created_at,
                kind="conversation",
                title=f"{m.conversation.get_kind_display()} · {m.get_direction_display()}"
                + (f" · {m.subject}" if m.subject else ""),
                body_html=linebreaks(escape(m.body_text[:500])),
                actor=m.author,
                extra={"text": m.body_text[:500], "url": m.conversation.get_absolute_url(),
                       "message_id": m.pk, "status": m.status, "sender": m.sender},
            )
        )  # fmt: skip
    return items


def register() -> None:
    register_provider(_messages)
