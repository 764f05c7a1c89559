"""Messaging pages: the message log, templates (administrators), the contact card's messages
panel with its compose form, and the public unsubscribe page.

Forms are plain POSTs that also work through htmx; bad input re-renders the form with the
error next to the field (400 for htmx). Writes go through ``voronka.messaging.services``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.customers.selectors import contacts_visible_to, get_contact_for_user
from voronka.messaging import selectors, services
from voronka.messaging.models import (
    MessageChannel,
    MessageStatus,
    MessageTemplate,
    OutgoingMessage,
    Unsubscribe,
)

View = Callable[..., HttpResponse]
Errors = dict[str, list[str]]
PAGE_SIZE = 50
TEMPLATE_INPUTS = ["key", "name", "channel", "subject_ru", "body_ru", "subject_en", "body_en"]


def _errors(exc: ServiceValidationError) -> Errors:
    found: Errors = {}
    for e in exc.errors:
        found.setdefault(e.field, []).append(e.message)
    return found


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def admin_only(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_admin:  # type: ignore[union-attr]
            raise PermissionDenied(_("only an administrator may change message templates"))
        try:
            return view(request, *args, **kwargs)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc

    return wrapped


def _404(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except NotFound as exc:
        raise Http404(str(exc)) from exc


# --- message log -----------------------------------------------------------------------------


@login_required
def message_log(request: HttpRequest) -> HttpResponse:
    """Every message the user may see, newest first, filtered by status and channel."""
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    status = status if status in MessageStatus.values else ""
    channel = channel if channel in MessageChannel.values else ""
    qs = selectors.message_list(request.user, status=status, channel=channel)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    ctx = {
        "page": page, "status": status, "channel": channel,
        "statuses": MessageStatus.choices, "channels": MessageChannel.choices,
        "section": "log",
    }  # fmt: skip
    return render(request, "messaging/log.html", ctx)


@login_required
@require_POST
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = _404(lambda: selectors.get_message_for_user(request.user, pk))
    try:
        services.message_retry(actor=request.user, message=message)
        flash.success(request, _("The message is queued again."))
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ServiceValidationError as exc:
        flash.error(request, exc.errors[0].message)
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/messaging/") else reverse("messaging:log"))


# --- templates -------------------------------------------------------------------------------


@admin_only
def template_list(request: HttpRequest) -> HttpResponse:
    ctx = {"templates": selectors.templates_all(), "section": "templates"}
    return render(request, "messaging/templates.html", ctx)


def _preview_contacts(request: HttpRequest, chosen: Any) -> list[Any]:
    recent = list(contacts_visible_to(request.user).order_by("-updated_at", "-id")[:30])
    if chosen is not None and chosen not in recent:
        recent.insert(0, chosen)
    return recent


def _chosen_contact(request: HttpRequest) -> Any:
    raw = request.POST.get("preview_contact") or request.GET.get("contact") or ""
    if not raw:
        return None
    try:
        return get_contact_for_user(request.user, raw)
    except NotFound:
        return None


def _template_form(
    request: HttpRequest, template: MessageTemplate | None, *, values: dict[str, Any] | None = None,
    errors: Errors | None = None, status: int = 200,
) -> HttpResponse:  # fmt: skip
    if values is None:
        values = {f: getattr(template, f) if template else "" for f in TEMPLATE_INPUTS}
        values["is_html"] = template.is_html if template else False
        values["channel"] = values["channel"] or MessageChannel.EMAIL
    contact = _chosen_contact(request)
    preview = None
    if not errors:
        draft = MessageTemplate(**{k: values.get(k) or "" for k in TEMPLATE_INPUTS})
        draft.is_html = bool(values.get("is_html"))
        preview = services.template_preview(template=draft, contact=contact)
    ctx = {
        "template_obj": template, "values": values, "errors": errors or {},
        "channels": MessageChannel.choices, "preview": preview, "preview_contact": contact,
        "contacts": _preview_contacts(request, contact), "section": "templates",
    }  # fmt: skip
    return render(request, "messaging/template_form.html", ctx, status=status)


def _posted_template(request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {f: request.POST.get(f, "") for f in TEMPLATE_INPUTS}
    data["is_html"] = request.POST.get("is_html") == "on"
    return data


def _save_template(request: HttpRequest, template: MessageTemplate | None) -> HttpResponse:
    data = _posted_template(request)
    if request.POST.get("action") == "preview":
        problems: Errors = {}
        from voronka.messaging import rendering

        for name in ("subject_ru", "body_ru", "subject_en", "body_en"):
            if problem := rendering.check(data[name]):
                problems[name] = [_("template error: %(error)s") % {"error": problem}]
        return _template_form(request, template, values=data, errors=problems,
                              status=400 if problems else 200)  # fmt: skip
    try:
        if template is None:
            template = services.template_create(actor=request.user, data=data)
        else:
            services.template_update(actor=request.user, template=template, changes=data)
    except ServiceValidationError as exc:
        return _template_form(request, template, values=data, errors=_errors(exc), status=400)
    flash.success(request, _("Template saved."))
    return redirect("messaging:template_edit", pk=template.pk)


@admin_only
def template_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_template(request, None)
    return _template_form(request, None)


@admin_only
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = _404(lambda: selectors.get_template(pk))
    if request.method == "POST":
        return _save_template(request, template)
    return _template_form(request, template)


@admin_only
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = _404(lambda: selectors.get_template(pk))
    services.template_delete(actor=request.user, template=template)
    flash.success(request, _("Template deleted."))
    return redirect("messaging:templates")


# --- the contact card's panel --------------------------------------------------------------


def _panel(
    request: HttpRequest, contact: Any, *, values: dict[str, str] | None = None,
    errors: Errors | None = None, status: int = 200, sent: OutgoingMessage | None = None,
) -> HttpResponse:  # fmt: skip
    rows = list(
        selectors.message_list(request.user, contact_id=contact.pk).select_related(None)[:20]
    )
    ctx = {
        "contact": contact, "rows": rows, "values": values or {"channel": "email"},
        "errors": errors or {}, "sent": sent,
        "email_templates": selectors.templates_all(MessageChannel.EMAIL),
        "sms_templates": selectors.templates_all(MessageChannel.SMS),
        "emails": [e.email for e in contact.emails.all()],
        "phones": [p.phone for p in contact.phones.all()],
        "panel_id": f"messages-contact-{contact.pk}",
        "panel_url": reverse("messaging:contact_messages", args=[contact.pk]),
    }  # fmt: skip
    return render(request, "messaging/_contact_panel.html", ctx, status=status)


def _send_from_panel(request: HttpRequest, contact: Any) -> HttpResponse:
    names = ("channel", "template", "subject", "body", "to")
    values = {k: request.POST.get(k, "").strip() for k in names}
    values["marketing"] = "on" if request.POST.get("marketing") == "on" else ""
    common: dict[str, Any] = {
        "actor": request.user, "to_contact": contact, "template": values["template"] or None,
        "marketing": bool(values["marketing"]),
    }  # fmt: skip
    try:
        if values["channel"] == MessageChannel.SMS:
            if not values["to"] and not contact.phones.exists():
                raise ServiceValidationError.single("to", _("this contact has no phone"))
            sent = services.send_sms(**common, to_phone=values["to"], text=values["body"])
        else:
            if not values["to"] and not contact.emails.exists():
                raise ServiceValidationError.single("to", _("this contact has no e-mail"))
            sent = services.send_email(**common, to_address=values["to"],
                                       subject=values["subject"], body=values["body"])  # fmt: skip
    except ServiceValidationError as exc:
        found = _errors(exc)
        for src, dst in (("to_address", "to"), ("to_phone", "to"), ("text", "body")):
            if src in found:
                found.setdefault(dst, []).extend(found.pop(src))
        return _panel(request, contact, values=values, errors=found, status=400)
    response = _panel(request, contact, sent=sent)
    response["HX-Trigger"] = "timeline-changed"
    return response


@login_required
def contact_messages(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the contact's messages and a compose form; POST: queue an e-mail or SMS."""
    write = request.method == "POST"
    try:
        contact = get_contact_for_user(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if not write:
        return _panel(request, contact)
    response = _send_from_panel(request, contact)
    if not _is_htmx(request) and response.status_code == 200:
        flash.success(request, _("Message queued."))
        return redirect(contact.get_absolute_url())
    return response


# --- public unsubscribe --------------------------------------------------------------------


@csrf_exempt  # the secret token is the credential; mail clients POST here (RFC 8058 one-click)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm; POST withdraws the contact's marketing consent. No login."""
    row = Unsubscribe.objects.filter(token=token).first()
    if row is None:
        return render(request, "messaging/unsubscribe.html", {"state": "unknown"}, status=404)
    if request.method == "POST":
        services.unsubscribe(token=token)
        return render(request, "messaging/unsubscribe.html", {"state": "done"})
    state = "done" if row.unsubscribed_at else "confirm"
    return render(request, "messaging/unsubscribe.html", {"state": state, "token": token})


urlpatterns = [
    path("", message_log, name="log"),
    path("messages/<int:pk>/retry/", message_retry, name="message_retry"),
    path("templates/", template_list, name="templates"),
    path("templates/new/", template_new, name="template_new"),
    path("templates/<int:pk>/", template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", template_delete, name="template_delete"),
    path("contact/<int:pk>/", contact_messages, name="contact_messages"),
    path("u/<str:token>/", unsubscribe, name="unsubscribe"),
]
