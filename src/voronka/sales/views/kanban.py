"""The kanban board per pipeline: columns paged, drag and drop with a keyboard alternative.

Each column shows its first keyset page and fetches the next ones with htmx, so a pipeline of
100k deals opens as fast as one of ten; the headers' counts and sums come from one GROUP BY.
A move always goes through ``services.deal_move``, from three doors: a drag (kanban.js posts
and gets JSON back), the "Move to…" menu on every card (the same request, or a plain form POST
without JavaScript) and the move page, where a plain POST that the service refused shows why."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from voronka.accounts.selectors import users_active
from voronka.core.custom_fields import definitions
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import Page
from voronka.customers.display import date_text, number
from voronka.customers.views import AuthedRequest, is_htmx
from voronka.sales import analytics, selectors, services
from voronka.sales.models import Currency, Deal, LostReason, Pipeline, Stage, StageKind
from voronka.sales.services.deals import DEAL_ENTITY

# The board's own filters; anything else in the address (stage, sort, limit…) is ignored.
FILTERS = ("q", "owner", "tag", "close_from", "close_to")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{3,8}$")
FIELD_LABELS = {
    "amount": gettext_lazy("Amount"),
    "expected_close_date": gettext_lazy("Expected close date"),
    "company_id": gettext_lazy("Company"),
    "contact_ids": gettext_lazy("Contacts"),
    "lines": gettext_lazy("Products"),
    "source": gettext_lazy("Source"),
    "stage_id": gettext_lazy("Stage"),
    "lost_reason_id": gettext_lazy("Lost reason"),
    "lost_comment": gettext_lazy("Comment"),
}


# --- presentation helpers shared with the dashboard -----------------------------------------


def base_currency() -> Currency | None:
    return Currency.objects.filter(is_base=True).first()


def money_text(amount: Decimal | None, symbol: str, places: int = 0) -> str:
    """``1 234 ₽`` in Russian, ``₽1,234`` in English: the symbol where each reader expects it."""
    shown = number(amount or Decimal(0), places)
    if not symbol:
        return shown
    if (get_language() or "").startswith("en"):
        return f"{symbol}{shown}"
    return f"{shown}\u00a0{symbol}"


def deal_url(pk: int) -> str:
    """The deal card; the plain path until the deal pages register ``sales:deal``."""
    try:
        return reverse("sales:deal", args=[pk])
    except NoReverseMatch:
        return f"/sales/deals/{pk}/"


def url_or_empty(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


# --- the board's pieces ---------------------------------------------------------------------


@dataclass
class Card:
    deal: Deal
    url: str
    amount: str
    close_date: str
    overdue: bool


@dataclass
class Column:
    stage: Stage
    color: str
    count: int
    total: str
    cards: list[Card]
    next_url: str


def _filter_params(params: QueryDict) -> QueryDict:
    """Only the board's filters, without empty values: what a column page or a move keeps."""
    kept = QueryDict(mutable=True)
    for name in FILTERS:
        for value in params.getlist(name):
            if value.strip():
                kept.appendlist(name, value.strip())
    return kept


def _query(params: QueryDict, user: Any) -> selectors.DealQuery:
    return selectors.parse_deal_query(_filter_params(params), user)


def _cards(deals: list[Deal]) -> list[Card]:
    today = timezone.localdate()
    return [
        Card(
            deal=d,
            url=deal_url(d.pk),
            amount=money_text(
                d.amount,
                d.currency.symbol or d.currency_id,
                0 if d.amount == d.amount.to_integral() else 2,
            ),
            close_date=date_text(d.expected_close_date) if d.expected_close_date else "",
            overdue=bool(
                d.expected_close_date
                and d.expected_close_date < today
                and d.stage.kind == StageKind.OPEN
            ),
        )
        for d in deals
    ]


def _column_next_url(stage: Stage, filters: QueryDict, cursor: str | None) -> str:
    if not cursor:
        return ""
    params = filters.copy()
    params["cursor"] = cursor
    return reverse("sales:kanban_column", args=[stage.pk]) + "?" + params.urlencode()


def stage_color(stage: Stage) -> str:
    return stage.color if COLOR_RE.match(stage.color or "") else "#3b5bdb"


def _columns(
    user: Any, pipeline: Pipeline, query: selectors.DealQuery | None, filters: QueryDict
) -> list[Column]:
    if query is None:  # the filters were invalid: the board shows its stages, empty
        found = [
            selectors.KanbanColumn(s, 0, Decimal(0), Page(items=[], next_cursor=None))
            for s in pipeline.stages.order_by("position", "id")
        ]
    else:
        found = selectors.kanban(user, pipeline, query, selectors.KANBAN_PAGE)
    symbol = _symbol()
    return [
        Column(
            stage=col.stage,
            color=stage_color(col.stage),
            count=col.count,
            total=money_text(col.total, symbol),
            cards=_cards(col.page.items),
            next_url=_column_next_url(col.stage, filters, col.page.next_cursor),
        )
        for col in found
    ]


def _symbol() -> str:
    base = base_currency()
    return (base.symbol or base.code) if base else ""


