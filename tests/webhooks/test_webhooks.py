"""Outbound webhooks end to end: a deal changes, the dispatcher writes a delivery, the job
signs and POSTs it to a real local receiver, retries with backoff, and the admin sees the log."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from tests.webhooks.receiver import Receiver, ok
from voronka.core import dispatch
from voronka.sales.services import deal_create
from voronka.webhooks import services
from voronka.webhooks.models import WebhookDelivery, WebhookSubscription


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    r = Receiver(ok).start()
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{r.port}")
    yield r
    r.stop()


@pytest.fixture
def sub(admin: Any, receiver: Receiver) -> WebhookSubscription:
    return services.subscription_create(
        actor=admin, data={"name": "ERP", "url": receiver.url, "events": "deal.created"}
    )


def _dispatch() -> None:
    dispatch.dispatch_pending(only=[services.CONSUMER])


def test_a_deal_event_is_delivered_signed(
    alice: Any, sub: WebhookSubscription, receiver: Receiver
) -> None:
    deal = deal_create(actor=alice, data={"title": "Поставка", "amount": 100})
    _dispatch()
    _dispatch()  # redelivery creates nothing new
    delivery = WebhookDelivery.objects.get()
    assert services.deliveries_send_due() == 1
    got = receiver.requests[0]
    body = got.json()
    assert body["id"] == str(delivery.pk) == got.headers["x-voronka-delivery"]
    assert uuid.UUID(body["id"])
    assert body["event"] == "deal.created"
    assert body["entity"] == "sales.deal" and body["entity_id"] == deal.pk
    assert "occurred_at" in body and isinstance(body["data"], dict)
    expected = hmac.new(sub.secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-voronka-signature"] == f"sha256={expected}"
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert delivery.last_response_status == 200
    assert services.deliveries_send_due() == 0


def test_events_not_subscribed_make_no_delivery(alice: Any, sub: WebhookSubscription) -> None:
    sub.events = ["deal.won"]
    sub.save()
    deal_create(actor=alice, data={"title": "X", "amount": 1})
    _dispatch()
    assert not WebhookDelivery.objects.exists()


def test_failures_are_retried_with_backoff_then_failed(
    alice: Any, sub: WebhookSubscription, receiver: Receiver
) -> None:
    receiver.reply = lambda _r: (503, {}, b"busy")
    deal_create(actor=alice, data={"title": "X", "amount": 1})
    _dispatch()
    now = timezone.now()
    services.deliveries_send_due(now=now)
    d = WebhookDelivery.objects.get()
    assert d.status == "pending" and d.attempts == 1 and d.last_response_status == 503
    first_wait = d.next_attempt_at - now
    assert services.deliveries_send_due(now=now) == 0  # not due yet
    now = d.next_attempt_at
    services.deliveries_send_due(now=now)
    d.refresh_from_db()
    assert d.next_attempt_at - now > first_wait  # exponential
    for _ in range(services.MAX_ATTEMPTS):
        now += dt.timedelta(days=1)
        services.deliveries_send_due(now=now)
    d.refresh_from_db()
    assert d.status == "failed" and d.attempts == services.MAX_ATTEMPTS
    assert d.last_error == "HTTP 503"
    assert len(receiver.requests) == services.MAX_ATTEMPTS


def test_unsafe_url_fails_at_once(alice: Any, sub: WebhookSubscription, monkeypatch: Any) -> None:
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", "")
    deal_create(actor=alice, data={"title": "X", "amount": 1})
    _dispatch()
    services.deliveries_send_due()
    d = WebhookDelivery.objects.get()
    assert d.status == "failed" and "loopback" in d.last_error


def test_admin_pages_log_and_replay(
    client: Any, admin: Any, alice: Any, sub: WebhookSubscription, receiver: Receiver
) -> None:
    deal_create(actor=alice, data={"title": "X", "amount": 1})
    _dispatch()
    services.deliveries_send_due()
    d = WebhookDelivery.objects.get()
    client.force_login(admin)
    page = client.get("/webhooks/").content.decode()
    assert "ERP" in page
    log = client.get("/webhooks/deliveries/").content.decode()
    assert "deal.created" in log
    detail = client.get(f"/webhooks/deliveries/{d.pk}/").content.decode()
    assert "X-Voronka-Delivery" in detail and str(d.pk) in detail
    resp = client.post(f"/webhooks/deliveries/{d.pk}/replay/")
    assert resp.status_code == 302
    services.deliveries_send_due()
    assert len(receiver.requests) == 2
    assert receiver.requests[1].json()["id"] != receiver.requests[0].json()["id"]
    assert receiver.requests[1].json()["data"] == receiver.requests[0].json()["data"]


def test_subscription_form_names_the_bad_field(client: Any, admin: Any) -> None:
    client.force_login(admin)
    resp = client.post("/webhooks/", {"name": "", "url": "http://169.254.169.254/"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "Enter a name." in html and "not allowed" in html
    assert not WebhookSubscription.objects.exists()


def test_non_admins_do_not_see_webhook_pages(client: Any, alice: Any) -> None:
    client.force_login(alice)
    for url in (
        "/webhooks/",
        "/webhooks/deliveries/",
        "/webhooks/jobs/",
        "/webhooks/stage-actions/",
    ):
        assert client.get(url).status_code == 404
    assert client.post("/webhooks/", {"name": "x", "url": "https://example.com"}).status_code == 404
