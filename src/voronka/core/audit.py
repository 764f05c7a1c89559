"""Audit history: every service records what it changed, field by field."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from voronka.core.events import json_safe
from voronka.core.models import AuditAction, AuditEntry, Channel


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value differs, as ``{field: [old, new]}``."""
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if json_safe(old) != json_safe(new):
            changes[key] = [json_safe(old), json_safe(new)]
    return changes


def record(
    instance: models.Model,
    *,
    action: str,
    changes: dict[str, Any],
    actor: Any = None,
    channel: str = Channel.SYSTEM,
) -> AuditEntry:
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(instance),
        object_id=instance.pk,
        action=action,
        changes=json_safe(changes),
        actor_id=getattr(actor, "pk", None),
        channel=channel,
    )


def history(instance: models.Model, limit: int = 100) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
        )
        .select_related("actor")
        .order_by("-id")[:limit]
    )


__all__ = ["AuditAction", "diff", "history", "record"]
