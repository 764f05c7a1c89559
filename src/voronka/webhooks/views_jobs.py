"""The administrator's jobs page: every durable queue in one place, with a retry button.

It shows the task results of the database task backend (imports, exports, mailings), webhook
deliveries, stage-action runs and outbox consumers that failed on an event."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.core import dispatch
from voronka.core.models import ConsumerFailure, ConsumerFailureStatus, OutboxCursor, OutboxEvent
from voronka.webhooks import services
from voronka.webhooks.models import (
    DeliveryStatus,
    RunStatus,
    StageActionRun,
    WebhookDelivery,
)
from voronka.webhooks.views import require_admin

LIMIT = 50


def _task_results(status: str) -> list[Any]:
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another task backend: nothing to list
        return []
    qs = DBTaskResult.objects.order_by("-enqueued_at")
    if status == "failed":
        qs = qs.filter(status="FAILED")
    elif status == "pending":
        qs = qs.filter(status__in=["READY", "RUNNING"])
    return list(qs[:LIMIT])


def _consumers() -> list[dict[str, Any]]:
    head = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    cursors = {c.consumer: c for c in OutboxCursor.objects.all()}
    return [
        {
            "name": c.name,
            "position": cursors[c.name].last_event_id if c.name in cursors else 0,
            "behind": head - (cursors[c.name].last_event_id if c.name in cursors else 0),
        }
        for c in sorted(dispatch.consumers(), key=lambda c: c.name)
    ]


@login_required
def jobs(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    status = request.GET.get("status", "")
    deliveries = WebhookDelivery.objects.select_related("subscription").order_by("-created_at")
    runs = StageActionRun.objects.select_related("action", "deal").order_by("-created_at")
    failures = ConsumerFailure.objects.order_by("-updated_at")
    if status == "failed":
        deliveries = deliveries.filter(status=DeliveryStatus.FAILED)
        runs = runs.filter(status=RunStatus.FAILED)
        failures = failures.filter(status=ConsumerFailureStatus.FAILED)
    elif status == "pending":
        deliveries = deliveries.filter(status=DeliveryStatus.PENDING)
        runs = runs.filter(status=RunStatus.PENDING)
        failures = failures.filter(status=ConsumerFailureStatus.RETRYING)
    return render(
        request,
        "webhooks/jobs.html",
        {
            "status": status,
            "tasks": _task_results(status),
            "deliveries": list(deliveries[:LIMIT]),
            "runs": list(runs[:LIMIT]),
            "failures": list(failures[:LIMIT]),
            "consumers": _consumers(),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def job_retry(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    """Retry one row of one queue; answers 404 for a row that does not exist."""
    require_admin(request)
    if kind == "delivery":
        delivery = WebhookDelivery.objects.filter(pk=pk).first()
        if delivery is None:
            raise Http404("no such delivery")
        services.delivery_retry(actor=request.user, delivery=delivery)
    elif kind == "run":
        run = StageActionRun.objects.filter(pk=pk).first()
        if run is None:
            raise Http404("no such run")
        services.run_retry(actor=request.user, run=run)
    elif kind == "consumer" and pk.isdigit():
        if not ConsumerFailure.objects.filter(pk=int(pk)).exists():
            raise Http404("no such failure")
        if not dispatch.retry_failure(int(pk)):
            messages.error(request, _("The handler failed again; see the error."))
            return redirect("webhooks:jobs")
    elif kind == "task":
        _retry_task(pk)
    else:
        raise Http404("unknown queue")
    messages.success(request, _("Queued again."))
    return redirect("webhooks:jobs")


def _retry_task(pk: str) -> None:
    """Enqueue the same task with the same arguments (a failed task result is kept)."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError as exc:
        raise Http404("no database task backend") from exc
    try:
        result = DBTaskResult.objects.filter(pk=pk).first()
    except Exception as exc:  # not a UUID
        raise Http404("no such task") from exc
    if result is None:
        raise Http404("no such task")
    args = result.args_kwargs or {}
    result.task.enqueue(*args.get("args", []), **args.get("kwargs", {}))
