"""Replies from the CRM as e-mail: the inbox's sender for the kind "email".

:func:`voronka.inbox.services.deliver_due` calls :func:`send_reply` for each queued reply in
an e-mail conversation. The Message-ID is derived from the reply's id and the site's secret,
so a retry after a lost answer sends the same Message-ID again (mail servers and the
customer's program treat it as the same message), and the customer's answer, which names it
in In-Reply-To, finds the conversation."""

from __future__ import annotations

import hashlib
import hmac
import logging
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from django.conf import settings
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from voronka.inbox.models import Direction, Message
from voronka.mail import connections
from voronka.mail.connections import MailError
from voronka.mail.models import Mailbox
from voronka.mail.parsing import REFERENCES_KEPT, msg_ids, thread_subject
from voronka.mail.sync import imap_endpoint, smtp_endpoint

log = logging.getLogger("voronka.mail")

QUOTE_LIMIT = 5000


def mailbox_of(account: str) -> Mailbox:
    """The mailbox behind an inbox account ``mailbox:<pk>``."""
    prefix, _sep, pk = account.partition(":")
    mailbox = (
        Mailbox.objects.filter(pk=int(pk)).first() if prefix == "mailbox" and pk.isdigit() else None
    )
    if mailbox is None:
        raise MailError(_("the mailbox of this conversation no longer exists"))
    return mailbox


def reply_message_id(message: Message, mailbox: Mailbox) -> str:
    """The same id for every attempt to send this reply, unguessable from outside."""
    key = str(settings.SECRET_KEY).encode()
    digest = hmac.new(key, f"mail-reply:{message.pk}".encode(), hashlib.sha256).hexdigest()[:16]
    domain = mailbox.address.rpartition("@")[2] or "voronka.local"
    return f"<vk.{message.pk}.{digest}@{domain}>"


def _recipient(last_in: Message | None) -> str:
    if last_in is None:
        return ""
    meta = last_in.meta or {}
    address = meta.get("reply_to") if isinstance(meta.get("reply_to"), str) else ""
    return (address or parseaddr(last_in.sender)[1]).strip()


def _references(message: Message) -> list[str]:
    """The thread's ids, oldest first, ending with the message answered (RFC 5322 3.6.4):
    the parent's own References plus the parent."""
    if not message.in_reply_to:
        return []
    parent = Message.objects.filter(
        account=message.account, external_id=message.in_reply_to
    ).first()
    chain: list[str] = []
    if parent is not None:
        stored = (parent.meta or {}).get("references") or []
        chain = [r for r in stored if isinstance(r, str)]
        if not chain:
            chain = [
                m.external_id
                for m in Message.objects.filter(conversation_id=message.conversation_id)
                .filter(~Q(external_id=""), created_at__lt=parent.created_at)
                .only("external_id")
                if msg_ids(m.external_id)
            ]
    answered = message.in_reply_to
    if parent is not None and isinstance((parent.meta or {}).get("message_id"), str):
        answered = parent.meta["message_id"]  # its full id, longer than the inbox keeps
    chain = [c for c in chain if c != answered] + [answered]
    if len(chain) > REFERENCES_KEPT:  # keep the root, the thread's key, and the latest
        chain = [chain[0], *chain[-(REFERENCES_KEPT - 1) :]]
    return chain


def _quote(last_in: Message | None) -> str:
    if last_in is None or not last_in.body_text:
        return ""
    with translation.override(settings.LANGUAGE_CODE):
        when = formats.date_format(timezone.localtime(last_in.created_at), "DATETIME_FORMAT")
        intro = _("On %(when)s, %(who)s wrote:") % {"when": when, "who": last_in.sender}
    body = last_in.body_text[:QUOTE_LIMIT]
    quoted = "\n".join("> " + line if line else ">" for line in body.splitlines())
    return f"\n\n{intro}\n{quoted}\n"


def build(message: Message, mailbox: Mailbox) -> tuple[EmailMessage, str]:
    """The MIME message of a reply and its recipient."""
    conversation = message.conversation
    incoming = list(
        Message.objects.filter(conversation=conversation, direction=Direction.IN)
        .order_by("-created_at", "-id")
        .only("sender", "meta", "body_text", "created_at")[:20]
    )
    # The customer's last own message: an out-of-office answer is not whom to write to.
    last_in = next((m for m in incoming if not (m.meta or {}).get("automated")), None)
    last_in = last_in or (incoming[0] if incoming else None)
    to = _recipient(last_in)
    if not to:
        raise MailError(_("the conversation has no address to reply to"))
    subject = thread_subject(message.subject or conversation.subject)
    mime = EmailMessage()
    mime["From"] = formataddr((mailbox.name, mailbox.address))
    mime["To"] = to
    mime["Subject"] = f"Re: {subject}" if subject else "Re:"
    mime["Date"] = format_datetime(timezone.now())
    mime["Message-ID"] = reply_message_id(message, mailbox)
    references = _references(message)
    if references:
        mime["In-Reply-To"] = references[-1]
        mime["References"] = " ".join(references)
    mime["Auto-Submitted"] = "no"
    body = message.body_text + _quote(last_in)
    # Cyrillic in base64 is a third longer; in quoted-printable, three times.
    mime.set_content(body, cte=None if body.isascii() else "base64")
    for att in message.attachments.all():
        with att.file.open("rb") as fh:
            data = fh.read()
        maintype, _slash, subtype = (att.content_type or "application/octet-stream").partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        params: dict[str, str] = {}
        if maintype == "text":
            try:
                data.decode("utf-8")
                params["charset"] = "utf-8"  # else a mail program reads it as ASCII
            except UnicodeDecodeError:
                pass
        mime.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=att.name, params=params
        )
    return mime, to


def send_reply(message: Message) -> str:
    """Send one queued reply through its mailbox's SMTP server; its Message-ID is the
    reply's external id. A copy goes to the mailbox's Sent folder when it has one."""
    mailbox = mailbox_of(message.account)
    if not mailbox.active:
        raise MailError(_("the mailbox %(name)s is switched off") % {"name": mailbox.name})
    mime, to = build(message, mailbox)
    endpoint = smtp_endpoint(mailbox)
    try:
        connections.send(endpoint, mime, mailbox.address, [to])
    except Exception as exc:
        raise MailError(connections.describe(exc, endpoint)) from exc
    message_id = str(mime["Message-ID"])
    meta = {
        **(message.meta or {}),
        "to": [to],
        "references": msg_ids(mime.get("References", "")),
    }
    try:
        meta["sent_copy"] = connections.append_sent(imap_endpoint(mailbox), mime.as_bytes())
    except Exception as exc:  # the reply went out; a missing copy in Sent is only noted
        log.warning("mailbox %s: no copy in Sent: %s", mailbox.pk, exc)
        meta["sent_copy"] = False
    Message.objects.filter(pk=message.pk).update(meta=meta)
    return message_id
