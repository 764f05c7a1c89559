"""Leads: list, card (status, owner, notes), create, edit and the one-step conversion into a
contact, a company and a deal.

Reads go through the sales selectors (a lead the user may not see is 404), writes through
the lead services; a ServiceValidationError becomes a message next to its input."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import linebreaks
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.core import services as core_services
from voronka.core.custom_fields import definitions
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import Page
from voronka.customers.display import custom_html, email_link, phone_link
from voronka.customers.forms import FormState, map_errors
from voronka.customers.selectors import companies_visible_to, contacts_visible_to
from voronka.customers.views import AuthedRequest, is_htmx
from voronka.sales import forms, selectors
from voronka.sales.models import Currency, Lead, LeadStatus
from voronka.sales.services import lead_convert, lead_create, lead_update
from voronka.sales.services.leads import LEAD_ENTITY, find_company, find_contact

# Inputs of the conversion form, and where a deal service's field lands among them.
CONVERT_FIELDS = {"title": "deal_title", "amount": "amount", "currency": "currency",
                  "pipeline_id": "pipeline_id", "stage_id": "pipeline_id"}  # fmt: skip


def load_lead(request: AuthedRequest, pk: int, *, write: bool = False) -> Lead:
    """The lead if this user may see it (404 otherwise) and, with ``write``, change it."""
    try:
        return selectors.get_lead_for_user(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def _require_writer(request: AuthedRequest) -> None:
    if not request.user.can_write:
        raise PermissionDenied(_("your role is read-only"))


# --- list ---------------------------------------------------------------------------------------


def _filters(request: AuthedRequest, errors: dict[str, list[str]]) -> list[forms.Input]:
    params = request.GET
    statuses = [("", _("Any")), *LeadStatus.choices]
    owners = [("", _("Anyone")), ("me", _("Me")), *forms.owner_options()[1:]]
    spec = [
        ("status", _("Status"), "select", statuses),
        ("owner", _("Owner"), "select", owners),
        ("source", _("Source"), "text", []),
    ]
    return [
        forms.Input(
            name=name,
            label=label,
            widget=widget,
            value=params.get(name, ""),
            options=options,
            errors=errors.get(name, []),
        )
        for name, label, widget, options in spec
    ]


def _decorate(lead: Lead) -> Lead:
    """Attach what the templates show: the status badge and the phone/e-mail as links."""
    lead.badge = forms.STATUS_BADGES.get(lead.status, "")  # type: ignore[attr-defined]
    lead.phone_html = phone_link(lead.phone) if lead.phone else ""  # type: ignore[attr-defined]
    lead.email_html = email_link(lead.email) if lead.email else ""  # type: ignore[attr-defined]
    return lead


@login_required
def lead_list(request: AuthedRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    try:
        page = selectors.lead_list(request.user, request.GET)
    except ServiceValidationError as exc:
        errors = map_errors(exc, {})
        page = Page(items=[], next_cursor=None)
    list_path = reverse("sales:leads")
    next_url = ""
    if page.next_cursor:
        next_url = list_path + "?" + forms.query_with(request.GET, cursor=page.next_cursor)
    filters = _filters(request, errors)
    active = sum(1 for f in filters if f.value)
    for lead in page.items:
        _decorate(lead)
    ctx: dict[str, Any] = {
        "leads": page.items,
        "next_url": next_url,
        "errors": errors,
        "error_list": [f"{name}: {m}" for name, ms in errors.items() for m in ms],
        "filtered": bool(active or request.GET.get("q")),
        "list_path": list_path,
        "filters": filters,
        "active_filters": active,
        "q": request.GET.get("q", ""),
        "page_title": _("Leads"),
    }
    target = request.headers.get("HX-Target", "")
    if is_htmx(request) and target == "more-row":
        return render(request, "sales/leads/_rows.html", ctx)
    if is_htmx(request) and target == "list-results":
        return render(request, "sales/leads/_results.html", {**ctx, "fragment": True})
    return render(request, "sales/leads/list.html", ctx)


# --- create and edit ------------------------------------------------------------------------------


def _form_page(
    request: AuthedRequest, state: FormState, *, lead: Lead | None, status: int
) -> HttpResponse:
    fields = definitions(LEAD_ENTITY)
    names = [*forms.LEAD_NAMES, "custom"]
    ctx = {
        "lead": lead,
        "groups": forms.lead_form_groups(state, fields),
        "form_errors": state.unplaced_errors(names),
        "has_errors": bool(state.errors),
        "page_title": str(lead) if lead else _("New lead"),
    }
    return render(request, "sales/leads/form.html", ctx, status=status)


@login_required
def lead_new(request: AuthedRequest) -> HttpResponse:
    _require_writer(request)
    fields = definitions(LEAD_ENTITY)
    if request.method != "POST":
        return _form_page(request, FormState(), lead=None, status=200)
    data, state = forms.lead_data_from_post(request.POST, fields)
    try:
        lead = lead_create(actor=request.user, data=data, channel=Channel.UI)
    except ServiceValidationError as exc:
        state.fail(exc)
        return _form_page(request, state, lead=None, status=400)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Lead “%(name)s” created.") % {"name": str(lead)})
    return redirect(lead.get_absolute_url())


@login_required
def lead_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = load_lead(request, pk, write=True)
    fields = definitions(LEAD_ENTITY)
    if lead.converted_at is not None:
        messages.info(request, _("A converted lead can no longer be edited."))
        return redirect(lead.get_absolute_url())
    if request.method != "POST":
        state = FormState(values=forms.lead_initial(lead, fields))
        return _form_page(request, state, lead=lead, status=200)
    data, state = forms.lead_data_from_post(request.POST, fields)
    try:
        lead = lead_update(actor=request.user, lead=lead, changes=data, channel=Channel.UI)
    except ServiceValidationError as exc:
        state.fail(exc)
        return _form_page(request, state, lead=lead, status=400)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Saved."))
    return redirect(lead.get_absolute_url())


# --- card -----------------------------------------------------------------------------------------


def _converted(lead: Lead, user: Any) -> dict[str, Any]:
    """What the lead became, linked where the user may open it."""
    out: dict[str, Any] = {}
    if lead.converted_contact_id:
        visible = contacts_visible_to(user).filter(pk=lead.converted_contact_id).exists()
        out["contact"] = (lead.converted_contact, visible)
    if lead.converted_company_id:
        visible = companies_visible_to(user).filter(pk=lead.converted_company_id).exists()
        out["company"] = (lead.converted_company, visible)
    if lead.converted_deal_id:
        visible = selectors.deals_visible_to(user).filter(pk=lead.converted_deal_id).exists()
        out["deal"] = (lead.converted_deal, visible)
    return out


def _convert_ctx(
    lead: Lead, user: Any, values: dict[str, Any] | None = None, errors: Any = None
) -> dict[str, Any]:
    base = Currency.objects.filter(is_base=True).first()
    defaults = {
        "create_deal": True,
        "deal_title": lead.company_name or str(lead),
        "amount": "",
        "currency": base.code if base else "",
        "pipeline_id": "",
    }
    contact = find_contact(lead.email, lead.phone)
    company = find_company(lead.inn, lead.company_name)
    return {
        "values": {**defaults, **(values or {})},
        "errors": errors or {},
        "pipelines": [(str(p.pk), p.name) for p in selectors.pipelines()],
        "currencies": forms.currency_options(),
        "match_contact": contact
        if contact and contacts_visible_to(user).filter(pk=contact.pk).exists()
        else None,
        "match_company": company
        if company and companies_visible_to(user).filter(pk=company.pk).exists()
        else None,
        "url": reverse("sales:lead_convert", args=[lead.pk]),
    }


def _card(request: AuthedRequest, lead: Lead, *, status: int = 200, **extra: Any) -> HttpResponse:
    fields = definitions(LEAD_ENTITY)
    custom = lead.custom or {}
    ctx: dict[str, Any] = {
        "lead": _decorate(lead),
        "page_title": str(lead),
        "statuses": LeadStatus.choices,
        "owners": forms.owner_options(),
        "custom_rows": [(cf.label, custom_html(cf, custom.get(cf.key))) for cf in fields],
        "utm": [
            (name, getattr(lead, name))
            for name in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
            if getattr(lead, name)
        ],
        "converted": _converted(lead, request.user),
        "can_convert": request.user.can_write
        and lead.converted_at is None
        and lead.status != LeadStatus.JUNK,
        "convert": _convert_ctx(lead, request.user),
        "status_errors": {},
        "owner_errors": {},
        **_timeline_ctx(request, lead),
    }
    ctx.update(extra)
    return render(request, "sales/leads/card.html", ctx, status=status)


def _timeline_ctx(request: AuthedRequest, lead: Lead) -> dict[str, Any]:
    return {
        "entries": forms.timeline_entries(lead, request.user, definitions(LEAD_ENTITY)),
        "note_url": reverse("sales:lead_note", args=[lead.pk]),
    }


@login_required
def lead_card(request: AuthedRequest, pk: int) -> HttpResponse:
    return _card(request, load_lead(request, pk))


@login_required
@require_POST
def lead_status(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change the status; junk needs a reason, which is kept on the lead."""
    lead = load_lead(request, pk, write=True)
    status = request.POST.get("status", "").strip()
    changes: dict[str, Any] = {"status": status}
    if status == LeadStatus.JUNK or "junk_reason" in request.POST:
        changes["junk_reason"] = request.POST.get("junk_reason", "").strip()
    try:
        lead_update(actor=request.user, lead=lead, changes=changes, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _card(
            request,
            load_lead(request, pk),
            status=400,
            status_errors=map_errors(exc, {}),
            status_typed=changes,
        )
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Status changed."))
    return redirect(lead.get_absolute_url())


@login_required
@require_POST
def lead_owner(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = load_lead(request, pk, write=True)
    owner = request.POST.get("owner_id", "").strip() or None
    try:
        lead_update(actor=request.user, lead=lead, changes={"owner_id": owner}, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _card(request, lead, status=400, owner_errors=map_errors(exc, {}))
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Owner changed."))
    if not selectors.leads_visible_to(request.user).filter(pk=lead.pk).exists():
        return redirect("sales:leads")  # handed to someone the user cannot follow
    return redirect(lead.get_absolute_url())


@login_required
@require_POST
def lead_note(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = load_lead(request, pk, write=True)
    text = request.POST.get("body", "")
    note_error = ""
    try:
        # The form is plain text: escape it and keep its line breaks; the service sanitizes.
        core_services.note_create(
            record=lead,
            body=linebreaks(text, autoescape=True) if text.strip() else "",
            actor=request.user,
            channel=Channel.UI,
        )
    except ServiceValidationError as exc:
        note_error = exc.errors[0].message
    if is_htmx(request):
        ctx = _timeline_ctx(request, lead)
        ctx.update({"note_error": note_error, "note_text": text if note_error else ""})
        return render(request, "customers/_timeline.html", ctx)
    if note_error:
        messages.error(request, _("The note was not added: %(why)s") % {"why": note_error})
    return redirect(lead.get_absolute_url() + "#timeline")


# --- conversion -----------------------------------------------------------------------------------


def _convert_input(post: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    values = {
        "create_deal": post.get("create_deal") in ("on", "true", "1"),
        "deal_title": post.get("deal_title", "").strip(),
        "amount": post.get("amount", "").strip(),
        "currency": post.get("currency", "").strip().upper(),
        "pipeline_id": post.get("pipeline_id", "").strip(),
    }
    errors: dict[str, list[str]] = {}
    if values["create_deal"] and values["pipeline_id"] and not values["pipeline_id"].isdigit():
        errors["pipeline_id"] = [_("no such pipeline")]
    if (
        values["create_deal"]
        and values["currency"]
        and not Currency.objects.filter(code=values["currency"]).exists()
    ):
        errors["currency"] = [_("unknown currency")]
    return values, errors


def _convert(request: AuthedRequest, lead: Lead, values: dict[str, Any]) -> Lead:
    return lead_convert(
        actor=request.user,
        lead=lead,
        create_deal=values["create_deal"],
        deal_title=values["deal_title"],
        pipeline_id=int(values["pipeline_id"]) if values["pipeline_id"] else None,
        amount=values["amount"] or None,
        currency=values["currency"] or None,
        channel=Channel.UI,
    )


def _after_convert(request: AuthedRequest, lead: Lead) -> str:
    """Where to go next: the deal, else the contact, else the company, else the lead."""
    user = request.user
    if lead.converted_deal_id and (
        selectors.deals_visible_to(user).filter(pk=lead.converted_deal_id).exists()
    ):
        return reverse("sales:deal", args=[lead.converted_deal_id])
    if lead.converted_contact_id and (
        contacts_visible_to(user).filter(pk=lead.converted_contact_id).exists()
    ):
        return reverse("customers:contact", args=[lead.converted_contact_id])
    if lead.converted_company_id and (
        companies_visible_to(user).filter(pk=lead.converted_company_id).exists()
    ):
        return reverse("customers:company", args=[lead.converted_company_id])
    return lead.get_absolute_url()


@login_required
def lead_convert_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """GET: the conversion form as a page (the card opens the same form in a dialog).
    POST: convert and go to what the lead became."""
    lead = load_lead(request, pk, write=True)
    if request.method != "POST":
        ctx = {"lead": lead, "convert": _convert_ctx(lead, request.user), "page_title": str(lead)}
        return render(request, "sales/leads/convert.html", ctx)
    values, errors = _convert_input(request.POST)
    if not errors:
        try:
            lead = _convert(request, lead, values)
        except ServiceValidationError as exc:
            for err in exc.errors:
                errors.setdefault(CONVERT_FIELDS.get(err.field, "general"), []).append(err.message)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("Lead converted."))
            return redirect(_after_convert(request, lead))
    lead = load_lead(request, pk)
    ctx = {
        "lead": lead,
        "convert": _convert_ctx(lead, request.user, values, errors),
        "page_title": str(lead),
    }
    return render(request, "sales/leads/convert.html", ctx, status=400)


urlpatterns: list = [
    path("leads/", lead_list, name="leads"),
    path("leads/new/", lead_new, name="lead_new"),
    path("leads/<int:pk>/", lead_card, name="lead"),
    path("leads/<int:pk>/edit/", lead_edit, name="lead_edit"),
    path("leads/<int:pk>/status/", lead_status, name="lead_status"),
    path("leads/<int:pk>/owner/", lead_owner, name="lead_owner"),
    path("leads/<int:pk>/notes/", lead_note, name="lead_note"),
    path("leads/<int:pk>/convert/", lead_convert_view, name="lead_convert"),
]
