"""Telephony pages: the administrator's integrations, extensions and tracking numbers; the
call log for everyone (what each user may see); the pop-up fragment the browser polls.

Forms are plain POSTs; bad input re-renders the form with the message next to the field. A
secret typed or made here is never shown again after the answer that made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from voronka.core import access
from voronka.core.errors import NotFound, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import SortKey, keyset_page
from voronka.customers.forms import FieldView, map_errors
from voronka.telephony import selectors, services
from voronka.telephony.adapters import GENERIC_SIGNATURE_HEADER
from voronka.telephony.models import (
    CallDirection,
    CallStatus,
    Extension,
    PbxIntegration,
    Provider,
    TrackingNumber,
)

View = Callable[..., HttpResponse]
Errors = dict[str, list[str]]
PAGE_SIZE = 50
# htmx stops polling on this status: a signed-out tab asks no more.
STOP_POLLING = 286


admin_only = access.admin_only(_lazy("only an administrator may manage telephony"))


def _no_store(response: HttpResponse) -> HttpResponse:
    """A page holding a fresh secret must not be kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def _user_options() -> list[tuple[str, Any]]:
    users = get_user_model().objects.filter(is_active=True).order_by("first_name", "username")
    return [("", "—"), *((str(u.pk), u.get_full_name() or u.username) for u in users)]


def hook_url(request: HttpRequest, integration: PbxIntegration) -> str:
    """The address to paste into the PBX. Mango appends "/events/call" and the like to the
    address it is given, so Mango's is shown without the trailing slash."""
    url = request.build_absolute_uri(reverse("telephony:hook", args=[integration.token]))
    return url.rstrip("/") if integration.provider == Provider.MANGO else url


# --- integrations ---------------------------------------------------------------------------------


KEY_HELP = {
    "": _lazy(
        "Mango Office: the “API key” (vpbx_api_key). Not needed for Zadarma and the generic format."
    ),
    Provider.MANGO: _lazy("The “API key” (vpbx_api_key) from Mango Office."),
    Provider.ZADARMA: _lazy("Not needed for notifications."),
    Provider.GENERIC: _lazy("Not used by the generic format."),
}
SECRET_HELP = {
    "": _lazy("Mango Office: the “Signature key” (salt). Zadarma: the Secret of your API keys. "
              "Generic format: leave empty and Voronka makes one."),
    Provider.MANGO: _lazy("The “Signature key” (salt) from Mango Office."),
    Provider.ZADARMA: _lazy("The Secret of your Zadarma API keys: it signs every notification."),
    Provider.GENERIC: _lazy("The key of the X-Voronka-Signature HMAC; “New secret” makes another."),
}  # fmt: skip


def _stored(hint: str) -> str:
    return _("Stored: …%(hint)s. Leave empty to keep it.") % {"hint": hint} + " " if hint else ""


def _integration_inputs(
    values: dict[str, Any], errors: Errors, *, provider: str = ""
) -> list[FieldView]:
    """The settings form; ``provider`` is empty on the form that adds an integration."""
    inputs = [
        FieldView("name", _("Name"), "text", values.get("name", ""), required=True,
                  errors=errors.get("name", []), help=_("E.g. Mango Office, main office")),
    ]  # fmt: skip
    if not provider:
        inputs.append(
            FieldView("provider", _("Provider"), "select", values.get("provider", Provider.MANGO),
                      required=True, options=list(Provider.choices),
                      errors=errors.get("provider", []))
        )  # fmt: skip
    inputs += [
        FieldView("api_key", _("API key"), "text", "", errors=errors.get("api_key", []),
                  help=_stored(values.get("api_key_hint", "")) + str(KEY_HELP[provider])),
        FieldView("secret", _("Secret"), "text", "", errors=errors.get("secret", []),
                  help=_stored(values.get("secret_hint", "")) + str(SECRET_HELP[provider])),
        FieldView("default_owner_id", _("Default manager"), "select",
                  str(values.get("default_owner_id") or ""), options=_user_options(),
                  errors=errors.get("default_owner_id", []),
                  help=_("Gets calls that no extension, contact owner or tracking number decides.")),
    ]  # fmt: skip
    if provider:
        inputs.append(
            FieldView("active", _("Active: accepts events"), "checkbox", bool(values.get("active")))
        )
    return inputs


def _posted_integration(request: HttpRequest, *, new: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": request.POST.get("name", ""),
        "api_key": request.POST.get("api_key", "").strip(),
        "secret": request.POST.get("secret", "").strip(),
        "default_owner_id": request.POST.get("default_owner_id") or None,
    }
    if new:
        values["provider"] = request.POST.get("provider", "")
    else:
        values["active"] = request.POST.get("active") == "on"
        if not values["api_key"]:
            del values["api_key"]  # empty keeps the stored key
    return values


def _integrations_page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    values = extra.pop("values", {})
    errors = extra.pop("errors", {})
    rows = [(i, hook_url(request, i)) for i in selectors.integrations()]
    ctx = {
        "rows": rows,
        "inputs": _integration_inputs(values, errors),
        "section": "integrations",
        "page_title": _("Telephony"),
        **extra,
    }
    return render(request, "telephony/integrations.html", ctx, status=status)


