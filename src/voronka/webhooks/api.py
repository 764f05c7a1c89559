"""Webhook subscriptions and their delivery log over the REST API (administrators only, like
the pages under /webhooks/: others get 403, an unknown id 404).

The same services as the web pages do every write. A subscription's signing secret is in the
answer that makes it (create, rotate-secret) and never again; every other answer has its last
four characters. A URL that points into our own network (SSRF) is refused with a 422 naming
``url``. The JSON body each delivery POSTs is documented by
:class:`voronka.webhooks.schemas.WebhookEnvelope`."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    idempotent,
    page_body,
    require_admin,
    simple_page,
)
from voronka.core.errors import NotFound, ServiceValidationError
from voronka.core.events import json_safe
from voronka.core.pagination import SortKey, keyset_page
from voronka.core.schemas import ERRORS
from voronka.webhooks import services
from voronka.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from voronka.webhooks.schemas import (
    ENVELOPE_DOC,
    DeliveryDetailOut,
    DeliveryPage,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
    WebhookWithSecretOut,
)

webhooks = Router(tags=["webhooks"])
webhook_deliveries = Router(tags=["webhooks"])

PING_EVENT = "webhook.ping"


def subscription_out(sub: WebhookSubscription, *, secret: str = "") -> dict[str, Any]:
    out = {
        "id": sub.pk, "name": sub.name, "url": sub.url, "events": list(sub.events or []),
        "is_active": sub.is_active, "secret_hint": sub.secret[-4:],
        "created_by_id": sub.created_by_id, "created_at": sub.created_at,
    }  # fmt: skip
    if secret:
        out["secret"] = secret
    return out


def delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(d.pk), "subscription_id": d.subscription_id, "event": d.event,
        "event_id": d.event_id, "status": d.status, "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at, "last_response_status": d.last_response_status,
        "last_error": d.last_error, "created_at": d.created_at, "delivered_at": d.delivered_at,
    }  # fmt: skip


def delivery_detail_out(d: WebhookDelivery) -> dict[str, Any]:
    response = None
    if d.last_response_status is not None:
        response = {"status": d.last_response_status, "body": d.last_response_body}
    return {
        **delivery_out(d),
        "payload": d.payload,
        "request": d.last_request or None,
        "response": response,
    }


def _subscription(request: ApiRequest, pk: int) -> WebhookSubscription:
    """Administrators only (403 before anything is looked up), then 404 for an unknown id."""
    require_admin(request.auth)
    sub = WebhookSubscription.objects.filter(pk=pk).first()
    if sub is None:
        raise NotFound("no such webhook")
    return sub


def _delivery(request: ApiRequest, pk: uuid.UUID) -> WebhookDelivery:
    require_admin(request.auth)
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=pk).first()
    if delivery is None:
        raise NotFound("no such delivery")
    return delivery


def subscription_ping(*, subscription: WebhookSubscription) -> WebhookDelivery:
    """Send a ``webhook.ping`` delivery now, from the request, and keep it in the log.

    The row is written first (without a due time, so no worker claims it meanwhile), then sent
    outside any transaction. A ping is a check, not an event: a failed one is marked failed at
    once instead of being retried for hours."""
    delivery_id = uuid.uuid4()
    payload = {
        "id": str(delivery_id), "event": PING_EVENT, "occurred_at": json_safe(timezone.now()),
        "entity": "webhooks.subscription", "entity_id": subscription.pk,
        "data": {"subscription": {"id": subscription.pk, "name": subscription.name,
                                  "events": list(subscription.events or [])}},
    }  # fmt: skip
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            id=delivery_id, subscription=subscription, event_id=None, event=PING_EVENT,
            payload=payload, next_attempt_at=None,
        )  # fmt: skip
    services.delivery_send(delivery)
    if delivery.status != DeliveryStatus.DELIVERED:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None
        )
        delivery.refresh_from_db()
    return delivery


# --- subscriptions ---------------------------------------------------------------------------


@webhooks.get("", response={200: WebhookPage, **ERRORS})
def list_webhooks(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Every subscription, by name. The secret is never in a list: see ``secret_hint``."""
    require_admin(request.auth)
    result = simple_page(WebhookSubscription.objects.all(), ["name", "id"], page)
    return page_body(result, subscription_out)


@webhooks.post(
    "",
    response={201: WebhookWithSecretOut, **ERRORS},
    openapi_extra=IDEMPOTENCY_DOC,
    description="A new subscription; `secret` (to check `X-Voronka-Signature`) is in this "
    "answer only. A URL that resolves to a loopback, private, link-local or otherwise "
    "non-public address answers 422 naming `url`.\n\n" + ENVELOPE_DOC,
)
@idempotent
def create_webhook(request: ApiRequest, payload: WebhookIn) -> Status[dict[str, Any]]:
    require_admin(request.auth)
    sub = services.subscription_create(actor=request.auth, data=payload.model_dump())
    return Status(201, subscription_out(sub, secret=sub.secret))


