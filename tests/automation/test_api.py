"""The automation API: admins manage rules, others get 403, errors name the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from voronka.automation.models import Rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(client: Any, api_key_for: Any) -> Any:
    """The real API at /api/v1/automation, authenticated with the user's bearer key."""

    def do(user: Any, method: str, path: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {api_key_for(user)}"}
        url = "/api/v1/automation" + path
        if body is not None:
            return getattr(client, method)(
                url, json.dumps(body), content_type="application/json", **kwargs
            )
        return getattr(client, method)(url, **kwargs)

    return do


RULE = {"name": "Welcome", "active": True,
        "trigger": {"type": "record_created", "entity": "lead"},
        "actions": [{"type": "notify", "user": "owner", "title": "New lead"}]}  # fmt: skip


def test_crud_enable_runs_and_recipes(call, admin, alice):
    response = call(admin, "post", "/rules", RULE)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert call(admin, "post", f"/rules/{pk}/disable").json()["active"] is False
    assert call(admin, "post", f"/rules/{pk}/enable").json()["active"] is True
    patched = call(admin, "patch", f"/rules/{pk}", {"name": "Hello"})
    assert patched.json()["name"] == "Hello"
    assert [r["name"] for r in call(admin, "get", "/rules").json()] == ["Hello"]
    from voronka.sales.services import lead_create

    lead = lead_create(actor=alice, data={"first_name": "Ivan"})
    test = call(admin, "post", f"/rules/{pk}/test", {"record_id": lead.pk})
    assert test.json()["steps"][0]["result"].startswith("would notify")
    runs = call(admin, "get", f"/rules/{pk}/runs").json()
    assert runs[0]["dry_run"] is True
    recipes = call(admin, "get", "/recipes").json()
    assert "birthday_greeting" in {r["key"] for r in recipes}
    assert call(admin, "post", "/recipes/lead_welcome/install").status_code == 201
    assert call(admin, "post", "/recipes/nope/install").status_code == 404
    assert call(admin, "delete", f"/rules/{pk}").status_code == 204
    assert Rule.objects.count() == 1


def test_bad_rule_is_422_with_fields(call, admin):
    response = call(admin, "post", "/rules", {**RULE, "actions": [{"type": "move_stage"}]})
    assert response.status_code == 422
    assert "actions.0.stage_id" in json.dumps(response.json())
    assert not Rule.objects.exists()


def test_non_admin_gets_403(call, alice):
    assert call(alice, "get", "/rules").status_code == 403
    assert call(alice, "post", "/rules", RULE).status_code == 403
