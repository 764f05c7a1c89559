"""Deals: list with totals, card (stage bar, checklist, line items, history, timeline), create,
edit, delete, moves between stages, and the deals panel of contact and company cards.

Reads go through the sales selectors (a deal the user may not see is 404), writes through the
deal services; a refused move or a bad value becomes a message naming the field to fill."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import linebreaks
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.core import services as core_services
from voronka.core.custom_fields import definitions
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.models import Channel, CustomField
from voronka.core.pagination import Page
from voronka.core.panels import panels_for
from voronka.customers import display
from voronka.customers.forms import FormState, map_errors
from voronka.customers.selectors import (
    companies_visible_to,
    contacts_visible_to,
    get_company_for_user,
    get_contact_for_user,
)
from voronka.customers.views import AuthedRequest, is_htmx
from voronka.sales import forms, selectors
from voronka.sales.models import (
    Currency,
    Deal,
    DealStageHistory,
    LostReason,
    Stage,
    StageKind,
)
from voronka.sales.services import deal_create, deal_delete, deal_move, deal_update
from voronka.sales.services.deals import DEAL_ENTITY
from voronka.sales.services.deals import deal_missing_required as missing_required

PANEL_LIMIT = 20
SORTS = {"title": "title", "amount": "amount", "expected_close_date": "expected_close_date",
         "updated_at": "updated_at", "created_at": "created_at"}  # fmt: skip


def load_deal(request: AuthedRequest, pk: int, *, write: bool = False) -> Deal:
    """The deal if this user may see it (404 otherwise) and, with ``write``, change it."""
    try:
        return selectors.get_deal_for_user(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def _field_label(name: str, custom_fields: list[CustomField]) -> str:
    """A required field or an error's field as the person knows it."""
    labels = {
        "amount": _("Amount"),
        "expected_close_date": _("Expected close date"),
        "company": _("Company"),
        "company_id": _("Company"),
        "contacts": _("Contacts"),
        "contact_ids": _("Contacts"),
        "lines": _("Line items"),
        "source": _("Source"),
        "lost_reason_id": _("Lost reason"),
        "title": _("Title"),
        "stage_id": _("Stage"),
        "pipeline_id": _("Pipeline"),
    }
    if name in labels:
        return labels[name]
    key = name.removeprefix("cf.").removeprefix("custom.")
    return next((str(cf.label) for cf in custom_fields if cf.key == key), name)


# --- list ---------------------------------------------------------------------------------------


def _list_filters(request: AuthedRequest, errors: dict[str, list[str]]) -> list[forms.Input]:
    params = request.GET
    pipelines = list(selectors.pipelines())
    stage_options = [("", _("Any"))] + [
        (str(s.pk), f"{p.name} · {s.name}" if len(pipelines) > 1 else s.name)
        for p in pipelines
        for s in p.stages.all()
    ]
    spec: list[tuple[str, Any, str, list[tuple[str, Any]]]] = [
        ("pipeline", _("Pipeline"), "select", [("", _("Any"))] + [(str(p.pk), p.name) for p in pipelines]),
        ("stage", _("Stage"), "select", stage_options),
        ("status", _("Status"), "select", [("", _("Any")), *StageKind.choices]),
        ("owner", _("Owner"), "select", [("", _("Anyone")), ("me", _("Me")), *forms.owner_options()[1:]]),
        ("tag", _("Tag"), "text", []),
        ("created_from", _("Created from"), "date", []),
        ("created_to", _("Created to"), "date", []),
        ("close_from", _("Closing from"), "date", []),
        ("close_to", _("Closing to"), "date", []),
        ("amount_min", _("Amount from"), "number", []),
        ("amount_max", _("Amount to"), "number", []),
    ]  # fmt: skip
    if params.get("company"):
        spec.append(("company", _("Company id"), "text", []))
    return [
        forms.Input(name=n, label=label, widget=w, value=params.get(n, ""), options=o,
                    errors=errors.get(n, []))
        for n, label, w, o in spec
    ]  # fmt: skip


