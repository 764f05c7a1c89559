"""Authentication (bearer keys, the browser session with CSRF), the OpenAPI document and the
interactive docs page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from voronka.customers.models import Contact

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/contacts", "/api/v1/companies", "/api/v1/tags", "/api/v1/custom-fields",
    "/api/v1/users", "/api/v1/teams", "/api/v1/search?q=x",
]  # fmt: skip


@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_credentials_is_401_json(client: Client, alice: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert response.json()["errors"] == []
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_write_without_credentials_is_401_not_a_csrf_403(client: Client) -> None:
    response = client.post("/api/v1/contacts", {"last_name": "X"}, content_type="application/json")
    assert response.status_code == 401
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("header", ["Bearer vk_wrong", "Bearer ", "Basic YWxpY2U6eA==", "vk_x"])
def test_a_wrong_key_is_401(client: Client, header: str) -> None:
    assert client.get("/api/v1/contacts", HTTP_AUTHORIZATION=header).status_code == 401


def test_a_revoked_key_is_401(client: Client, alice: Any, make_contact: Any) -> None:
    from voronka.accounts.services import apikey_create, apikey_revoke

    make_contact(alice)
    key, raw = apikey_create(user=alice, name="script")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/contacts", **headers).status_code == 200
    apikey_revoke(key=key, actor=alice)
    assert client.get("/api/v1/contacts", **headers).status_code == 401


def test_a_deactivated_users_key_is_401(client: Client, alice: Any, admin: Any) -> None:
    from voronka.accounts.services import apikey_create, user_update

    _key, raw = apikey_create(user=alice, name="script")
    user_update(user=alice, changes={"is_active": False}, actor=admin)
    assert client.get("/api/v1/contacts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_errors_speak_the_key_owners_language(api: Any, make_user: Any) -> None:
    ivan = make_user("ivan", language="ru")
    response = api(ivan).post("/api/v1/contacts", {"last_name": "X", "emails": ["bad"]})
    assert response.status_code == 422
    english = api(make_user("john", language="en")).post(
        "/api/v1/contacts", {"last_name": "X", "emails": ["bad"]}
    )
    # The server's default language is Russian, so the English answer proves the switch.
    assert english.json()["errors"][0]["message"] == "not a valid e-mail address"
    assert response.json()["errors"][0]["field"] == "emails[0].email"
    assert response.json()["errors"][0]["message"] != "not a valid e-mail address"


def test_the_key_sees_what_its_user_sees(api: Any, alice: Any, bob: Any, make_contact: Any) -> None:
    mine = make_contact(alice, last_name="Моя")
    make_contact(bob, last_name="Чужая")
    assert [c["id"] for c in api(alice).get("/api/v1/contacts").json()["items"]] == [mine.pk]


def test_session_auth_reads_and_needs_csrf_to_write(alice: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get("/api/v1/contacts").status_code == 200

    refused = browser.post("/api/v1/contacts", {"last_name": "X"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert Contact.objects.count() == 0

    docs = browser.get("/api/v1/docs")
    token = re.search(r'data-csrf-token="([^"]+)"', docs.content.decode())
    assert token is not None
    created = browser.post(
        "/api/v1/contacts", {"last_name": "X"}, content_type="application/json",
        HTTP_X_CSRFTOKEN=token.group(1),
    )  # fmt: skip
    assert created.status_code == 201
    assert created.json()["owner_id"] == alice.pk


def test_openapi_document_lists_every_path(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/contacts", "/api/v1/contacts/{contact_id}", "/api/v1/companies",
        "/api/v1/companies/{company_id}", "/api/v1/tags", "/api/v1/tags/{tag_id}",
        "/api/v1/custom-fields", "/api/v1/custom-fields/{field_id}", "/api/v1/users",
        "/api/v1/users/{user_id}", "/api/v1/teams", "/api/v1/teams/{team_id}", "/api/v1/search",
    } <= paths  # fmt: skip
    assert set(schema["paths"]["/api/v1/contacts/{contact_id}"]) == {"get", "patch", "delete"}
    assert set(schema["paths"]["/api/v1/users/{user_id}"]) == {"get"}
    listed = {p["name"] for p in schema["paths"]["/api/v1/contacts"]["get"]["parameters"]}
    assert {"q", "owner", "tag", "sort", "cursor", "limit"} <= listed
    assert "BearerKeyAuth" in schema["components"]["securitySchemes"]
    contact_in = schema["components"]["schemas"]["ContactIn"]
    assert contact_in["additionalProperties"] is False
    assert contact_in["properties"]["emails"]["type"] == "array"


def test_docs_page_loads_its_assets_without_a_cdn(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    assert "cdn" not in html.lower()
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()


def test_unknown_api_paths_are_404_json(api: Any, alice: Any) -> None:
    response = api(alice).get("/api/v1/no-such-things")
    assert response.status_code == 404
    assert response.json()["errors"] == []


def test_a_method_an_endpoint_lacks_is_405_json(api: Any, alice: Any) -> None:
    response = api(alice).delete("/api/v1/contacts")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "DELETE" in body["detail"] and body["errors"] == []
