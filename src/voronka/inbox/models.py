"""Conversations with customers across channels: e-mail, Telegram, calls and web forms.

A channel app (``mail``, ``telegram``, ``telephony``, ``channels``) turns what arrives into a
:class:`Message` through :func:`voronka.inbox.services.receive`; the unified inbox lists the
:class:`Conversation` rows. Replies written in the CRM are :class:`Message` rows with
direction "out" that wait in the table (status "queued") until the channel's sender delivers
them, so a reply survives a dead worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from voronka.core.visibility import OwnedQuerySet


class Kind(models.TextChoices):
    EMAIL = "email", _("e-mail")
    TELEGRAM = "telegram", _("Telegram")
    CALL = "call", _("call")
    FORM = "form", _("web form")


class Direction(models.TextChoices):
    IN = "in", _("incoming")
    OUT = "out", _("outgoing")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("received")
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class Conversation(models.Model):
    """One thread with one customer in one channel account.

    ``account`` names the channel account (``mailbox:3``, ``telegram:1``, ``telephony``,
    ``form:5``); ``external_key`` is the thread's key there (a Telegram chat id, a caller's
    number, an e-mail thread's first Message-ID). The pair is unique when the key is given.
    ``owner`` is the responsible manager and decides visibility like on any owned record."""

    kind = models.CharField(_("channel"), max_length=16, choices=Kind.choices)
    account = models.CharField(max_length=64)
    external_key = models.CharField(max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    lead = models.ForeignKey(
        "sales.Lead", verbose_name=_("lead"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    peer = models.CharField(_("from"), max_length=255, blank=True)  # who the customer is there
    unread = models.BooleanField(_("unread"), default=True)
    closed = models.BooleanField(_("closed"), default=False)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    preview = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at", "-id"]
        verbose_name = _("conversation")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_key"],
                condition=~Q(external_key=""),
                name="conversation_account_key_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["-last_message_at", "-id"], name="conv_recent_idx"),
            models.Index(fields=["owner", "-last_message_at"], name="conv_owner_idx"),
            models.Index(fields=["contact"], name="conv_contact_idx"),
            models.Index(fields=["lead"], name="conv_lead_idx"),
            # The nav badge counts unread open threads on every page: only those are indexed.
            models.Index(
                fields=["owner"],
                condition=Q(unread=True, closed=False),
                name="conv_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.peer or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("inbox:conversation", args=[self.pk])


class Message(models.Model):
    """One message in a conversation. ``external_id`` is its id in the channel (Message-ID,
    Telegram message id, call id): unique per account, so a message fetched twice is kept
    once. ``meta`` holds what only one channel has (headers, call duration, recording URL)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    account = models.CharField(max_length=64)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    external_id = models.CharField(max_length=255, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    sender = models.CharField(_("from"), max_length=255, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)  # sanitized with nh3 before it is stored
    meta = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"],
                condition=~Q(external_id=""),
                name="message_account_external_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_conv_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="message_outbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction}:{self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"inbox/{instance.message.conversation_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=128, blank=True)
    size = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name
