"""Reads of messaging that the UI and the API share.

A message is visible to a user who may see its contact (or, without a contact, to the user
who sent it); administrators see every message. Templates are shared definitions: every
signed-in user may read them, only administrators change them."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from voronka.core.errors import NotFound
from voronka.customers.models import Contact
from voronka.messaging.models import MessageTemplate, OutgoingMessage


def messages_visible_to(user: Any) -> QuerySet[OutgoingMessage]:
    qs = OutgoingMessage.objects.select_related("contact", "created_by", "template")
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_admin or user.visibility_scope == "all":
        return qs
    contacts = Contact.objects.visible_to(user).filter(pk=OuterRef("contact_id"))
    return qs.filter(Q(Exists(contacts)) | Q(contact__isnull=True, created_by_id=user.pk))


def get_message_for_user(user: Any, pk: Any) -> OutgoingMessage:
    try:
        return messages_visible_to(user).get(pk=int(pk))
    except (ValueError, TypeError, OutgoingMessage.DoesNotExist) as exc:
        raise NotFound(f"message {pk} not found") from exc


def message_list(
    user: Any, *, status: str = "", channel: str = "", contact_id: int | None = None
) -> QuerySet[OutgoingMessage]:
    qs = messages_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    return qs.order_by("-id")


def templates_all(channel: str = "") -> QuerySet[MessageTemplate]:
    qs = MessageTemplate.objects.all()
    return qs.filter(channel=channel) if channel else qs


def get_template(pk: Any) -> MessageTemplate:
    try:
        return MessageTemplate.objects.get(pk=int(pk))
    except (ValueError, TypeError, MessageTemplate.DoesNotExist) as exc:
        raise NotFound(f"template {pk} not found") from exc