def _totals(user: Any, query: selectors.DealQuery) -> dict[str, Any]:
    """How many deals match the filters and what they add up to, per currency."""
    qs = selectors.deals_visible_to(user)
    for cond in query.conditions:
        qs = qs.filter(cond)
    rows = list(
        qs.order_by()
        .values("currency_id")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("currency_id")
    )
    currencies = forms.currencies_by_code()
    return {
        "count": sum(r["n"] for r in rows),
        "sums": [forms.money_text(r["total"], currencies.get(r["currency_id"])) for r in rows],
    }


def _decorate(deal: Deal, currencies: dict[str, Currency]) -> Deal:
    deal.amount_text = forms.money_text(deal.amount, currencies.get(deal.currency_id))  # type: ignore[attr-defined]
    return deal


def _headers(request: AuthedRequest, sort: str) -> dict[str, dict[str, Any]]:
    out = {}
    for key in SORTS:
        active = sort.lstrip("-") == key
        desc = active and sort.startswith("-")
        new = f"-{key}" if active and not desc else key
        url = "?" + forms.query_with(request.GET, drop=("cursor",), sort=new)
        out[key] = {"active": active, "desc": desc, "url": url}
    return out


@login_required
def deal_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    errors: dict[str, list[str]] = {}
    totals: dict[str, Any] = {"count": 0, "sums": []}
    try:
        query = selectors.parse_deal_query(request.GET, user)
        page = selectors.deal_list(user, query)
        if not request.GET.get("cursor"):
            totals = _totals(user, query)
    except ServiceValidationError as exc:
        errors = map_errors(exc, {})
        page = Page(items=[], next_cursor=None)
    currencies = forms.currencies_by_code()
    for deal in page.items:
        _decorate(deal, currencies)
    list_path = reverse("sales:deals")
    next_url = ""
    if page.next_cursor:
        next_url = list_path + "?" + forms.query_with(request.GET, cursor=page.next_cursor)
    filters = _list_filters(request, errors)
    active = sum(1 for f in filters if f.value)
    ctx: dict[str, Any] = {
        "deals": page.items,
        "next_url": next_url,
        "errors": errors,
        "error_list": [f"{name}: {m}" for name, ms in errors.items() for m in ms],
        "filtered": bool(active or request.GET.get("q")),
        "list_path": list_path,
        "filters": filters,
        "active_filters": active,
        "totals": totals,
        "q": request.GET.get("q", ""),
        "sort": request.GET.get("sort", ""),
        "h": _headers(request, request.GET.get("sort", "") or "-updated_at"),
        "page_title": _("Deals"),
    }
    target = request.headers.get("HX-Target", "")
    if is_htmx(request) and target == "more-row":
        return render(request, "sales/deals/_rows.html", ctx)
    if is_htmx(request) and target == "list-results":
        return render(request, "sales/deals/_results.html", {**ctx, "fragment": True})
    return render(request, "sales/deals/list.html", ctx)


# --- create, edit, delete -----------------------------------------------------------------------


def _form_page(
    request: AuthedRequest, state: FormState, *, deal: Deal | None, status: int
) -> HttpResponse:
    fields = definitions(DEAL_ENTITY)
    names = [*forms.DEAL_NAMES, "custom"]
    ctx = {
        "deal": deal,
        "groups": forms.deal_form_groups(state, request.user, fields, deal=deal),
        "form_errors": state.unplaced_errors(names),
        "has_errors": bool(state.errors),
        "page_title": str(deal) if deal else _("New deal"),
        "cancel_url": _cancel_url(request, deal),
    }
    return render(request, "sales/deals/form.html", ctx, status=status)


def _cancel_url(request: AuthedRequest, deal: Deal | None) -> str:
    """Back to the deal, or to the contact or company card the new deal was started from."""
    if deal is not None:
        return deal.get_absolute_url()
    for param, name in (("contact", "customers:contact"), ("company", "customers:company")):
        if request.GET.get(param, "").isdigit():
            return reverse(name, args=[int(request.GET[param])])
    return reverse("sales:deals")


