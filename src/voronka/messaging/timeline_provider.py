"""Every outgoing e-mail and SMS on the timeline of its contact and of the record it is about
(a deal, a company), so the card shows what was sent, when, and whether it arrived."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext as _

from voronka.core.timeline import TimelineItem, register_provider


def _messages(record: models.Model, user: Any, limit: int) -> list[TimelineItem]:
    from voronka.customers.models import Contact
    from voronka.messaging.models import OutgoingMessage

    qs = OutgoingMessage.objects.select_related("created_by")
    if isinstance(record, Contact):
        qs = qs.filter(contact_id=record.pk)
    else:
        ct = ContentType.objects.get_for_model(record)
        qs = qs.filter(related_type=ct, related_id=record.pk)
    items = []
    for m in qs.order_by("-id")[:limit]:
        what = m.subject if m.channel == "email" else m.body[:80]
        title = _("%(channel)s to %(to)s: %(what)s") % {
            "channel": m.get_channel_display(), "to": m.to or "—", "what": what,
        }  # fmt: skip
        status = m.get_status_display()
        if m.reason:
            status = f"{status} ({m.get_reason_display()})"
        items.append(
            TimelineItem(
                when=m.created_at,
                kind="message",
                title=title,
                body_html=status,
                actor=m.created_by,
                extra={
                    "message_id": m.pk,
                    "status": m.status,
                    "reason": m.reason,
                    "channel": m.channel,
                },
            )
        )
    return items


def register() -> None:
    register_provider(_messages)
