"""Every write of messaging: templates, queueing e-mail and SMS, retrying, unsubscribing.

``send_email``/``send_sms`` only queue: they render the text, check marketing consent and
write one ``OutgoingMessage`` row in one transaction (status ``queued``, or ``suppressed`` with
the reason). The periodic job in ``delivery`` sends. The UI, the API and automation all call
these functions."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core import events
from voronka.core.errors import Collector, Forbidden, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.text import normalize_email, normalize_phone
from voronka.customers.models import Contact, ContactEmail
from voronka.messaging import rendering
from voronka.messaging.models import (
    MessageChannel,
    MessageStatus,
    MessageTemplate,
    OutgoingMessage,
    SuppressReason,
    Unsubscribe,
)

MESSAGE_ENTITY = "messaging.message"
TEMPLATE_FIELDS = {"key", "name", "channel", "is_html", "subject_ru", "body_ru", "subject_en",
                   "body_en"}  # fmt: skip
SMS_LIMIT = 1000  # characters; gateways split long texts into parts and charge for each


def _require_writer(actor: Any) -> None:
    if actor is not None and not actor.can_write:
        raise Forbidden(_("your role is read-only"))


def _require_admin(actor: Any) -> None:
    if not getattr(actor, "is_admin", False):
        raise Forbidden(_("only an administrator may change message templates"))


# --- templates -------------------------------------------------------------------------------


def _clean_template(
    data: Mapping[str, Any], *, instance: MessageTemplate | None
) -> tuple[dict[str, Any], Collector]:
    errors = Collector()
    values: dict[str, Any] = {}
    for name in data:
        if name not in TEMPLATE_FIELDS:
            errors.add(name, _("unknown field"))
    for name, limit in (("key", 64), ("name", 200), ("subject_ru", 255), ("subject_en", 255)):
        if name in data:
            value = str(data[name] or "").strip()
            if len(value) > limit:
                errors.add(name, _("at most %(n)d characters") % {"n": limit})
            values[name] = value
    for name in ("body_ru", "body_en"):
        if name in data:
            values[name] = str(data[name] or "").replace("\r\n", "\n")
    if "is_html" in data:
        values["is_html"] = bool(data["is_html"])
    if "channel" in data:
        if data["channel"] not in MessageChannel.values:
            errors.add("channel", _("choose e-mail or SMS"))
        values["channel"] = data["channel"]
    merged = {f: getattr(instance, f) if instance else "" for f in TEMPLATE_FIELDS} | values
    if not merged["key"]:
        errors.add("key", _("give the template a key, e.g. welcome"))
    elif not re.fullmatch(r"[-a-zA-Z0-9_]+", merged["key"]):
        errors.add("key", _("use latin letters, digits, - and _ only"))
    elif (
        MessageTemplate.objects.filter(key=merged["key"])
        .exclude(pk=instance.pk if instance else 0)
        .exists()
    ):
        errors.add("key", _("another template has this key"))
    if not merged["name"]:
        errors.add("name", _("give the template a name"))
    if not (merged["body_ru"] or "").strip() and not (merged["body_en"] or "").strip():
        errors.add("body_ru", _("write the text in at least one language"))
    for name in ("subject_ru", "body_ru", "subject_en", "body_en"):
        if problem := rendering.check(merged[name] or ""):
            errors.add(name, _("template error: %(error)s") % {"error": problem})
    return values, errors


def template_create(*, actor: Any, data: Mapping[str, Any]) -> MessageTemplate:
    _require_admin(actor)
    values, errors = _clean_template({"channel": MessageChannel.EMAIL, **data}, instance=None)
    errors.raise_if_any()
    with transaction.atomic():
        return MessageTemplate.objects.create(**values)


def template_update(
    *, actor: Any, template: MessageTemplate, changes: Mapping[str, Any]
) -> MessageTemplate:
    _require_admin(actor)
    values, errors = _clean_template(changes, instance=template)
    errors.raise_if_any()
    with transaction.atomic():
        for name, value in values.items():
            setattr(template, name, value)
        template.save()
    return template


def template_delete(*, actor: Any, template: MessageTemplate) -> None:
    _require_admin(actor)
    with transaction.atomic():
        template.delete()


def template_preview(
    *, template: MessageTemplate, contact: Contact | None, related: models.Model | None = None
) -> dict[str, str]:
    """What the template would send to ``contact`` (subject, body, text), or the error."""
    context = build_context(contact=contact, related=related, context=None, preview=True)
    try:
        lang, subject, body = rendering.render_template(template, context)
    except TemplateSyntaxError as exc:
        return {"error": str(exc), "subject": "", "body": "", "text": "", "language": ""}
    text = rendering.text_of(body, template.is_html)
    return {"error": "", "subject": subject, "body": body, "text": text, "language": lang}


# --- unsubscribe -----------------------------------------------------------------------------


def base_url() -> str:
    """Where people reach this installation from outside, for links in messages."""
    url = getattr(settings, "VORONKA_BASE_URL", "") or os.environ.get("VORONKA_BASE_URL", "")
    return (url or "http://localhost:8000").rstrip("/")


def unsubscribe_for(contact: Contact) -> Unsubscribe:
    """The contact's unsubscribe row, made on first use."""
    row, _created = Unsubscribe.objects.get_or_create(contact=contact)
    return row