def _prefill(request: AuthedRequest) -> dict[str, Any]:
    """Values for a new deal opened from a contact or company card (``?contact=``,
    ``?company=``); records the user may not see are ignored."""
    user = request.user
    base = Currency.objects.filter(is_base=True).values_list("code", flat=True).first() or ""
    pipeline = selectors.pipelines().filter(is_default=True).first()
    values: dict[str, Any] = {
        "owner_id": str(user.pk),
        "currency": base,
        "pipeline_id": str(pipeline.pk) if pipeline else "",
        "contact_ids": [],
    }
    contact_id = request.GET.get("contact", "")
    if contact_id.isdigit():
        try:
            contact = get_contact_for_user(user, contact_id)
        except NotFound:
            contact = None
        if contact is not None:
            values["contact_ids"] = [str(contact.pk)]
            visible = contacts_visible_to(user).filter(pk=contact.pk).exists()
            if contact.company_id and visible:
                values["company_id"] = str(contact.company_id)
    company_id = request.GET.get("company", "")
    if company_id.isdigit():
        with contextlib.suppress(NotFound):
            values["company_id"] = str(get_company_for_user(user, company_id).pk)
    return values


@login_required
def deal_new(request: AuthedRequest) -> HttpResponse:
    if not request.user.can_write:
        raise PermissionDenied(_("your role is read-only"))
    fields = definitions(DEAL_ENTITY)
    if request.method != "POST":
        return _form_page(request, FormState(values=_prefill(request)), deal=None, status=200)
    data, state = forms.deal_data_from_post(request.POST, fields, creating=True)
    try:
        deal = deal_create(actor=request.user, data=data, channel=Channel.UI)
    except ServiceValidationError as exc:
        state.fail(exc)
        return _form_page(request, state, deal=None, status=400)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Deal “%(name)s” created.") % {"name": deal.title})
    return redirect(_after_save(request, deal))


def _after_save(request: AuthedRequest, deal: Deal) -> str:
    """The deal's card, or the list when it went to an owner the user cannot follow."""
    if selectors.deals_visible_to(request.user).filter(pk=deal.pk).exists():
        return deal.get_absolute_url()
    return reverse("sales:deals")


@login_required
def deal_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    deal = load_deal(request, pk, write=True)
    fields = definitions(DEAL_ENTITY)
    if request.method != "POST":
        state = FormState(values=forms.deal_initial(deal, fields))
        return _form_page(request, state, deal=deal, status=200)
    data, state = forms.deal_data_from_post(
        request.POST, fields, creating=False, with_amount=not deal.lines.exists()
    )
    try:
        deal = deal_update(actor=request.user, deal=deal, changes=data, channel=Channel.UI)
    except ServiceValidationError as exc:
        state.fail(exc)
        return _form_page(request, state, deal=deal, status=400)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Saved."))
    return redirect(_after_save(request, deal))


@login_required
def deal_delete_view(request: AuthedRequest, pk: int) -> HttpResponse:
    deal = load_deal(request, pk)
    if not request.user.can_delete:
        raise PermissionDenied(_("your role may not delete records"))
    if request.method == "POST":
        title = deal.title
        try:
            deal_delete(actor=request.user, deal=deal, channel=Channel.UI)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        messages.success(request, _("Deal “%(name)s” deleted.") % {"name": title})
        return redirect("sales:deals")
    return render(request, "sales/deals/delete.html", {"deal": deal, "page_title": deal.title})


# --- card ---------------------------------------------------------------------------------------


