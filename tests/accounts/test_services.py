"""Users, teams, roles and API keys."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate

from voronka.accounts.models import ApiKey
from voronka.accounts.services import (
    apikey_authenticate,
    apikey_create,
    apikey_revoke,
    role_update,
    team_create,
    user_create,
    user_update,
)
from voronka.core.errors import ServiceValidationError

pytestmark = pytest.mark.django_db


def test_login_by_username_or_email_case_insensitive(alice: Any, password: str) -> None:
    assert authenticate(username="alice", password=password) == alice
    assert authenticate(username="ALICE@example.com", password=password) == alice
    assert authenticate(username="alice", password="wrong") is None
    assert authenticate(username="nobody", password=password) is None


def test_inactive_user_cannot_log_in(alice: Any, password: str, admin: Any) -> None:
    user_update(user=alice, changes={"is_active": False}, actor=admin)
    assert authenticate(username="alice", password=password) is None


def test_api_key_is_stored_hashed_shown_once_and_revocable(alice: Any) -> None:
    key, raw = apikey_create(user=alice, name="integration")
    assert raw.startswith("vk_") and len(raw) > 40
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in (stored.key_hash, stored.prefix) and stored.prefix == raw[:11]
    assert apikey_authenticate(raw) == alice
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    apikey_revoke(key=stored, actor=alice)
    assert apikey_authenticate(raw) is None
    assert apikey_authenticate("vk_guess") is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"username": "alice"}, "username"), ({"username": "a b"}, "username"),
     ({"email": "alice@example.com"}, "email"), ({"email": "nope"}, "email"),
     ({"password": "123"}, "password"), ({"role_code": "king"}, "role")],
)  # fmt: skip
def test_user_create_validation(alice: Any, kwargs: dict[str, Any], field: str) -> None:
    data: dict[str, Any] = {"username": "newbie", "password": "Correct-Horse-42", **kwargs}
    with pytest.raises(ServiceValidationError) as exc:
        user_create(**data)
    assert field in {e.field for e in exc.value.errors}


def test_team_names_unique(db: Any) -> None:
    team_create(name="Продажи")
    with pytest.raises(ServiceValidationError) as exc:
        team_create(name="Продажи")
    assert exc.value.errors[0].field == "name"


def test_role_scope_is_validated_and_admin_always_sees_all(db: Any) -> None:
    from voronka.accounts.models import Role

    with pytest.raises(ServiceValidationError):
        role_update(role=Role.objects.get(code="sales_rep"), changes={"scope": "galaxy"})
    with pytest.raises(ServiceValidationError):
        role_update(role=Role.objects.get(code="admin"), changes={"scope": "own"})
    role = role_update(role=Role.objects.get(code="sales_rep"), changes={"scope": "team"})
    assert role.scope == "team"


def test_six_built_in_roles(db: Any) -> None:
    from voronka.accounts.models import Role

    assert set(Role.objects.values_list("code", flat=True)) == {
        "admin", "head_of_sales", "sales_rep", "marketer", "support", "read_only"}  # fmt: skip
