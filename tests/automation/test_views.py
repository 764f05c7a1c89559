"""The automation pages as an administrator sees them; everyone else gets 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from voronka.automation.models import Rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Any, admin: Any) -> Any:
    client.force_login(admin)
    return client


FORM = {
    "name": "Greet", "active": "on", "trigger_type": "record_created", "trigger_entity": "contact",
    "cop": "and", "g-1-op": "or",
    "c-1-1-field": "tags", "c-1-1-cmp": "eq", "c-1-1-value": "vip",
    "c-1-2-field": "custom.tier", "c-1-2-cmp": "not_empty", "c-1-2-value": "",
    "a-5-type": "notify", "a-5-user": "owner", "a-5-title": "Hello",
    "a-9-type": "add_tag", "a-9-tag": "greeted",
}  # fmt: skip


def test_build_a_rule_with_the_form(admin_client):
    response = admin_client.post(reverse("automation:rule_new"), FORM)
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert rule.trigger == {"type": "record_created", "entity": "contact"}
    assert rule.conditions["items"][0]["op"] == "or"
    assert [r["field"] for r in rule.conditions["items"][0]["items"]] == ["tags", "custom.tier"]
    assert [a["type"] for a in rule.actions] == ["notify", "add_tag"]
    page = admin_client.get(reverse("automation:rule_edit", args=[rule.pk]))
    assert 'value="custom.tier"' in page.content.decode()
    listing = admin_client.get(reverse("automation:rules")).content.decode()
    assert "Greet" in listing and 'role="switch"' in listing


def test_errors_are_shown_next_to_the_field(admin_client):
    bad = {**FORM, "name": "", "a-9-tag": "", "c-1-1-field": ""}
    response = admin_client.post(reverse("automation:rule_new"), bad)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("invalid-feedback") >= 3 and "name the tag" in html
    assert 'id="id_a-1-tag_error"' in html and 'id="id_c-0-0-field_error"' in html
    assert not Rule.objects.exists()
    htmx = admin_client.post(reverse("automation:rule_new"), bad, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400


def test_toggle_runs_and_test_pages(admin_client, admin, make_contact):
    admin_client.post(reverse("automation:rule_new"), FORM)
    rule = Rule.objects.get()
    admin_client.post(reverse("automation:rule_toggle", args=[rule.pk]), {})
    rule.refresh_from_db()
    assert rule.active is False
    contact = make_contact(admin, tags=["VIP"])
    url = reverse("automation:rule_test", args=[rule.pk])
    html = admin_client.post(url, {"record_id": contact.pk}).content.decode()
    assert "would add the tag “greeted”" in html and not contact.tags.filter(name="greeted")
    html = admin_client.post(url, {"record_id": 999999}).content.decode()
    assert "no such record" in html
    admin_client.post(url, {"record_id": contact.pk, "really": "on"})
    assert contact.tags.filter(name="greeted").exists()
    log = admin_client.get(reverse("automation:rule_runs", args=[rule.pk])).content.decode()
    assert "2 runs" in log and "tag “greeted” added" in log


def test_htmx_rows(admin_client):
    row = admin_client.get(reverse("automation:action_row"), {"index": "7", "a-7-type": "wait"})
    assert 'name="a-7-minutes"' in row.content.decode()
    group = admin_client.get(reverse("automation:condition_row"), {"entity": "deal"})
    assert "-0-field" in group.content.decode()
    trig = admin_client.get(
        reverse("automation:trigger_fields"), {"trigger_type": "schedule", "trigger_every": "week"}
    )
    assert 'name="trigger_weekday"' in trig.content.decode()


def test_recipes_page_installs(admin_client):
    page = admin_client.get(reverse("automation:recipes"))
    assert "Birthday greeting" in page.content.decode()
    response = admin_client.post(reverse("automation:recipes"), {"recipe": "lead_welcome"})
    rule = Rule.objects.get()
    assert response.url == reverse("automation:rule_edit", args=[rule.pk])
    assert admin_client.get(response.url).status_code == 200


def test_others_get_404(client, alice):
    client.force_login(alice)
    for name in ("automation:rules", "automation:recipes", "automation:rule_new"):
        assert client.get(reverse(name)).status_code == 404
