"""Writes of the webhooks app: subscriptions, deliveries and stage actions.

The outbox consumer (:func:`on_event`) only writes delivery rows; :func:`deliveries_send_due`
and :func:`runs_send_due` (periodic jobs) do the HTTP outside any transaction, claim rows with a
lease (``next_attempt_at`` moved ahead before sending) so several workers never send one row at
once, and a worker that dies mid-send leaves the row due again: at-least-once, which receivers
de-duplicate with ``X-Voronka-Delivery`` / ``Idempotency-Key``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from voronka.core.dispatch import batch_memo, bulk_insert, handles_batches
from voronka.core.errors import Collector, Forbidden, ServiceValidationError
from voronka.core.events import json_safe
from voronka.core.models import Note, OutboxEvent
from voronka.webhooks.http import DeliveryFailed, UnsafeURL, check_url, safe_request
from voronka.webhooks.models import (
    DeliveryStatus,
    RunStatus,
    StageAction,
    StageActionRun,
    WebhookDelivery,
    WebhookSubscription,
)

log = logging.getLogger("voronka.webhooks")

CONSUMER = "webhooks.deliveries"
MAX_ATTEMPTS = 8
LEASE = dt.timedelta(minutes=2)


def _require_admin(actor: Any) -> None:
    if not getattr(actor, "is_admin", False):
        raise Forbidden(_("Only an administrator may change webhooks."))


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min … capped at 6 hours."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


# --- subscriptions ----------------------------------------------------------------------------


def _validate_url(errors: Collector, url: str) -> None:
    if not url:
        errors.add("url", _("Enter the URL to send to."))
        return
    try:
        check_url(url, allow=None)
    except UnsafeURL as exc:
        from voronka.webhooks.http import allowed_hosts

        try:
            check_url(url, allow=allowed_hosts())
        except UnsafeURL:
            errors.add("url", _("This address is not allowed: %(reason)s") % {"reason": exc})
    except DeliveryFailed:
        pass  # DNS may be down now; each delivery checks again


def _clean_events(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace("\n", ",").split(",")
    return sorted({str(e).strip() for e in raw or [] if str(e).strip()})


def subscription_create(*, actor: Any, data: dict[str, Any]) -> WebhookSubscription:
    _require_admin(actor)
    errors = Collector()
    name = str(data.get("name") or "").strip()
    url = str(data.get("url") or "").strip()
    if not name:
        errors.add("name", _("Enter a name."))
    _validate_url(errors, url)
    errors.raise_if_any()
    with transaction.atomic():
        return WebhookSubscription.objects.create(
            name=name[:128],
            url=url,
            events=_clean_events(data.get("events")),
            is_active=bool(data.get("is_active", True)),
            created_by_id=getattr(actor, "pk", None),
        )


def subscription_update(
    *, actor: Any, subscription: WebhookSubscription, data: dict[str, Any]
) -> WebhookSubscription:
    _require_admin(actor)
    errors = Collector()
    if "name" in data and not str(data["name"] or "").strip():
        errors.add("name", _("Enter a name."))
    if "url" in data:
        _validate_url(errors, str(data["url"] or "").strip())
    errors.raise_if_any()
    with transaction.atomic():
        if "name" in data:
            subscription.name = str(data["name"]).strip()[:128]
        if "url" in data:
            subscription.url = str(data["url"]).strip()
        if "events" in data:
            subscription.events = _clean_events(data["events"])
        if "is_active" in data:
            subscription.is_active = bool(data["is_active"])
        subscription.save()
    return subscription


def subscription_delete(*, actor: Any, subscription: WebhookSubscription) -> None:
    _require_admin(actor)
    subscription.delete()


def subscription_rotate_secret(*, actor: Any, subscription: WebhookSubscription) -> str:
    from voronka.webhooks.models import new_secret

    _require_admin(actor)
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    return subscription.secret


# --- deliveries -------------------------------------------------------------------------------


def event_payload(delivery_id: uuid.UUID, event: OutboxEvent) -> dict[str, Any]:
    """The documented body: {id, event, occurred_at, entity, entity_id, data}."""
    return {
        "id": str(delivery_id),
        "event": event.name,
        "occurred_at": json_safe(event.created_at),
        "entity": event.entity,
        "entity_id": event.entity_id,
        "data": event.payload,
    }


def _active_subscriptions() -> list[WebhookSubscription]:
    """Active subscriptions, read once per dispatcher batch rather than once per event."""
    return batch_memo(
        "webhooks.subscriptions",
        lambda: list(WebhookSubscription.objects.filter(is_active=True)),
    )


def _deliveries_for(
    event: OutboxEvent, subs: list[WebhookSubscription], now: dt.datetime
) -> list[WebhookDelivery]:
    rows = []
    for sub in subs:
        if not sub.wants(event.name):
            continue
        delivery_id = uuid.uuid4()
        rows.append(
            WebhookDelivery(
                id=delivery_id,
                subscription=sub,
                event_id=event.id,
                event=event.name,
                payload=event_payload(delivery_id, event),
                next_attempt_at=now,
            )
        )
    return rows


def on_events(events: list[OutboxEvent]) -> None:
    """The consumer for a whole dispatcher batch: every delivery of the batch in one INSERT."""
    subs = _active_subscriptions()
    if not subs:
        return
    now = timezone.now()
    bulk_insert([row for event in events for row in _deliveries_for(event, subs, now)])


@handles_batches(on_events)
def on_event(event: OutboxEvent) -> None:
    """The outbox consumer: one pending delivery per active subscription that wants it."""
    rows = _deliveries_for(event, _active_subscriptions(), timezone.now())
    if rows:
        WebhookDelivery.objects.bulk_create(rows)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _claim(model: type[Any], now: dt.datetime, limit: int) -> list[Any]:
    """Take up to ``limit`` due rows and push them ``LEASE`` ahead, in one short transaction."""
    with transaction.atomic():
        rows = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(status="pending", next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:limit]
        )
        ids = [r.pk for r in rows]
        if ids:
            model.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    return rows


def _attempt(delivery: WebhookDelivery, now: dt.datetime) -> None:
    """One attempt, no database: sign, POST, note the request and the answer on the row and
    schedule the next try. Safe to run in a sender thread."""
    sub = delivery.subscription
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Voronka-Event": delivery.event,
        "X-Voronka-Delivery": str(delivery.id),
        "X-Voronka-Signature": sign(sub.secret, body),
    }
    delivery.attempts += 1
    delivery.last_request = {
        "url": sub.url,
        "method": "POST",
        "headers": {k: v for k, v in headers.items() if k != "X-Voronka-Signature"},
        "body": body.decode(),
        "sent_at": json_safe(now),
    }
    permanent = False
    try:
        resp = safe_request("POST", sub.url, body=body, headers=headers, timeout=10.0)
    except UnsafeURL as exc:
        delivery.last_error, delivery.last_response_status, permanent = str(exc), None, True
        ok = False
    except DeliveryFailed as exc:
        delivery.last_error, delivery.last_response_status, ok = str(exc), None, False
    else:
        delivery.last_response_status = resp.status
        delivery.last_response_body = resp.text[:4000]
        ok = resp.ok
        delivery.last_error = "" if ok else f"HTTP {resp.status}"
    if ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif permanent or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)


_ATTEMPT_FIELDS = [
    "attempts",
    "last_request",
    "last_response_status",
    "last_response_body",
    "last_error",
    "status",
    "delivered_at",
    "next_attempt_at",
]


def delivery_send(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> None:
    """One attempt: sign, POST, record the request and the answer, schedule the next try."""
    _attempt(delivery, now or timezone.now())
    delivery.save()


def _concurrency() -> int:
    value = getattr(settings, "VORONKA_WEBHOOK_CONCURRENCY", None) or os.environ.get(
        "VORONKA_WEBHOOK_CONCURRENCY"
    )
    return max(1, int(value)) if value not in (None, "") else 8


def _in_order(deliveries: list[WebhookDelivery]) -> list[list[WebhookDelivery]]:
    """Deliveries grouped per subscription and record, each group in event order: groups go
    out at once, a group's deliveries one after another (a receiver sees a record's events in
    the order they happened)."""
    groups: dict[tuple[Any, ...], list[WebhookDelivery]] = {}
    for d in sorted(deliveries, key=lambda d: (d.event_id or 0, d.created_at)):
        key = (d.subscription_id, d.payload.get("entity"), d.payload.get("entity_id"))
        groups.setdefault(key, []).append(d)
    return list(groups.values())


def _claim_deliveries(now: dt.datetime, limit: int) -> list[WebhookDelivery]:
    """:func:`_claim` for deliveries: the lease taken on ids only, then the rows with their
    subscription read once. A dispatcher batch's deliveries are due at the same instant, so
    the event order comes next."""
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "event_id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    if not ids:
        return []
    return list(WebhookDelivery.objects.filter(pk__in=ids).select_related("subscription"))


def _send_group(group: list[WebhookDelivery], now: dt.datetime) -> None:
    for delivery in group:
        _attempt(delivery, now)


def _save_attempts(deliveries: list[WebhookDelivery]) -> None:
    """Write the outcome of each attempt: one UPDATE per row, sent as one batch
    (``bulk_update``'s CASE expressions cost more Python than the sending itself)."""
    meta = WebhookDelivery._meta
    fields = [f for f in meta.concrete_fields if f.name in _ATTEMPT_FIELDS]
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    # Names from the model's own metadata, values as parameters.
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(str(pk.column))} = %s"  # noqa: S608
    rows = [
        [f.get_db_prep_save(getattr(d, f.attname), connection) for f in fields]
        + [pk.get_db_prep_save(d.pk, connection)]
        for d in deliveries
    ]
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(sql, rows)


