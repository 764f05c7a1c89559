"""Outgoing e-mail and SMS: templates, the message queue and per-contact unsubscribe tokens.

A message is a durable row first (queued by ``services.send_email``/``send_sms``) and is
delivered later by the periodic job in ``delivery``, so no SMTP or HTTP call ever happens
inside a request's or an event handler's transaction."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")


class MessageTemplate(models.Model):
    """A reusable e-mail or SMS text in Russian and English with ``{{ contact.first_name }}``
    style variables; rendered by the sandboxed engine in ``rendering``."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(
        _("channel"), max_length=8, choices=MessageChannel.choices, default=MessageChannel.EMAIL
    )
    is_html = models.BooleanField(_("HTML body"), default=False)
    subject_ru = models.CharField(_("subject (Russian)"), max_length=255, blank=True)
    body_ru = models.TextField(_("text (Russian)"), blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=255, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name", "id"], name="msg_template_name_idx")]

    def __str__(self) -> str:
        return self.name

    def languages(self) -> list[str]:
        """The languages this template has a text for."""
        return [code for code in ("ru", "en") if getattr(self, f"body_{code}").strip()]


# The contract names the e-mail flavour; one model serves both channels.
EmailTemplate = MessageTemplate


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    SUPPRESSED = "suppressed", _("not sent")


class SuppressReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("no marketing consent")
    UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
    NO_ADDRESS = "no_address", _("no address to send to")


class OutgoingMessage(models.Model):
    """One e-mail or SMS to one recipient, with its delivery state.

    ``idempotency_key`` (unique when set) makes a repeated send return this row instead of
    queueing a second message: automation relies on it for "exactly once"."""

    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    to = models.CharField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"), blank=True)
    is_html = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    reason = models.CharField(
        _("reason"), max_length=16, choices=SuppressReason.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    provider_message_id = models.CharField(_("provider id"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    template = models.ForeignKey(
        MessageTemplate, verbose_name=_("template"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    related_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    related_id = models.BigIntegerField(null=True, blank=True)
    marketing = models.BooleanField(_("marketing"), default=False)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="msg_due_idx"),
            models.Index(fields=["contact", "id"], name="msg_contact_idx"),
            models.Index(fields=["related_type", "related_id"], name="msg_related_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.to or '?'}"


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Unsubscribe(models.Model):
    """A contact's secret unsubscribe link; ``unsubscribed_at`` is when they used it."""

    contact = models.OneToOneField("customers.Contact", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now_add=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"unsubscribe #{self.contact_id}"
