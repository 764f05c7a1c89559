"""The jobs page lists task results and our durable queues, and retries a failed row."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.core import dispatch
from voronka.core.models import ConsumerFailure, OutboxEvent
from voronka.core.tasks import ping
from voronka.webhooks import services
from voronka.webhooks.models import WebhookDelivery


def test_jobs_page_shows_queues_and_retries(client: Any, admin: Any, alice: Any) -> None:
    sub = services.subscription_create(
        actor=admin, data={"name": "ERP", "url": "https://example.com/hook"}
    )
    d = WebhookDelivery.objects.create(
        subscription=sub, event="deal.created", status="failed", attempts=8, last_error="HTTP 500"
    )
    ping.enqueue()
    event = OutboxEvent.objects.create(name="deal.updated", entity="sales.deal", entity_id=1)
    failure = ConsumerFailure.objects.create(
        consumer="test.jobs", event_id=event.pk, status="failed", attempts=5, last_error="boom"
    )
    dispatch.register_consumer("test.jobs", lambda e: None)
    try:
        client.force_login(admin)
        html = client.get("/webhooks/jobs/").content.decode()
        assert "voronka.core.tasks.ping" in html
        assert "HTTP 500" in html and "boom" in html and "test.jobs" in html
        failed = client.get("/webhooks/jobs/?status=failed").content.decode()
        assert "voronka.core.tasks.ping" not in failed and "HTTP 500" in failed

        assert client.post(f"/webhooks/jobs/delivery/{d.pk}/retry/").status_code == 302
        d.refresh_from_db()
        assert d.status == "pending" and d.attempts == 0
        assert client.post(f"/webhooks/jobs/consumer/{failure.pk}/retry/").status_code == 302
        failure.refresh_from_db()
        assert failure.status == "resolved"
        assert (
            client.post(
                "/webhooks/jobs/delivery/00000000-0000-0000-0000-000000000000/retry/"
            ).status_code
            == 404
        )
    finally:
        dispatch.unregister_consumer("test.jobs")


@pytest.mark.parametrize("url", ["/webhooks/jobs/"])
def test_jobs_page_is_for_admins(client: Any, alice: Any, url: str) -> None:
    client.force_login(alice)
    assert client.get(url).status_code == 404
