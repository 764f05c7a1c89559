"""Telegram bots connected to the CRM, and the updates they received but the inbox has not
taken in yet.

A customer writes to the company's bot; Telegram hands the message to Voronka either by
calling our webhook (``mode = webhook``) or when a worker asks for it (``mode = polling``).
Either way the raw Update is first kept as a :class:`PendingUpdate`, so answering Telegram is
quick and a failed file download is retried; a worker then turns it into an inbox message
(:mod:`voronka.telegram.services.updates`)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ACCOUNT_PREFIX = "telegram:"


def new_path_token() -> str:
    """The random part of a bot's webhook address: unguessable, unrelated to the token."""
    return secrets.token_urlsafe(16)


def new_webhook_secret() -> str:
    """Telegram repeats it in X-Telegram-Bot-Api-Secret-Token (1–256 of A-Z a-z 0-9 _ -)."""
    return secrets.token_urlsafe(32)


class Mode(models.TextChoices):
    WEBHOOK = "webhook", _("webhook (Telegram calls the CRM)")
    POLLING = "polling", _("polling (the CRM asks Telegram)")


class TelegramBot(models.Model):
    """A bot made in @BotFather whose chats become inbox conversations.

    ``token`` is stored because every Bot API call needs it, but it is never shown again
    after it is entered: pages and the API show ``token_hint``. ``bot_id`` is the number
    before the colon of the token (Telegram's id of the bot), unique so one bot is never
    connected twice. ``last_update_id`` is the polling offset: the highest update already
    kept, so the next ``getUpdates`` asks for the ones after it."""

    name = models.CharField(_("name"), max_length=128)
    token = models.CharField(_("token"), max_length=128)
    bot_id = models.BigIntegerField(_("bot id"), unique=True)
    username = models.CharField(_("username"), max_length=64, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.WEBHOOK)
    path_token = models.CharField(
        max_length=32, unique=True, default=new_path_token, editable=False
    )
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("default manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    active = models.BooleanField(_("connected"), default=True)
    last_update_id = models.BigIntegerField(default=0)
    last_update_at = models.DateTimeField(_("last update"), null=True, blank=True)
    last_sync_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("Telegram bot")
        indexes = [models.Index(fields=["active", "mode"], name="tgbot_active_mode_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("telegram:bot_edit", args=[self.pk])

    @property
    def token_hint(self) -> str:
        """The last four characters, enough to tell two tokens apart."""
        return f"…{self.token[-4:]}" if self.token else ""

    @property
    def account(self) -> str:
        """The inbox account of this bot's conversations."""
        return f"{ACCOUNT_PREFIX}{self.pk}"

    @property
    def source(self) -> str:
        """What a lead from this bot says as its source."""
        return f"Telegram: @{self.username}" if self.username else f"Telegram: {self.name}"

    @property
    def link(self) -> str:
        return f"https://t.me/{self.username}" if self.username else ""


class PendingUpdate(models.Model):
    """A Telegram Update received (by webhook or polling) and not yet in the inbox.

    Unique per bot and ``update_id``, so an update delivered twice is kept once. A worker
    claims due rows, stores the message and deletes the row; a failure (a file that could not
    be fetched) is retried with backoff, ``error`` saying why. After the last attempt
    ``next_attempt_at`` is empty: the update waits for an administrator's "Check now"."""

    bot = models.ForeignKey(TelegramBot, on_delete=models.CASCADE, related_name="pending")
    update_id = models.BigIntegerField()
    payload = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, null=True, blank=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bot_id", "update_id"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "update_id"], name="tgupdate_bot_update_uniq")
        ]
        indexes = [models.Index(fields=["next_attempt_at", "id"], name="tgupdate_due_idx")]

    def __str__(self) -> str:
        return f"{self.bot_id}:{self.update_id}"
