"""Every write of the inbox: what arrives through a channel, replies, reading, assigning.

Channel apps never write :mod:`voronka.inbox.models` themselves. They call :func:`receive`
for what arrives and register a *sender* (:func:`register_sender`) that delivers a queued
reply; :func:`deliver_due` (a periodic job of every worker) claims queued replies and calls
the sender, retrying with backoff, so a reply is never lost with a worker."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nh3
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core import events
from voronka.core.actors import System
from voronka.core.errors import Collector, Forbidden, ServiceValidationError
from voronka.core.models import Channel, Notification, OutboxEvent
from voronka.customers.models import Contact
from voronka.inbox.models import (
    Attachment,
    Conversation,
    Direction,
    Kind,
    Message,
    MessageStatus,
)
from voronka.sales.models import Lead
from voronka.sales.services.leads import find_contact, lead_create

log = logging.getLogger("voronka.inbox")

CONTACT_ENTITY = "customers.contact"
LEAD_ENTITY = "sales.lead"
CONVERSATION_ENTITY = "inbox.conversation"
PREVIEW_LIMIT = 200
BODY_LIMIT = 1_000_000
MAX_ATTEMPTS = 8


@dataclass
class IncomingFile:
    name: str
    content: bytes
    content_type: str = ""


@dataclass
class Incoming:
    """What a channel received, in the channel's own terms, before the CRM knows whose it is.

    ``external_key`` keys the conversation (chat id, caller number, thread root id);
    ``in_reply_to`` is a channel message id this one answers (e-mail threading): when it is a
    known message, the message joins that message's conversation whatever the key says."""

    kind: str
    account: str
    external_id: str = ""
    external_key: str = ""
    in_reply_to: str = ""
    sender: str = ""  # shown as "from": a name and address, a Telegram name, a number
    name: str = ""  # the customer's name, for a new lead
    email: str = ""  # normalized
    phone: str = ""  # E.164
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    files: list[IncomingFile] = field(default_factory=list)
    when: dt.datetime | None = None
    source: str = ""  # the new lead's source, e.g. "E-mail", "Telegram: @shop_bot"
    default_owner_id: int | None = None  # the manager when neither contact nor lead has one
    create_lead: bool = True  # an unknown sender becomes a lead
    event: str = "message.received"  # published after the message is stored; "" for none
    notify: bool = True  # tell the manager in the app
    lead_id: int | None = None  # the lead a new conversation belongs to, when the channel knows
    # "out" logs what left through the channel itself (an outgoing call from the PBX): stored
    # as sent, neither unread nor notified.
    direction: str = Direction.IN


class PermanentSendError(Exception):
    """A sender's failure that retrying cannot cure (the customer blocked the bot, the address
    does not exist): the reply fails at once instead of after every attempt."""


# --- senders ------------------------------------------------------------------------------------

Sender = Callable[[Message], str]  # delivers one queued reply, returns its external id
_senders: dict[str, Sender] = {}


def register_sender(kind: str, sender: Sender) -> None:
    """A channel app's way to deliver replies of its ``kind``. The sender raises on failure
    (the message is retried with backoff) and returns the channel's id of the sent message."""
    _senders[kind] = sender


def can_reply(conversation: Conversation) -> bool:
    return conversation.kind in _senders


# --- receiving ----------------------------------------------------------------------------------


def _split_name(name: str) -> dict[str, str]:
    parts = name.split()
    if not parts:
        return {}
    if len(parts) == 1:
        return {"first_name": parts[0][:150]}
    return {"first_name": parts[0][:150], "last_name": " ".join(parts[1:])[:150]}


def _summary(incoming: Incoming) -> str:
    """What a list shows of a message: its text, else its subject, else its files' names."""
    names = ", ".join(f.name for f in incoming.files if f.name)
    return incoming.body_text or incoming.subject or (f"📎 {names}" if names else "")


def _preview(incoming_text: str) -> str:
    return " ".join(incoming_text.split())[:PREVIEW_LIMIT]


def _find_conversation(incoming: Incoming) -> Conversation | None:
    if incoming.in_reply_to:
        parent = (
            Message.objects.filter(account=incoming.account, external_id=incoming.in_reply_to)
            .select_related("conversation")
            .first()
        )
        if parent is not None:
            return parent.conversation
    if incoming.external_key:
        return Conversation.objects.filter(
            account=incoming.account, external_key=incoming.external_key
        ).first()
    return None