@admin_only
def integrations(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _integrations_page(request)
    values = _posted_integration(request, new=True)
    try:
        integration, secret = services.integration_create(actor=request.user, data=values)
    except ServiceValidationError as exc:
        values.pop("secret", None)
        return _integrations_page(request, status=400, values=values, errors=map_errors(exc, {}))
    if secret:
        return _no_store(_integration_page(request, integration, secret=secret, created=True))
    messages.success(request, _("Integration “%(name)s” added.") % {"name": integration.name})
    return redirect(integration.get_absolute_url())


def _integration_page(
    request: HttpRequest,
    integration: PbxIntegration,
    *,
    status: int = 200,
    secret: str = "",
    created: bool = False,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    ext_values: dict[str, Any] | None = None,
    ext_errors: Errors | None = None,
) -> HttpResponse:
    if values is None:
        values = {"name": integration.name, "default_owner_id": integration.default_owner_id,
                  "active": integration.active}  # fmt: skip
    values["secret_hint"] = integration.secret_hint
    values["api_key_hint"] = integration.api_key[-4:] if integration.api_key else ""
    ext_values = ext_values or {}
    ext_errors = ext_errors or {}
    ext_inputs = [
        FieldView("extension", _("Extension"), "text", ext_values.get("extension", ""),
                  required=True, errors=ext_errors.get("extension", []),
                  help=_("The internal number in the PBX, e.g. 101")),
        FieldView("user_id", _("User"), "select", str(ext_values.get("user_id") or ""),
                  required=True, options=_user_options(), errors=ext_errors.get("user_id", [])),
    ]  # fmt: skip
    ctx = {
        "integration": integration,
        "inputs": _integration_inputs(values, errors or {}, provider=integration.provider),
        "ext_inputs": ext_inputs,
        "extensions": Extension.objects.filter(integration=integration).select_related("user"),
        "url": hook_url(request, integration),
        "secret": secret,
        "created": created,
        "header": GENERIC_SIGNATURE_HEADER,
        "recent": integration.calls.select_related("contact", "lead", "manager")[:10],
        "section": "integrations",
        "page_title": integration.name,
    }
    return render(request, "telephony/integration.html", ctx, status=status)


@admin_only
def integration(request: HttpRequest, pk: int) -> HttpResponse:
    current = selectors.get_integration(pk)
    if request.method != "POST":
        return _integration_page(request, current)
    values = _posted_integration(request, new=False)
    try:
        services.integration_update(actor=request.user, integration=current, changes=values)
    except ServiceValidationError as exc:
        values.pop("secret", None)
        return _integration_page(
            request, current, status=400, values=values, errors=map_errors(exc, {})
        )
    messages.success(request, _("Integration “%(name)s” saved.") % {"name": values["name"]})
    return redirect(current.get_absolute_url())


@admin_only
@require_POST
def integration_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    current = selectors.get_integration(pk)
    current, secret = services.integration_rotate_secret(actor=request.user, integration=current)
    return _no_store(_integration_page(request, current, secret=secret))


@admin_only
@require_POST
def integration_delete(request: HttpRequest, pk: int) -> HttpResponse:
    current = selectors.get_integration(pk)
    name = current.name
    services.integration_delete(actor=request.user, integration=current)
    messages.success(request, _("Integration “%(name)s” deleted.") % {"name": name})
    return redirect("telephony:integrations")


@admin_only
@require_POST
def extension_add(request: HttpRequest, pk: int) -> HttpResponse:
    current = selectors.get_integration(pk)
    values: dict[str, Any] = {"extension": request.POST.get("extension", ""),
                              "user_id": request.POST.get("user_id") or None}  # fmt: skip
    try:
        services.extension_set(actor=request.user, integration=current, **values)
    except ServiceValidationError as exc:
        return _integration_page(request, current, status=400, ext_values=values,
                                 ext_errors=map_errors(exc, {}))  # fmt: skip
    messages.success(request, _("Extension %(ext)s saved.") % {"ext": values["extension"]})
    return redirect(current.get_absolute_url() + "#extensions")


@admin_only
@require_POST
def extension_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = Extension.objects.filter(pk=pk).select_related("integration").first()
    if row is None:
        raise Http404("no such extension")
    services.extension_delete(actor=request.user, extension=row)
    messages.success(request, _("Extension %(ext)s removed.") % {"ext": row.extension})
    return redirect(row.integration.get_absolute_url() + "#extensions")


# --- tracking numbers ---------------------------------------------------------------------------


def _number_inputs(values: dict[str, Any], errors: Errors) -> list[FieldView]:
    return [
        FieldView("number", _("Number"), "tel", values.get("number", ""), required=True,
                  errors=errors.get("number", []), help=_("As published, e.g. +7 495 123-45-67")),
        FieldView("source", _("Source"), "text", values.get("source", ""), required=True,
                  errors=errors.get("source", []),
                  help=_("Written as the lead's source, e.g. Яндекс Директ, Сайт")),
        FieldView("utm_source", "utm_source", "text", values.get("utm_source", ""),
                  errors=errors.get("utm_source", [])),
        FieldView("utm_campaign", "utm_campaign", "text", values.get("utm_campaign", ""),
                  errors=errors.get("utm_campaign", [])),
        FieldView("default_owner_id", _("Default manager"), "select",
                  str(values.get("default_owner_id") or ""), options=_user_options(),
                  errors=errors.get("default_owner_id", []),
                  help=_("Gets new leads from this number when no extension decides.")),
    ]  # fmt: skip


def _posted_number(request: HttpRequest) -> dict[str, Any]:
    return {
        "number": request.POST.get("number", ""),
        "source": request.POST.get("source", ""),
        "utm_source": request.POST.get("utm_source", ""),
        "utm_campaign": request.POST.get("utm_campaign", ""),
        "default_owner_id": request.POST.get("default_owner_id") or None,
    }


@admin_only
def numbers(request: HttpRequest) -> HttpResponse:
    values: dict[str, Any] = {}
    errors: Errors = {}
    status = 200
    if request.method == "POST":
        values = _posted_number(request)
        try:
            number = services.tracking_number_create(actor=request.user, data=values)
        except ServiceValidationError as exc:
            errors, status = map_errors(exc, {}), 400
        else:
            messages.success(request, _("Tracking number %(n)s added.") % {"n": number.number})
            return redirect("telephony:numbers")
    ctx = {
        "numbers": selectors.tracking_numbers(),
        "inputs": _number_inputs(values, errors),
        "section": "numbers",
        "page_title": _("Tracking numbers"),
    }
    return render(request, "telephony/numbers.html", ctx, status=status)


@admin_only
def number_edit(request: HttpRequest, pk: int) -> HttpResponse:
    number: TrackingNumber = selectors.get_tracking_number(pk)
    values: dict[str, Any] = {
        "number": number.number, "source": number.source, "utm_source": number.utm_source,
        "utm_campaign": number.utm_campaign, "default_owner_id": number.default_owner_id,
    }  # fmt: skip
    errors: Errors = {}
    status = 200
    if request.method == "POST":
        values = _posted_number(request)
        try:
            services.tracking_number_update(actor=request.user, number=number, changes=values)
        except ServiceValidationError as exc:
            errors, status = map_errors(exc, {}), 400
        else:
            messages.success(request, _("Tracking number saved."))
            return redirect("telephony:numbers")
    ctx = {
        "number": number,
        "inputs": _number_inputs(values, errors),
        "section": "numbers",
        "page_title": number.number,
    }
    return render(request, "telephony/number_edit.html", ctx, status=status)


@admin_only
@require_POST
def number_delete(request: HttpRequest, pk: int) -> HttpResponse:
    number = selectors.get_tracking_number(pk)
    services.tracking_number_delete(actor=request.user, number=number, channel=Channel.UI)
    messages.success(request, _("Tracking number %(n)s deleted.") % {"n": number.number})
    return redirect("telephony:numbers")


# --- the call log -------------------------------------------------------------------------------


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    """The calls the user may see, newest first, a keyset page at a time."""
    errors: Errors = {}
    try:
        filters = selectors.call_filters(request.GET)
    except ServiceValidationError as exc:
        errors = map_errors(exc, {})
        filters = selectors.CallFilters()
    cursor = request.GET.get("cursor") or None
    try:
        page = keyset_page(
            selectors.call_list(request.user, filters),
            [SortKey("started_at", descending=True), SortKey("id", descending=True)],
            cursor, PAGE_SIZE,
        )  # fmt: skip
    except ServiceValidationError:
        raise Http404("malformed cursor") from None
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {
        "page": page,
        "filters": filters,
        "errors": errors,
        "raw_number": request.GET.get("number", ""),
        "directions": CallDirection.choices,
        "statuses": CallStatus.choices,
        "query": query.urlencode(),
        "section": "calls",
        "page_title": _("Calls"),
    }
    return render(request, "telephony/calls.html", ctx)


@login_required
def call(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.get_call_for_user(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    ctx = {"call": found, "section": "calls", "page_title": _("Call")}
    return render(request, "telephony/call.html", ctx)


# --- the pop-up ---------------------------------------------------------------------------------


@never_cache
def ringing(request: HttpRequest) -> HttpResponse:
    """The pop-up's content, polled every 3 s: one indexed query, no context processors.
    Empty while nothing rings; a signed-out browser is told to stop asking."""
    if not request.user.is_authenticated:
        return HttpResponse(status=STOP_POLLING)
    alerts = services.ringing_for(request.user)
    if not alerts:
        return HttpResponse("")
    return HttpResponse(render_to_string("telephony/_ringing.html", {"alerts": alerts}))


@require_POST
def ringing_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Hide one card (the user's own only) and answer with what still rings."""
    if not request.user.is_authenticated:
        return HttpResponse(status=STOP_POLLING)
    services.ringing_dismiss(user=request.user, alert_id=pk)
    return ringing(request)
