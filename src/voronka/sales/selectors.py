"""Reads of the sales domain shared by views, the API and the dashboard."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from voronka.core.visibility import get_for_user
from voronka.sales.models import Activity, Deal, Lead, Pipeline


def deals_visible_to(user: Any) -> QuerySet[Deal]:
    return Deal.objects.visible_to(user)


def leads_visible_to(user: Any) -> QuerySet[Lead]:
    return Lead.objects.visible_to(user)


def activities_visible_to(user: Any) -> QuerySet[Activity]:
    return Activity.objects.visible_to(user)


def get_deal_for_user(user: Any, pk: Any, *, write: bool = False) -> Deal:
    qs = Deal.objects.select_related(
        "stage", "pipeline", "company", "owner", "currency"
    ).prefetch_related("contacts", "lines")
    return get_for_user(qs, user, pk, write=write)


def get_lead_for_user(user: Any, pk: Any, *, write: bool = False) -> Lead:
    return get_for_user(Lead.objects.select_related("owner"), user, pk, write=write)


def get_activity_for_user(user: Any, pk: Any, *, write: bool = False) -> Activity:
    return get_for_user(Activity.objects.select_related("owner"), user, pk, write=write)


def pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.prefetch_related("stages").order_by("position", "id")