def _new_conversation(incoming: Incoming, when: dt.datetime) -> Conversation:
    contact = find_contact(incoming.email, incoming.phone)
    lead: Lead | None = None
    if incoming.lead_id is not None:
        # The channel made the lead itself (a web form): the thread is that lead's.
        lead = Lead.objects.filter(pk=incoming.lead_id).first()
    elif contact is None and incoming.create_lead:
        lead = _open_lead(incoming) or _new_lead(incoming)
    owner_id = (
        # A lead the channel made itself was just assigned by the rules: its manager answers.
        (lead.owner_id if lead and incoming.lead_id is not None else None)
        or (contact.owner_id if contact else None)
        or (lead.owner_id if lead else None)
        or incoming.default_owner_id
    )
    return Conversation.objects.create(
        kind=incoming.kind,
        account=incoming.account,
        external_key=incoming.external_key[:255],
        subject=incoming.subject[:255],
        contact=contact,
        lead=lead,
        owner_id=owner_id,
        peer=incoming.sender[:255],
        last_message_at=when,
    )


def _display_name(sender: str) -> str:
    """The name part of a sender ("Anna <anna@x.ru>" → "Anna", "@masha" stays); an address
    or a number alone is no name."""
    text = sender.split("<", 1)[0].strip().strip('"').strip()
    if "@" in text and not text.startswith("@"):
        return ""
    if sum(c.isdigit() for c in text) >= 5:
        return ""
    return text


def _new_lead(incoming: Incoming) -> Lead | None:
    """A lead for an unknown sender. What the channel knows may not pass the lead's rules (an
    odd address, a bot with no name): the message is kept all the same, with the fields the
    lead refused left out, or without a lead when nothing identifies the sender."""
    data: dict[str, Any] = {
        **_split_name(incoming.name or _display_name(incoming.sender)),
        "email": incoming.email,
        "phone": incoming.phone,
        "source": incoming.source[:100],
        "message": (incoming.subject + "\n" + incoming.body_text).strip()[:10_000],
        **({"owner_id": incoming.default_owner_id} if incoming.default_owner_id else {}),
    }
    for _attempt in range(3):
        try:
            return lead_create(actor=System(), data=data, channel=Channel.SYSTEM)
        except ServiceValidationError as exc:
            refused = {e.field for e in exc.errors} & set(data)
            log.warning("no lead from %s: %s", incoming.sender or "?", exc.detail)
            if not refused:
                return None
            data = {k: v for k, v in data.items() if k not in refused}
    return None


def _open_lead(incoming: Incoming) -> Lead | None:
    """A not yet converted lead with this e-mail or phone: a second message from an unknown
    sender joins the first one's lead instead of making another."""
    qs = Lead.objects.filter(converted_at__isnull=True)
    if incoming.email:
        found = qs.filter(email=incoming.email).order_by("-id").first()
        if found:
            return found
    if incoming.phone:
        return qs.filter(phone=incoming.phone).order_by("-id").first()
    return None


def clean_html(html: str) -> str:
    return nh3.clean(html[:BODY_LIMIT]) if html else ""


def _file_name(raw: str, limit: int = 150) -> str:
    """A safe file name within ``limit`` bytes (file systems count bytes, and a Cyrillic
    letter is two), keeping the extension."""
    name = (raw or "file").replace("/", "_").replace("\\", "_").replace("\x00", "")
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = limit - len(suffix.encode())
    stem = stem.encode()[:budget].decode(errors="ignore") or "file"
    return stem + suffix


def _store_files(message: Message, files: Sequence[IncomingFile]) -> None:
    for f in files:
        shown = (f.name or "file").replace("\x00", "")[:255]  # the name people see
        att = Attachment(
            message=message, name=shown, content_type=f.content_type[:128], size=len(f.content)
        )
        att.file.save(_file_name(f.name), ContentFile(f.content), save=False)
        att.save()


def event_target(conversation: Conversation) -> tuple[str, int]:
    """The record an inbox event is about: the contact, else the lead, else the thread, so
    rules on contacts and leads see messages of their records."""
    if conversation.contact_id:
        return CONTACT_ENTITY, conversation.contact_id
    if conversation.lead_id:
        return LEAD_ENTITY, conversation.lead_id
    return CONVERSATION_ENTITY, conversation.pk