def unsubscribe_url(contact: Contact) -> str:
    token = unsubscribe_for(contact).token
    return base_url() + reverse("messaging:unsubscribe", args=[token])


def unsubscribe(*, token: str) -> Unsubscribe | None:
    """Withdraw the contact's e-mail and SMS consent (audited as a system change) and suppress
    marketing still queued for them. Idempotent; None for an unknown token."""
    from voronka.core.actors import System
    from voronka.customers.services import contact_update

    with transaction.atomic():
        row = (
            Unsubscribe.objects.select_for_update()
            .select_related("contact")
            .filter(token=token)
            .first()
        )
        if row is None:
            return None
        contact = row.contact
        if contact.email_consent or contact.sms_consent:
            contact_update(
                actor=System(), contact=contact,
                changes={"email_consent": False, "sms_consent": False}, channel=Channel.SYSTEM,
            )  # fmt: skip
        if row.unsubscribed_at is None:
            row.unsubscribed_at = timezone.now()
            row.save(update_fields=["unsubscribed_at"])
        OutgoingMessage.objects.filter(
            contact=contact, marketing=True, status=MessageStatus.QUEUED
        ).update(
            status=MessageStatus.SUPPRESSED, reason=SuppressReason.UNSUBSCRIBED,
            updated_at=timezone.now(),
        )  # fmt: skip
    return row


# --- queueing --------------------------------------------------------------------------------