@webhooks.get("/{webhook_id}", response={200: WebhookOut, **ERRORS})
def read_webhook(request: ApiRequest, webhook_id: int) -> dict[str, Any]:
    return subscription_out(_subscription(request, webhook_id))


@webhooks.patch("/{webhook_id}", response={200: WebhookOut, **ERRORS})
def update_webhook(request: ApiRequest, webhook_id: int, payload: WebhookPatch) -> dict[str, Any]:
    """Change only the keys sent; ``events`` replaces the whole list (empty: every event)."""
    sub = _subscription(request, webhook_id)
    changes = dict(payload.model_dump(exclude_unset=True))
    for name in ("is_active", "events"):
        if name in changes and changes[name] is None:
            raise ServiceValidationError.single(name, _("must not be null"))
    sub = services.subscription_update(actor=request.auth, subscription=sub, data=changes)
    return subscription_out(sub)


@webhooks.delete("/{webhook_id}", response={204: None, **ERRORS})
def delete_webhook(request: ApiRequest, webhook_id: int) -> Status[None]:
    """The subscription and its delivery log."""
    services.subscription_delete(
        actor=request.auth, subscription=_subscription(request, webhook_id)
    )
    return Status(204, None)


@webhooks.post("/{webhook_id}/rotate-secret", response={200: WebhookWithSecretOut, **ERRORS})
def rotate_webhook_secret(request: ApiRequest, webhook_id: int) -> dict[str, Any]:
    """A new signing secret, in this answer only; deliveries sent from now on use it."""
    sub = _subscription(request, webhook_id)
    secret = services.subscription_rotate_secret(actor=request.auth, subscription=sub)
    return subscription_out(sub, secret=secret)


@webhooks.post(
    "/{webhook_id}/test",
    response={200: DeliveryDetailOut, **ERRORS},
    description="Send a `webhook.ping` delivery to the subscription's URL now and answer with "
    "it: the request as sent and the receiver's answer (or the error in `last_error`). The "
    "ping is kept in the delivery log; a failed ping is `failed` at once, not retried. It is "
    "sent to a switched-off subscription too.\n\n" + ENVELOPE_DOC,
)
def ping_webhook(request: ApiRequest, webhook_id: int) -> dict[str, Any]:
    sub = _subscription(request, webhook_id)
    return delivery_detail_out(subscription_ping(subscription=sub))


@webhooks.get("/{webhook_id}/deliveries", response={200: DeliveryPage, **ERRORS})
def list_webhook_deliveries(
    request: ApiRequest, webhook_id: int, page: Query[PageParams], status: str = ""
) -> dict[str, Any]:
    """The subscription's deliveries, newest first, paged by cursor; ``status`` is
    pending, delivered or failed. Each one's request and answer: ``/webhook-deliveries/{id}``."""
    sub = _subscription(request, webhook_id)
    if status and status not in DeliveryStatus.values:
        raise ServiceValidationError.single("status", ", ".join(DeliveryStatus.values))
    if not 1 <= page.limit <= 500:
        raise ServiceValidationError.single("limit", _("must be between 1 and 500"))
    qs = WebhookDelivery.objects.filter(subscription=sub)
    if status:
        qs = qs.filter(status=status)
    keys = [SortKey("created_at", descending=True), SortKey("id", descending=True)]
    return page_body(keyset_page(qs, keys, page.cursor, page.limit), delivery_out)


# --- deliveries -------------------------------------------------------------------------------


@webhook_deliveries.get(
    "/{delivery_id}",
    response={200: DeliveryDetailOut, **ERRORS},
    description="One delivery with its payload (the `WebhookEnvelope` the receiver gets), "
    "the last attempt's request (headers without the signature) and the receiver's "
    "answer.\n\n" + ENVELOPE_DOC,
)
def read_delivery(request: ApiRequest, delivery_id: uuid.UUID) -> dict[str, Any]:
    return delivery_detail_out(_delivery(request, delivery_id))


@webhook_deliveries.post(
    "/{delivery_id}/replay",
    response={201: DeliveryDetailOut, **ERRORS},
    openapi_extra=IDEMPOTENCY_DOC,
)
@idempotent
def replay_delivery(request: ApiRequest, delivery_id: uuid.UUID) -> Status[dict[str, Any]]:
    """Queue the same payload again as a new delivery (a new id, so a receiver that
    de-duplicates takes it); the worker sends it within seconds. The log keeps both."""
    delivery = _delivery(request, delivery_id)
    new = services.delivery_replay(actor=request.auth, delivery=delivery)
    return Status(201, delivery_detail_out(new))
