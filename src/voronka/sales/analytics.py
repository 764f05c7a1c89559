"""Figures of the sales dashboard. Every query starts from ``visible_to(user)``, so a rep's
dashboard counts only what the rep may see; amounts are converted to the base currency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from voronka.sales.models import (
    Activity,
    Currency,
    Deal,
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
    qs = Deal.objects.visible_to(user, totals=True)
    if flt.pipeline is not None:
        qs = qs.filter(pipeline=flt.pipeline)
    if flt.team_id:
        qs = qs.filter(owner__team_id=flt.team_id)
    if flt.owner_id:
        qs = qs.filter(owner_id=flt.owner_id)
    return qs


@dataclass(frozen=True)
class StageTotal:
    count: int = 0
    amount: Decimal = ZERO  # in the base currency


def stage_totals(
    user: Any, pipeline: Pipeline, conditions: Iterable[Q] = ()
) -> dict[int, StageTotal]:
    """The kanban's column headers: count and base-currency sum of the visible deals per stage,
    under the board's filters, in one GROUP BY (deals in other currencies add up correctly)."""
    qs = Deal.objects.visible_to(user, totals=True).filter(pipeline=pipeline)
    for cond in conditions:
        qs = qs.filter(cond)
    return totals_by_stage(qs)


def totals_by_stage(deals: QuerySet[Deal]) -> dict[int, StageTotal]:
    """Count and base-currency sum of ``deals`` per current stage, in one GROUP BY."""
    return _per_stage(_progress_sums(deals))


def _per_stage(sums: list[tuple[Any, ...]]) -> dict[int, StageTotal]:
    """``_progress_sums`` added up per stage, the amounts rounded to cents."""
    counts: dict[int, int] = {}
    amounts: dict[int, Decimal] = {}
    for stage_id, _furthest, _lost_at, n, amount in sums:
        counts[stage_id] = counts.get(stage_id, 0) + n
        amounts[stage_id] = amounts.get(stage_id, ZERO) + amount
    return {k: StageTotal(counts[k], amounts[k].quantize(ZERO)) for k in counts}


# deal_progress_idx's columns after the pipeline, in its order.
PROGRESS_GROUPS = ("owner_id", "stage_id", "furthest_position", "lost_at_stage_id", "currency_id")


def _progress_sums(deals: QuerySet[Deal]) -> list[tuple[Any, ...]]:
    """(stage id, furthest position, lost stage id, count, amount in the base currency) per
    group of ``deals``, the owners' groups added up.

    The GROUP BY follows deal_progress_idx column by column, so the database streams the index
    with no sort (grouping by stage alone made SQLite sort 800,000 rows: 1 s) and no table
    read; currencies are converted here with the rates read once rather than by joining each
    deal to its currency. COUNT(*), not COUNT(id): the id is not in the index on PostgreSQL,
    and reading it made a rep's funnel 4× slower."""
    rates = dict(Currency.objects.values_list("code", "rate"))
    rows = (
        deals.values(*PROGRESS_GROUPS)
        .annotate(n=Count("*"), total=Sum("amount"))
        .order_by()
        .values_list(*PROGRESS_GROUPS, "n", "total")
    )
    sums: dict[tuple[Any, Any, Any], list[Any]] = {}
    for _owner, stage_id, furthest, lost_at, currency, n, total in rows:
        group = sums.setdefault((stage_id, furthest, lost_at), [0, ZERO])
        group[0] += n
        group[1] += (total or ZERO) * rates.get(currency, Decimal(1))
    return [(*key, n, amount) for key, (n, amount) in sums.items()]


def _in_period(qs: QuerySet[Any], name: str, flt: DashboardFilter) -> QuerySet[Any]:
    if flt.date_from:
        qs = qs.filter(**{f"{name}__date__gte": flt.date_from})
    if flt.date_to:
        qs = qs.filter(**{f"{name}__date__lte": flt.date_to})
    return qs


def _default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()


def funnel(user: Any, flt: DashboardFilter) -> list[FunnelRow]:
    """Deals now in each stage (count, amount) and how many reached each stage at all.

    One GROUP BY over the deals answers every stage, so a pipeline with twenty stages costs
    what one with three does: per current stage, furthest position reached and lost stage
    entered (kept on each deal by the services: sales/progress.py). A deal that reached a
    later open or won stage passed every earlier one, even one it skipped; a lost stage
    counts the deals lost there, reopened or not. Read from the stage history instead, the
    same figures took 3–7 s over a million deals."""
    pipeline = flt.pipeline or _default_pipeline()
    if pipeline is None:
        return []
    flt = replace(flt, pipeline=pipeline)
    stages = list(pipeline.stages.order_by("position", "id"))
    deals = _in_period(scoped_deals(user, flt), "created_at", flt)
    sums = _progress_sums(deals)
    current = _per_stage(sums)
    by_furthest: dict[int, int] = {}
    lost_reached: dict[int, int] = {}
    for _stage_id, furthest, lost_at, n, _amount in sums:
        if furthest is not None:
            by_furthest[furthest] = by_furthest.get(furthest, 0) + n
        if lost_at is not None:
            lost_reached[lost_at] = lost_reached.get(lost_at, 0) + n
    result = []
    previous: int | None = None
    for stage in stages:
        total = current.get(stage.pk, StageTotal())
        row = FunnelRow(stage=stage, count=total.count, amount=total.amount)
        if stage.kind == StageKind.LOST:
            row.reached = lost_reached.get(stage.pk, 0)
        else:
            row.reached = sum(n for pos, n in by_furthest.items() if pos >= stage.position)
            row.conversion = (row.reached / previous) if previous else None
            previous = row.reached
        result.append(row)
    return result


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


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def this_month(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return today.replace(day=1), _month_end(today)


def this_quarter(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return start, _month_end(start.replace(month=start.month + 2))


def this_year(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return today.replace(month=1, day=1), today.replace(month=12, day=31)