def build_context(
    *, contact: Contact | None, related: models.Model | None,
    context: Mapping[str, Any] | None, preview: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The variables every template sees: contact, the related record, unsubscribe_url,
    then whatever the caller passed (which wins). A preview makes no unsubscribe token."""
    values: dict[str, Any] = {"contact": rendering.contact_context(contact)}
    # A related contact is already in "contact" with all its fields; keep that richer form.
    values.update({k: v for k, v in rendering.record_context(related).items() if k != "contact"})
    if contact is None:
        values["unsubscribe_url"] = ""
    elif preview:
        values["unsubscribe_url"] = base_url() + reverse("messaging:unsubscribe", args=["…"])
    else:
        values["unsubscribe_url"] = unsubscribe_url(contact)
    values.update(dict(context or {}))
    return values


def _template(template: MessageTemplate | str | None, channel: str) -> MessageTemplate | None:
    if template is None or template == "":
        return None
    if isinstance(template, MessageTemplate):
        found: MessageTemplate | None = template
    else:
        found = MessageTemplate.objects.filter(key=str(template)).first()
    if found is None:
        raise ServiceValidationError.single("template", _("no such template"))
    if found.channel != channel:
        raise ServiceValidationError.single("template", _("this template is for another channel"))
    return found


def _consent_problem(contact: Contact | None, channel: str) -> str:
    """Why a marketing message may not go to this contact ("" when it may)."""
    if contact is None:
        return SuppressReason.NO_CONSENT
    if Unsubscribe.objects.filter(contact=contact, unsubscribed_at__isnull=False).exists():
        return SuppressReason.UNSUBSCRIBED
    consent = contact.email_consent if channel == MessageChannel.EMAIL else contact.sms_consent
    return "" if consent else SuppressReason.NO_CONSENT


def _existing(idempotency_key: str) -> OutgoingMessage | None:
    if not idempotency_key:
        return None
    return OutgoingMessage.objects.filter(idempotency_key=idempotency_key).first()


def _related(related: models.Model | None) -> dict[str, Any]:
    if related is None:
        return {"related_type": None, "related_id": None}
    return {
        "related_type": ContentType.objects.get_for_model(related),
        "related_id": related.pk,
    }


def _queue(
    *, actor: Any, channel: str, contact: Contact | None, to: str, subject: str, body: str,
    is_html: bool, template: MessageTemplate | None, marketing: bool,
    related: models.Model | None, idempotency_key: str,
) -> OutgoingMessage:  # fmt: skip
    reason = ""
    if marketing:
        reason = _consent_problem(contact, channel)
    if not reason and not to:
        reason = SuppressReason.NO_ADDRESS
    user = actor if getattr(actor, "pk", None) is not None and hasattr(actor, "username") else None
    row = OutgoingMessage(
        channel=channel, to=to, subject=subject[:255], body=body, is_html=is_html,
        status=MessageStatus.SUPPRESSED if reason else MessageStatus.QUEUED, reason=reason,
        next_attempt_at=None if reason else timezone.now(), contact=contact, template=template,
        marketing=marketing, idempotency_key=idempotency_key or None, created_by=user,
        **_related(related),
    )  # fmt: skip
    try:
        with transaction.atomic():
            row.save()
            events.publish(
                "message.queued" if not reason else "message.suppressed",
                entity=MESSAGE_ENTITY, entity_id=row.pk,
                payload={"channel": channel, "contact_id": getattr(contact, "pk", None),
                         "marketing": marketing, "reason": reason},
                actor=user, channel=Channel.SYSTEM,
            )  # fmt: skip
    except IntegrityError:
        # Two callers with the same key at once: the first row wins, both get it.
        first = _existing(idempotency_key)
        if first is None:
            raise
        return first
    return row


def _contact_email(contact: Contact | None) -> str:
    if contact is None:
        return ""
    return next(iter(e.email for e in contact.emails.all()), "")


def _contact_phone(contact: Contact | None) -> str:
    if contact is None:
        return ""
    phones = list(contact.phones.all())
    mobile = [p.phone for p in phones if p.kind == "mobile"]
    return (mobile or [p.phone for p in phones] or [""])[0]


def _render(
    template: MessageTemplate | None, subject: str, body: str, context: dict[str, Any]
) -> tuple[str, str, bool]:
    """(subject, body, is_html): from the template, or the free text rendered as a template
    too, so a typed {{ contact.first_name }} works."""
    try:
        if template is not None:
            _lang, subject, body = rendering.render_template(template, context)
            return subject, body, template.is_html
        return rendering.render(subject, context), rendering.render(body, context), False
    except TemplateSyntaxError as exc:
        field = "template" if template is not None else "body"
        raise ServiceValidationError.single(
            field, _("template error: %(error)s") % {"error": exc}
        ) from exc


def send_email(
    *, actor: Any, to_contact: Contact | None = None, to_address: str = "",
    template: MessageTemplate | str | None = None, subject: str = "", body: str = "",
    context: Mapping[str, Any] | None = None, marketing: bool = False,
    related: models.Model | None = None, idempotency_key: str = "",
) -> OutgoingMessage:  # fmt: skip
    """Queue an e-mail to a contact (their first address) or to ``to_address``.

    Marketing mail goes only to a contact who agreed to it and has not unsubscribed;
    otherwise the row is kept with status ``suppressed`` and the reason."""
    if first := _existing(idempotency_key):
        return first
    _require_writer(actor)
    errors = Collector()
    tpl = _template(template, MessageChannel.EMAIL)
    address = ""
    if to_address:
        try:
            address = normalize_email(to_address)
        except ValueError:
            errors.add("to_address", _("enter a valid e-mail address"))
    if to_contact is None and not address:
        errors.add("to_address", _("give a contact or an e-mail address"))
    if tpl is None and not body.strip():
        errors.add("body", _("write the text or choose a template"))
    if tpl is None and not subject.strip():
        errors.add("subject", _("give the e-mail a subject"))
    errors.raise_if_any()
    if to_contact is None and address:
        found = ContactEmail.objects.filter(email=address).select_related("contact").first()
        to_contact = found.contact if found else None
    values = build_context(contact=to_contact, related=related, context=context)
    subject, body, is_html = _render(tpl, subject, body, values)
    return _queue(
        actor=actor, channel=MessageChannel.EMAIL, contact=to_contact,
        to=address or _contact_email(to_contact), subject=subject or _("(no subject)"),
        body=body, is_html=is_html, template=tpl, marketing=marketing, related=related,
        idempotency_key=idempotency_key,
    )  # fmt: skip


def send_staff_email(
    *, to_address: str, subject: str, body: str, idempotency_key: str
) -> OutgoingMessage:
    """Queue a plain e-mail to an employee (a reminder's copy): no template rendering, since
    the text is already written and may hold braces, and no contact or consent. It waits and
    is retried like any message, and administrators see it on the messages page."""
    if first := _existing(idempotency_key):
        return first
    try:
        address = normalize_email(to_address)
    except ValueError:
        address = ""  # kept as "suppressed: no address", so the reason is visible
    return _queue(
        actor=None, channel=MessageChannel.EMAIL, contact=None, to=address,
        subject=subject or _("(no subject)"), body=body, is_html=False, template=None,
        marketing=False, related=None, idempotency_key=idempotency_key,
    )  # fmt: skip


def send_sms(
    *, actor: Any, to_contact: Contact | None = None, to_phone: str = "", text: str = "",
    template: MessageTemplate | str | None = None, context: Mapping[str, Any] | None = None,
    marketing: bool = False, related: models.Model | None = None, idempotency_key: str = "",
) -> OutgoingMessage:  # fmt: skip
    """Queue an SMS to a contact (their mobile, else first phone) or to ``to_phone``; the same
    consent rules as :func:`send_email`."""
    if first := _existing(idempotency_key):
        return first
    _require_writer(actor)
    errors = Collector()
    tpl = _template(template, MessageChannel.SMS)
    phone = ""
    if to_phone:
        try:
            phone = normalize_phone(to_phone)
        except ValueError:
            errors.add("to_phone", _("enter a valid phone number"))
    if to_contact is None and not to_phone:
        errors.add("to_phone", _("give a contact or a phone number"))
    if tpl is None and not text.strip():
        errors.add("text", _("write the text or choose a template"))
    errors.raise_if_any()
    values = build_context(contact=to_contact, related=related, context=context)
    _subject, body, _html = _render(tpl, "", text, values)
    body = rendering.text_of(body, _html).strip()
    if len(body) > SMS_LIMIT:
        raise ServiceValidationError.single(
            "text", _("at most %(n)d characters") % {"n": SMS_LIMIT}
        )
    return _queue(
        actor=actor, channel=MessageChannel.SMS, contact=to_contact,
        to=phone or _contact_phone(to_contact), subject="", body=body, is_html=False,
        template=tpl, marketing=marketing, related=related, idempotency_key=idempotency_key,
    )  # fmt: skip


def message_retry(*, actor: Any, message: OutgoingMessage) -> OutgoingMessage:
    """Put a failed message back in the queue for one more round of attempts."""
    _require_writer(actor)
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=message.pk)
        if message.status != MessageStatus.FAILED:
            raise ServiceValidationError.single("status", _("only a failed message can be retried"))
        message.status = MessageStatus.QUEUED
        message.attempts = 0
        message.next_attempt_at = timezone.now()
        message.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    return message
