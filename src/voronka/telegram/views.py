"""The Telegram pages: the administrator's list of bots with the connect form, a bot's page
(settings, status, "Check now", disconnect, delete), and the webhook Telegram posts to.

A token is typed once and never shown again: the pages show its last four characters."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from voronka.core import access
from voronka.core.errors import FieldError, ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.forms import FieldView, map_errors
from voronka.sales.forms import owner_options
from voronka.telegram import selectors
from voronka.telegram.models import Mode, TelegramBot
from voronka.telegram.services import (
    bot_check,
    bot_connect,
    bot_delete,
    bot_disconnect,
    bot_update,
    update_accept,
    webhook_url,
)

View = Callable[..., HttpResponse]
Errors = dict[str, list[str]]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_BODY = 2 * 1024 * 1024  # an Update is a few kilobytes; files are never in it


admin_only = access.admin_only(gettext_lazy("only an administrator may manage Telegram bots"))


def _inputs(values: dict[str, Any], errors: Errors) -> list[FieldView]:
    return [
        FieldView("name", _("Name in the CRM"), "text", values.get("name", ""),
                  errors=errors.get("name", []),
                  help=_("E.g. Support bot. The bot's own name when empty.")),
        FieldView("mode", _("How messages arrive"), "select", values.get("mode", Mode.WEBHOOK),
                  options=[(Mode.WEBHOOK.value, _("Webhook (instant, needs HTTPS)")),
                           (Mode.POLLING.value, _("Polling (every 2 s, works anywhere)"))],
                  errors=errors.get("mode", []),
                  help=_("A webhook needs the CRM at a public HTTPS address; polling works "
                         "anywhere, even behind a firewall.")),
        FieldView("default_owner_id", _("Manager of new chats"), "select",
                  str(values.get("default_owner_id") or ""), options=owner_options(),
                  errors=errors.get("default_owner_id", []),
                  help=_("Gets the chats of people the CRM does not know yet.")),
    ]  # fmt: skip


def _posted(request: HttpRequest) -> dict[str, Any]:
    return {
        "name": request.POST.get("name", ""),
        "token": request.POST.get("token", "").strip(),
        "mode": request.POST.get("mode", Mode.WEBHOOK),
        "default_owner_id": request.POST.get("default_owner_id") or None,
    }


def _no_store(response: HttpResponse) -> HttpResponse:
    """A page a token was typed on is not kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def _list_page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    values = extra.pop("values", {})
    errors = extra.pop("errors", {})
    ctx = {
        "bots": list(selectors.bots()),
        "inputs": _inputs(values, errors),
        "token_errors": errors.get("token", []),
        "example_url": webhook_url(TelegramBot(path_token="PATH")).replace("PATH", "…"),  # noqa: S106
        "page_title": _("Telegram"),
        **extra,
    }
    return _no_store(render(request, "telegram/bots.html", ctx, status=status))


