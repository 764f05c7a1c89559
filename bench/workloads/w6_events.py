"""W6: domain events through the dispatcher into webhook deliveries.

Ours: publish N ``deal.updated`` events in one transaction (as a bulk service does), then run
``dispatch_pending`` for the webhooks consumer until the outbox is drained. Each event becomes
one ``WebhookDelivery`` row, with its receipt and cursor, exactly as in production. Reported:
events per second through the dispatcher, and the lag from an event's ``created_at`` to its
receipt (p50/p95/p99; all events are published at once, so the lag is the queue's drain time).

Baseline: the same delivery rows inserted by the driver's ``executemany`` in one transaction —
the floor for "write one row per event", without reading the outbox, receipts or cursor."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.dataset import DatasetInfo
from bench.workloads.common import RawSQL, Result, Settings

TARGET = "≥ 1,000 events/s with one worker, p99 lag < 2 s"


def _lag_percentiles(lags: list[float]) -> dict[str, float]:
    ordered = sorted(lags)
    if not ordered:
        return {}

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000

    return {
        "p50": pick(0.5),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "mean": statistics.fmean(ordered) * 1000,
    }


def _ours(n: int, sub_id: int) -> tuple[float, dict[str, float], int]:
    from voronka.core import dispatch
    from voronka.core.models import ConsumerReceipt, OutboxCursor, OutboxEvent
    from voronka.webhooks.models import WebhookDelivery
    from voronka.webhooks.services import CONSUMER

    head = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    OutboxCursor.objects.update_or_create(consumer=CONSUMER, defaults={"last_event_id": head})
    with transaction.atomic():
        OutboxEvent.objects.bulk_create(
            [
                OutboxEvent(name="deal.updated", entity="sales.deal", entity_id=i,
                            payload={"changes": {"amount": [i, i + 1]}})
                for i in range(n)
            ],
            batch_size=2000,
        )  # fmt: skip
    t0 = time.perf_counter()
    handled = 0
    while True:
        got = dispatch.dispatch_pending(limit=500, only=[CONSUMER])
        handled += got
        if not got:
            break
    seconds = time.perf_counter() - t0
    created = dict(
        OutboxEvent.objects.filter(id__gt=head).values_list("id", "created_at").iterator()
    )
    lags = [
        (at - created[eid]).total_seconds()
        for eid, at in ConsumerReceipt.objects.filter(consumer=CONSUMER, event_id__gt=head)
        .values_list("event_id", "created_at")
        .iterator()
        if eid in created
    ]
    rows = WebhookDelivery.objects.filter(subscription_id=sub_id, event_id__gt=head).count()
    # Leave the bench database as it was.
    WebhookDelivery.objects.filter(subscription_id=sub_id).delete()
    ConsumerReceipt.objects.filter(consumer=CONSUMER, event_id__gt=head).delete()
    OutboxEvent.objects.filter(id__gt=head).delete()
    return handled / seconds if seconds else 0.0, _lag_percentiles(lags), rows


def _baseline(n: int, sub_id: int) -> float:
    raw = RawSQL()
    now = timezone.now()
    postgres = raw.postgres
    stamp: Any = now if postgres else now.isoformat(sep=" ")
    rows = []
    for i in range(n):
        delivery_id = uuid.uuid4()
        payload = {"id": str(delivery_id), "event": "deal.updated", "occurred_at": now.isoformat(),
                   "entity": "sales.deal", "entity_id": i,
                   "data": {"changes": {"amount": [i, i + 1]}}}  # fmt: skip
        rows.append((
            str(delivery_id) if postgres else delivery_id.hex, sub_id, -1 - i, "deal.updated",
            json.dumps(payload), "pending", 0, stamp, "{}", "", "", stamp,
        ))  # fmt: skip
    sql = raw.sql(
        "INSERT INTO webhooks_webhookdelivery (id, subscription_id, event_id, event, payload,"
        " status, attempts, next_attempt_at, last_request, last_response_body, last_error,"
        " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    t0 = time.perf_counter()
    with transaction.atomic():
        cur = raw.raw.cursor()
        cur.executemany(sql, rows)
        cur.close()
    seconds = time.perf_counter() - t0
    from voronka.webhooks.models import WebhookDelivery

    WebhookDelivery.objects.filter(subscription_id=sub_id).delete()
    return n / seconds if seconds else 0.0


def run(info: DatasetInfo, db: str, settings: Settings) -> list[Result]:
    from voronka.webhooks.models import WebhookSubscription

    n = 2_000 if settings.smoke else 20_000
    sub = WebhookSubscription.objects.create(
        name="bench", url="https://example.invalid/hook", events=["deal.updated"]
    )
    try:
        rate, lag, rows = _ours(n, sub.pk)
        base_rate = _baseline(n, sub.pk)
    finally:
        sub.delete()
    ok_rows = rows == n
    results = [
        Result(
            workload="W6", case=f"{n:,} deal.updated → webhook deliveries", db=db,
            metric="rate", ours={"rate": rate}, baseline={"rate": base_rate},
            ratio=base_rate / rate if rate else None, rows=rows, target=TARGET,
            passed=ok_rows and rate >= 1000 and lag.get("p99", 1e9) < 2_000,
            ids_match=ok_rows,
            note=f"{connection.vendor}; baseline = executemany of the same rows",
        ),
        Result(
            workload="W6", case="lag event → receipt", db=db, metric="latency", ours=lag,
            rows=rows, target="p99 < 2 s (the issue's target)", passed=lag.get("p99", 1e9) < 2_000,
            note="all events published at once: lag = time in queue",
        ),
    ]  # fmt: skip
    return results
