"""The unified inbox over the REST API: conversations, their messages and replies.

Visibility is the same as on the inbox page: a conversation the caller may not see answers
404 on every endpoint. A reply is queued (201 with status "queued") and sent by the channel's
sender within seconds; poll ``GET /conversations/{id}/messages`` for its status."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    check_query,
    idempotent,
    page_body,
    query_doc,
)
from voronka.core.errors import NotFound, ServiceValidationError
from voronka.core.pagination import SortKey, keyset_page
from voronka.core.schemas import ERRORS
from voronka.inbox import selectors, services
from voronka.inbox.models import Attachment, Conversation, Message
from voronka.inbox.schemas import (
    AssignIn,
    ConversationDetailOut,
    ConversationOut,
    ConversationPage,
    MessageOut,
    MessagePage,
    ReplyIn,
)

DETAIL_MESSAGES = 100
LIST_DOC = query_doc(
    ("kind", "string", "email, telegram, call or form"),
    ("owner", "string", "manager's user id, `me` or `unassigned`"),
    ("unread", "boolean", "true: only unread; false: only read"),
    ("closed", "boolean", "true: only closed; false: only open"),
    ("contact", "integer", "contact id"),
    ("lead", "integer", "lead id"),
    ("cursor", "string", "next_cursor of the previous page"),
    ("limit", "integer", "page size, 1 to 500 (default 50)"),
)

conversations = Router(tags=["inbox"])


def attachment_out(conversation_id: int, a: Attachment) -> dict[str, Any]:
    url = reverse("api:inbox_attachment", args=[conversation_id, a.pk])
    return {"id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size, "url": url}


def message_out(m: Message) -> dict[str, Any]:
    return {
        "id": m.pk, "conversation_id": m.conversation_id, "direction": m.direction,
        "status": m.status, "sender": m.sender, "author_id": m.author_id, "subject": m.subject,
        "body_text": m.body_text, "body_html": m.body_html, "meta": dict(m.meta or {}),
        "error": m.error, "attempts": m.attempts, "external_id": m.external_id,
        "created_at": m.created_at, "sent_at": m.sent_at,
        "attachments": [attachment_out(m.conversation_id, a) for a in m.attachments.all()],
    }  # fmt: skip


def conversation_out(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.pk, "kind": c.kind, "account": c.account, "subject": c.subject, "peer": c.peer,
        "contact_id": c.contact_id, "lead_id": c.lead_id, "owner_id": c.owner_id,
        "unread": c.unread, "closed": c.closed, "preview": c.preview,
        "last_message_at": c.last_message_at, "created_at": c.created_at,
        "can_reply": services.can_reply(c),
    }  # fmt: skip


def _get(request: ApiRequest, conversation_id: int, *, write: bool = False) -> Conversation:
    return selectors.get_conversation_for_user(request.auth, conversation_id, write=write)


def _fresh(conversation: Conversation) -> dict[str, Any]:
    conversation.refresh_from_db()
    return conversation_out(conversation)


@conversations.get("", response={200: ConversationPage, **ERRORS}, openapi_extra=LIST_DOC)
def list_conversations(request: ApiRequest) -> dict[str, Any]:
    """Conversations the caller may see, newest activity first, paged by cursor."""
    query = selectors.parse_conversation_query(check_query(request.GET), request.auth)
    return page_body(selectors.conversation_list(request.auth, query), conversation_out)


@conversations.get("/{conversation_id}", response={200: ConversationDetailOut, **ERRORS})
def read_conversation(request: ApiRequest, conversation_id: int) -> dict[str, Any]:
    """The conversation with its latest messages (oldest first). Reading it through the API
    does not mark it read: POST /read does."""
    conversation = _get(request, conversation_id)
    latest = list(selectors.messages_of(conversation).reverse()[: DETAIL_MESSAGES + 1])
    return {
        **conversation_out(conversation),
        "messages": [message_out(m) for m in reversed(latest[:DETAIL_MESSAGES])],
        "messages_truncated": len(latest) > DETAIL_MESSAGES,
    }


@conversations.get("/{conversation_id}/messages", response={200: MessagePage, **ERRORS})
def list_messages(
    request: ApiRequest, conversation_id: int, page: Query[PageParams]
) -> dict[str, Any]:
    """The thread, oldest first, paged by cursor."""
    conversation = _get(request, conversation_id)
    if not 1 <= page.limit <= 500:
        raise ServiceValidationError.single("limit", _("must be between 1 and 500"))
    keys = [SortKey("created_at"), SortKey("id")]
    result = keyset_page(selectors.messages_of(conversation), keys, page.cursor, page.limit)
    return page_body(result, message_out)


@conversations.post(
    "/{conversation_id}/reply", response={201: MessageOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC
)
@idempotent
def reply(request: ApiRequest, conversation_id: int, payload: ReplyIn) -> Status[dict[str, Any]]:
    """Queue a reply in the conversation's channel (422 naming ``conversation`` when the
    channel cannot send replies, e.g. web forms and calls)."""
    conversation = _get(request, conversation_id, write=True)
    text = payload.body_text
    if not isinstance(text, str):
        raise ServiceValidationError.single("body_text", _("must be text"))
    message = services.reply(actor=request.auth, conversation=conversation, body_text=text)
    return Status(201, message_out(message))


@conversations.post("/{conversation_id}/read", response={200: ConversationOut, **ERRORS})
def mark_read(request: ApiRequest, conversation_id: int) -> dict[str, Any]:
    conversation = _get(request, conversation_id)
    services.mark_read(actor=request.auth, conversation=conversation)
    return _fresh(conversation)


@conversations.post("/{conversation_id}/unread", response={200: ConversationOut, **ERRORS})
def mark_unread(request: ApiRequest, conversation_id: int) -> dict[str, Any]:
    conversation = _get(request, conversation_id)
    services.mark_read(actor=request.auth, conversation=conversation, read=False)
    return _fresh(conversation)


@conversations.post("/{conversation_id}/assign", response={200: ConversationOut, **ERRORS})
def assign(request: ApiRequest, conversation_id: int, payload: AssignIn) -> dict[str, Any]:
    """Hand the conversation to a manager (``owner_id``) or to nobody (null)."""
    conversation = _get(request, conversation_id, write=True)
    owner_id = payload.owner_id
    if owner_id is not None and (isinstance(owner_id, bool) or not isinstance(owner_id, int)):
        raise ServiceValidationError.single("owner_id", _("must be a user id or null"))
    services.assign(actor=request.auth, conversation=conversation, owner_id=owner_id)
    return _fresh(conversation)


@conversations.post("/{conversation_id}/close", response={200: ConversationOut, **ERRORS})
def close(request: ApiRequest, conversation_id: int) -> dict[str, Any]:
    """Close the conversation; a new message from the customer opens it again."""
    conversation = _get(request, conversation_id, write=True)
    services.set_closed(actor=request.auth, conversation=conversation, closed=True)
    return _fresh(conversation)


@conversations.post("/{conversation_id}/reopen", response={200: ConversationOut, **ERRORS})
def reopen(request: ApiRequest, conversation_id: int) -> dict[str, Any]:
    conversation = _get(request, conversation_id, write=True)
    services.set_closed(actor=request.auth, conversation=conversation, closed=False)
    return _fresh(conversation)


@conversations.get(
    "/{conversation_id}/attachments/{attachment_id}",
    response={200: None, **ERRORS},
    url_name="inbox_attachment",
)
def download_attachment(
    request: ApiRequest, conversation_id: int, attachment_id: int
) -> FileResponse:
    """The file itself (``application/octet-stream``, as a download)."""
    conversation = _get(request, conversation_id)
    found = Attachment.objects.filter(pk=attachment_id, message__conversation=conversation).first()
    if found is None:
        raise NotFound(f"attachment {attachment_id} not found")
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(f"attachment {attachment_id}: the file is missing") from exc
    response = FileResponse(
        handle, as_attachment=True, filename=found.name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
