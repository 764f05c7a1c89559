"""Reads on users and teams shared by views and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from voronka.accounts.models import ApiKey, Role, Team, User


def users_active() -> QuerySet[User]:
    return User.objects.filter(is_active=True).select_related("team", "role")


def users_all() -> QuerySet[User]:
    return User.objects.select_related("team", "role").order_by("last_name", "first_name", "id")


def teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def roles() -> QuerySet[Role]:
    return Role.objects.order_by("id")


def api_keys_of(user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created_at")
