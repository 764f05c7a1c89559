"""Stage buttons: an administrator adds one to a stage, a rep presses it on a deal, the worker
sends the customer and products with an Idempotency-Key, the panel shows the outcome and the
deal's timeline records it."""

from __future__ import annotations

import datetime as dt
import json
import socket
from typing import Any

import pytest
from django.utils import timezone

from tests.webhooks.receiver import Received, Receiver
from voronka.sales.services import deal_create
from voronka.webhooks import services
from voronka.webhooks.models import StageAction, StageActionRun


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


class OrderSystem:
    """The receiver's side: one order per Idempotency-Key, whatever the retries."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}

    def reply(self, got: Received) -> tuple[int, dict[str, str], bytes]:
        key = got.headers.get("idempotency-key", "")
        if key not in self.orders:
            self.orders[key] = got.json()
        ref = f"ORD-{list(self.orders).index(key) + 1}"
        return 201, {"Content-Type": "application/json"}, json.dumps({"reference": ref}).encode()


@pytest.fixture
def deal(alice: Any, make_contact: Any) -> Any:
    contact = make_contact(alice, emails=[{"email": "ivan@example.com"}])
    return deal_create(
        actor=alice,
        data={
            "title": "Поставка",
            "contact_ids": [contact.pk],
            "lines": [{"name": "Стол", "quantity": "2", "unit_price": "1500"}],
        },
    )


def test_receiver_down_then_up_makes_one_order(
    client: Any, admin: Any, alice: Any, deal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{port}")
    client.force_login(admin)
    resp = client.post(
        "/webhooks/stage-actions/",
        {"stage_id": deal.stage_id, "label": "Create order", "url": f"http://127.0.0.1:{port}/o"},
    )
    assert resp.status_code == 302
    action = StageAction.objects.get()

    client.force_login(alice)
    panel = client.get(f"/webhooks/deals/{deal.pk}/actions/").content.decode()
    assert "Create order" in panel
    resp = client.post(
        f"/webhooks/deals/{deal.pk}/actions/{action.pk}/run/", HTTP_HX_REQUEST="true"
    )
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "sending" in html and 'hx-trigger="every 2s"' in html  # the panel polls

    now = timezone.now()
    services.runs_send_due(now=now)  # the receiver is down
    run = StageActionRun.objects.get()
    assert run.status == "pending" and run.attempts == 1 and run.last_error
    assert "ConnectionRefused" in client.get(f"/webhooks/deals/{deal.pk}/actions/").content.decode()

    system = OrderSystem()
    receiver = Receiver(system.reply).start(port)
    try:
        services.runs_send_due(now=now + dt.timedelta(hours=1))
        services.runs_send_due(now=now + dt.timedelta(hours=2))  # nothing left to send
    finally:
        receiver.stop()
    assert len(system.orders) == 1
    order = next(iter(system.orders.values()))
    assert order["idempotency_key"] == str(run.pk)
    assert order["contacts"][0]["emails"] == ["ivan@example.com"]
    assert order["products"][0]["name"] == "Стол" and order["products"][0]["quantity"] == "2.000"
    run.refresh_from_db()
    assert run.status == "succeeded" and run.reference == "ORD-1"
    panel = client.get(f"/webhooks/deals/{deal.pk}/actions/").content.decode()
    assert "ORD-1" in panel and "every 2s" not in panel
    card = client.get(deal.get_absolute_url())
    if card.status_code == 200:  # the deal card shows notes in its timeline
        assert "ORD-1" in card.content.decode()
    from voronka.core.timeline import timeline

    assert any("ORD-1" in i.body_html for i in timeline(deal, alice))


def test_a_failed_run_can_be_retried_with_the_same_key(
    client: Any, admin: Any, alice: Any, deal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = OrderSystem()
    answers = iter([(422, {}, b'{"error": "no stock"}')])

    def reply(got: Received) -> tuple[int, dict[str, str], bytes]:
        return next(answers, None) or system.reply(got)

    receiver = Receiver(reply).start()
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{receiver.port}")
    try:
        action = services.stage_action_create(
            actor=admin, data={"stage_id": deal.stage_id, "label": "Order", "url": receiver.url}
        )
        run = services.stage_action_run_start(actor=alice, action=action, deal=deal)
        services.runs_send_due()
        run.refresh_from_db()
        assert run.status == "failed" and "422" in run.last_error
        client.force_login(alice)
        panel = client.get(f"/webhooks/deals/{deal.pk}/actions/").content.decode()
        assert "no stock" in panel and "Retry" in panel
        client.post(f"/webhooks/deals/{deal.pk}/runs/{run.pk}/retry/", HTTP_HX_REQUEST="true")
        services.runs_send_due()
    finally:
        receiver.stop()
    run.refresh_from_db()
    assert run.status == "succeeded"
    keys = {r.headers["idempotency-key"] for r in receiver.requests}
    assert keys == {str(run.pk)} and len(system.orders) == 1


def test_the_panel_is_404_for_a_deal_one_may_not_see(
    client: Any, admin: Any, charlie: Any, deal: Any
) -> None:
    action = services.stage_action_create(
        actor=admin,
        data={"stage_id": deal.stage_id, "label": "Order", "url": "https://example.com/o"},
    )
    client.force_login(charlie)
    assert client.get(f"/webhooks/deals/{deal.pk}/actions/").status_code == 404
    resp = client.post(f"/webhooks/deals/{deal.pk}/actions/{action.pk}/run/")
    assert resp.status_code == 404
    assert not StageActionRun.objects.exists()
