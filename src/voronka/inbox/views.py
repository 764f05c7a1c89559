"""The unified inbox: the list of conversations, a conversation's thread with its reply box
and actions, attachments, the contact card's panel and the nav badge.

Every read goes through :mod:`voronka.inbox.selectors` (a conversation the user may not see
answers 404), every write through :mod:`voronka.inbox.services`. Forms are plain POSTs that
also work through htmx; the reply box answers htmx with the thread in place."""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from voronka.accounts.selectors import users_active
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.pagination import Page
from voronka.customers.models import Contact
from voronka.customers.selectors import contacts_visible_to, get_contact_for_user
from voronka.customers.views import AuthedRequest, is_htmx
from voronka.inbox import selectors, services
from voronka.inbox.models import Conversation, Kind, Message
from voronka.sales.forms import query_with
from voronka.sales.selectors import leads_visible_to

THREAD_LIMIT = 200  # the newest messages a page shows; the API pages through all of them
STATUS_CHOICES = ("open", "closed", "all")
Errors = dict[str, list[str]]


def _errors(exc: ServiceValidationError) -> Errors:
    found: Errors = {}
    for e in exc.errors:
        found.setdefault(e.field, []).append(e.message)
    return found


def load_conversation(request: AuthedRequest, pk: int, *, write: bool = False) -> Conversation:
    """The conversation if this user may see it (404 otherwise) and, with ``write``, change."""
    try:
        return selectors.get_conversation_for_user(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


# --- the list -----------------------------------------------------------------------------------


def _owner_options(user: Any) -> list[tuple[str, str]]:
    users = users_active().order_by("last_name", "first_name", "id")
    return [("", _("Anyone")), ("me", _("Me")), ("unassigned", _("Unassigned"))] + [
        (str(u.pk), str(u)) for u in users
    ]


def _list_params(request: AuthedRequest) -> tuple[dict[str, str], dict[str, Any]]:
    """The page's own inputs and the selector's parameters they stand for. ``status`` is the
    page's word for the API's ``closed`` flag; the page shows open conversations unless asked."""
    get = request.GET
    values = {
        "kind": get.get("kind", "").strip(),
        "owner": get.get("owner", "").strip(),
        "unread": "1" if get.get("unread") in ("1", "on", "true") else "",
        "status": get.get("status", "").strip() or "open",
    }
    params: dict[str, Any] = {k: values[k] for k in ("kind", "owner", "unread") if values[k]}
    if values["status"] == "open":
        params["closed"] = "false"
    elif values["status"] == "closed":
        params["closed"] = "true"
    elif values["status"] != "all":
        params["status"] = values["status"]  # reported as an error below
    if cursor := get.get("cursor"):
        params["cursor"] = cursor
    return values, params


def customer_name(conversation: Conversation) -> str:
    """Who the list names: the contact, else the lead when it has a name, else the sender as
    the channel shows them (a formatted number reads better than a nameless lead's)."""
    if conversation.contact_id and conversation.contact:
        return str(conversation.contact)
    lead = conversation.lead if conversation.lead_id else None
    if lead and (lead.last_name or lead.first_name or lead.company_name):
        return str(lead)
    return conversation.peer or (str(lead) if lead else "—")


@login_required
def inbox(request: AuthedRequest) -> HttpResponse:
    values, params = _list_params(request)
    errors: Errors = {}
    if "status" in params:
        errors["status"] = [_("must be one of: %(options)s") % {"options": "open, closed, all"}]
        params.pop("status")
    try:
        page = selectors.conversation_list(
            request.user, selectors.parse_conversation_query(params, request.user)
        )
    except ServiceValidationError as exc:
        errors.update(_errors(exc))
        page = Page(items=[], next_cursor=None)
    if errors:
        page = Page(items=[], next_cursor=None)
    for c in page.items:
        c.customer_name = customer_name(c)  # type: ignore[attr-defined]
    list_path = reverse("inbox:list")
    next_url = ""
    if page.next_cursor:
        next_url = list_path + "?" + query_with(request.GET, cursor=page.next_cursor)
    ctx: dict[str, Any] = {
        "conversations": page.items,
        "next_url": next_url,
        "values": values,
        "errors": errors,
        "error_list": [f"{name}: {m}" for name, ms in errors.items() for m in ms],
        "filtered": any(values[k] for k in ("kind", "owner", "unread"))
        or values["status"] != "open",
        "kinds": Kind.choices,
        "owners": _owner_options(request.user),
        "statuses": [
            ("open", pgettext("conversations", "Open")),
            ("closed", pgettext("conversations", "Closed")),
            ("all", pgettext("conversations", "All")),
        ],
        "list_path": list_path,
        "page_title": _("Inbox"),
    }
    target = request.headers.get("HX-Target", "")
    if is_htmx(request) and target == "more-row":
        return render(request, "inbox/_rows.html", ctx)
    if is_htmx(request) and target == "list-results":
        return render(request, "inbox/_results.html", ctx)
    return render(request, "inbox/list.html", ctx)


# --- a conversation -----------------------------------------------------------------------------


def _customer_links(request: AuthedRequest, conversation: Conversation) -> list[dict[str, Any]]:
    """The contact and the lead of the thread, linked when the user may open their cards."""
    links: list[dict[str, Any]] = []
    if conversation.contact_id:
        visible = contacts_visible_to(request.user).filter(pk=conversation.contact_id).exists()
        links.append({"label": _("Contact"), "record": conversation.contact, "visible": visible})
    if conversation.lead_id:
        visible = leads_visible_to(request.user).filter(pk=conversation.lead_id).exists()
        links.append({"label": _("Lead"), "record": conversation.lead, "visible": visible})
    return links


def _no_reply_reason(conversation: Conversation) -> str:
    if conversation.kind == Kind.FORM:
        return _(
            "This conversation came from a web form: answer by e-mail or phone from the "
            "lead's or contact's card."
        )
    if conversation.kind == Kind.CALL:
        return _("This is a call: call back, or write from the contact's or lead's card.")
    return _("Replies in this channel are not set up yet: answer from the customer's card.")


def _thread_ctx(
    request: AuthedRequest, conversation: Conversation, *, reply_text: str = "",
    reply_errors: Errors | None = None, sent: Message | None = None,
) -> dict[str, Any]:  # fmt: skip
    recent = list(selectors.messages_of(conversation).reverse()[: THREAD_LIMIT + 1])
    clipped = len(recent) > THREAD_LIMIT
    thread = list(reversed(recent[:THREAD_LIMIT]))
    can_reply = services.can_reply(conversation)
    return {
        "conversation": conversation,
        "thread": thread,
        "clipped": clipped,
        "thread_limit": THREAD_LIMIT,
        "can_reply": can_reply,
        "show_reply": can_reply and request.user.can_write,
        "no_reply_reason": "" if can_reply else _no_reply_reason(conversation),
        "reply_text": reply_text,
        "reply_errors": reply_errors or {},
        "sent": sent,
    }


def _page(request: AuthedRequest, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    return {
        **_thread_ctx(request, conversation, **extra),
        "customer_links": _customer_links(request, conversation),
        "owners": [("", _("Nobody"))] + [(str(u.pk), str(u)) for u in users_active().order_by(
            "last_name", "first_name", "id")],
        "page_title": str(conversation),
    }  # fmt: skip


@login_required
def conversation(request: AuthedRequest, pk: int) -> HttpResponse:
    """The thread; opening it marks it read (for everyone who shares it)."""
    conv = load_conversation(request, pk)
    if conv.unread:
        services.mark_read(actor=request.user, conversation=conv)
    return render(request, "inbox/conversation.html", _page(request, conv))


@login_required
@require_POST
def reply(request: AuthedRequest, pk: int) -> HttpResponse:
    conv = load_conversation(request, pk, write=True)
    text = request.POST.get("body_text", "")
    try:
        sent = services.reply(actor=request.user, conversation=conv, body_text=text)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ServiceValidationError as exc:
        errors = _errors(exc)
        if is_htmx(request):
            # htmx swaps only 2xx answers: the error is shown in place with a 200.
            ctx = _thread_ctx(request, conv, reply_text=text, reply_errors=errors)
            return render(request, "inbox/_thread.html", ctx)
        ctx = _page(request, conv, reply_text=text, reply_errors=errors)
        return render(request, "inbox/conversation.html", ctx, status=400)
    if is_htmx(request):
        return render(request, "inbox/_thread.html", _thread_ctx(request, conv, sent=sent))
    flash.success(request, _("Reply queued; it will be sent in a moment."))
    return redirect(conv.get_absolute_url() + f"#message-{sent.pk}")


def _load_message(request: AuthedRequest, pk: int) -> Message:
    try:
        return selectors.get_message_for_user(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


@login_required
def message(request: AuthedRequest, pk: int) -> HttpResponse:
    """One message as the thread draws it: a queued reply polls this until it is final."""
    m = _load_message(request, pk)
    loaded = selectors.messages_of(m.conversation).filter(pk=m.pk).first()
    ctx = {"m": loaded, "conversation": m.conversation}
    return render(request, "inbox/_message.html", ctx)


@login_required
@require_POST
def message_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    m = _load_message(request, pk)
    if not request.user.can_write:
        raise PermissionDenied(_("your role is read-only"))
    try:
        services.retry(actor=request.user, message=m)
    except ServiceValidationError as exc:
        if not is_htmx(request):
            flash.error(request, exc.errors[0].message)
    else:
        if not is_htmx(request):
            flash.success(request, _("The reply is queued again."))
    if is_htmx(request):
        loaded = selectors.messages_of(m.conversation).filter(pk=m.pk).first()
        return render(request, "inbox/_message.html", {"m": loaded, "conversation": m.conversation})
    return redirect(m.conversation.get_absolute_url() + f"#message-{m.pk}")


@login_required
@require_POST
def assign(request: AuthedRequest, pk: int) -> HttpResponse:
    conv = load_conversation(request, pk, write=True)
    raw = request.POST.get("owner_id", "").strip()
    owner_id = int(raw) if raw.isdigit() else None
    if raw and owner_id is None:
        flash.error(request, _("Choose a manager from the list."))
        return redirect(conv.get_absolute_url())
    try:
        services.assign(actor=request.user, conversation=conv, owner_id=owner_id)
    except ServiceValidationError as exc:
        flash.error(request, exc.errors[0].message)
        return redirect(conv.get_absolute_url())
    flash.success(request, _("Manager changed."))
    if not selectors.conversations_visible_to(request.user).filter(pk=conv.pk).exists():
        return redirect("inbox:list")  # handed to someone whose threads the user cannot see
    return redirect(conv.get_absolute_url())


@login_required
@require_POST
def mark_unread(request: AuthedRequest, pk: int) -> HttpResponse:
    """Back to the list: opening the thread again would mark it read."""
    conv = load_conversation(request, pk)
    services.mark_read(actor=request.user, conversation=conv, read=False)
    flash.success(request, _("Marked as unread."))
    return redirect("inbox:list")


@login_required
@require_POST
def set_closed(request: AuthedRequest, pk: int) -> HttpResponse:
    conv = load_conversation(request, pk, write=True)
    closed = request.POST.get("closed") == "1"
    services.set_closed(actor=request.user, conversation=conv, closed=closed)
    if closed:
        flash.success(request, _("Conversation closed. A new message opens it again."))
        return redirect("inbox:list")
    flash.success(request, _("Conversation reopened."))
    return redirect(conv.get_absolute_url())


@login_required
def attachment(request: AuthedRequest, pk: int) -> FileResponse:
    """A file of a message, served only to whoever may see the conversation; never from a
    public media URL. Always a download, so a hostile HTML file cannot run on our origin."""
    try:
        att = selectors.get_attachment_for_user(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    try:
        handle = att.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("the file is missing")) from exc
    response = FileResponse(
        handle, as_attachment=True, filename=att.name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the contact card's panel and the nav badge --------------------------------------------------


@login_required
def contact_panel(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        contact: Contact = get_contact_for_user(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    rows = selectors.conversations_of_contact(request.user, contact.pk)
    ctx = {"contact": contact, "rows": rows, "panel_id": f"conversations-contact-{contact.pk}"}
    return render(request, "inbox/_contact_panel.html", ctx)


@login_required
def unread_badge(request: AuthedRequest) -> HttpResponse:
    """The nav item's count, re-read by htmx every minute."""
    return render(
        request, "inbox/_unread_badge.html", {"count": selectors.unread_count(request.user)}
    )


urlpatterns = [
    path("", inbox, name="list"),
    path("unread/", unread_badge, name="unread_badge"),
    path("<int:pk>/", conversation, name="conversation"),
    path("<int:pk>/reply/", reply, name="reply"),
    path("<int:pk>/assign/", assign, name="assign"),
    path("<int:pk>/unread/", mark_unread, name="mark_unread"),
    path("<int:pk>/closed/", set_closed, name="set_closed"),
    path("messages/<int:pk>/", message, name="message"),
    path("messages/<int:pk>/retry/", message_retry, name="message_retry"),
    path("attachments/<int:pk>/", attachment, name="attachment"),
    path("contact/<int:pk>/", contact_panel, name="contact_panel"),
]