def _stage_bar(deal: Deal, stages: list[Stage]) -> list[dict[str, Any]]:
    """The pipeline's stages in order, each marked done, current or ahead."""
    current = next((i for i, s in enumerate(stages) if s.pk == deal.stage_id), -1)
    open_deal = deal.stage.kind == StageKind.OPEN
    bar = []
    for i, stage in enumerate(stages):
        if stage.pk == deal.stage_id:
            state = "current"
        elif open_deal and stage.kind == StageKind.OPEN and i < current:
            state = "done"
        elif not open_deal and stage.kind == StageKind.OPEN:
            state = "done" if deal.stage.kind == StageKind.WON else "passed"
        else:
            state = "ahead"
        bar.append({"stage": stage, "state": state, "lost": stage.kind == StageKind.LOST})
    return bar


def _required_hints(
    deal: Deal, stages: list[Stage], fields: list[CustomField]
) -> list[dict[str, Any]]:
    """For each stage ahead that requires fields: which, and which the deal still misses."""
    current = next((s.position for s in stages if s.pk == deal.stage_id), 0)
    hints = []
    for stage in stages:
        if stage.pk == deal.stage_id or not stage.required_fields:
            continue
        if stage.kind == StageKind.OPEN and stage.position < current:
            continue
        missing = {m.removeprefix("custom.") for m in missing_required(deal, stage)}
        items = []
        for name in stage.required_fields:
            api_name = {"company": "company_id", "contacts": "contact_ids"}.get(name, name)
            key = api_name.removeprefix("cf.")
            items.append({"label": _field_label(name, fields), "missing": key in missing})
        hints.append(
            {"stage": stage, "fields": items, "ready": not any(i["missing"] for i in items)}
        )
    return hints


def _history(deal: Deal) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = DealStageHistory.objects.filter(deal=deal).select_related("stage", "actor")
    return [
        {
            "stage": h.stage,
            "entered_at": h.entered_at,
            "left_at": h.left_at,
            "spent": forms.duration_text(h.entered_at, h.left_at or now),
            "actor": h.actor,
        }
        for h in rows.order_by("entered_at", "id")
    ]


def _details(deal: Deal, user: Any, fields: list[CustomField]) -> dict[str, Any]:
    """Company and contacts linked where the user may open them, and custom values."""
    company = None
    if deal.company_id and deal.company is not None:
        visible = companies_visible_to(user).filter(pk=deal.company_id).exists()
        company = (deal.company, visible)
    contacts = list(deal.contacts.all())
    visible_ids = set(
        contacts_visible_to(user)
        .filter(pk__in=[c.pk for c in contacts])
        .values_list("pk", flat=True)
    )
    custom = deal.custom or {}
    return {
        "company": company,
        "contacts": [(c, c.pk in visible_ids) for c in contacts],
        "custom_rows": [(cf.label, display.custom_html(cf, custom.get(cf.key))) for cf in fields],
        "close_date": display.date_text(deal.expected_close_date)
        if deal.expected_close_date
        else "",
    }


def _timeline_ctx(request: AuthedRequest, deal: Deal) -> dict[str, Any]:
    return {
        "entries": forms.timeline_entries(deal, request.user, definitions(DEAL_ENTITY)),
        "note_url": reverse("sales:deal_note", args=[deal.pk]),
        "timeline_url": reverse("sales:deal_timeline", args=[deal.pk]),
    }


def _lines_ctx(deal: Deal, currency: Currency) -> dict[str, Any]:
    return {
        "deal": deal,
        "lines": forms.lines_view(deal, currency),
        "lines_url": reverse("sales:deal_lines", args=[deal.pk]),
    }


