"""Connecting, changing and disconnecting bots. Administrators only.

Telegram is asked first and the database written after: a token Telegram rejects, or a
webhook address it refuses, leaves nothing behind and names the field at fault."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.validation import clean_bool, clean_str
from voronka.sales.services.common import clean_fk, require_admin, unknown_fields
from voronka.telegram.botapi import BotApi, BotApiError
from voronka.telegram.models import Mode, TelegramBot

BOT_ENTITY = "telegram.telegrambot"
BOT_FIELDS = {"name", "token", "mode", "default_owner_id", "active"}
ALLOWED_UPDATES = ["message", "edited_message"]
TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{20,100}$")


def webhook_url(bot: TelegramBot) -> str:
    """Where Telegram posts this bot's updates: the CRM's public address (VORONKA_BASE_URL)
    and the bot's random path token."""
    base = str(getattr(settings, "VORONKA_BASE_URL", "") or "http://localhost:8000").rstrip("/")
    return base + reverse("telegram:hook", args=[bot.path_token])


def _clean(data: dict[str, Any], *, instance: TelegramBot | None) -> Collector:
    errors = Collector()
    unknown_fields(errors, data, BOT_FIELDS)
    clean_str(errors, data, "name", 128)
    clean_str(errors, data, "token", 200)
    clean_str(errors, data, "mode", 16)
    clean_bool(errors, data, "active")
    clean_fk(errors, data, "default_owner_id", get_user_model().objects.filter(is_active=True),
             _("no such active user"))  # fmt: skip
    if "mode" in data and data["mode"] not in Mode.values:
        errors.add("mode", _("must be “webhook” or “polling”"))
    if instance is None and not data.get("token"):
        errors.add("token", _("paste the token @BotFather gave you"))
    elif data.get("token") and not TOKEN_RE.match(str(data["token"])):
        errors.add("token", _("this is not a bot token: it looks like 123456789:AAH4…"))
    return errors


def _token_problem(exc: BotApiError) -> str:
    if exc.unreachable:
        return _("could not reach Telegram to check the token (%(why)s); try again") % {
            "why": exc.description
        }
    if exc.status in (401, 404):
        return _("Telegram does not know this token: copy it again from @BotFather")
    return _("Telegram rejected the token: %(why)s") % {"why": exc.description}


def _who(token: str) -> dict[str, Any]:
    """The bot the token belongs to (getMe); ServiceValidationError on ``token`` otherwise."""
    try:
        me = BotApi(token).get_me()
    except BotApiError as exc:
        raise ServiceValidationError.single("token", _token_problem(exc)) from exc
    if not me.get("is_bot") or not isinstance(me.get("id"), int):
        raise ServiceValidationError.single("token", _("this token does not belong to a bot"))
    return me


def apply_mode(bot: TelegramBot, *, strict: bool = True) -> str:
    """Tell Telegram how to deliver updates: setWebhook with our address and secret, or
    deleteWebhook so getUpdates works. With ``strict`` a refusal raises on ``mode``;
    otherwise it is returned as a warning (a bot being switched off must not get stuck)."""
    api = BotApi(bot.token)
    try:
        if bot.active and bot.mode == Mode.WEBHOOK:
            api.set_webhook(webhook_url(bot), bot.webhook_secret, ALLOWED_UPDATES)
        else:
            api.delete_webhook()
    except BotApiError as exc:
        if bot.active and bot.mode == Mode.WEBHOOK:
            message = _(
                "Telegram refused the webhook address %(url)s: %(why)s. A webhook needs the "
                "CRM at a public HTTPS address (VORONKA_BASE_URL); otherwise choose polling."
            ) % {"url": webhook_url(bot), "why": exc.description}
        else:
            message = _("Telegram could not switch the webhook off: %(why)s") % {
                "why": exc.description
            }
        if strict:
            raise ServiceValidationError.single("mode", message) from exc
        return message
    return ""


def _snapshot(bot: TelegramBot) -> dict[str, Any]:
    return {"name": bot.name, "username": bot.username, "mode": bot.mode,
            "default_owner_id": bot.default_owner_id, "active": bot.active,
            "token": bot.token_hint}  # fmt: skip


