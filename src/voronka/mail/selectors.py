"""Reads of the mail settings pages and API. Mailboxes are settings, seen by administrators
only; how many messages each brought is counted from the inbox by its account."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Concat

from voronka.core.errors import NotFound
from voronka.inbox.models import Direction, Message
from voronka.mail.models import Mailbox


def _message_count() -> Subquery:
    counts = (
        Message.objects.filter(
            account=Concat(Value("mailbox:"), OuterRef("pk"), output_field=CharField()),
            direction=Direction.IN,
        )
        # Every fetched message has an external id: this matches the partial unique index
        # on (account, external_id), so the count does not read the whole table.
        .exclude(external_id="")
        .order_by()
        .values("account")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Subquery(counts, output_field=IntegerField())


def mailboxes() -> QuerySet[Mailbox]:
    """Every mailbox with how many messages it brought, by name; one query."""
    return (
        Mailbox.objects.select_related("default_owner")
        .annotate(message_count=Coalesce(_message_count(), 0))
        .order_by("name", "id")
    )


def get_mailbox(pk: Any) -> Mailbox:
    try:
        return mailboxes().get(pk=int(pk))
    except (ValueError, TypeError, Mailbox.DoesNotExist) as exc:
        raise NotFound(f"mailbox {pk} not found") from exc
