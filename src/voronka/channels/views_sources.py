"""The administrator's pages of lead sources (inbound webhooks): list and add, edit, rotate
the secret, delete. A secret is shown once, in the answer that made it, and never stored."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.channels import selectors
from voronka.channels.links import hook_url
from voronka.channels.models import InboundLead, LeadSource
from voronka.channels.services import (
    lead_source_create,
    lead_source_delete,
    lead_source_rotate_secret,
    lead_source_update,
)
from voronka.channels.views import Errors, admin_only
from voronka.channels.views_public import SECRET_HEADER
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.forms import FieldView, map_errors


def _inputs(values: dict[str, Any], errors: Errors, *, new: bool) -> list[FieldView]:
    inputs = [
        FieldView("name", _("Name"), "text", values.get("name", ""), required=True,
                  errors=errors.get("name", []), help=_("E.g. Tilda landing page, marketplace")),
        FieldView("source", _("Lead source"), "text", values.get("source", ""),
                  errors=errors.get("source", []),
                  help=_("Written on every lead from here; the name when empty.")),
    ]  # fmt: skip
    if not new:
        inputs.append(
            FieldView("active", _("Active: accepts leads"), "checkbox", bool(values.get("active")))
        )
    return inputs


def _no_store(response: HttpResponse) -> HttpResponse:
    """A page holding a fresh secret must not be kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def _list_page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    values = extra.pop("values", {})
    errors = extra.pop("errors", {})
    ctx = {
        "sources": list(selectors.lead_sources()),
        "inputs": _inputs(values, errors, new=True),
        "section": "sources",
        "page_title": _("Lead sources"),
        **extra,
    }
    return render(request, "channels/sources.html", ctx, status=status)


@admin_only
def sources(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _list_page(request)
    values = {"name": request.POST.get("name", ""), "source": request.POST.get("source", "")}
    try:
        source, secret = lead_source_create(actor=request.user, data=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _list_page(request, status=400, values=values, errors=map_errors(exc, {}))
    return _no_store(_edit_page(request, source, secret=secret, created=True))


def _edit_page(
    request: HttpRequest,
    source: LeadSource,
    *,
    status: int = 200,
    secret: str = "",
    created: bool = False,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
) -> HttpResponse:
    if values is None:
        values = {"name": source.name, "source": source.source, "active": source.active}
    received = InboundLead.objects.filter(source=source).select_related("lead")[:20]
    ctx = {
        "source": source,
        "inputs": _inputs(values, errors or {}, new=False),
        "url": hook_url(request, source),
        "secret": secret,
        "secret_url": hook_url(request, source, secret) if secret else "",
        "created": created,
        "header": SECRET_HEADER,
        "received": received,
        "section": "sources",
        "page_title": source.name,
    }
    return render(request, "channels/source_edit.html", ctx, status=status)


@admin_only
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = selectors.get_lead_source(pk)
    if request.method != "POST":
        return _edit_page(request, source)
    values = {
        "name": request.POST.get("name", ""),
        "source": request.POST.get("source", ""),
        "active": request.POST.get("active") == "on",
    }
    try:
        lead_source_update(actor=request.user, source=source, changes=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _edit_page(request, source, status=400, values=values, errors=map_errors(exc, {}))
    messages.success(request, _("Lead source “%(name)s” saved.") % {"name": values["name"]})
    return redirect("channels:source_edit", pk=source.pk)


@admin_only
@require_POST
def source_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    source = selectors.get_lead_source(pk)
    source, secret = lead_source_rotate_secret(actor=request.user, source=source)
    return _no_store(_edit_page(request, source, secret=secret))


@admin_only
@require_POST
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    source = selectors.get_lead_source(pk)
    name = source.name
    lead_source_delete(actor=request.user, source=source, channel=Channel.UI)
    messages.success(request, _("Lead source “%(name)s” deleted.") % {"name": name})
    return redirect("channels:sources")


urlpatterns = [
    path("sources/", sources, name="sources"),
    path("sources/<int:pk>/", source_edit, name="source_edit"),
    path("sources/<int:pk>/rotate/", source_rotate, name="source_rotate"),
    path("sources/<int:pk>/delete/", source_delete, name="source_delete"),
]
