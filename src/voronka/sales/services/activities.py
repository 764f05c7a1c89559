"""Tasks, calls and meetings, and the delivery of their reminders.

Reminder state is durable in the activity row (``remind_at``, ``reminded_at``): the worker's
periodic :func:`reminders_deliver_due` delivers whatever is due, including what fell due while
no worker ran, and marks it in the same transaction, so each reminder goes out once. The
e-mail copy is not sent from here: the ``activity.due`` event, written in the same transaction,
is what messaging turns into a queued e-mail with retries, so an SMTP outage loses nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import override

from voronka.core import audit, events
from voronka.core.errors import Collector, Forbidden
from voronka.core.models import Channel, Notification
from voronka.core.text import validate_url
from voronka.customers.selectors import companies_visible_to, contacts_visible_to
from voronka.sales.models import Activity, ActivityKind, CallDirection, Deal, Lead
from voronka.sales.services.common import clean_fk, require_writer, unknown_fields

ACTIVITY_ENTITY = "sales.activity"
ACTIVITY_FIELDS = {
    "kind", "subject", "description", "owner_id", "due_at", "contact_id", "company_id", "deal_id",
    "lead_id", "call_direction", "call_duration", "call_result", "recording_url", "starts_at",
    "ends_at", "place", "participant_ids", "remind_at",
}  # fmt: skip


def _clean_dt(errors: Collector, data: dict[str, Any], name: str) -> None:
    if name not in data or data[name] in (None, ""):
        if name in data:
            data[name] = None
        return
    value = data[name]
    try:
        parsed = (
            value
            if isinstance(value, dt.datetime)
            else parse_datetime(value)
            if isinstance(value, str)
            else None
        )
    except ValueError:
        parsed = None
    if parsed is None:
        errors.add(name, _("must be a date and time (ISO 8601)"))
        return
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    data[name] = parsed


def activity_snapshot(a: Activity) -> dict[str, Any]:
    return {name: getattr(a, name) for name in sorted(ACTIVITY_FIELDS - {"participant_ids"})}


def _clean_activity(
    data: dict[str, Any], *, actor: Any, instance: Activity | None
) -> tuple[dict[str, Any], Collector]:
    from voronka.sales.selectors import deals_visible_to, leads_visible_to

    errors = Collector()
    unknown_fields(errors, data, ACTIVITY_FIELDS)
    if "kind" in data and data["kind"] not in ActivityKind.values:
        errors.add(
            "kind", _("must be one of: %(options)s") % {"options": ", ".join(ActivityKind.values)}
        )
    if "subject" in data or instance is None:
        subject = data.get("subject")
        if not isinstance(subject, str) or not subject.strip() or len(subject.strip()) > 255:
            errors.add("subject", _("must be 1 to 255 characters"))
        else:
            data["subject"] = subject.strip()
    for name, limit in (("description", 10000), ("call_result", 255), ("place", 255)):
        if name in data:
            data[name] = str(data[name] or "").strip()
            if len(data[name]) > limit:
                errors.add(name, _("is longer than %(n)d characters") % {"n": limit})
    for name in ("due_at", "starts_at", "ends_at", "remind_at"):
        _clean_dt(errors, data, name)
    starts = data.get("starts_at", instance.starts_at if instance else None)
    ends = data.get("ends_at", instance.ends_at if instance else None)
    if starts and ends and ends < starts:
        errors.add("ends_at", _("the meeting ends before it starts"))
    if data.get("call_direction") and data["call_direction"] not in CallDirection.values:
        errors.add(
            "call_direction",
            _("must be one of: %(options)s") % {"options": ", ".join(CallDirection.values)},
        )
    if "call_duration" in data and data["call_duration"] not in (None, ""):
        d = data["call_duration"]
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            errors.add("call_duration", _("must be a whole number of seconds"))
    if data.get("recording_url"):
        try:
            data["recording_url"] = validate_url(str(data["recording_url"]))
        except ValueError:
            errors.add("recording_url", _("not a valid URL"))
    clean_fk(
        errors,
        data,
        "owner_id",
        get_user_model().objects.filter(is_active=True),
        _("no such active user"),
    )
    clean_fk(errors, data, "contact_id", contacts_visible_to(actor), _("no such contact"))
    clean_fk(errors, data, "company_id", companies_visible_to(actor), _("no such company"))
    clean_fk(errors, data, "deal_id", deals_visible_to(actor), _("no such deal"))
    clean_fk(errors, data, "lead_id", leads_visible_to(actor), _("no such lead"))
    if "participant_ids" in data:
        ids = data["participant_ids"] or []
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            errors.add("participant_ids", _("must be a list of user ids"))
        elif get_user_model().objects.filter(pk__in=ids).count() != len(set(ids)):
            errors.add("participant_ids", _("no such users"))
    return data, errors


def activity_create(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> Activity:
    require_writer(actor)
    values = dict(data)
    values.setdefault("owner_id", getattr(actor, "pk", None))
    values, errors = _clean_activity(values, actor=actor, instance=None)
    errors.raise_if_any()
    participants = values.pop("participant_ids", None)
    with transaction.atomic():
        activity = Activity.objects.create(**values)
        if participants:
            activity.participants.set(participants)
        snapshot = activity_snapshot(activity)
        audit.record(activity, action="create", changes=snapshot, actor=actor, channel=channel)
        events.publish(
            "activity.created",
            entity=ACTIVITY_ENTITY,
            entity_id=activity.pk,
            payload=snapshot,
            actor=actor,
            channel=channel,
        )
    return activity


def activity_update(
    *, actor: Any, activity: Activity, changes: Mapping[str, Any], channel: str = Channel.UI
) -> Activity:
    require_writer(actor)
    values, errors = _clean_activity(dict(changes), actor=actor, instance=activity)
    errors.raise_if_any()
    participants = values.pop("participant_ids", None)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        before = activity_snapshot(activity)
        for name, value in values.items():
            setattr(activity, name, value)
        if "remind_at" in values and values["remind_at"] != before.get("remind_at"):
            activity.reminded_at = None  # a new reminder time fires again
        activity.save()
        if participants is not None:
            activity.participants.set(participants)
        changed = audit.diff(before, activity_snapshot(activity))
        if changed:
            audit.record(activity, action="update", changes=changed, actor=actor, channel=channel)
            events.publish("activity.updated", entity=ACTIVITY_ENTITY, entity_id=activity.pk,
                           payload={"changed": sorted(changed)}, actor=actor, channel=channel)  # fmt: skip
    return activity


def activity_complete(
    *, actor: Any, activity: Activity, done: bool = True, channel: str = Channel.UI
) -> Activity:
    require_writer(actor)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        was = activity.done_at
        activity.done_at = (activity.done_at or timezone.now()) if done else None
        activity.save(update_fields=["done_at", "updated_at"])
        if (was is None) == done:
            audit.record(
                activity,
                action="update",
                changes={"done_at": [was, activity.done_at]},
                actor=actor,
                channel=channel,
            )
            events.publish("activity.completed" if done else "activity.reopened", entity=ACTIVITY_ENTITY,
                           entity_id=activity.pk, payload={}, actor=actor, channel=channel)  # fmt: skip
    return activity


def activity_delete(*, actor: Any, activity: Activity, channel: str = Channel.UI) -> None:
    if actor is not None and not (actor.can_delete or activity.owner_id == actor.pk):
        raise Forbidden(_("your role may not delete records"))
    with transaction.atomic():
        audit.record(
            activity,
            action="delete",
            changes=activity_snapshot(activity),
            actor=actor,
            channel=channel,
        )
        activity.delete()


def reminders_deliver_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Deliver every due, undelivered reminder once: an in-app notification and the
    ``activity.due`` event (which messaging turns into the e-mail). Safe to run from several
    workers at once."""
    now = now or timezone.now()
    delivered = 0
    with transaction.atomic():
        due = (
            Activity.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(remind_at__lte=now, reminded_at__isnull=True, done_at__isnull=True)
            .select_related("owner")
            .order_by("remind_at", "id")[:limit]
        )
        for activity in due:
            activity.reminded_at = now
            activity.save(update_fields=["reminded_at"])
            user = activity.owner
            if user is None:
                continue
            with override(user.language or None):
                title = _("Reminder: %(subject)s") % {"subject": activity.subject}
                when = (
                    formats.date_format(
                        timezone.localtime(activity.due_at), "SHORT_DATETIME_FORMAT"
                    )
                    if activity.due_at
                    else ""
                )
                body = _("Due %(when)s") % {"when": when} if when else ""
            url = reverse("sales:activity", args=[activity.pk])
            note, _created = Notification.objects.get_or_create(
                dedupe_key=f"reminder:{activity.pk}:{activity.remind_at:%Y%m%d%H%M%S}",
                defaults={"user": user, "title": title, "body": body, "url": url},
            )
            events.publish(
                "activity.due", entity=ACTIVITY_ENTITY, entity_id=activity.pk,
                payload={"owner_id": user.pk, "subject": activity.subject, "kind": activity.kind,
                         "due_at": activity.due_at.isoformat() if activity.due_at else None,
                         "url": url, "notification_id": note.pk},
                channel=Channel.SYSTEM,
            )  # fmt: skip
            delivered += 1
    return delivered


def activity_link_targets(activity: Activity) -> dict[str, Any]:
    return {
        "contact": activity.contact_id,
        "company": activity.company_id,
        "deal": activity.deal_id,
        "lead": activity.lead_id,
    }


__all__ = ["Deal", "Lead"]
