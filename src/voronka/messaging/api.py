"""Message templates and outgoing messages over the REST API.

``POST /messages`` queues an e-mail or SMS through the same services as the contact card;
the answer is the queued row (or the suppressed one, with the reason). Messages are visible
to whoever may see their contact; templates are readable by everyone and changed by
administrators."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Query, Router, Schema, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    check_query,
    idempotent,
    page_body,
    require_admin,
    simple_page,
)
from voronka.core.errors import ServiceValidationError
from voronka.core.pagination import SortKey, keyset_page
from voronka.core.schemas import ERRORS
from voronka.customers.selectors import get_contact_for_user
from voronka.messaging import selectors, services
from voronka.messaging.models import MessageStatus, MessageTemplate, OutgoingMessage


class TemplateIn(Schema):
    key: str | None = None
    name: str | None = None
    channel: Literal["email", "sms"] | None = None
    is_html: bool | None = None
    subject_ru: str | None = None
    body_ru: str | None = None
    subject_en: str | None = None
    body_en: str | None = None


class TemplateOut(Schema):
    id: int
    key: str
    name: str
    channel: str
    is_html: bool
    subject_ru: str
    body_ru: str
    subject_en: str
    body_en: str
    created_at: dt.datetime
    updated_at: dt.datetime


class TemplatePage(Schema):
    items: list[TemplateOut]
    next_cursor: str | None


class MessageIn(Schema):
    channel: Literal["email", "sms"] = "email"
    contact_id: int | None = None
    to: str = ""
    template: str | None = None
    subject: str = ""
    body: str = ""
    marketing: bool = False
    context: dict[str, Any] | None = None


class MessageOut(Schema):
    id: int
    channel: str
    to: str
    subject: str
    body: str
    is_html: bool
    status: str
    reason: str
    attempts: int
    next_attempt_at: dt.datetime | None
    provider_message_id: str
    error: str
    contact_id: int | None
    template: str | None
    marketing: bool
    created_by_id: int | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


def template_out(t: MessageTemplate) -> dict[str, Any]:
    return {
        "id": t.pk, "key": t.key, "name": t.name, "channel": t.channel, "is_html": t.is_html,
        "subject_ru": t.subject_ru, "body_ru": t.body_ru, "subject_en": t.subject_en,
        "body_en": t.body_en, "created_at": t.created_at, "updated_at": t.updated_at,
    }  # fmt: skip


def message_out(m: OutgoingMessage) -> dict[str, Any]:
    return {
        "id": m.pk, "channel": m.channel, "to": m.to, "subject": m.subject, "body": m.body,
        "is_html": m.is_html, "status": m.status, "reason": m.reason, "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at, "provider_message_id": m.provider_message_id,
        "error": m.error, "contact_id": m.contact_id,
        "template": m.template.key if m.template_id and m.template else None,
        "marketing": m.marketing, "created_by_id": m.created_by_id,
        "created_at": m.created_at, "sent_at": m.sent_at,
    }  # fmt: skip


# --- templates -----------------------------------------------------------------------------

message_templates = Router(tags=["messaging"])


@message_templates.get("", response={200: TemplatePage, **ERRORS})
def list_templates(
    request: ApiRequest, page: Query[PageParams], channel: str = ""
) -> dict[str, Any]:
    return page_body(simple_page(selectors.templates_all(channel), ["name", "id"], page),
                     template_out)  # fmt: skip


@message_templates.post("", response={201: TemplateOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_template(request: ApiRequest, payload: TemplateIn) -> Status[dict[str, Any]]:
    require_admin(request.auth)
    template = services.template_create(
        actor=request.auth, data=payload.model_dump(exclude_unset=True)
    )
    return Status(201, template_out(template))


@message_templates.get("/{template_id}", response={200: TemplateOut, **ERRORS})
def read_template(request: ApiRequest, template_id: int) -> dict[str, Any]:
    return template_out(selectors.get_template(template_id))


@message_templates.patch("/{template_id}", response={200: TemplateOut, **ERRORS})
def update_template(request: ApiRequest, template_id: int, payload: TemplateIn) -> dict[str, Any]:
    template = selectors.get_template(template_id)
    require_admin(request.auth)
    template = services.template_update(
        actor=request.auth, template=template, changes=payload.model_dump(exclude_unset=True)
    )
    return template_out(template)


@message_templates.delete("/{template_id}", response={204: None, **ERRORS})
def delete_template(request: ApiRequest, template_id: int) -> Status[None]:
    template = selectors.get_template(template_id)
    require_admin(request.auth)
    services.template_delete(actor=request.auth, template=template)
    return Status(204, None)


# --- messages ------------------------------------------------------------------------------

messages = Router(tags=["messaging"])


@messages.get("", response={200: MessagePage, **ERRORS})
def list_messages(
    request: ApiRequest, page: Query[PageParams], status: str = "", channel: str = "",
    contact_id: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Messages the caller may see, newest first."""
    check_query(request.GET)
    if status and status not in MessageStatus.values:
        raise ServiceValidationError.single("status", ", ".join(MessageStatus.values))
    if not 1 <= page.limit <= 500:
        raise ServiceValidationError.single("limit", "must be between 1 and 500")
    qs = selectors.message_list(request.auth, status=status, channel=channel,
                                contact_id=contact_id)  # fmt: skip
    result = keyset_page(qs, [SortKey("id", descending=True)], page.cursor, page.limit)
    return page_body(result, message_out)


@messages.get("/{message_id}", response={200: MessageOut, **ERRORS})
def read_message(request: ApiRequest, message_id: int) -> dict[str, Any]:
    return message_out(selectors.get_message_for_user(request.auth, message_id))


@messages.post("", response={201: MessageOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def send_message(request: ApiRequest, payload: MessageIn) -> Status[dict[str, Any]]:
    """Queue an e-mail (subject and body, or a template key) or an SMS (body or template) to
    a contact or an address. Marketing messages need the contact's consent; without it the
    message is kept with status `suppressed` and the reason."""
    contact = None
    if payload.contact_id is not None:
        contact = get_contact_for_user(request.auth, payload.contact_id)
    common: dict[str, Any] = {
        "actor": request.auth, "to_contact": contact, "template": payload.template or None,
        "context": payload.context, "marketing": payload.marketing,
    }  # fmt: skip
    if payload.channel == "sms":
        message = services.send_sms(**common, to_phone=payload.to, text=payload.body)
    else:
        message = services.send_email(**common, to_address=payload.to,
                                      subject=payload.subject, body=payload.body)  # fmt: skip
    return Status(201, message_out(message))
