"""Mailboxes over the REST API (administrators only: they hold passwords to mail servers).

The same services as the settings pages do every write; ``POST /mailboxes/{id}/sync`` runs a
short sync at once and answers what it did; ``POST /mailboxes/{id}/test`` logs in to both
servers with the stored settings."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    idempotent,
    page_body,
    patch_body,
    require_admin,
    simple_page,
)
from voronka.core.models import Channel
from voronka.core.schemas import ERRORS
from voronka.mail import selectors
from voronka.mail.models import Mailbox
from voronka.mail.schemas import ConnectionOut, MailboxIn, MailboxOut, MailboxPage, SyncOut
from voronka.mail.services import (
    mailbox_create,
    mailbox_delete,
    mailbox_test_connection,
    mailbox_update,
)
from voronka.mail.sync import sync_now

mailboxes = Router(tags=["mailboxes"])


def mailbox_out(box: Mailbox) -> dict[str, Any]:
    return {
        "id": box.pk, "name": box.name, "address": box.address, "imap_host": box.imap_host,
        "imap_port": box.imap_port, "imap_security": box.imap_security,
        "imap_username": box.imap_username, "imap_password_set": bool(box.imap_password),
        "imap_password_hint": box.imap_password_hint, "folder": box.folder,
        "smtp_host": box.smtp_host, "smtp_port": box.smtp_port,
        "smtp_security": box.smtp_security, "smtp_username": box.smtp_username,
        "smtp_password_set": bool(box.smtp_password),
        "smtp_password_hint": box.smtp_password_hint,
        "default_owner_id": box.default_owner_id, "import_since": box.import_since,
        "active": box.active, "uidvalidity": box.uidvalidity, "last_uid": box.last_uid,
        "last_sync_at": box.last_sync_at, "next_sync_at": box.next_sync_at,
        "last_error": box.last_error, "last_error_at": box.last_error_at,
        "skipped": list(box.skipped or []),
        "message_count": getattr(box, "message_count", 0) or 0,
        "created_at": box.created_at, "updated_at": box.updated_at,
    }  # fmt: skip


@mailboxes.get("", response={200: MailboxPage, **ERRORS})
def list_mailboxes(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Every mailbox by name, with its sync status and how many messages it brought."""
    require_admin(request.auth)
    return page_body(simple_page(selectors.mailboxes(), ["name", "id"], page), mailbox_out)


@mailboxes.post("", response={201: MailboxOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_mailbox(request: ApiRequest, payload: MailboxIn) -> Status[dict[str, Any]]:
    """A new mailbox; the next poll fetches its mail. Without ``import_since`` it brings the
    last week's messages; ``"import_since": null`` brings the whole folder."""
    require_admin(request.auth)
    box = mailbox_create(actor=request.auth, data=patch_body(payload), channel=Channel.API)
    return Status(201, mailbox_out(selectors.get_mailbox(box.pk)))


@mailboxes.get("/{mailbox_id}", response={200: MailboxOut, **ERRORS})
def read_mailbox(request: ApiRequest, mailbox_id: int) -> dict[str, Any]:
    require_admin(request.auth)
    return mailbox_out(selectors.get_mailbox(mailbox_id))


@mailboxes.patch("/{mailbox_id}", response={200: MailboxOut, **ERRORS})
def update_mailbox(request: ApiRequest, mailbox_id: int, payload: MailboxIn) -> dict[str, Any]:
    """Change only the keys sent; an empty or null password keeps the stored one."""
    require_admin(request.auth)
    box = mailbox_update(
        actor=request.auth, mailbox=selectors.get_mailbox(mailbox_id), changes=patch_body(payload),
        channel=Channel.API,
    )  # fmt: skip
    return mailbox_out(selectors.get_mailbox(box.pk))


@mailboxes.delete("/{mailbox_id}", response={204: None, **ERRORS})
def delete_mailbox(request: ApiRequest, mailbox_id: int) -> Status[None]:
    """The settings go; conversations and messages fetched stay in the inbox."""
    require_admin(request.auth)
    mailbox_delete(
        actor=request.auth, mailbox=selectors.get_mailbox(mailbox_id), channel=Channel.API
    )
    return Status(204, None)


@mailboxes.post("/{mailbox_id}/sync", response={200: SyncOut, **ERRORS})
def sync_mailbox(request: ApiRequest, mailbox_id: int) -> dict[str, Any]:
    """Fetch new mail now (up to 50 messages; ``more`` says the next poll goes on).
    ``busy``: a worker is syncing it at this moment."""
    require_admin(request.auth)
    box = selectors.get_mailbox(mailbox_id)
    return sync_now(box.pk).as_dict()


@mailboxes.post("/{mailbox_id}/test", response={200: ConnectionOut, **ERRORS})
def test_mailbox(request: ApiRequest, mailbox_id: int) -> dict[str, Any]:
    """Log in to the IMAP and the SMTP server with the stored settings; writes nothing."""
    require_admin(request.auth)
    box = selectors.get_mailbox(mailbox_id)
    return mailbox_test_connection(actor=request.auth, data={}, mailbox=box).as_dict()
