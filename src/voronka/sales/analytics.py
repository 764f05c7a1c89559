"""Figures of the sales dashboard. Every query starts from ``visible_to(user)``, so a rep's
dashboard counts only what the rep may see; amounts are converted to the base currency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from voronka.sales.models import (
    Activity,
    Deal,
    DealStageHistory,
    LostReason,
    Pipeline,
    Stage,
    StageKind,
)

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=20, decimal_places=2)


@dataclass
class DashboardFilter:
    pipeline: Pipeline | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team_id: int | None = None
    owner_id: int | None = None


@dataclass
class FunnelRow:
    stage: Stage
    count: int = 0
    amount: Decimal = ZERO
    reached: int = 0
    conversion: float | None = (
        None  # share of deals that reached the previous stage and reached this one
    )


@dataclass
class Dashboard:
    funnel: list[FunnelRow] = field(default_factory=list)
    won_count: int = 0
    won_amount: Decimal = ZERO
    lost_count: int = 0
    lost_amount: Decimal = ZERO
    win_rate: float | None = None
    lost_reasons: list[tuple[str, int]] = field(default_factory=list)
    revenue_by_manager: list[tuple[str, Decimal, int]] = field(default_factory=list)
    forecast: list[tuple[dt.date, Decimal, Decimal]] = field(default_factory=list)
    activities: list[tuple[str, dict[str, int]]] = field(default_factory=list)


def base_amount() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount") * F("currency__rate"), output_field=MONEY)


def scoped_deals(user: Any, flt: DashboardFilter) -> QuerySet[Deal]:
    qs = Deal.objects.visible_to(user)
    if flt.pipeline is not None:
        qs = qs.filter(pipeline=flt.pipeline)
    if flt.team_id:
        qs = qs.filter(owner__team_id=flt.team_id)
    if flt.owner_id:
        qs = qs.filter(owner_id=flt.owner_id)
    return qs


def _in_period(qs: QuerySet[Any], name: str, flt: DashboardFilter) -> QuerySet[Any]:
    if flt.date_from:
        qs = qs.filter(**{f"{name}__date__gte": flt.date_from})
    if flt.date_to:
        qs = qs.filter(**{f"{name}__date__lte": flt.date_to})
    return qs


def funnel(user: Any, flt: DashboardFilter) -> list[FunnelRow]:
    """Deals now in each stage (count, amount) and how many reached each stage at all."""
    pipeline = (
        flt.pipeline or Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    )
    if pipeline is None:
        return []
    flt = DashboardFilter(
        pipeline=pipeline,
        date_from=flt.date_from,
        date_to=flt.date_to,
        team_id=flt.team_id,
        owner_id=flt.owner_id,
    )
    stages = list(pipeline.stages.order_by("position", "id"))
    deals = _in_period(scoped_deals(user, flt), "created_at", flt)
    current = {
        row["stage_id"]: row
        for row in deals.values("stage_id").annotate(
            n=Count("id"), total=Coalesce(Sum(base_amount()), Value(ZERO), output_field=MONEY)
        )
    }
    reached = dict(
        DealStageHistory.objects.filter(deal__in=deals.values("id"))
        .values("stage_id")
        .annotate(n=Count("deal_id", distinct=True))
        .values_list("stage_id", "n")
    )
    rows = []
    previous: int | None = None
    for stage in stages:
        row = FunnelRow(
            stage=stage,
            count=current.get(stage.pk, {}).get("n", 0),
            amount=current.get(stage.pk, {}).get("total", ZERO) or ZERO,
        )
        if stage.kind == StageKind.OPEN or stage.kind == StageKind.WON:
            # Reaching a later stage implies passing this one, even if it was skipped.
            later = [
                s.pk for s in stages if s.position >= stage.position and s.kind != StageKind.LOST
            ]
            row.reached = (
                len(
                    set(
                        DealStageHistory.objects.filter(
                            deal__in=deals.values("id"), stage_id__in=later
                        ).values_list("deal_id", flat=True)
                    )
                )
                if later
                else 0
            )
            row.conversion = (row.reached / previous) if previous else None
            previous = row.reached
        else:
            row.reached = reached.get(stage.pk, 0)
        rows.append(row)
    return rows


def dashboard(user: Any, flt: DashboardFilter) -> Dashboard:
    result = Dashboard(funnel=funnel(user, flt))
    deals = scoped_deals(user, flt)
    closed = _in_period(deals.filter(closed_at__isnull=False), "closed_at", flt)
    sums = closed.aggregate(
        won_n=Count("id", filter=Q(stage__kind=StageKind.WON)),
        won=Coalesce(
            Sum(base_amount(), filter=Q(stage__kind=StageKind.WON)), Value(ZERO), output_field=MONEY
        ),
        lost_n=Count("id", filter=Q(stage__kind=StageKind.LOST)),
        lost=Coalesce(
            Sum(base_amount(), filter=Q(stage__kind=StageKind.LOST)),
            Value(ZERO),
            output_field=MONEY,
        ),
    )
    result.won_count, result.won_amount = sums["won_n"], sums["won"]
    result.lost_count, result.lost_amount = sums["lost_n"], sums["lost"]
    if result.won_count + result.lost_count:
        result.win_rate = result.won_count / (result.won_count + result.lost_count)
    names = dict(LostReason.objects.values_list("id", "name"))
    result.lost_reasons = [
        (names.get(row["lost_reason_id"], "—"), row["n"])
        for row in closed.filter(stage__kind=StageKind.LOST)
        .values("lost_reason_id")
        .annotate(n=Count("id"))
        .order_by("-n")
    ]
    result.revenue_by_manager = [
        (_person(row), row["total"], row["n"])
        for row in closed.filter(stage__kind=StageKind.WON)
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(
            total=Coalesce(Sum(base_amount()), Value(ZERO), output_field=MONEY), n=Count("id")
        )
        .order_by("-total")
    ]
    weighted = ExpressionWrapper(
        F("amount")
        * F("currency__rate")
        * Coalesce(F("probability"), F("stage__probability"))
        / Value(Decimal(100)),
        output_field=MONEY,
    )
    open_deals = deals.filter(stage__kind=StageKind.OPEN, expected_close_date__isnull=False)
    result.forecast = [
        (row["month"], row["total"] or ZERO, (row["weighted"] or ZERO).quantize(Decimal("0.01")))
        for row in open_deals.annotate(month=TruncMonth("expected_close_date"))
        .values("month")
        .annotate(total=Sum(base_amount()), weighted=Sum(weighted))
        .order_by("month")
    ]
    acts: QuerySet[Activity] = Activity.objects.visible_to(user)
    if flt.team_id:
        acts = acts.filter(owner__team_id=flt.team_id)
    if flt.owner_id:
        acts = acts.filter(owner_id=flt.owner_id)
    acts = _in_period(acts, "created_at", flt)
    per_owner: dict[str, dict[str, int]] = {}
    for row in acts.values(
        "owner_id", "owner__first_name", "owner__last_name", "owner__username", "kind"
    ).annotate(n=Count("id")):
        per_owner.setdefault(_person(row), {})[row["kind"]] = row["n"]
    result.activities = sorted(per_owner.items())
    return result


def _person(row: Mapping[str, Any]) -> str:
    name = " ".join(p for p in (row.get("owner__first_name"), row.get("owner__last_name")) if p)
    return name or row.get("owner__username") or "—"


def this_month() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start, end
