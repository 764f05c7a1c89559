"""API shapes of the unified inbox: conversations, their messages and the few actions on them.

Inputs are loose about types (see voronka.core.schemas): the services check each value and
name the field at fault."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema

from voronka.core.schemas import LooseId, LooseStr, StrictInput


class ReplyIn(StrictInput):
    body_text: LooseStr = ""


class AssignIn(StrictInput):
    owner_id: LooseId = None  # null leaves the conversation unassigned


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str  # GET it with the same bearer key


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str  # in | out
    status: str  # received | queued | sending | sent | failed
    sender: str
    author_id: int | None
    subject: str
    body_text: str
    body_html: str  # sanitized when it arrived
    meta: dict[str, Any]
    error: str
    attempts: int
    external_id: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    attachments: list[AttachmentOut]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class ConversationOut(Schema):
    id: int
    kind: str  # email | telegram | call | form
    account: str
    subject: str
    peer: str
    contact_id: int | None
    lead_id: int | None
    owner_id: int | None
    unread: bool
    closed: bool
    preview: str
    last_message_at: dt.datetime | None
    created_at: dt.datetime
    can_reply: bool


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]  # the latest ones, oldest first
    messages_truncated: bool  # true when older messages exist: page through /messages


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None