def _card(request: AuthedRequest, deal: Deal, *, status: int = 200, **extra: Any) -> HttpResponse:
    fields = definitions(DEAL_ENTITY)
    stages = list(deal.pipeline.stages.order_by("position", "id"))
    currency = deal.currency
    ctx: dict[str, Any] = {
        "deal": deal,
        "page_title": deal.title,
        "amount_text": forms.money_text(deal.amount, currency),
        "bar": _stage_bar(deal, stages),
        "won_stage": next((s for s in stages if s.kind == StageKind.WON), None),
        "lost_stage": next((s for s in stages if s.kind == StageKind.LOST), None),
        "lost_reasons": LostReason.objects.filter(active=True).order_by("position", "id"),
        "hints": _required_hints(deal, stages, fields),
        "history": _history(deal),
        "move_url": reverse("sales:deal_move", args=[deal.pk]),
        "is_open": deal.stage.kind == StageKind.OPEN,
        **_details(deal, request.user, fields),
        **_lines_ctx(deal, currency),
        **_timeline_ctx(request, deal),
        "panels": panels_for("deal", deal.pk, request.user),
    }
    ctx.update(extra)
    return render(request, "sales/deals/card.html", ctx, status=status)


@login_required
def deal_card(request: AuthedRequest, pk: int) -> HttpResponse:
    return _card(request, load_deal(request, pk))


