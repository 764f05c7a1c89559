"""The administration pages: only for administrators; every change goes through a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from voronka.accounts.models import Role, Team, User

pytestmark = pytest.mark.django_db

ADMIN_URLS = [
    ("accounts:users", []), ("accounts:user_new", []), ("accounts:teams", []),
    ("accounts:roles", []),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args"), ADMIN_URLS)
def test_admin_pages_are_404_for_a_sales_rep(client: Client, alice: Any, name: str,
                                             args: list[Any]) -> None:  # fmt: skip
    client.force_login(alice)
    assert client.get(reverse(name, args=args)).status_code == 404
    assert client.post(reverse(name, args=args), {"name": "x"}).status_code == 404


def test_admin_post_actions_are_404_for_a_sales_rep(client: Client, alice: Any, bob: Any,
                                                    team_a: Any) -> None:  # fmt: skip
    client.force_login(alice)
    assert client.get(reverse("accounts:user_edit", args=[bob.pk])).status_code == 404
    assert client.post(reverse("accounts:user_password", args=[bob.pk]),
                       {"password1": "Hacked-Pass-1", "password2": "Hacked-Pass-1"}).status_code == 404  # fmt: skip
    assert client.post(reverse("accounts:team_delete", args=[team_a.pk])).status_code == 404
    assert Team.objects.filter(pk=team_a.pk).exists()


def test_admin_sees_users_and_the_nav_link(client: Client, admin: Any, alice: Any) -> None:
    client.force_login(admin)
    page = client.get(reverse("accounts:users")).content.decode()
    assert "alice@example.com" in page
    assert reverse("accounts:users") in client.get("/").content.decode()


def test_nav_has_no_admin_link_for_a_sales_rep(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert reverse("accounts:users") not in client.get("/").content.decode()


def test_admin_creates_a_user_who_can_sign_in(client: Client, admin: Any, team_b: Any) -> None:
    client.force_login(admin)
    response = client.post(reverse("accounts:user_new"), {
        "username": "dasha", "email": "dasha@example.com", "first_name": "Дарья",
        "last_name": "Новикова", "role": "head_of_sales", "team": team_b.pk, "language": "ru",
        "password1": "Dasha-Pass-2026", "password2": "Dasha-Pass-2026",
    })  # fmt: skip
    assert response.status_code == 302
    dasha = User.objects.get(username="dasha")
    assert dasha.role.code == "head_of_sales"
    assert dasha.team == team_b
    other = Client()
    assert other.login(username="dasha@example.com", password="Dasha-Pass-2026")


def test_user_create_errors_are_shown_next_to_fields(client: Client, admin: Any,
                                                     alice: Any) -> None:  # fmt: skip
    client.force_login(admin)
    response = client.post(reverse("accounts:user_new"), {
        "username": "alice", "email": "not-an-email", "role": "sales_rep", "language": "en",
        "password1": "Some-Pass-2026", "password2": "Other-Pass-2026",
    })  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200
    assert "The two passwords do not match." in html
    assert User.objects.filter(username="alice").count() == 1
    response = client.post(reverse("accounts:user_new"), {
        "username": "alice", "email": "", "role": "sales_rep", "language": "en",
        "password1": "Some-Pass-2026", "password2": "Some-Pass-2026",
    })  # fmt: skip
    assert "this username is taken" in response.content.decode()


def test_admin_edits_role_team_language_and_deactivates(
    client: Client, admin: Any, alice: Any, team_b: Any, password: str
) -> None:
    client.force_login(admin)
    marketer = Role.objects.get(code="marketer")
    response = client.post(reverse("accounts:user_edit", args=[alice.pk]), {
        "first_name": "Алиса", "last_name": "Иванова", "email": "alice@example.com",
        "role": marketer.pk, "team": team_b.pk, "language": "ru",
    })  # is_active unchecked  # fmt: skip
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.role, alice.team, alice.language, alice.is_active) == (
        marketer,
        team_b,
        "ru",
        False,
    )
    assert not Client().login(username="alice", password=password)


def test_admin_cannot_demote_himself(client: Client, admin: Any) -> None:
    client.force_login(admin)
    rep = Role.objects.get(code="sales_rep")
    response = client.post(reverse("accounts:user_edit", args=[admin.pk]), {
        "email": "admin@example.com", "role": rep.pk, "language": "en", "is_active": "on",
    })  # fmt: skip
    assert response.status_code == 200
    assert "You cannot take the administrator role from yourself." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_admin


def test_admin_sets_a_password(client: Client, admin: Any, alice: Any) -> None:
    client.force_login(admin)
    url = reverse("accounts:user_password", args=[alice.pk])
    short = client.post(url, {"password1": "abc", "password2": "abc"})
    assert short.status_code == 400
    assert "too short" in short.content.decode()
    response = client.post(url, {"password1": "Fresh-Pass-2026", "password2": "Fresh-Pass-2026"})
    assert response.status_code == 302
    assert Client().login(username="alice", password="Fresh-Pass-2026")


def test_teams_create_rename_delete(client: Client, admin: Any, alice: Any, team_a: Any) -> None:
    client.force_login(admin)
    url = reverse("accounts:teams")
    assert client.post(url, {"name": "Отдел продаж"}).status_code == 302
    duplicate = client.post(url, {"name": "Отдел продаж"})
    assert duplicate.status_code == 400
    assert "a team with this name exists" in duplicate.content.decode()
    team = Team.objects.get(name="Отдел продаж")
    client.post(reverse("accounts:team_rename", args=[team.pk]), {"name": "Продажи Москва"})
    team.refresh_from_db()
    assert team.name == "Продажи Москва"
    assert "Продажи Москва" in client.get(url).content.decode()
    client.post(reverse("accounts:team_delete", args=[team_a.pk]))
    assert not Team.objects.filter(pk=team_a.pk).exists()
    alice.refresh_from_db()
    assert alice.team_id is None


def test_role_scope_change_takes_effect(
    client: Client, admin: Any, alice: Any, bob: Any, make_contact: Callable[..., Any]
) -> None:
    bobs = make_contact(bob, last_name="Бобов", phones=["+79035550011"])
    card = reverse("customers:contact", args=[bobs.pk])
    alice_client = Client()
    alice_client.force_login(alice)
    search = reverse("search")
    assert card not in alice_client.get(search, {"q": "Бобов"}).content.decode()

    rep = Role.objects.get(code="sales_rep")
    client.force_login(admin)
    page = client.get(reverse("accounts:roles")).content.decode()
    assert "Sales rep" in page
    response = client.post(reverse("accounts:roles"), {
        "role": rep.pk, f"r{rep.pk}-scope": "team", f"r{rep.pk}-can_write": "on",
        f"r{rep.pk}-can_export": "on",
    })  # fmt: skip
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.scope, rep.can_write, rep.can_delete, rep.can_export) == ("team", True, False, True)
    assert card in alice_client.get(search, {"q": "Бобов"}).content.decode()
    assert alice_client.get(card).status_code == 200


def test_role_bad_scope_is_an_error_not_a_500(client: Client, admin: Any) -> None:
    rep = Role.objects.get(code="sales_rep")
    client.force_login(admin)
    response = client.post(
        reverse("accounts:roles"), {"role": rep.pk, f"r{rep.pk}-scope": "galaxy"}
    )
    assert response.status_code == 400
    rep.refresh_from_db()
    assert rep.scope == "own"