def receive(incoming: Incoming) -> Message:
    """Store one incoming message: into its conversation (found by reply, by key, or new),
    with a lead for an unknown sender; publish ``incoming.event`` and tell the manager.

    Idempotent on ``(account, external_id)``: the same message fetched again returns the
    message stored the first time and changes nothing."""
    if incoming.external_id:
        existing = Message.objects.filter(
            account=incoming.account, external_id=incoming.external_id
        ).first()
        if existing is not None:
            return existing
    when = incoming.when or timezone.now()
    outgoing = incoming.direction == Direction.OUT
    try:
        with transaction.atomic():
            found = _find_conversation(incoming)
            conversation = found or _new_conversation(incoming, when)
            message = Message.objects.create(
                conversation=conversation,
                account=incoming.account,
                direction=Direction.OUT if outgoing else Direction.IN,
                status=MessageStatus.SENT if outgoing else MessageStatus.RECEIVED,
                sent_at=when if outgoing else None,
                external_id=incoming.external_id[:255],
                in_reply_to=incoming.in_reply_to[:255],
                sender=incoming.sender[:255],
                subject=incoming.subject[:255],
                body_text=incoming.body_text[:BODY_LIMIT],
                body_html=clean_html(incoming.body_html),
                meta=events.json_safe(incoming.meta),
            )
            if incoming.when:
                Message.objects.filter(pk=message.pk).update(created_at=when)
            _store_files(message, incoming.files)
            Conversation.objects.filter(pk=conversation.pk).update(
                **(
                    {"unread": True, "closed": False}
                    if not outgoing
                    else {"unread": False}
                    if found is None
                    else {}
                ),
                last_message_at=when,
                preview=_preview(_summary(incoming)),
            )
            entity, entity_id = event_target(conversation)
            if incoming.event:
                events.publish(
                    incoming.event,
                    entity=entity,
                    entity_id=entity_id,
                    payload={  # the channel's extras first: they never replace our keys
                        **{k: v for k, v in incoming.meta.items() if isinstance(v, str | int)},
                        "conversation_id": conversation.pk,
                        "message_id": message.pk,
                        "channel": incoming.kind,
                        "from": incoming.sender,
                        "subject": incoming.subject,
                        "text": incoming.body_text[:2000],
                    },
                    channel=Channel.SYSTEM,
                )
            if incoming.notify and not outgoing and conversation.owner_id:
                Notification.objects.create(
                    user_id=conversation.owner_id,
                    title=_("New message from %(who)s") % {"who": incoming.sender or "—"},
                    body=_preview(_summary(incoming)),
                    url=conversation.get_absolute_url(),
                    dedupe_key=f"inbox:{message.pk}",
                )
    except IntegrityError:
        # Another worker stored the same external id a moment ago: that one stands.
        if incoming.external_id:
            stored = Message.objects.filter(
                account=incoming.account, external_id=incoming.external_id
            ).first()
            if stored is not None:
                return stored
        raise
    message.refresh_from_db()
    return message


# --- replying and the state of a conversation ---------------------------------------------------


def _require_writer(actor: Any) -> None:
    if not getattr(actor, "can_write", False):
        raise Forbidden(_("your role is read-only"))


def reply(
    *,
    actor: Any,
    conversation: Conversation,
    body_text: str,
    subject: str = "",
    files: Sequence[IncomingFile] = (),
) -> Message:
    """Queue a reply in the conversation's channel; :func:`deliver_due` sends it."""
    _require_writer(actor)
    errors = Collector()
    text = (body_text or "").strip()
    if not text:
        errors.add("body_text", _("write the reply"))
    elif len(text) > BODY_LIMIT:
        errors.add("body_text", _("the reply is too long"))
    if not can_reply(conversation):
        errors.add("conversation", _("replies cannot be sent in this channel"))
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        last_in = (
            conversation.messages.filter(direction=Direction.IN).exclude(external_id="").last()
        )
        message = Message.objects.create(
            conversation=conversation,
            account=conversation.account,
            direction=Direction.OUT,
            status=MessageStatus.QUEUED,
            author_id=getattr(actor, "pk", None),
            subject=(subject or conversation.subject)[:255],
            in_reply_to=last_in.external_id if last_in else "",
            body_text=text,
            next_attempt_at=now,
        )
        _store_files(message, files)
        Conversation.objects.filter(pk=conversation.pk).update(
            unread=False, last_message_at=now, preview=_preview(text)
        )
        entity, entity_id = event_target(conversation)
        events.publish(
            "message.sent",
            entity=entity,
            entity_id=entity_id,
            payload={"conversation_id": conversation.pk, "message_id": message.pk,
                     "channel": conversation.kind},
            actor=actor,
            channel=Channel.UI,
        )  # fmt: skip
    return message


def mark_read(*, actor: Any, conversation: Conversation, read: bool = True) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(unread=not read)
    conversation.unread = not read


def set_closed(*, actor: Any, conversation: Conversation, closed: bool) -> None:
    _require_writer(actor)
    Conversation.objects.filter(pk=conversation.pk).update(closed=closed)
    conversation.closed = closed


