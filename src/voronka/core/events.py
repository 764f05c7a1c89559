"""Domain events: services call :func:`publish` inside their transaction.

The event row is committed together with the change or not at all, which is what makes the
outbox safe: a consumer that was down reads it later, and no event describes a rolled-back
change."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import transaction

from voronka.core.models import Channel, OutboxEvent


def json_safe(value: Any) -> Any:
    """Turn dates, decimals and UUIDs into JSON values the outbox and webhooks can carry."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def publish(
    name: str,
    *,
    entity: str,
    entity_id: int,
    payload: dict[str, Any] | None = None,
    actor: Any = None,
    channel: str = Channel.SYSTEM,
) -> OutboxEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish() must run inside the service's transaction")
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    return OutboxEvent.objects.create(
        name=name,
        entity=entity,
        entity_id=entity_id,
        payload=json_safe(payload or {}),
        actor_id=actor_id,
        channel=channel,
    )


def publish_many(events: list[OutboxEvent]) -> None:
    """Bulk variant for bulk services (imports, bulk actions)."""
    OutboxEvent.objects.bulk_create(events, batch_size=1000)