@admin_only
def bots(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _list_page(request)
    values = _posted(request)
    try:
        bot = bot_connect(actor=request.user, data=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        values.pop("token")  # never echoed back into the page
        return _list_page(request, status=400, values=values, errors=map_errors(exc, {}))
    messages.success(request, _("Bot @%(name)s connected.") % {"name": bot.username})
    return redirect("telegram:bot_edit", pk=bot.pk)


def _edit_page(
    request: HttpRequest,
    bot: TelegramBot,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
) -> HttpResponse:
    if values is None:
        values = {"name": bot.name, "mode": bot.mode, "default_owner_id": bot.default_owner_id}
    errors = errors or {}
    ctx = {
        "bot": bot,
        "inputs": _inputs(values, errors),
        "token_errors": errors.get("token", []),
        "hook_url": webhook_url(bot),
        "failures": selectors.stuck_updates(bot),
        "page_title": bot.name,
    }
    return _no_store(render(request, "telegram/bot_edit.html", ctx, status=status))


@admin_only
def bot_edit(request: HttpRequest, pk: int) -> HttpResponse:
    bot = selectors.get_bot(pk)
    if request.method != "POST":
        return _edit_page(request, bot)
    values = _posted(request)
    try:
        bot, warning = bot_update(actor=request.user, bot=bot, changes=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        values.pop("token")
        fresh = selectors.get_bot(pk)
        return _edit_page(request, fresh, status=400, values=values, errors=map_errors(exc, {}))
    if warning:
        messages.warning(request, warning)
    messages.success(request, _("Bot “%(name)s” saved.") % {"name": bot.name})
    return redirect("telegram:bot_edit", pk=bot.pk)


@admin_only
@require_POST
def bot_check_now(request: HttpRequest, pk: int) -> HttpResponse:
    result = bot_check(actor=request.user, bot=selectors.get_bot(pk))
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("telegram:bot_edit", pk=pk)


@admin_only
@require_POST
def bot_disconnect_view(request: HttpRequest, pk: int) -> HttpResponse:
    bot, warning = bot_disconnect(actor=request.user, bot=selectors.get_bot(pk))
    if warning:
        messages.warning(request, warning)
    messages.success(request, _("Bot “%(name)s” disconnected: it no longer receives "
                                "messages.") % {"name": bot.name})  # fmt: skip
    return redirect("telegram:bot_edit", pk=pk)


@admin_only
@require_POST
def bot_reconnect(request: HttpRequest, pk: int) -> HttpResponse:
    bot = selectors.get_bot(pk)
    try:
        bot, _warning = bot_update(actor=request.user, bot=bot, changes={"active": True})
    except ServiceValidationError as exc:
        messages.error(request, exc.errors[0].message)
        return redirect("telegram:bot_edit", pk=pk)
    messages.success(request, _("Bot “%(name)s” connected again.") % {"name": bot.name})
    return redirect("telegram:bot_edit", pk=pk)


@admin_only
@require_POST
def bot_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    bot = selectors.get_bot(pk)
    name = bot.name
    warning = bot_delete(actor=request.user, bot=bot)
    if warning:
        messages.warning(request, warning)
    messages.success(request, _("Bot “%(name)s” deleted.") % {"name": name})
    return redirect("telegram:bots")


# --- the webhook ----------------------------------------------------------------------------------


def _error(status: int, detail: str, errors: list[FieldError] | tuple[()] = ()) -> JsonResponse:
    """The API's error shape."""
    body = {"detail": detail, "errors": [{"field": e.field, "message": e.message} for e in errors]}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def hook(request: HttpRequest, path_token: str) -> HttpResponse:
    """Telegram posts each Update here. The secret header, compared in constant time, proves
    it is Telegram (the secret was given in setWebhook). The update is kept and a worker
    takes it into the inbox, so the answer is quick; Telegram repeats an update until it
    gets a 2xx, so a 4xx is kept for what no repetition can fix."""
    bot = selectors.bot_by_path_token(path_token)
    if bot is None:
        return _error(404, _("no connected bot has this address"))
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), bot.webhook_secret.encode()):
        return _error(
            403, _("the %(header)s header is missing or wrong") % {"header": SECRET_HEADER}
        )
    if len(request.body) > MAX_BODY:
        return _error(413, _("the update is too large"))
    try:
        data = json.loads(request.body or b"")
    except (ValueError, RecursionError):
        return _error(400, _("malformed JSON body"),
                      [FieldError("body", _("the request body is not valid JSON"))])  # fmt: skip
    try:
        kept = update_accept(bot=bot, data=data)
    except ServiceValidationError as exc:
        return _error(400, exc.detail, exc.errors)
    return JsonResponse({"ok": True, "kept": kept})


urlpatterns = [
    path("", bots, name="bots"),
    path("<int:pk>/", bot_edit, name="bot_edit"),
    path("<int:pk>/check/", bot_check_now, name="bot_check"),
    path("<int:pk>/disconnect/", bot_disconnect_view, name="bot_disconnect"),
    path("<int:pk>/reconnect/", bot_reconnect, name="bot_reconnect"),
    path("<int:pk>/delete/", bot_delete_view, name="bot_delete"),
    path("hook/<str:path_token>/", hook, name="hook"),
]
