"""What bots receive: Telegram Updates, kept as they arrive and then taken into the inbox.

Supported Update shapes (https://core.telegram.org/bots/api#update), exactly as the Bot API
sends them:

- ``update_id`` (Integer) and one of ``message`` or ``edited_message`` (a Message); any other
  kind (``callback_query``, ``my_chat_member`` …) is acknowledged and ignored.
- Message: ``message_id``, ``date`` (Unix time), ``chat`` (``id``, ``type``, ``title`` for
  groups), ``from`` (User: ``id``, ``first_name``, ``last_name``, ``username``),
  ``edit_date`` on an edited message, and the content: ``text``; ``caption`` with ``photo``
  (an array of PhotoSize, the largest is kept), ``document``, ``voice``, ``audio``,
  ``video``, ``video_note``, ``animation`` (each a file fetched through ``getFile``);
  ``contact`` (``phone_number``, ``first_name``, ``last_name``, ``user_id``); ``location``
  (``latitude``, ``longitude``); ``sticker`` (``emoji``).

A chat is a conversation (``external_key`` = chat id), a message is an inbox message
(``external_id`` = ``<chat id>:<message id>``; an edit is a new message whose id adds
``:edited:<edit_date>``). A customer is known when the chat's conversation is linked to a
contact, or when they share their own contact (``contact.user_id`` = ``from.id``): the phone
finds the contact, or is written on the chat's lead."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core.actors import System
from voronka.core.errors import FieldError, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.text import normalize_phone
from voronka.inbox.models import Conversation, Message
from voronka.inbox.services import Incoming, IncomingFile, link_contact, receive
from voronka.sales.models import Lead
from voronka.sales.services.leads import find_contact, lead_update
from voronka.telegram.botapi import MAX_DOWNLOAD, BotApi, BotApiError
from voronka.telegram.models import Mode, PendingUpdate, TelegramBot
from voronka.telegram.services.bots import ALLOWED_UPDATES

log = logging.getLogger("voronka.telegram")

KIND = "telegram"
MAX_ATTEMPTS = 8
LEASE = dt.timedelta(minutes=5)  # a claimed update is left alone this long by other workers
FILE_KINDS = ("photo", "document", "voice", "audio", "video", "video_note", "animation")
DEFAULT_TYPES = {"photo": "image/jpeg", "voice": "audio/ogg", "video_note": "video/mp4",
                 "video": "video/mp4", "audio": "audio/mpeg", "animation": "video/mp4"}  # fmt: skip


# --- the shape of an Update ---------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def parse_update(data: Any) -> tuple[int, dict[str, Any] | None, bool]:
    """(update_id, the message or None for a kind we ignore, whether it is an edit).

    ServiceValidationError naming the field when the body is not an Update: what a webhook
    answers 400 to, so nothing of it is kept."""
    if not isinstance(data, Mapping):
        raise ServiceValidationError(
            [FieldError("body", _("must be a JSON object (a Telegram Update)"))],
            detail=_("the body is not a Telegram Update"),
        )
    if _has_nul(data):
        raise ServiceValidationError.single("body", _("must not contain the NUL character"))
    update_id: Any = data.get("update_id")
    if not _is_int(update_id):
        raise ServiceValidationError.single("update_id", _("must be an integer"))
    edited = "message" not in data and "edited_message" in data
    message = data.get("edited_message" if edited else "message")
    if message is None:
        return int(update_id), None, False
    key = "edited_message" if edited else "message"
    if not isinstance(message, Mapping):
        raise ServiceValidationError.single(key, _("must be a Telegram Message object"))
    chat = message.get("chat")
    if not _is_int(message.get("message_id")):
        raise ServiceValidationError.single(f"{key}.message_id", _("must be an integer"))
    if not _is_int(message.get("date")):
        raise ServiceValidationError.single(f"{key}.date", _("must be a Unix time"))
    if not isinstance(chat, Mapping) or not _is_int(chat.get("id")):
        raise ServiceValidationError.single(f"{key}.chat.id", _("must be an integer"))
    return int(update_id), dict(message), edited


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _person(message: Mapping[str, Any]) -> tuple[str, str, str, int | None]:
    """(display name, plain name, username, user id) of who wrote the message; a group's or
    channel's title when no person is named."""
    chat = message["chat"]
    who: Mapping[str, Any] = {}
    for key in ("from", "sender_chat"):
        if isinstance(message.get(key), Mapping):
            who = message[key]
            break
    name = (
        " ".join(
            p
            for p in (_text(who.get("first_name")).strip(), _text(who.get("last_name")).strip())
            if p
        )
        or _text(who.get("title")).strip()
        or _text(chat.get("title")).strip()
    )
    username = _text(who.get("username")).strip() or (
        _text(chat.get("username")).strip() if chat.get("type") == "private" else ""
    )
    user_id = who.get("id") if _is_int(who.get("id")) else None
    if not name:
        name = f"@{username}" if username else f"Telegram {chat['id']}"
    display = f"{name} (@{username})" if username and not name.startswith("@") else name
    return display, name, username, user_id


