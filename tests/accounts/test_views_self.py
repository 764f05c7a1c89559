"""The user's own pages: profile and API keys."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from voronka.accounts.models import ApiKey

pytestmark = pytest.mark.django_db


def test_profile_saves_name_email_and_language(client: Client, alice: Any) -> None:
    client.force_login(alice)
    url = reverse("accounts:profile")
    assert "alice@example.com" in client.get(url).content.decode()
    response = client.post(url, {"first_name": "Алиса", "last_name": "Смирнова",
                                 "middle_name": "", "email": "ALICE.S@example.com",
                                 "language": "ru"})  # fmt: skip
    assert response.status_code == 302
    assert response.cookies["voronka_lang"].value == "ru"
    alice.refresh_from_db()
    assert (alice.first_name, alice.email, alice.language) == ("Алиса", "alice.s@example.com", "ru")
    assert "Профиль" in client.get(url).content.decode()


def test_profile_rejects_anothers_email(client: Client, alice: Any, bob: Any) -> None:
    client.force_login(alice)
    response = client.post(reverse("accounts:profile"),
                           {"email": "bob@example.com", "language": "en"})  # fmt: skip
    assert response.status_code == 200
    assert "this e-mail belongs to another user" in response.content.decode()


def test_api_key_is_shown_once_and_revoke_works(client: Client, alice: Any) -> None:
    client.force_login(alice)
    url = reverse("accounts:api_keys")
    response = client.post(url, {"name": "1C sync"})
    html = response.content.decode()
    key = ApiKey.objects.get(user=alice)
    start = html.index('id="new-api-key" value="') + len('id="new-api-key" value="')
    raw = html[start : html.index('"', start)]
    assert raw.startswith(key.prefix)
    assert response["Cache-Control"] == "no-store"

    listing = client.get(url).content.decode()
    assert "1C sync" in listing
    assert key.prefix in listing
    assert raw not in listing  # never shown again

    # the key works against the API until it is revoked
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert Client().get("/api/v1/tags", **bearer).status_code == 200
    client.post(reverse("accounts:api_key_revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert Client().get("/api/v1/tags", **bearer).status_code == 401
    assert "revoked" in client.get(url).content.decode()


def test_cannot_revoke_someone_elses_key(client: Client, alice: Any, charlie: Any) -> None:
    from voronka.accounts.services import apikey_create

    key, _raw = apikey_create(user=charlie, name="charlie's")
    client.force_login(alice)
    assert client.post(reverse("accounts:api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