def assign(*, actor: Any, conversation: Conversation, owner_id: int | None) -> Conversation:
    from django.contrib.auth import get_user_model

    _require_writer(actor)
    if (
        owner_id is not None
        and not get_user_model().objects.filter(pk=owner_id, is_active=True).exists()
    ):
        errors = Collector()
        errors.add("owner_id", _("no such active user"))
        errors.raise_if_any()
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(owner_id=owner_id)
        conversation.owner_id = owner_id
        if owner_id and owner_id != getattr(actor, "pk", None):
            Notification.objects.create(
                user_id=owner_id,
                title=_("A conversation was assigned to you: %(what)s") % {"what": conversation},
                url=conversation.get_absolute_url(),
            )
    return conversation


def link_contact(*, actor: Any, conversation: Conversation, contact: Contact) -> None:
    """Attach a thread to a contact (after a lead's conversion, or chosen by hand)."""
    _require_writer(actor)
    Conversation.objects.filter(pk=conversation.pk).update(contact=contact)
    conversation.contact = contact


# --- delivery -----------------------------------------------------------------------------------


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _claim(now: dt.datetime, limit: int) -> list[int]:
    with transaction.atomic():
        qs = Message.objects.filter(
            direction=Direction.OUT,
            status=MessageStatus.QUEUED,
            next_attempt_at__lte=now,
            conversation__kind__in=list(_senders),
        ).order_by("next_attempt_at", "id")
        ids = list(qs.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
        Message.objects.filter(pk__in=ids).update(status=MessageStatus.SENDING, next_attempt_at=now)
    return ids


def deliver_one(message: Message, now: dt.datetime | None = None) -> str:
    """Send one claimed reply through its channel's sender; returns the new status."""
    now = now or timezone.now()
    sender = _senders.get(message.conversation.kind)
    attempts = message.attempts + 1
    if sender is None:
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.FAILED, error=_("no sender for this channel"), attempts=attempts
        )
        return MessageStatus.FAILED
    try:
        external_id = sender(message)
    except Exception as exc:  # any failure of a channel is recorded and retried
        log.warning("reply %s failed: %s", message.pk, exc)
        final = attempts >= MAX_ATTEMPTS or isinstance(exc, PermanentSendError)
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.FAILED if final else MessageStatus.QUEUED,
            error=str(exc)[:2000] or exc.__class__.__name__,
            attempts=attempts,
            next_attempt_at=None if final else now + _backoff(attempts),
        )
        return MessageStatus.FAILED if final else MessageStatus.QUEUED
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT, external_id=(external_id or "")[:255], error="",
        attempts=attempts, sent_at=now, next_attempt_at=None,
    )  # fmt: skip
    return MessageStatus.SENT


def deliver_due(*, now: dt.datetime | None = None, limit: int = 50) -> int:
    """Send queued replies; a reply left "sending" by a dead worker for 10 minutes is
    queued again (the channel's idempotency, e.g. a Message-ID, keeps it from doubling)."""
    now = now or timezone.now()
    Message.objects.filter(
        status=MessageStatus.SENDING, next_attempt_at__lt=now - dt.timedelta(minutes=10)
    ).update(status=MessageStatus.QUEUED)
    sent = 0
    for pk in _claim(now, limit):
        message = Message.objects.select_related("conversation").get(pk=pk)
        if deliver_one(message, now) == MessageStatus.SENT:
            sent += 1
    return sent


def retry(*, actor: Any, message: Message) -> Message:
    _require_writer(actor)
    if message.direction != Direction.OUT or message.status != MessageStatus.FAILED:
        errors = Collector()
        errors.add("status", _("only a failed reply can be retried"))
        errors.raise_if_any()
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.QUEUED, next_attempt_at=timezone.now(), attempts=0
    )
    message.refresh_from_db()
    return message


# --- lead conversion ----------------------------------------------------------------------------

LEAD_CONVERTED_CONSUMER = "inbox.lead_converted"


def conversations_follow_conversion(*, lead_id: int, contact_id: int) -> int:
    """A converted lead's threads join the contact it became, so they show on the contact's
    card and the next message finds them there; a thread already on a contact keeps it."""
    return Conversation.objects.filter(lead_id=lead_id, contact__isnull=True).update(
        contact_id=contact_id
    )


def on_lead_converted(event: OutboxEvent) -> None:
    """Outbox consumer of ``lead.converted`` (payload ``contact_id``). It runs after the
    conversion committed, so sales need not know the inbox exists."""
    if event.name != "lead.converted" or event.entity != LEAD_ENTITY:
        return
    contact_id = (event.payload or {}).get("contact_id")
    if not isinstance(contact_id, int) or not Contact.objects.filter(pk=contact_id).exists():
        return  # converted without a contact, or the contact is gone since
    conversations_follow_conversion(lead_id=event.entity_id, contact_id=contact_id)


__all__ = ["Incoming", "IncomingFile", "Kind", "receive", "register_sender", "reply"]
