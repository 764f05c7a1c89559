"""Administrator pages of webhooks (subscriptions, the delivery log, stage actions) and the
deal card's stage-actions panel. Thin: parse, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.core.errors import ServiceValidationError
from voronka.webhooks import services
from voronka.webhooks.models import (
    DeliveryStatus,
    RunStatus,
    StageAction,
    StageActionRun,
    WebhookDelivery,
    WebhookSubscription,
)


def require_admin(request: HttpRequest) -> None:
    """Administrator pages are invisible to everyone else (404, like the custom fields)."""
    if not getattr(request.user, "is_admin", False):
        raise Http404("not found")


def _errors(exc: ServiceValidationError) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in exc.errors:
        out.setdefault(e.field, []).append(e.message)
    return out


def _form_data(request: HttpRequest) -> dict[str, Any]:
    return {
        "name": request.POST.get("name", ""),
        "url": request.POST.get("url", ""),
        "events": request.POST.get("events", ""),
        "is_active": request.POST.get("is_active") == "on",
    }


@login_required
def subscriptions(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    values: dict[str, Any] = {"is_active": True}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = _form_data(request)
        try:
            sub = services.subscription_create(actor=request.user, data=values)
        except ServiceValidationError as exc:
            errors, status = _errors(exc), 400
        else:
            messages.success(request, _("Webhook “%(name)s” added.") % {"name": sub.name})
            return redirect("webhooks:subscription", sub.pk)
    subs = WebhookSubscription.objects.order_by("name", "id")
    return render(
        request,
        "webhooks/subscriptions.html",
        {"subscriptions": subs, "values": values, "errors": errors},
        status=status,
    )


def _get_subscription(pk: int) -> WebhookSubscription:
    sub = WebhookSubscription.objects.filter(pk=pk).first()
    if sub is None:
        raise Http404("no such webhook")
    return sub


@login_required
def subscription(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    sub = _get_subscription(pk)
    errors: dict[str, list[str]] = {}
    status = 200
    values: dict[str, Any] = {
        "name": sub.name,
        "url": sub.url,
        "events": ", ".join(sub.events),
        "is_active": sub.is_active,
    }
    if request.method == "POST":
        values = _form_data(request)
        try:
            services.subscription_update(actor=request.user, subscription=sub, data=values)
        except ServiceValidationError as exc:
            errors, status = _errors(exc), 400
        else:
            messages.success(request, _("Saved."))
            return redirect("webhooks:subscription", sub.pk)
    deliveries = sub.deliveries.order_by("-created_at")[:20]
    return render(
        request,
        "webhooks/subscription.html",
        {"sub": sub, "values": values, "errors": errors, "deliveries": deliveries},
        status=status,
    )


@login_required
@require_POST
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    services.subscription_delete(actor=request.user, subscription=_get_subscription(pk))
    messages.success(request, _("Webhook deleted."))
    return redirect("webhooks:subscriptions")


@login_required
@require_POST
def subscription_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    services.subscription_rotate_secret(actor=request.user, subscription=_get_subscription(pk))
    messages.success(request, _("A new secret was made; update the receiver."))
    return redirect("webhooks:subscription", pk)


@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    qs = WebhookDelivery.objects.select_related("subscription").order_by("-created_at")
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        qs = qs.filter(status=status)
    sub_id = request.GET.get("subscription", "")
    if sub_id.isdigit():
        qs = qs.filter(subscription_id=int(sub_id))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/deliveries.html",
        {"page": page, "status": status, "statuses": DeliveryStatus.choices, "sub_id": sub_id},
    )


def _get_delivery(pk: Any) -> WebhookDelivery:
    d = WebhookDelivery.objects.select_related("subscription").filter(pk=pk).first()
    if d is None:
        raise Http404("no such delivery")
    return d


@login_required
def delivery(request: HttpRequest, pk: Any) -> HttpResponse:
    require_admin(request)
    return render(request, "webhooks/delivery.html", {"d": _get_delivery(pk)})


@login_required
@require_POST
def delivery_replay(request: HttpRequest, pk: Any) -> HttpResponse:
    require_admin(request)
    new = services.delivery_replay(actor=request.user, delivery=_get_delivery(pk))
    messages.success(request, _("Queued again as a new delivery."))
    return redirect("webhooks:delivery", new.pk)


# --- stage actions (administrator) ---------------------------------------------------------


@login_required
def stage_actions(request: HttpRequest) -> HttpResponse:
    from voronka.sales.models import Stage

    require_admin(request)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {
            "stage_id": request.POST.get("stage_id", ""),
            "label": request.POST.get("label", ""),
            "url": request.POST.get("url", ""),
        }
        try:
            services.stage_action_create(actor=request.user, data=values)
        except ServiceValidationError as exc:
            errors, status = _errors(exc), 400
        else:
            messages.success(request, _("Button added."))
            return redirect("webhooks:stage_actions")
    actions = StageAction.objects.select_related("stage", "stage__pipeline")
    stages = Stage.objects.select_related("pipeline").order_by("pipeline__position", "position")
    return render(
        request,
        "webhooks/stage_actions.html",
        {"actions": actions, "stages": stages, "values": values, "errors": errors},
        status=status,
    )


@login_required
@require_POST
def stage_action_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request)
    action = StageAction.objects.filter(pk=pk).first()
    if action is None:
        raise Http404("no such action")
    services.stage_action_delete(actor=request.user, action=action)
    messages.success(request, _("Button removed."))
    return redirect("webhooks:stage_actions")


# --- the deal card's panel -------------------------------------------------------------------


def _panel(request: HttpRequest, deal: Any, status: int = 200, error: str = "") -> HttpResponse:
    actions = StageAction.objects.filter(stage_id=deal.stage_id, is_active=True)
    runs = list(
        StageActionRun.objects.filter(deal=deal)
        .select_related("action")
        .order_by("-created_at")[:5]
    )
    return render(
        request,
        "webhooks/_deal_panel.html",
        {
            "deal": deal,
            "actions": actions,
            "runs": runs,
            "polling": any(r.status == RunStatus.PENDING for r in runs),
            "can_write": getattr(request.user, "can_write", False),
            "error": error,
            "url": reverse("webhooks:deal_stage_actions", args=[deal.pk]),
        },
        status=status,
    )


@login_required
def deal_stage_actions(request: HttpRequest, pk: int) -> HttpResponse:
    from voronka.sales.selectors import get_deal_for_user

    deal = get_deal_for_user(request.user, pk)
    return _panel(request, deal)


@login_required
@require_POST
def deal_stage_action_run(request: HttpRequest, pk: int, action_id: int) -> HttpResponse:
    from voronka.sales.selectors import get_deal_for_user

    deal = get_deal_for_user(request.user, pk, write=True)
    action = StageAction.objects.filter(pk=action_id).first()
    if action is None:
        raise Http404("no such action")
    try:
        services.stage_action_run_start(actor=request.user, action=action, deal=deal)
    except ServiceValidationError as exc:
        return _panel(request, deal, status=400, error=exc.detail)
    if not request.headers.get("HX-Request"):
        return redirect(deal.get_absolute_url())
    return _panel(request, deal)


@login_required
@require_POST
def deal_stage_run_retry(request: HttpRequest, pk: int, run_id: Any) -> HttpResponse:
    from voronka.sales.selectors import get_deal_for_user

    deal = get_deal_for_user(request.user, pk, write=True)
    run = StageActionRun.objects.filter(pk=run_id, deal=deal).first()
    if run is None:
        raise Http404("no such run")
    services.run_retry(actor=request.user, run=run)
    if not request.headers.get("HX-Request"):
        return redirect(deal.get_absolute_url())
    return _panel(request, deal)