@login_required
@require_POST
def deal_move_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Move to a stage of the deal's pipeline. A refused move changes nothing and says which
    fields to fill first."""
    deal = load_deal(request, pk, write=True)
    raw = request.POST.get("stage_id", "")
    target = deal.pipeline.stages.filter(pk=int(raw)).first() if raw.isdigit() else None
    if target is None:
        messages.error(request, _("Choose a stage of this pipeline."))
        return redirect(deal.get_absolute_url())
    reason = request.POST.get("lost_reason_id", "").strip()
    try:
        deal_move(
            actor=request.user,
            deal=deal,
            stage_id=target.pk,
            lost_reason_id=int(reason) if reason.isdigit() else None,
            lost_comment=request.POST.get("lost_comment", "").strip() or None,
            channel=Channel.UI,
        )
    except ServiceValidationError as exc:
        fields = definitions(DEAL_ENTITY)
        problems = [(_field_label(e.field, fields), e.message) for e in exc.errors]
        refused = {
            "stage": target,
            "problems": problems,
            "needs_reason": any(e.field == "lost_reason_id" for e in exc.errors),
        }
        return _card(request, load_deal(request, pk), status=400, refused=refused)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Moved to “%(stage)s”.") % {"stage": target.name})
    return redirect(deal.get_absolute_url())


@login_required
def deal_lines(request: AuthedRequest, pk: int) -> HttpResponse:
    """The line items: the table (``?view=1``), the editor (GET) and its save (POST). All rows
    are saved at once; the service computes every total."""
    deal = load_deal(request, pk, write=request.method == "POST" or "view" not in request.GET)
    htmx = is_htmx(request)
    if request.method == "GET" and "view" in request.GET:
        return render(request, "sales/deals/_lines.html", _lines_ctx(deal, deal.currency))
    if request.method == "GET":
        return _lines_editor(request, deal, forms.line_rows_initial(deal), {}, status=200)
    lines, index_map, rows = forms.lines_from_post(request.POST)
    try:
        deal = deal_update(
            actor=request.user, deal=deal, changes={"lines": lines}, channel=Channel.UI
        )
    except ServiceValidationError as exc:
        errors = map_errors(exc, {"lines": index_map})
        forms.line_errors_to_rows(rows, errors)
        general = [m for n, ms in errors.items() if not n.startswith("lines[") for m in ms]
        return _lines_editor(request, deal, rows, {"general": general}, status=200 if htmx else 400)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if not htmx:
        messages.success(request, _("Line items saved."))
        return redirect(deal.get_absolute_url() + "#lines")
    deal = load_deal(request, pk)
    ctx = {
        **_lines_ctx(deal, deal.currency),
        "amount_text": forms.money_text(deal.amount, deal.currency),
        "oob": True,
    }
    response = render(request, "sales/deals/_lines.html", ctx)
    response["HX-Trigger"] = "timeline-changed"
    return response


def _lines_editor(
    request: AuthedRequest,
    deal: Deal,
    rows: list[forms.LineRow],
    errors: dict[str, Any],
    *,
    status: int,
) -> HttpResponse:
    if not rows:
        rows = [forms.LineRow(0, dict.fromkeys(forms.LINE_KEYS, ""), {})]
    ctx = {
        **_lines_ctx(deal, deal.currency),
        "rows": rows,
        "next_index": max(r.index for r in rows) + 1,
        "products": forms.product_choices(deal.currency_id),
        "errors": errors,
        "page_title": deal.title,
    }
    template = "sales/deals/_lines_form.html" if is_htmx(request) else "sales/deals/lines_page.html"
    return render(request, template, ctx, status=status)


@login_required
def deal_timeline(request: AuthedRequest, pk: int) -> HttpResponse:
    deal = load_deal(request, pk)
    return render(request, "customers/_timeline.html", _timeline_ctx(request, deal))


@login_required
@require_POST
def deal_note(request: AuthedRequest, pk: int) -> HttpResponse:
    deal = load_deal(request, pk, write=True)
    text = request.POST.get("body", "")
    note_error = ""
    try:
        # The form is plain text: escape it and keep its line breaks; the service sanitizes.
        core_services.note_create(
            record=deal,
            body=linebreaks(text, autoescape=True) if text.strip() else "",
            actor=request.user,
            channel=Channel.UI,
        )
    except ServiceValidationError as exc:
        note_error = exc.errors[0].message
    if is_htmx(request):
        ctx = _timeline_ctx(request, deal)
        ctx.update({"note_error": note_error, "note_text": text if note_error else ""})
        return render(request, "customers/_timeline.html", ctx)
    if note_error:
        messages.error(request, _("The note was not added: %(why)s") % {"why": note_error})
    return redirect(deal.get_absolute_url() + "#timeline")


# --- panels on contact and company cards ---------------------------------------------------------


def _panel(request: AuthedRequest, deals: Any, *, new_url: str, all_url: str) -> HttpResponse:
    # Open deals first (no closing date), then the closed ones; the latest touched on top.
    ordered = deals.select_related("stage", "currency").order_by(
        F("closed_at").desc(nulls_first=True), "-updated_at", "-id"
    )
    rows = list(ordered[: PANEL_LIMIT + 1])
    currencies = forms.currencies_by_code()
    for deal in rows:
        _decorate(deal, currencies)
    ctx = {
        "deals": rows[:PANEL_LIMIT],
        "more": len(rows) > PANEL_LIMIT,
        "new_url": new_url,
        "all_url": all_url,
    }
    return render(request, "sales/deals/_panel.html", ctx)


@login_required
def contact_deals(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        contact = get_contact_for_user(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    deals = selectors.deals_visible_to(request.user).filter(contacts=contact)
    new_url = reverse("sales:deal_new") + f"?contact={contact.pk}"
    return _panel(request, deals, new_url=new_url, all_url="")


@login_required
def company_deals(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        company = get_company_for_user(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    deals = selectors.deals_visible_to(request.user).filter(company=company)
    new_url = reverse("sales:deal_new") + f"?company={company.pk}"
    all_url = reverse("sales:deals") + f"?company={company.pk}"
    return _panel(request, deals, new_url=new_url, all_url=all_url)


urlpatterns: list = [
    path("deals/", deal_list, name="deals"),
    path("deals/new/", deal_new, name="deal_new"),
    path("deals/<int:pk>/", deal_card, name="deal"),
    path("deals/<int:pk>/edit/", deal_edit, name="deal_edit"),
    path("deals/<int:pk>/delete/", deal_delete_view, name="deal_delete"),
    path("deals/<int:pk>/move/", deal_move_view, name="deal_move"),
    path("deals/<int:pk>/lines/", deal_lines, name="deal_lines"),
    path("deals/<int:pk>/timeline/", deal_timeline, name="deal_timeline"),
    path("deals/<int:pk>/notes/", deal_note, name="deal_note"),
    path("deals/for-contact/<int:pk>/", contact_deals, name="contact_deals"),
    path("deals/for-company/<int:pk>/", company_deals, name="company_deals"),
]
