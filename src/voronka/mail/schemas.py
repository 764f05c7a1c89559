"""API shapes of mailboxes. Passwords are write-only: the answer says only whether one is set
and, for a long one, its last characters (``imap_password_hint``).

Inputs are loose about types (see voronka.core.schemas): the services check every value and
name the field at fault."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import WithJsonSchema

from voronka.core.schemas import LooseBool, LooseDate, LooseId, LooseStr, StrictInput

LoosePort = Annotated[Any, WithJsonSchema({"type": ["integer", "null"], "minimum": 1,
                                           "maximum": 65535})]  # fmt: skip
LooseSecurity = Annotated[Any, WithJsonSchema({"type": "string",
                                               "enum": ["ssl", "starttls", "none"]})]  # fmt: skip
LoosePassword = Annotated[
    Any,
    WithJsonSchema({"type": ["string", "null"], "writeOnly": True,
                    "description": "write-only; empty or null keeps the stored one"}),
]  # fmt: skip


class MailboxOut(Schema):
    id: int
    name: str
    address: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_username: str
    imap_password_set: bool
    imap_password_hint: str
    folder: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password_set: bool
    smtp_password_hint: str
    default_owner_id: int | None
    import_since: dt.date | None
    active: bool
    uidvalidity: int | None
    last_uid: int
    last_sync_at: dt.datetime | None
    next_sync_at: dt.datetime | None
    last_error: str
    last_error_at: dt.datetime | None
    skipped: list[dict[str, Any]]
    message_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class MailboxPage(Schema):
    items: list[MailboxOut]
    next_cursor: str | None


class MailboxIn(StrictInput):
    name: LooseStr = None
    address: LooseStr = None
    imap_host: LooseStr = None
    imap_port: LoosePort = None
    imap_security: LooseSecurity = None
    imap_username: LooseStr = None
    imap_password: LoosePassword = None
    folder: LooseStr = None
    smtp_host: LooseStr = None
    smtp_port: LoosePort = None
    smtp_security: LooseSecurity = None
    smtp_username: LooseStr = None
    smtp_password: LoosePassword = None
    default_owner_id: LooseId = None
    import_since: LooseDate = None
    active: LooseBool = None


class SyncOut(Schema):
    mailbox_id: int
    ok: bool
    stored: int
    already: int
    skipped: int
    ignored: int
    more: bool
    busy: bool
    error: str
    problems: list[str]


class CheckOut(Schema):
    ok: bool
    message: str


class ConnectionOut(Schema):
    imap: CheckOut
    smtp: CheckOut