# --- files ----------------------------------------------------------------------------------------


@dataclass
class FileRef:
    """A file of a message, before it is fetched."""

    file_id: str
    name: str
    content_type: str
    size: int | None


def _largest_photo(sizes: Any) -> Mapping[str, Any] | None:
    """The largest PhotoSize the Bot API lets us fetch (it serves files up to 20 MB)."""
    usable = [
        s for s in (sizes if isinstance(sizes, list) else [])
        if isinstance(s, Mapping) and isinstance(s.get("file_id"), str)
        and not (_is_int(s.get("file_size")) and s["file_size"] > MAX_DOWNLOAD)
    ]  # fmt: skip
    if not usable:
        return None

    def area(s: Mapping[str, Any]) -> tuple[int, int]:
        width: Any = s.get("width")
        height: Any = s.get("height")
        pixels = int(width) * int(height) if _is_int(width) and _is_int(height) else 0
        size: Any = s.get("file_size")
        return pixels, int(size) if _is_int(size) else 0

    return max(usable, key=area)


def file_refs(message: Mapping[str, Any]) -> list[FileRef]:
    """The files of a message in the order the Bot API lists its fields."""
    refs: list[FileRef] = []
    message_id = message["message_id"]
    for kind in FILE_KINDS:
        raw = message.get(kind)
        item = _largest_photo(raw) if kind == "photo" else raw
        if not isinstance(item, Mapping) or not isinstance(item.get("file_id"), str):
            continue
        content_type = _text(item.get("mime_type")) or DEFAULT_TYPES.get(kind, "")
        name = _text(item.get("file_name")).strip()
        if not name:
            extension = (
                {"audio/ogg": ".ogg", "image/jpeg": ".jpg", "video/mp4": ".mp4"}.get(content_type)
                or (mimetypes.guess_extension(content_type) if content_type else "")
                or ""
            )
            name = f"{kind}_{message_id}{extension}"
        size = item.get("file_size") if _is_int(item.get("file_size")) else None
        refs.append(FileRef(item["file_id"], name, content_type, size))
    return refs


class FetchLater(Exception):
    """A file could not be fetched for a reason that may pass (network, 429, 5xx)."""


def _fetch(
    api: BotApi | None, refs: list[FileRef], failure: str
) -> tuple[list[IncomingFile], list[str]]:
    """(the files fetched, a note for each that could not be). Without ``api`` (the last
    attempt) nothing is fetched and each file is noted with ``failure``."""
    files: list[IncomingFile] = []
    notes: list[str] = []
    for ref in refs:
        if api is None:
            why = failure
        elif ref.size is not None and ref.size > MAX_DOWNLOAD:
            why = _("larger than the 20 MB the Bot API lets a bot download")
        else:
            try:
                files.append(IncomingFile(ref.name, api.download(ref.file_id), ref.content_type))
                continue
            except BotApiError as exc:
                if exc.transient:
                    raise FetchLater(exc.description) from exc
                why = exc.description
        notes.append(_("[%(name)s could not be fetched from Telegram: %(why)s]")
                     % {"name": ref.name, "why": why})  # fmt: skip
    return files, notes


# --- an Update as an inbox message ---------------------------------------------------------------


@dataclass
class Built:
    incoming: Incoming
    own_phone: str = ""  # the phone the writer shared as their own contact


def _shared_phone(message: Mapping[str, Any], user_id: int | None) -> tuple[str, str]:
    """(a line for the body, the E.164 phone when the writer shared their own contact)."""
    contact = message.get("contact")
    if not isinstance(contact, Mapping):
        return "", ""
    raw = _text(contact.get("phone_number")).strip()
    name = " ".join(
        p for p in (_text(contact.get("first_name")), _text(contact.get("last_name"))) if p
    )
    try:
        phone = normalize_phone(raw)
    except ValueError:
        phone = ""
    line = _("Shared a contact: %(name)s, %(phone)s") % {"name": name or "—", "phone": raw or "—"}
    own = user_id is not None and contact.get("user_id") == user_id
    return line, phone if own else ""