def bot_connect(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> TelegramBot:
    """Connect a bot by its token: getMe names it, then the webhook is set (or removed for
    polling). A bot connected before and disconnected since is connected again, with its
    conversations; one that is connected now is an error on ``token``."""
    require_admin(actor)
    values = dict(data)
    values.setdefault("mode", Mode.WEBHOOK)
    _clean(values, instance=None).raise_if_any()
    me = _who(values["token"])
    bot = TelegramBot.objects.filter(bot_id=me["id"]).first()
    if bot is not None and bot.active:
        raise ServiceValidationError.single(
            "token", _("this bot is already connected as “%(name)s”") % {"name": bot.name}
        )
    created = bot is None
    if bot is None:
        bot = TelegramBot(bot_id=me["id"])
    bot.token = values["token"]
    bot.username = str(me.get("username") or "")[:64]
    bot.name = values.get("name") or bot.name or str(me.get("first_name") or bot.username)[:128]
    bot.mode = values["mode"]
    if "default_owner_id" in values:
        bot.default_owner_id = values["default_owner_id"]
    bot.active = True
    bot.last_error = ""
    apply_mode(bot)
    bot.last_sync_at = timezone.now()
    try:
        with transaction.atomic():
            bot.save()
            audit.record(bot, action="create" if created else "update",
                         changes=_snapshot(bot), actor=actor, channel=channel)  # fmt: skip
            events.publish("telegram_bot.connected", entity=BOT_ENTITY, entity_id=bot.pk,
                           payload={"name": bot.name, "username": bot.username,
                                    "mode": bot.mode},
                           actor=actor, channel=channel)  # fmt: skip
    except IntegrityError as exc:
        # The same bot connected by another request a moment ago.
        raise ServiceValidationError.single("token", _("this bot is already connected")) from exc
    return bot


def bot_update(
    *, actor: Any, bot: TelegramBot, changes: Mapping[str, Any], channel: str = Channel.UI
) -> tuple[TelegramBot, str]:
    """Change a bot: (the bot, a warning or ""). A new token must belong to the same bot
    (a token revoked in @BotFather and issued again); a new mode or switching the bot on
    tells Telegram first. Switching it off removes the webhook as best it can."""
    require_admin(actor)
    values = dict(changes)
    if values.get("token") in ("", None):
        values.pop("token", None)  # an empty token field keeps the stored token
    _clean(values, instance=bot).raise_if_any()
    if "name" in values and not values["name"]:
        raise ServiceValidationError.single("name", _("this field is required"))
    before = _snapshot(bot)
    was = (bot.token, bot.mode, bot.active)
    if "token" in values:
        me = _who(values["token"])
        if me["id"] != bot.bot_id:
            raise ServiceValidationError.single(
                "token",
                _("this token belongs to another bot (@%(other)s); connect it as a new bot")
                % {"other": me.get("username") or me["id"]},
            )
        bot.token = values["token"]
        bot.username = str(me.get("username") or bot.username)[:64]
    for name in ("name", "mode", "active", "default_owner_id"):
        if name in values:
            setattr(bot, name, values[name])
    warning = ""
    if (bot.token, bot.mode, bot.active) != was:
        warning = apply_mode(bot, strict=bot.active)
        bot.last_sync_at = timezone.now()
        bot.last_error = warning
    with transaction.atomic():
        bot.save()
        changed = audit.diff(before, _snapshot(bot))
        if changed:
            audit.record(bot, action="update", changes=changed, actor=actor, channel=channel)
        if was[2] and not bot.active:
            events.publish("telegram_bot.disconnected", entity=BOT_ENTITY, entity_id=bot.pk,
                           payload={"name": bot.name}, actor=actor, channel=channel)  # fmt: skip
    return bot, warning


def bot_disconnect(
    *, actor: Any, bot: TelegramBot, channel: str = Channel.UI
) -> tuple[TelegramBot, str]:
    """Stop receiving: the webhook is removed and the worker stops polling. Conversations
    stay; connecting the same bot again resumes them."""
    return bot_update(actor=actor, bot=bot, changes={"active": False}, channel=channel)


def bot_delete(*, actor: Any, bot: TelegramBot, channel: str = Channel.UI) -> str:
    """Forget the bot and its token; a warning when Telegram could not be told. Its
    conversations stay in the inbox, but replies in them can no longer be sent."""
    require_admin(actor)
    warning = ""
    if bot.active:
        bot.active = False
        warning = apply_mode(bot, strict=False)
    with transaction.atomic():
        audit.record(bot, action="delete", changes={"name": bot.name, "username": bot.username},
                     actor=actor, channel=channel)  # fmt: skip
        events.publish("telegram_bot.deleted", entity=BOT_ENTITY, entity_id=bot.pk,
                       payload={"name": bot.name}, actor=actor, channel=channel)  # fmt: skip
        bot.delete()
    return warning


@dataclass
class CheckResult:
    """What "Check now" found: whether all is well and what to tell the administrator."""

    ok: bool
    message: str
    received: int = 0


def bot_check(*, actor: Any, bot: TelegramBot) -> CheckResult:
    """Ask Telegram about the bot now. Webhook: getWebhookInfo, setting the webhook again
    when it points elsewhere, and Telegram's last delivery error. Polling: fetch and store
    the waiting updates at once."""
    from voronka.telegram.services.updates import poll_bot, process_pending, retry_stuck

    require_admin(actor)
    if not bot.active:
        return CheckResult(False, _("The bot is disconnected."))
    retry_stuck(bot=bot)
    now = timezone.now()
    api = BotApi(bot.token)
    try:
        api.get_me()
        if bot.mode == Mode.POLLING:
            fetched = poll_bot(bot.pk, raise_errors=True)
            received = process_pending(bot_id=bot.pk)
            TelegramBot.objects.filter(pk=bot.pk).update(last_sync_at=now, last_error="")
            message = _("Polled Telegram. New updates: %(n)d; messages taken into the "
                        "inbox: %(m)d.") % {"n": fetched, "m": received}  # fmt: skip
            return CheckResult(True, message, received)
        info = api.get_webhook_info()
        expected = webhook_url(bot)
        repaired = False
        if info.get("url") != expected:
            api.set_webhook(expected, bot.webhook_secret, ALLOWED_UPDATES)
            repaired = True
    except BotApiError as exc:
        TelegramBot.objects.filter(pk=bot.pk).update(last_sync_at=now, last_error=str(exc))
        return CheckResult(False, _("Telegram answered: %(why)s") % {"why": exc.description})
    telegram_error = "" if repaired else str(info.get("last_error_message") or "")
    TelegramBot.objects.filter(pk=bot.pk).update(last_sync_at=now, last_error=telegram_error)
    received = process_pending(bot_id=bot.pk)
    if telegram_error:
        return CheckResult(False, _("Telegram could not deliver to the webhook lately: "
                                    "%(why)s") % {"why": telegram_error}, received)  # fmt: skip
    if repaired:
        return CheckResult(True, _("The webhook pointed elsewhere and was set again."), received)
    pending = int(info.get("pending_update_count") or 0)
    message = _("The webhook is set. Updates waiting at Telegram: %(n)d.") % {"n": pending}
    return CheckResult(True, message, received)
