"""Web forms, submissions and lead sources over the REST API: administrators only."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.channels.models import LeadSource, WebForm
from voronka.channels.services import Visit, form_submit, secret_matches

pytestmark = [pytest.mark.django_db]


def test_forms_create_read_update_list(api: Any, admin: Any) -> None:
    client = api(admin)
    created = client.post("/api/v1/web-forms", {
        "name": "Landing", "fields": [{"key": "email", "required": True}, {"key": "message"}],
        "allowed_origins": ["https://shop.example"], "success_message": "Thanks!",
    })  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    form = WebForm.objects.get()
    assert body["id"] == form.pk
    assert body["fields"][0] == {"key": "email", "label": "E-mail", "required": True}
    assert body["page_url"] == f"http://testserver/channels/f/{form.token}/"
    assert body["submit_url"] == f"http://testserver/channels/f/{form.token}/submit/"
    assert f'src="http://testserver/channels/f/{form.token}/embed.js"' in body["snippet"]
    assert client.get(f"/api/v1/web-forms/{form.pk}").json()["name"] == "Landing"
    patched = client.patch(f"/api/v1/web-forms/{form.pk}", {"active": False, "title": "Hi"})
    assert patched.status_code == 200
    assert (patched.json()["active"], patched.json()["title"], patched.json()["name"]) == (
        False,
        "Hi",
        "Landing",
    )
    page = client.get("/api/v1/web-forms", limit=1)
    assert [f["id"] for f in page.json()["items"]] == [form.pk]


def test_form_errors_name_the_field(api: Any, admin: Any) -> None:
    client = api(admin)
    response = client.post(
        "/api/v1/web-forms", {"name": "X", "fields": [{"key": "shoe"}], "extra": 1}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"extra"}
    response = client.post("/api/v1/web-forms", {"name": "X", "fields": [{"key": "shoe"}]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "fields[0].key"
    assert client.get("/api/v1/web-forms/999").status_code == 404
    assert client.post("/api/v1/web-forms", raw="{nope").status_code == 400
    assert not WebForm.objects.exists()


def test_submissions_are_listed_newest_first(api: Any, admin: Any, web_form: Any) -> None:
    for i in range(3):
        form_submit(form=web_form, values={"first_name": f"V{i}", "email": f"v{i}@x.ru"},
                    visit=Visit(utm={"utm_source": "vk"}, ip="192.0.2.1"))  # fmt: skip
    client = api(admin)
    first = client.get(f"/api/v1/web-forms/{web_form.pk}/submissions", limit=2).json()
    assert [s["data"]["first_name"] for s in first["items"]] == ["V2", "V1"]
    assert first["items"][0]["utm"] == {"utm_source": "vk"}
    assert first["items"][0]["ip"] == "192.0.2.1" and first["items"][0]["lead_id"]
    rest = client.get(
        f"/api/v1/web-forms/{web_form.pk}/submissions", cursor=first["next_cursor"]
    ).json()
    assert [s["data"]["first_name"] for s in rest["items"]] == ["V0"]
    assert client.get(f"/api/v1/web-forms/{web_form.pk}/submissions", limit=0).status_code == 422


def test_lead_sources_create_list_rotate(api: Any, admin: Any) -> None:
    client = api(admin)
    created = client.post("/api/v1/lead-sources", {"name": "Marketplace"})
    assert created.status_code == 201
    body = created.json()
    source = LeadSource.objects.get()
    assert secret_matches(source, body["secret"])
    assert body["url"] == f"http://testserver/channels/hooks/{source.token}/"
    listed = client.get("/api/v1/lead-sources").json()["items"]
    assert [s["name"] for s in listed] == ["Marketplace"] and "secret" not in listed[0]
    assert "secret" not in client.get(f"/api/v1/lead-sources/{source.pk}").json()
    rotated = client.post(f"/api/v1/lead-sources/{source.pk}/rotate-secret")
    assert rotated.status_code == 200
    source.refresh_from_db()
    assert secret_matches(source, rotated.json()["secret"])
    assert not secret_matches(source, body["secret"])
    assert client.post("/api/v1/lead-sources", {"name": ""}).status_code == 422


def test_everyone_else_gets_403(api: Any, alice: Any, web_form: Any, make_source: Any) -> None:
    source, _secret = make_source()
    client = api(alice)
    for path in ("/api/v1/web-forms", f"/api/v1/web-forms/{web_form.pk}",
                 f"/api/v1/web-forms/{web_form.pk}/submissions", "/api/v1/lead-sources"):  # fmt: skip
        assert client.get(path).status_code == 403, path
    assert (
        client.post("/api/v1/web-forms", {"name": "x", "fields": [{"key": "email"}]}).status_code
        == 403
    )
    assert client.patch(f"/api/v1/web-forms/{web_form.pk}", {"active": False}).status_code == 403
    assert client.post("/api/v1/lead-sources", {"name": "x"}).status_code == 403
    assert client.post(f"/api/v1/lead-sources/{source.pk}/rotate-secret").status_code == 403
    assert WebForm.objects.count() == 1 and LeadSource.objects.count() == 1


def test_the_endpoints_are_documented(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/web-forms", "/api/v1/web-forms/{form_id}/submissions",
            "/api/v1/lead-sources/{source_id}/rotate-secret"} <= set(paths)  # fmt: skip