def _other_lines(message: Mapping[str, Any]) -> list[str]:
    lines = []
    location = message.get("location")
    if isinstance(location, Mapping):
        lines.append(_("Location: %(lat)s, %(lon)s")
                     % {"lat": location.get("latitude"), "lon": location.get("longitude")})  # fmt: skip
    sticker = message.get("sticker")
    if isinstance(sticker, Mapping):
        lines.append(_("Sticker %(emoji)s") % {"emoji": _text(sticker.get("emoji"))})
    return lines


def build_incoming(
    bot: TelegramBot,
    message: Mapping[str, Any],
    *,
    edited: bool,
    api: BotApi | None,
    failure: str = "",
) -> Built:
    """The inbox's view of one Telegram message; fetches its files through ``api``.

    FetchLater when a file could not be fetched for now; with ``api=None`` files are not
    fetched but noted in the text with ``failure``, so the message itself is never lost."""
    chat = message["chat"]
    chat_id = chat["id"]
    display, name, username, user_id = _person(message)
    contact_line, own_phone = _shared_phone(message, user_id)
    files, notes = _fetch(api, file_refs(message), failure)
    text = _text(message.get("text")) or _text(message.get("caption"))
    lines = [line for line in [text, contact_line, *_other_lines(message), *notes] if line]
    body = "\n".join(lines)
    if not body and not files:
        body = _("(a kind of Telegram message the CRM does not show)")
    external_id = f"{chat_id}:{message['message_id']}"
    stamp = message["date"]
    if edited:
        stamp = message.get("edit_date") if _is_int(message.get("edit_date")) else stamp
        external_id += f":edited:{stamp}"
        body = _("(edited) %(text)s") % {"text": body}
    meta = {
        "chat_id": chat_id,
        "chat_type": _text(chat.get("type")),
        "message_id": message["message_id"],
        "username": username,
        "telegram_user_id": user_id,
        "bot": bot.username,
    }
    if edited:
        meta["edited"] = True
    incoming = Incoming(
        kind=KIND,
        account=bot.account,
        external_id=external_id,
        external_key=str(chat_id),
        sender=display,
        name=name,
        phone=own_phone,
        subject="",
        body_text=body,
        meta=meta,
        files=files,
        when=dt.datetime.fromtimestamp(stamp, tz=dt.UTC),
        source=bot.source,
        default_owner_id=bot.default_owner_id,
    )
    return Built(incoming, own_phone)


def _use_shared_phone(message: Message, phone: str) -> None:
    """The writer shared their own phone: link the chat to the contact with that phone, or
    write it on the chat's lead when the lead has none yet."""
    if not phone:
        return
    conversation = Conversation.objects.get(pk=message.conversation_id)
    if conversation.contact_id:
        return
    contact = find_contact("", phone)
    if contact is not None:
        link_contact(actor=System(), conversation=conversation, contact=contact)
        return
    if conversation.lead_id is None:
        return
    lead = Lead.objects.filter(pk=conversation.lead_id, converted_at__isnull=True).first()
    if lead is not None and not lead.phone:
        try:
            lead_update(actor=System(), lead=lead, changes={"phone": phone},
                        channel=Channel.SYSTEM)  # fmt: skip
        except ServiceValidationError as exc:  # a phone the lead rules refuse: keep the message
            log.info("lead %s keeps no phone from Telegram: %s", lead.pk, exc)


# --- receiving: webhook and polling ----------------------------------------------------------------


def _keep(bot: TelegramBot, updates: list[tuple[int, Mapping[str, Any]]]) -> None:
    PendingUpdate.objects.bulk_create(
        [PendingUpdate(bot=bot, update_id=uid, payload=dict(data)) for uid, data in updates],
        ignore_conflicts=True,  # the same update delivered twice is kept once
    )


def update_accept(*, bot: TelegramBot, data: Any) -> bool:
    """Keep an Update the webhook received; False when it is a kind the inbox ignores.
    ServiceValidationError when the body is not an Update (nothing is kept then)."""
    update_id, message, _edited = parse_update(data)
    if message is None:
        return False
    with transaction.atomic():
        _keep(bot, [(update_id, data)])
        TelegramBot.objects.filter(pk=bot.pk).update(last_update_at=timezone.now())
        TelegramBot.objects.filter(pk=bot.pk, last_update_id__lt=update_id).update(
            last_update_id=update_id
        )
    return True


