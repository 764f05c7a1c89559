"""The webhooks API: administrators manage subscriptions, ping them and read the delivery log
with each request and answer; everyone else gets 403. The secret is shown once; a URL into our
own network is a 422 naming ``url``. Deliveries go to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.webhooks.receiver import Receiver, ok
from voronka.core import dispatch
from voronka.sales.services import deal_create
from voronka.webhooks import services
from voronka.webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    r = Receiver(ok).start()
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{r.port}")
    yield r
    r.stop()


@pytest.fixture
def created(api: Any, admin: Any, receiver: Receiver) -> dict[str, Any]:
    """A subscription made through the API: the answer, secret included."""
    response = api(admin).post(
        "/api/v1/webhooks", {"name": "ERP", "url": receiver.url, "events": ["deal.created"]}
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def _signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _deliver_deal_events() -> None:
    """What the worker does: the dispatcher writes deliveries, the job sends them."""
    dispatch.dispatch_pending(only=[services.CONSUMER])
    services.deliveries_send_due()


# --- subscriptions -------------------------------------------------------------------------


def test_the_secret_is_shown_on_create_only_then_a_hint(
    api: Any, admin: Any, created: dict[str, Any]
) -> None:
    secret = created["secret"]
    assert len(secret) >= 32
    assert created["secret_hint"] == secret[-4:]
    assert created["events"] == ["deal.created"] and created["is_active"] is True
    assert created["created_by_id"] == admin.pk
    client = api(admin)
    read = client.get(f"/api/v1/webhooks/{created['id']}").json()
    listed = client.get("/api/v1/webhooks").json()
    patched = client.patch(f"/api/v1/webhooks/{created['id']}", {"name": "ERP 2"}).json()
    for answer in (read, listed, patched):
        assert secret not in json.dumps(answer)
        assert "secret" not in (answer["items"][0] if "items" in answer else answer)
    assert read["secret_hint"] == secret[-4:]
    assert WebhookSubscription.objects.get().secret == secret

    rotated = client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret").json()
    assert rotated["secret"] != secret and rotated["secret_hint"] == rotated["secret"][-4:]
    assert "secret" not in client.get(f"/api/v1/webhooks/{created['id']}").json()


def test_create_with_the_same_idempotency_key_makes_one_subscription(
    api: Any, admin: Any, receiver: Receiver
) -> None:
    body = {"name": "ERP", "url": receiver.url}
    first = api(admin).post("/api/v1/webhooks", body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api(admin).post("/api/v1/webhooks", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert WebhookSubscription.objects.count() == 1


def test_list_pages_by_cursor_within_a_query_budget(
    api: Any, admin: Any, receiver: Receiver, django_assert_max_num_queries: Any
) -> None:
    for name in ["Delta", "Alpha", "Charlie", "Bravo", "Echo"]:
        services.subscription_create(actor=admin, data={"name": name, "url": receiver.url})
    client = api(admin)
    names: list[str] = []
    cursor = None
    for _page in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        with django_assert_max_num_queries(4):
            page = client.get("/api/v1/webhooks", **params).json()
        names += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert names == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert cursor is None
    assert client.get("/api/v1/webhooks", limit=0).status_code == 422


def test_patch_changes_only_the_keys_sent(
    api: Any, admin: Any, created: dict[str, Any], receiver: Receiver
) -> None:
    client = api(admin)
    url = f"/api/v1/webhooks/{created['id']}"
    answer = client.patch(url, {"events": ["deal.won", "deal.lost", "deal.won"]})
    assert answer.status_code == 200, answer.content
    assert answer.json()["events"] == ["deal.lost", "deal.won"]
    assert answer.json()["name"] == "ERP" and answer.json()["url"] == receiver.url
    off = client.patch(url, {"is_active": False}).json()
    assert off["is_active"] is False and off["events"] == ["deal.lost", "deal.won"]

    for body, field in [({"name": ""}, "name"), ({"is_active": None}, "is_active"),
                        ({"colour": "red"}, "colour"), ({"events": "deal.won"}, "events")]:  # fmt: skip
        bad = client.patch(url, body)
        assert bad.status_code == 422, (body, bad.content)
        assert field in [e["field"] for e in bad.json()["errors"]], bad.json()
    sub = WebhookSubscription.objects.get()
    assert (sub.name, sub.is_active) == ("ERP", False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/hook",  # loopback, a port the allow-list does not name
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.0.0.5/hook",
        "http://2130706433/hook",  # 127.0.0.1 in decimal
        "http://[::ffff:127.0.0.1]/hook",
        "ftp://example.com/hook",
        "",
    ],
)
def test_urls_into_our_own_network_are_422_naming_url(
    api: Any, admin: Any, created: dict[str, Any], url: str
) -> None:
    client = api(admin)
    refused = client.post("/api/v1/webhooks", {"name": "Internal", "url": url})
    assert refused.status_code == 422, refused.content
    assert [e["field"] for e in refused.json()["errors"]] == ["url"]
    patched = client.patch(f"/api/v1/webhooks/{created['id']}", {"url": url})
    assert patched.status_code == 422
    assert [e["field"] for e in patched.json()["errors"]] == ["url"]
    assert list(WebhookSubscription.objects.values_list("name", "url")) == [("ERP", created["url"])]


def test_only_administrators_see_or_change_webhooks(
    api: Any, make_user: Any, alice: Any, created: dict[str, Any]
) -> None:
    pk = created["id"]
    delivery = WebhookDelivery.objects.create(
        subscription_id=pk, event="deal.created", payload={"id": "x"}
    )
    head = make_user("hannah", role="head_of_sales")
    for user in (alice, head):
        client = api(user)
        calls = [
            client.get("/api/v1/webhooks"),
            client.post("/api/v1/webhooks", {"name": "X", "url": created["url"]}),
            client.get(f"/api/v1/webhooks/{pk}"),
            client.get("/api/v1/webhooks/999999"),  # unknown ids do not leak either
            client.patch(f"/api/v1/webhooks/{pk}", {"name": "Mine"}),
            client.delete(f"/api/v1/webhooks/{pk}"),
            client.post(f"/api/v1/webhooks/{pk}/test"),
            client.post(f"/api/v1/webhooks/{pk}/rotate-secret"),
            client.get(f"/api/v1/webhooks/{pk}/deliveries"),
            client.get(f"/api/v1/webhook-deliveries/{delivery.pk}"),
            client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay"),
        ]
        assert [c.status_code for c in calls] == [403] * len(calls), user.username
        assert created["secret"] not in b"".join(c.content for c in calls).decode()
    sub = WebhookSubscription.objects.get()
    assert sub.name == "ERP" and sub.secret == created["secret"]
    assert WebhookDelivery.objects.count() == 1


def test_unknown_ids_are_404_for_an_administrator(api: Any, admin: Any) -> None:
    client = api(admin)
    assert client.get("/api/v1/webhooks/999999").status_code == 404
    assert client.patch("/api/v1/webhooks/999999", {"name": "X"}).status_code == 404
    assert client.post("/api/v1/webhooks/999999/test").status_code == 404
    assert client.get(f"/api/v1/webhook-deliveries/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/v1/webhook-deliveries/not-a-uuid").status_code == 404
    assert client.post(f"/api/v1/webhook-deliveries/{uuid.uuid4()}/replay").status_code == 404


def test_delete_removes_the_subscription_and_its_log(
    api: Any, admin: Any, created: dict[str, Any]
) -> None:
    client = api(admin)
    client.post(f"/api/v1/webhooks/{created['id']}/test")
    assert WebhookDelivery.objects.count() == 1
    assert client.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert not WebhookDelivery.objects.exists()


# --- ping, deliveries, replay ----------------------------------------------------------------


def test_ping_is_sent_signed_and_answered_with_request_and_response(
    api: Any, admin: Any, created: dict[str, Any], receiver: Receiver
) -> None:
    answer = api(admin).post(f"/api/v1/webhooks/{created['id']}/test")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    got = receiver.requests[-1]
    assert got.headers["x-voronka-event"] == "webhook.ping"
    assert got.headers["x-voronka-delivery"] == body["id"] == got.json()["id"]
    assert got.headers["x-voronka-signature"] == _signature(created["secret"], got.body)
    envelope = got.json()
    assert set(envelope) == {"id", "event", "occurred_at", "entity", "entity_id", "data"}
    assert envelope["entity"] == "webhooks.subscription"
    assert envelope["entity_id"] == created["id"]
    assert body["status"] == "delivered" and body["attempts"] == 1
    assert body["payload"] == envelope
    assert body["request"]["body"].encode() == got.body
    assert body["request"]["url"] == receiver.url and body["request"]["method"] == "POST"
    assert "X-Voronka-Signature" not in body["request"]["headers"]
    assert body["response"] == {"status": 200, "body": '{"ok": true}'}


def test_a_failed_ping_is_failed_at_once_not_retried(
    api: Any, admin: Any, created: dict[str, Any], receiver: Receiver
) -> None:
    receiver.reply = lambda _r: (500, {}, b"boom")
    body = api(admin).post(f"/api/v1/webhooks/{created['id']}/test").json()
    assert body["status"] == "failed" and body["next_attempt_at"] is None
    assert body["response"] == {"status": 500, "body": "boom"}
    assert body["last_error"] == "HTTP 500"
    receiver.stop()
    down = api(admin).post(f"/api/v1/webhooks/{created['id']}/test").json()
    assert down["status"] == "failed" and down["response"] is None
    assert down["last_error"]  # the connection error, in words
    assert services.deliveries_send_due() == 0


def test_deliveries_page_newest_first_and_show_request_and_response(
    api: Any, admin: Any, alice: Any, created: dict[str, Any], receiver: Receiver,
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    deals = [deal_create(actor=alice, data={"title": f"Deal {i}", "amount": i}) for i in range(5)]
    _deliver_deal_events()
    assert len(receiver.requests) == 5
    client = api(admin)
    url = f"/api/v1/webhooks/{created['id']}/deliveries"
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        with django_assert_max_num_queries(5):
            page = client.get(url, **params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len({d["id"] for d in seen}) == 5
    newest_first = WebhookDelivery.objects.order_by("-created_at", "-id").values_list(
        "id", flat=True
    )
    assert [d["id"] for d in seen] == [str(pk) for pk in newest_first]
    assert {d["status"] for d in seen} == {"delivered"}
    assert sorted(d["event_id"] is not None for d in seen) == [True] * 5
    assert client.get(url, status="failed").json()["items"] == []
    assert len(client.get(url, status="delivered").json()["items"]) == 5
    assert client.get(url, status="lost").status_code == 422
    assert client.get(url, cursor="garbage").status_code == 422

    by_id = {r.headers["x-voronka-delivery"]: r for r in receiver.requests}
    detail = client.get(f"/api/v1/webhook-deliveries/{seen[0]['id']}").json()
    got = by_id[detail["id"]]
    assert detail["payload"] == got.json()
    assert detail["payload"]["event"] == "deal.created"
    assert detail["payload"]["entity"] == "sales.deal"
    assert detail["payload"]["entity_id"] in {d.pk for d in deals}
    assert detail["request"]["body"].encode() == got.body
    assert detail["request"]["headers"]["X-Voronka-Delivery"] == detail["id"]
    assert detail["response"]["status"] == 200
    assert got.headers["x-voronka-signature"] == _signature(created["secret"], got.body)


def test_a_pending_delivery_has_no_request_or_response_yet(
    api: Any, admin: Any, alice: Any, created: dict[str, Any]
) -> None:
    deal_create(actor=alice, data={"title": "Later", "amount": 1})
    dispatch.dispatch_pending(only=[services.CONSUMER])
    delivery = WebhookDelivery.objects.get()
    detail = api(admin).get(f"/api/v1/webhook-deliveries/{delivery.pk}").json()
    assert detail["status"] == "pending" and detail["attempts"] == 0
    assert detail["request"] is None and detail["response"] is None
    assert detail["payload"]["id"] == str(delivery.pk)


def test_replay_queues_the_same_payload_as_a_new_delivery(
    api: Any, admin: Any, alice: Any, created: dict[str, Any], receiver: Receiver
) -> None:
    deal_create(actor=alice, data={"title": "Again", "amount": 1})
    _deliver_deal_events()
    first = WebhookDelivery.objects.get()
    answer = api(admin).post(f"/api/v1/webhook-deliveries/{first.pk}/replay")
    assert answer.status_code == 201, answer.content
    new = answer.json()
    assert new["id"] != str(first.pk) and new["status"] == "pending"
    assert new["event_id"] is None and new["payload"]["id"] == new["id"]
    assert services.deliveries_send_due() == 1
    original, replayed = receiver.requests[0].json(), receiver.requests[1].json()
    assert replayed["id"] == new["id"] != original["id"]
    assert {k: v for k, v in replayed.items() if k != "id"} == {
        k: v for k, v in original.items() if k != "id"
    }
    assert api(admin).get(f"/api/v1/webhook-deliveries/{new['id']}").json()["status"] == (
        "delivered"
    )


def test_openapi_documents_the_delivery_envelope(api: Any, admin: Any) -> None:
    doc = api(admin).get("/api/v1/openapi.json").json()
    envelope = doc["components"]["schemas"]["WebhookEnvelope"]
    assert set(envelope["required"]) >= {"id", "event", "occurred_at", "entity", "data"}
    assert set(envelope["properties"]) == {
        "id", "event", "occurred_at", "entity", "entity_id", "data"
    }  # fmt: skip
    assert "X-Voronka-Delivery" in envelope["properties"]["id"]["description"]
    create = doc["paths"]["/api/v1/webhooks"]["post"]
    assert "X-Voronka-Signature" in create["description"]
    detail = doc["paths"]["/api/v1/webhook-deliveries/{delivery_id}"]["get"]
    schema = detail["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    detail_schema = doc["components"]["schemas"][schema.rsplit("/", 1)[-1]]
    assert detail_schema["properties"]["payload"]["$ref"].endswith("/WebhookEnvelope")
    # The OpenAPI 3.1 "webhooks" entry: what Voronka POSTs to a receiver, and its headers.
    hook = doc["webhooks"]["voronkaEvent"]["post"]
    body = hook["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body == "#/components/schemas/WebhookEnvelope"
    assert {p["name"] for p in hook["parameters"]} == {
        "X-Voronka-Event", "X-Voronka-Delivery", "X-Voronka-Signature"
    }  # fmt: skip
