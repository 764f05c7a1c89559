"""Replies written in the CRM, delivered to the Telegram chat of their conversation.

:func:`send_reply` is the inbox's sender for kind "telegram" (registered in the app's
``ready``): :func:`voronka.inbox.services.deliver_due` calls it for each queued reply and
retries with backoff when it raises, showing the exception's text on the reply. So every
failure raises with Telegram's own description ("Forbidden: bot was blocked by the user",
"Too Many Requests: retry after 30")."""

from __future__ import annotations

from django.utils.translation import gettext as _

from voronka.inbox.models import Message
from voronka.inbox.services import PermanentSendError
from voronka.telegram.botapi import BotApi, BotApiError, Upload
from voronka.telegram.models import ACCOUNT_PREFIX, TelegramBot

TEXT_LIMIT = 4096  # characters in one Telegram message
PHOTO_LIMIT = 10 * 1024 * 1024  # sendPhoto takes photos up to 10 MB; larger go as documents
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}


class ReplyFailed(Exception):
    """The reply cannot be sent as things stand; the text says why."""


class ReplyRefused(ReplyFailed, PermanentSendError):
    """Telegram refused the reply for good (the customer blocked the bot, the chat is gone):
    the inbox fails it at once instead of retrying for hours."""


def bot_for_account(account: str) -> TelegramBot:
    """The bot of an inbox account ``telegram:<pk>``, or ReplyFailed."""
    pk = account.removeprefix(ACCOUNT_PREFIX)
    bot = TelegramBot.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    if bot is None:
        raise ReplyRefused(_("the Telegram bot of this conversation was deleted"))
    if not bot.active:
        raise ReplyFailed(_("the Telegram bot @%(name)s is disconnected") % {"name": bot.username})
    return bot


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line break or a space when one is
    near the end, so a long reply arrives as several whole-looking messages."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", limit // 2, limit), rest.rfind(" ", limit // 2, limit))
        cut = cut if cut > 0 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def send_reply(message: Message) -> str:
    """Send a queued reply: its text, then its files; the id of the first message sent.

    A reply that fails half-way (the text went, a file did not) is retried whole by the
    inbox, so the customer may see the text twice: Telegram has no idempotency key."""
    bot = bot_for_account(message.account)
    chat_id = message.conversation.external_key
    if not chat_id:
        raise ReplyRefused(_("this conversation has no Telegram chat"))
    api = BotApi(bot.token)
    first_id: int | None = None
    try:
        for piece in split_text(message.body_text):
            sent = api.send_message(chat_id, piece)
            first_id = first_id if first_id is not None else sent.get("message_id")
        for attachment in message.attachments.all():
            with attachment.file.open("rb") as fh:
                content = fh.read()
            as_photo = attachment.content_type in PHOTO_TYPES and len(content) <= PHOTO_LIMIT
            upload = Upload("photo" if as_photo else "document", attachment.name, content,
                            attachment.content_type or "application/octet-stream")  # fmt: skip
            sent = api.send_file("sendPhoto" if as_photo else "sendDocument", upload.field,
                                 chat_id, upload)  # fmt: skip
            if first_id is None and isinstance(sent, dict):
                first_id = sent.get("message_id")
    except BotApiError as exc:
        if exc.retry_after:
            raise ReplyFailed(
                _("%(why)s (Telegram asks to wait %(n)d s)")
                % {"why": exc.description, "n": exc.retry_after}
            ) from exc
        if exc.status in (400, 403):
            raise ReplyRefused(exc.description) from exc
        raise ReplyFailed(exc.description) from exc
    return f"{chat_id}:{first_id if first_id is not None else ''}"