def deliveries_send_due(
    limit: int = 100, *, now: dt.datetime | None = None, budget_seconds: float = 4.0
) -> int:
    """The periodic job: send due deliveries, ``limit`` at a time, until none is due or the
    time budget is spent; returns how many were attempted.

    Each batch is claimed in one short transaction, then its requests go out from
    ``VORONKA_WEBHOOK_CONCURRENCY`` threads (8) through :func:`safe_request` (every request
    and redirect checked against SSRF), and the outcomes are written at once. A slow receiver
    costs its own timeout, not the whole queue's. The next batch is claimed while the current
    one is on the wire, but sent only after it: a record's next delivery never overtakes the
    one before."""
    started = time.monotonic()
    clock = now or timezone.now()
    rows = _claim_deliveries(clock, limit)
    total = 0
    if not rows:
        return 0
    with ThreadPoolExecutor(_concurrency(), thread_name_prefix="webhook") as pool:
        while rows:
            futures = [pool.submit(_send_group, group, clock) for group in _in_order(rows)]
            next_clock = now or timezone.now()
            more = time.monotonic() - started < budget_seconds
            following = _claim_deliveries(next_clock, limit) if more else []
            for future in futures:
                future.result()
            _save_attempts(rows)
            total += len(rows)
            rows, clock = following, next_clock
    return total


