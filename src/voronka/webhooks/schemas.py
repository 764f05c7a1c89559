"""API shapes of webhook subscriptions and their deliveries, and the documented JSON body that
every delivery POSTs to a receiver (:class:`WebhookEnvelope`).

The envelope is described here once and used three times: as the ``payload`` of a delivery in
the API, in the operations' descriptions, and as the OpenAPI 3.1 top-level ``webhooks`` entry
(:data:`OPENAPI_WEBHOOKS`), so a receiver's author reads the same schema the CRM sends."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from voronka.core.schemas import StrictInput

DateTimeText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class WebhookEnvelope(Schema):
    """The JSON body of every webhook delivery. Headers sent with it: ``X-Voronka-Event`` (the
    event name), ``X-Voronka-Delivery`` (the delivery id, the same as ``id``) and
    ``X-Voronka-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body with the
    subscription's secret. A delivery may arrive more than once: de-duplicate on ``id``."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(
        description="The delivery id (a UUID), also sent as X-Voronka-Delivery. Retries of a "
        "delivery keep it; a replay is a new delivery with a new id."
    )
    event: str = Field(
        description="The event name, also sent as X-Voronka-Event: deal.created, "
        "deal.stage_changed, contact.updated, … (webhook.ping for a test ping)."
    )
    occurred_at: DateTimeText = Field(description="When the event happened (ISO 8601, UTC).")
    entity: str = Field(
        description="What the event is about: customers.contact, customers.company, "
        "sales.lead, sales.deal, … (webhooks.subscription for a ping)."
    )
    entity_id: int | None = Field(description="The id of that record.")
    data: dict[str, Any] = Field(
        description="The event's own payload (changed fields, the stage moved from and to, …); "
        "its keys depend on the event."
    )


ENVELOPE_DOC = (
    "Every delivery is a `POST` of a JSON `WebhookEnvelope` "
    '(`{"id", "event", "occurred_at", "entity", "entity_id", "data"}`: `id` is the delivery '
    "id, `data` the event's payload) with the headers `X-Voronka-Event`, `X-Voronka-Delivery` "
    "(= `id`; a delivery may arrive more than once, so de-duplicate on it) and "
    "`X-Voronka-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>`. Any 2xx "
    "answer counts as delivered; anything else is retried with backoff (30 s, 1 min, 2 min … "
    "up to 8 attempts), then the delivery is `failed`."
)

# The OpenAPI 3.1 top-level "webhooks" object: what Voronka calls on the receiver's side.
OPENAPI_WEBHOOKS: dict[str, Any] = {
    "voronkaEvent": {
        "post": {
            "summary": "A domain event sent to a webhook subscription",
            "description": ENVELOPE_DOC,
            "parameters": [
                {
                    "in": "header",
                    "name": "X-Voronka-Event",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The event name.",
                },
                {
                    "in": "header",
                    "name": "X-Voronka-Delivery",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                    "description": "The delivery id; de-duplicate on it.",
                },
                {
                    "in": "header",
                    "name": "X-Voronka-Signature",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "sha256=<hex HMAC-SHA256 of the raw body with the secret>",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/WebhookEnvelope"}}
                },
            },
            "responses": {"2XX": {"description": "Delivered; anything else is retried."}},
        }
    }
}


# --- subscriptions ---------------------------------------------------------------------------


class WebhookIn(StrictInput):
    """A new subscription. ``events`` empty means every event."""

    name: str = ""
    url: str = ""
    events: list[str] = Field(default_factory=list, description="event names; empty: every event")
    is_active: bool = True


class WebhookPatch(StrictInput):
    """Only the keys sent change."""

    name: str | None = None
    url: str | None = None
    events: list[str] | None = None
    is_active: bool | None = None


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    is_active: bool
    secret_hint: str = Field(description="The last 4 characters of the signing secret.")
    created_by_id: int | None
    created_at: dt.datetime


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(
        description="The signing secret, in this answer only (create, rotate-secret)."
    )


class WebhookPage(Schema):
    items: list[WebhookOut]
    next_cursor: str | None


# --- deliveries -------------------------------------------------------------------------------


class DeliveryOut(Schema):
    id: str = Field(description="The delivery id, sent as X-Voronka-Delivery.")
    subscription_id: int
    event: str
    event_id: int | None = Field(description="The outbox event; null for a ping or a replay.")
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    next_attempt_at: dt.datetime | None
    last_response_status: int | None
    last_error: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class DeliveryRequestOut(Schema):
    """The last attempt's request as sent (the signature header is left out)."""

    url: str
    method: str
    headers: dict[str, str]
    body: str
    sent_at: DateTimeText | None = None


class DeliveryResponseOut(Schema):
    """The receiver's answer to the last attempt (its first 4,000 characters)."""

    status: int
    body: str


class DeliveryDetailOut(DeliveryOut):
    payload: WebhookEnvelope
    request: DeliveryRequestOut | None = Field(description="null until the first attempt")
    response: DeliveryResponseOut | None = Field(
        description="null until a receiver answered (connection errors have none: see last_error)"
    )
