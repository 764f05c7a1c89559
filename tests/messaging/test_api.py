"""The messaging API: templates (administrators write), messages list/get/send with the
visibility of their contact."""

from __future__ import annotations

import pytest

from voronka.messaging.models import OutgoingMessage

pytestmark = [pytest.mark.django_db]


def test_templates_crud(api, admin, alice) -> None:
    body = {
        "key": "hi",
        "name": "Hi",
        "channel": "sms",
        "body_ru": "Привет, {{ contact.first_name }}",
    }
    assert api(alice).post("/api/v1/message-templates", body).status_code == 403
    r = api(admin).post("/api/v1/message-templates", body)
    assert r.status_code == 201, r.content
    tid = r.json()["id"]
    assert api(alice).get("/api/v1/message-templates").json()["items"][0]["key"] == "hi"
    r = api(admin).patch(f"/api/v1/message-templates/{tid}", {"body_ru": "{% if %}"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body_ru"
    assert api(admin).delete(f"/api/v1/message-templates/{tid}").status_code == 204
    assert api(admin).get(f"/api/v1/message-templates/{tid}").status_code == 404


def test_send_list_and_get(api, alice, charlie, fan, quiet) -> None:
    r = api(alice).post("/api/v1/messages", {"channel": "email", "contact_id": fan.pk,
                                             "subject": "Тема", "body": "Текст"})  # fmt: skip
    assert r.status_code == 201, r.content
    sent = r.json()
    assert (sent["status"], sent["to"], sent["contact_id"]) == (
        "queued",
        "maria@example.com",
        fan.pk,
    )
    r = api(alice).post("/api/v1/messages", {"channel": "sms", "contact_id": quiet.pk,
                                             "body": "Акция", "marketing": True})  # fmt: skip
    assert (r.json()["status"], r.json()["reason"]) == ("suppressed", "no_consent")

    items = api(alice).get("/api/v1/messages").json()["items"]
    assert [m["channel"] for m in items] == ["sms", "email"]
    assert (
        api(alice).get("/api/v1/messages", status="suppressed").json()["items"][0]["body"]
        == "Акция"
    )
    assert api(alice).get(f"/api/v1/messages/{sent['id']}").json()["subject"] == "Тема"
    assert api(charlie).get("/api/v1/messages").json()["items"] == []
    assert api(charlie).get(f"/api/v1/messages/{sent['id']}").status_code == 404
    r = api(charlie).post("/api/v1/messages", {"contact_id": fan.pk, "subject": "x", "body": "y"})
    assert r.status_code == 404


def test_send_validation_and_idempotency(api, alice, fan) -> None:
    r = api(alice).post("/api/v1/messages", {"channel": "email", "contact_id": fan.pk})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"subject", "body"}
    r = api(alice).post("/api/v1/messages", {"template": "nope", "contact_id": fan.pk})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "template"
    body = {"contact_id": fan.pk, "subject": "S", "body": "B"}
    first = api(alice).post("/api/v1/messages", body, HTTP_IDEMPOTENCY_KEY="k1").json()
    again = api(alice).post("/api/v1/messages", body, HTTP_IDEMPOTENCY_KEY="k1").json()
    assert first["id"] == again["id"] and OutgoingMessage.objects.count() == 1