def _headers(
    user: Any, pipeline: Pipeline, query: selectors.DealQuery | None
) -> list[dict[str, Any]]:
    """Fresh counts and sums of every column, sent back after a move."""
    totals = analytics.stage_totals(user, pipeline, query.conditions if query else ())
    symbol = _symbol()
    return [
        {
            "stage_id": stage_id,
            "count": totals.get(stage_id, analytics.StageTotal()).count,
            "total": money_text(totals.get(stage_id, analytics.StageTotal()).amount, symbol),
        }
        for stage_id in pipeline.stages.values_list("id", flat=True)
    ]


def _field_label(name: str) -> str:
    if name.startswith("custom."):
        key = name.split(".", 1)[1]
        for cf in definitions(DEAL_ENTITY):
            if cf.key == key:
                return str(cf.label)
        return key
    return str(FIELD_LABELS.get(name, name))


def _error_list(exc: ServiceValidationError) -> list[dict[str, str]]:
    return [
        {"field": e.field, "label": _field_label(e.field), "message": e.message} for e in exc.errors
    ]


def _filter_errors(exc: ServiceValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        errors.setdefault(err.field, []).append(err.message)
    return errors


def _menu_stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position", "id"))


def _board_context(request: AuthedRequest, pipeline: Pipeline | None) -> dict[str, Any]:
    user = request.user
    filters = _filter_params(request.GET)
    errors: dict[str, list[str]] = {}
    query: selectors.DealQuery | None = None
    try:
        query = _query(request.GET, user)
    except ServiceValidationError as exc:
        errors = _filter_errors(exc)
    columns = _columns(user, pipeline, query, filters) if pipeline else []
    stages = [c.stage for c in columns]
    here = request.get_full_path()
    return {
        "pipeline": pipeline,
        "columns": columns,
        "stages": stages,
        "filters": filters,
        "filter_query": filters.urlencode(),
        "errors": errors,
        "error_list": [f"{_field_label(n)}: {m}" for n, ms in errors.items() for m in ms],
        "can_move": user.can_write,
        "next": here,
        "lost_reasons": list(LostReason.objects.filter(active=True).order_by("position", "id")),
    }


# --- views ----------------------------------------------------------------------------------


@login_required
def board(request: AuthedRequest) -> HttpResponse:
    """The board of one pipeline (``?pipeline=``, the default one otherwise) under filters."""
    try:
        pipeline: Pipeline | None = selectors.get_pipeline(request.GET.get("pipeline"))
    except NotFound as exc:
        if request.GET.get("pipeline"):
            raise Http404(str(exc)) from exc
        pipeline = None
    ctx = _board_context(request, pipeline)
    if is_htmx(request) and request.headers.get("HX-Target") == "kanban-board":
        return render(request, "sales/kanban/_board.html", ctx)
    pipelines = list(Pipeline.objects.order_by("position", "id"))
    params = ctx["filters"]
    ctx.update(
        {
            "pipelines": [
                {"pipeline": p, "url": "?" + _with(params, pipeline=str(p.pk))} for p in pipelines
            ],
            "owners": [
                (str(u.pk), str(u))
                for u in users_active().order_by("last_name", "first_name", "id")
            ],
            "values": {name: request.GET.get(name, "") for name in FILTERS},
            "active_filters": sum(1 for n in FILTERS if n != "q" and params.get(n)),
            "board_path": reverse("sales:kanban"),
            "list_url": url_or_empty("sales:deals"),
            "new_url": url_or_empty("sales:deal_new"),
            "pipelines_url": url_or_empty("sales:pipelines"),
        }
    )
    return render(request, "sales/kanban/board.html", ctx)


def _with(params: QueryDict, **set_: str) -> str:
    q = params.copy()
    for name, value in set_.items():
        q[name] = value
    return q.urlencode()


def _stage(pk: int) -> Stage:
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise Http404("no such stage")
    return stage


@login_required
def column(request: AuthedRequest, stage_id: int) -> HttpResponse:
    """The next page of a column: cards for htmx, or a page of its own without JavaScript."""
    stage = _stage(stage_id)
    user = request.user
    filters = _filter_params(request.GET)
    try:
        query = _query(request.GET, user)
        page = selectors.kanban_column(
            user, stage, query, request.GET.get("cursor") or None, selectors.KANBAN_PAGE
        )
    except ServiceValidationError as exc:
        return HttpResponse("; ".join(e.message for e in exc.errors), status=400)
    ctx = {
        "cards": _cards(page.items),
        "next_url": _column_next_url(stage, filters, page.next_cursor),
        "stage": stage,
        "stages": _menu_stages(stage.pipeline),
        "can_move": user.can_write,
        "next": reverse("sales:kanban") + "?" + _with(filters, pipeline=str(stage.pipeline_id)),
    }
    if is_htmx(request):
        return render(request, "sales/kanban/_cards.html", ctx)
    ctx["board_url"] = ctx["next"]
    return render(request, "sales/kanban/column.html", ctx)


def _load_deal(request: AuthedRequest, pk: int, *, write: bool) -> Deal:
    try:
        return selectors.get_deal_for_user(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def _wants_json(request: AuthedRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _safe_next(request: AuthedRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return fallback


def _int_or_none(raw: str | None, name: str, message: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ServiceValidationError.single(name, message) from exc


def _render_card(request: AuthedRequest, deal: Deal) -> str:
    fresh = selectors.get_deal_for_user(request.user, deal.pk)
    return render_to_string(
        "sales/kanban/_card.html",
        {
            "card": _cards([fresh])[0],
            "stages": _menu_stages(fresh.pipeline),
            "can_move": request.user.can_write,
            "next": _safe_next(request, reverse("sales:kanban")),
        },
        request=request,
    )


@login_required
@require_http_methods(["GET", "POST"])
def move(request: AuthedRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage of its pipeline through ``services.deal_move``.

    With ``Accept: application/json`` (kanban.js) it answers the card and the new header
    figures, or 400 with the fields to fill; a plain form POST redirects back to the board, or
    shows this page again with the errors. GET shows the form (the menu's no-JS fallback)."""
    deal = _load_deal(request, pk, write=True)
    board_url = reverse("sales:kanban") + "?pipeline=" + str(deal.pipeline_id)
    back = _safe_next(request, board_url)
    if request.method == "GET":
        return _move_page(request, deal, back, request.GET.get("stage", ""), {}, "")
    raw_stage = request.POST.get("stage_id", "")
    comment = (request.POST.get("lost_comment") or "").strip()
    try:
        stage_id = _int_or_none(raw_stage, "stage_id", _("choose a stage"))
        if stage_id is None:
            raise ServiceValidationError.single("stage_id", _("choose a stage"))
        moved = services.deal_move(
            actor=request.user,
            deal=deal,
            stage_id=stage_id,
            lost_reason_id=_int_or_none(
                request.POST.get("lost_reason_id"), "lost_reason_id", _("choose a reason")
            ),
            lost_comment=comment or None,
            channel=Channel.UI,
        )
    except ServiceValidationError as exc:
        return _refused(request, deal, raw_stage, exc, back)
    stage = Stage.objects.get(pk=moved.stage_id)
    message = _("“%(deal)s” moved to “%(stage)s”.") % {"deal": moved.title, "stage": stage.name}
    if _wants_json(request):
        query = None
        with contextlib.suppress(ServiceValidationError):  # a bad filter: totals unfiltered
            query = _query(request.GET, request.user)
        return JsonResponse(
            {
                "ok": True,
                "deal_id": moved.pk,
                "stage_id": moved.stage_id,
                "message": message,
                "card": _render_card(request, moved),
                "columns": _headers(request.user, moved.pipeline, query),
            }
        )
    messages.success(request, message)
    return redirect(back)


def _refused(
    request: AuthedRequest, deal: Deal, raw_stage: str, exc: ServiceValidationError, back: str
) -> HttpResponse:
    stage = (
        Stage.objects.filter(pk=raw_stage, pipeline_id=deal.pipeline_id).first()
        if raw_stage.isdigit()
        else None
    )
    title = (
        _("“%(deal)s” stays in “%(from)s”: it cannot enter “%(to)s” yet.")
        % {"deal": deal.title, "from": deal.stage.name, "to": stage.name}
        if stage
        else _("“%(deal)s” was not moved.") % {"deal": deal.title}
    )
    errors = _error_list(exc)
    if _wants_json(request):
        return JsonResponse(
            {
                "ok": False,
                "deal_id": deal.pk,
                "title": title,
                "errors": errors,
                "needs_reason": any(e["field"] == "lost_reason_id" for e in errors),
                "edit_url": deal_url(deal.pk),
                "edit_label": _("Open the deal to fill them in"),
            },
            status=400,
        )
    by_field: dict[str, list[str]] = {}
    for e in errors:
        by_field.setdefault(e["field"], []).append(e["message"])
    return _move_page(request, deal, back, raw_stage, by_field, title, errors)


def _move_page(
    request: AuthedRequest,
    deal: Deal,
    back: str,
    chosen: str,
    errors: dict[str, list[str]],
    title: str,
    error_list: list[dict[str, str]] | None = None,
) -> HttpResponse:
    stages = _menu_stages(deal.pipeline)
    chosen_stage = next((s for s in stages if str(s.pk) == str(chosen)), None)
    return render(
        request,
        "sales/kanban/move.html",
        {
            "deal": deal,
            "deal_url": deal_url(deal.pk),
            "stages": stages,
            "chosen": str(chosen_stage.pk) if chosen_stage else str(deal.stage_id),
            "lost_reasons": list(LostReason.objects.filter(active=True).order_by("position", "id")),
            "errors": errors,
            "error_title": title,
            "error_list": error_list or [],
            "reason_error": errors.get("lost_reason_id", []),
            "chosen_reason": request.POST.get("lost_reason_id", ""),
            "comment": request.POST.get("lost_comment", ""),
            "next": back,
        },
    )


urlpatterns: list = [
    path("kanban/", board, name="kanban"),
    path("kanban/stages/<int:stage_id>/", column, name="kanban_column"),
    path("kanban/deals/<int:pk>/move/", move, name="kanban_move"),
]
