"""Deliveries in bulk: a dispatcher batch writes its deliveries at once, and the sender posts
many at a time while each record's deliveries still arrive in the order of its events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.webhooks.receiver import Received, Receiver, ok
from voronka.core import dispatch
from voronka.sales.services import deal_create, deal_update
from voronka.webhooks import services
from voronka.webhooks.models import WebhookDelivery

ANSWERED: list[dict[str, Any]] = []


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    def slow_first(got: Received) -> tuple[int, dict[str, str], bytes]:
        """Answers each record's first change slowly: a second change sent at the same time
        would be answered first."""
        body = got.json()
        if body["data"]["changes"]["amount"][1] == "2":
            time.sleep(0.2)
        ANSWERED.append(body)
        return ok(got)

    ANSWERED.clear()
    r = Receiver(slow_first).start()
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{r.port}")
    yield r
    r.stop()


def test_a_batch_of_events_is_written_and_sent_in_record_order(
    admin: Any, alice: Any, receiver: Receiver, settings: Any
) -> None:
    settings.VORONKA_WEBHOOK_CONCURRENCY = "8"
    services.subscription_create(
        actor=admin, data={"name": "ERP", "url": receiver.url, "events": "deal.updated"}
    )
    deals = [deal_create(actor=alice, data={"title": f"D{i}", "amount": 1}) for i in range(4)]
    dispatch.dispatch_pending(only=[services.CONSUMER])  # the "created" events: not wanted
    for amount in range(2, 7):
        for deal in deals:
            deal_update(actor=alice, deal=deal, changes={"amount": amount})
    with CaptureQueriesContext(connection) as ctx:
        assert dispatch.dispatch_pending(only=[services.CONSUMER]) == 20
    # The 20 deliveries in one INSERT (COPY on PostgreSQL): a dozen statements in all, where
    # event by event it was five per event.
    assert len(ctx.captured_queries) <= 12, len(ctx.captured_queries)
    assert WebhookDelivery.objects.count() == 20

    assert services.deliveries_send_due() == 20
    assert WebhookDelivery.objects.filter(status="delivered", attempts=1).count() == 20
    got = list(ANSWERED)
    assert len(got) == len(receiver.requests) == 20
    for deal in deals:
        amounts = [r["data"]["changes"]["amount"][1] for r in got if r["entity_id"] == deal.pk]
        assert amounts == ["2", "3", "4", "5", "6"], amounts