def delivery_replay(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same payload again as a new delivery (new id), so the log keeps both."""
    _require_admin(actor)
    new_id = uuid.uuid4()
    payload = {**delivery.payload, "id": str(new_id)}
    return WebhookDelivery.objects.create(
        id=new_id,
        subscription=delivery.subscription,
        event_id=None,
        event=delivery.event,
        payload=payload,
        next_attempt_at=timezone.now(),
    )


def delivery_retry(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Put a failed delivery back in the queue (same id), due now."""
    _require_admin(actor)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    delivery.refresh_from_db()
    return delivery


# --- stage actions ----------------------------------------------------------------------------


def stage_action_create(*, actor: Any, data: dict[str, Any]) -> StageAction:
    from voronka.sales.models import Stage

    _require_admin(actor)
    errors = Collector()
    label = str(data.get("label") or "").strip()
    url = str(data.get("url") or "").strip()
    stage = Stage.objects.filter(pk=data.get("stage_id") or 0).first()
    if stage is None:
        errors.add("stage_id", _("Choose a stage."))
    if not label:
        errors.add("label", _("Enter the button label."))
    _validate_url(errors, url)
    errors.raise_if_any()
    assert stage is not None
    return StageAction.objects.create(stage=stage, label=label[:64], url=url, method="POST")


def stage_action_delete(*, actor: Any, action: StageAction) -> None:
    _require_admin(actor)
    action.delete()


def deal_payload(deal: Any) -> dict[str, Any]:
    """The customer card and the deal's products, as the receiver gets them."""
    company = deal.company
    contacts = list(deal.contacts.all().prefetch_related("emails", "phones"))
    return json_safe(
        {
            "deal": {
                "id": deal.pk,
                "title": deal.title,
                "amount": deal.amount,
                "currency": deal.currency_id,
                "stage": deal.stage.name,
            },
            "company": None
            if company is None
            else {
                "id": company.pk,
                "name": company.name,
                "legal_name": company.legal_name,
                "inn": company.inn,
                "phone": company.phone,
                "email": company.email,
            },
            "contacts": [
                {
                    "id": c.pk,
                    "first_name": c.first_name,
                    "last_name": c.last_name,
                    "emails": [e.email for e in c.emails.all()],
                    "phones": [p.phone for p in c.phones.all()],
                }
                for c in contacts
            ],
            "products": [
                {
                    "product_id": line.product_id,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "unit_price": line.unit_price,
                    "total": line.total,
                }
                for line in deal.lines.all()
            ],
        }
    )


def stage_action_run_start(*, actor: Any, action: StageAction, deal: Any) -> StageActionRun:
    """Queue one press of the button; the worker sends it. The deal must be visible and
    writable to ``actor`` (the caller fetched it with ``get_deal_for_user(write=True)``)."""
    if not action.is_active or action.stage_id != deal.stage_id:
        raise ServiceValidationError.single(
            "action", _("This action is not available at the deal's stage.")
        )
    with transaction.atomic():
        run = StageActionRun.objects.create(
            action=action,
            deal=deal,
            payload={},
            created_by_id=getattr(actor, "pk", None),
            next_attempt_at=timezone.now(),
        )
        run.payload = {"idempotency_key": str(run.id), "action": action.label, **deal_payload(deal)}
        run.save(update_fields=["payload"])
    return run


def _timeline_note(run: StageActionRun) -> None:
    from django.contrib.contenttypes.models import ContentType

    from voronka.sales.models import Deal

    if run.status == RunStatus.SUCCEEDED:
        text = _("%(label)s: done, reference %(ref)s") % {
            "label": run.action.label,
            "ref": run.reference or "—",
        }
    else:
        text = _("%(label)s: failed (%(error)s)") % {
            "label": run.action.label,
            "error": run.last_error,
        }
    Note.objects.create(
        content_type=ContentType.objects.get_for_model(Deal),
        object_id=run.deal_id,
        body_html=f"<p>{escape(text)}</p>",
        author_id=run.created_by_id,
    )


def run_send(run: StageActionRun, *, now: dt.datetime | None = None) -> None:
    """One attempt of a stage action; the answer's ``reference`` is kept and shown."""
    now = now or timezone.now()
    run.attempts += 1
    permanent = False
    try:
        resp = safe_request(
            run.action.method,
            run.action.url,
            json=run.payload,
            headers={"Idempotency-Key": str(run.id), "X-Voronka-Delivery": str(run.id)},
            timeout=15.0,
        )
    except UnsafeURL as exc:
        ok, permanent, run.last_error = False, True, str(exc)
    except DeliveryFailed as exc:
        ok, run.last_error = False, str(exc)
    else:
        run.last_response_status = resp.status
        ok = resp.ok
        run.last_error = "" if ok else f"HTTP {resp.status}: {resp.text[:200]}"
        permanent = 400 <= resp.status < 500 and resp.status not in (408, 409, 429)
        if ok:
            try:
                data = resp.json()
                run.reference = str(data.get("reference") or data.get("id") or "")[:255]
            except (ValueError, AttributeError):
                run.reference = ""
    with transaction.atomic():
        if ok:
            run.status = RunStatus.SUCCEEDED
            run.finished_at = timezone.now()
            run.next_attempt_at = None
        elif permanent or run.attempts >= MAX_ATTEMPTS:
            run.status = RunStatus.FAILED
            run.finished_at = timezone.now()
            run.next_attempt_at = None
        else:
            run.next_attempt_at = now + backoff(run.attempts)
        run.save()
        if run.status != RunStatus.PENDING:
            _timeline_note(run)


def runs_send_due(limit: int = 20, *, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    rows = _claim(StageActionRun, now, limit)
    for row in StageActionRun.objects.filter(pk__in=[r.pk for r in rows]).select_related("action"):
        run_send(row, now=now)
    return len(rows)


def run_retry(*, actor: Any, run: StageActionRun) -> StageActionRun:
    """Send a failed run again with the same Idempotency-Key."""
    if run.status != RunStatus.FAILED:
        return run
    StageActionRun.objects.filter(pk=run.pk, status=RunStatus.FAILED).update(
        status=RunStatus.PENDING, next_attempt_at=timezone.now(), attempts=0, finished_at=None
    )
    run.refresh_from_db()
    return run


def pending_count() -> int:
    return (
        WebhookDelivery.objects.filter(Q(status=DeliveryStatus.PENDING)).count()
        + StageActionRun.objects.filter(status=RunStatus.PENDING).count()
    )