def poll_bot(bot_pk: int, *, raise_errors: bool = False) -> int:
    """Ask Telegram for a polling bot's new updates and keep them; how many were kept.

    The bot's row is locked while it is polled (another worker skips it), and the offset
    (``last_update_id``) moves in the same transaction that keeps the updates: a crash
    before the commit keeps nothing and the next poll asks again; after it, Telegram
    forgets them on the next call. Either way each update is kept once."""
    now = timezone.now()
    with transaction.atomic():
        bot = (
            TelegramBot.objects.select_for_update(skip_locked=True)
            .filter(pk=bot_pk, active=True, mode=Mode.POLLING)
            .first()
        )
        if bot is None:
            return 0
        api = BotApi(bot.token)
        try:
            updates = api.get_updates(bot.last_update_id + 1, ALLOWED_UPDATES)
        except BotApiError as exc:
            if raise_errors:
                raise
            if exc.status == 409 and "webhook" in exc.description.lower():
                # A webhook set elsewhere blocks getUpdates; polling was chosen, so remove it.
                with contextlib.suppress(BotApiError):
                    api.delete_webhook()
            bot.last_error = str(exc)
            bot.last_sync_at = now
            bot.save(update_fields=["last_error", "last_sync_at", "updated_at"])
            return 0
        kept: list[tuple[int, Mapping[str, Any]]] = []
        highest = bot.last_update_id
        for data in updates:
            try:
                update_id, message, _edited = parse_update(data)
            except ServiceValidationError as exc:
                log.warning("bot %s: an update that is not one: %s", bot.pk, exc)
                if _is_int(data.get("update_id")):
                    highest = max(highest, data["update_id"])
                continue
            highest = max(highest, update_id)
            if message is not None:
                kept.append((update_id, data))
        _keep(bot, kept)
        bot.last_update_id = highest
        bot.last_sync_at = now
        bot.last_error = ""
        fields = ["last_update_id", "last_sync_at", "last_error", "updated_at"]
        if kept:
            bot.last_update_at = now
            fields.append("last_update_at")
        bot.save(update_fields=fields)
    return len(kept)


# --- taking updates into the inbox -----------------------------------------------------------------


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


def _claim(now: dt.datetime, limit: int, bot_id: int | None) -> list[int]:
    with transaction.atomic():
        qs = PendingUpdate.objects.filter(next_attempt_at__lte=now, bot__active=True)
        if bot_id is not None:
            qs = qs.filter(bot_id=bot_id)
        ids = list(
            qs.order_by("bot_id", "update_id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        PendingUpdate.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    return ids


def process_update(pending: PendingUpdate, now: dt.datetime | None = None) -> Message | None:
    """Take one kept update into the inbox and forget it; on failure record why and try
    again later. The last attempt stores the message without the files it could not fetch."""
    now = now or timezone.now()
    bot = pending.bot
    attempts = pending.attempts + 1
    final = attempts >= MAX_ATTEMPTS
    try:
        _uid, message, edited = parse_update(pending.payload)
        if message is None:
            pending.delete()
            return None
        try:
            built = build_incoming(bot, message, edited=edited, api=BotApi(bot.token))
        except FetchLater as exc:
            if not final:
                raise
            built = build_incoming(bot, message, edited=edited, api=None, failure=str(exc))
        with transaction.atomic():
            stored = receive(built.incoming)
            _use_shared_phone(stored, built.own_phone)
            PendingUpdate.objects.filter(pk=pending.pk).delete()
        return stored
    except Exception as exc:  # recorded on the row and retried; one bad update stops nothing
        log.warning("telegram update %s of bot %s failed: %s", pending.update_id, bot.pk, exc)
        PendingUpdate.objects.filter(pk=pending.pk).update(
            attempts=attempts,
            error=str(exc)[:2000] or exc.__class__.__name__,
            next_attempt_at=None if final else now + _backoff(attempts),
        )
        return None


def process_pending(*, bot_id: int | None = None, limit: int = 20) -> int:
    """Take due updates into the inbox; how many messages were stored."""
    now = timezone.now()
    stored = 0
    for pk in _claim(now, limit, bot_id):
        pending = PendingUpdate.objects.select_related("bot").filter(pk=pk).first()
        if pending is not None and process_update(pending, now) is not None:
            stored += 1
    return stored


def retry_stuck(*, bot: TelegramBot) -> int:
    """Updates that used up their attempts are tried again (an administrator's "Check now")."""
    return PendingUpdate.objects.filter(bot=bot, next_attempt_at__isnull=True).update(
        next_attempt_at=timezone.now(), attempts=0
    )


def run_due() -> int:
    """The periodic job: poll every polling bot, then take waiting updates into the inbox."""
    ids = TelegramBot.objects.filter(active=True, mode=Mode.POLLING).values_list("pk", flat=True)
    for pk in list(ids):
        try:
            poll_bot(pk)
        except Exception:  # one bot's trouble must not stop the others
            log.exception("polling Telegram bot %s failed", pk)
    return process_pending()
