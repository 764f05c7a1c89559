"""The sales dashboard: funnel, won and lost, revenue by manager, forecast and activities.

Every figure comes from ``analytics.dashboard``, which starts from ``visible_to(user)``, so a
rep sees only what the rep may see. The view turns the figures into chart specs (drawn by
dashboard.js with the vendored chart.js) and into the tables each chart carries for readers
who cannot see the canvas."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import path
from django.utils import formats
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.accounts.selectors import teams, users_active
from voronka.core.visibility import Scope
from voronka.customers.views import AuthedRequest
from voronka.sales import analytics
from voronka.sales.analytics import Dashboard, DashboardFilter
from voronka.sales.models import ActivityKind, Pipeline, StageKind
from voronka.sales.views.kanban import base_currency, money_text, stage_color

PERIODS = {
    "month": gettext_lazy("This month"),
    "quarter": gettext_lazy("This quarter"),
    "year": gettext_lazy("This year"),
    "custom": gettext_lazy("Custom period"),
}
WON_COLOR = "#2f9e44"
LOST_COLOR = "#e03131"
ACCENT = "#3b5bdb"
SOFT = "#a5b4fc"
KIND_COLORS = {
    ActivityKind.TASK: "#3b5bdb",
    ActivityKind.CALL: "#2f9e44",
    ActivityKind.MEETING: "#f08c00",
}


@dataclass
class Filters:
    """The filter form as typed, what it means, and what was wrong with it."""

    flt: DashboardFilter
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _int(filters: Filters, name: str, raw: str) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        filters.error(name, _("must be a whole number"))
        return None


def _default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()


def parse_filters(params: QueryDict) -> Filters:
    """Pipeline (the default one unless chosen), period (this month unless chosen), team and
    manager. A bad value is reported next to its input and left out of the figures."""
    values = {
        n: params.get(n, "").strip()
        for n in ("pipeline", "period", "date_from", "date_to", "team", "owner")
    }
    values["period"] = values["period"] or "month"
    filters = Filters(flt=DashboardFilter(), values=values)
    pipeline_id = _int(filters, "pipeline", values["pipeline"])
    pipeline = (
        Pipeline.objects.filter(pk=pipeline_id).first()
        if pipeline_id is not None
        else _default_pipeline()
    )
    if pipeline_id is not None and pipeline is None:
        filters.error("pipeline", _("no such pipeline"))
        pipeline = _default_pipeline()
    filters.flt.pipeline = pipeline
    values["pipeline"] = str(pipeline.pk) if pipeline else ""
    period = values["period"]
    if period not in PERIODS:
        filters.error("period", _("choose a period from the list"))
        period = values["period"] = "month"
    bounds = {
        "month": analytics.this_month,
        "quarter": analytics.this_quarter,
        "year": analytics.this_year,
    }
    if period == "custom":
        filters.flt.date_from = _day(filters, "date_from")
        filters.flt.date_to = _day(filters, "date_to")
        start, end = filters.flt.date_from, filters.flt.date_to
        if start and end and start > end:
            filters.error("date_to", _("must not be before the start"))
            filters.flt.date_to = None
    else:
        filters.flt.date_from, filters.flt.date_to = bounds[period]()
    filters.flt.team_id = _int(filters, "team", values["team"])
    filters.flt.owner_id = _int(filters, "owner", values["owner"])
    return filters


def _day(filters: Filters, name: str) -> dt.date | None:
    raw = filters.values[name]
    if not raw:
        return None
    day = parse_date(raw) if len(raw) == 10 else None
    if day is None:
        filters.error(name, _("must be a date (YYYY-MM-DD)"))
    return day


# --- figures into charts and tables ---------------------------------------------------------


def _num(value: Decimal | int | float) -> float:
    return float(value)


def _percent(value: float | None) -> str:
    return "—" if value is None else formats.number_format(round(value * 100), 0) + "\u00a0%"


def _month(day: dt.date) -> str:
    return formats.date_format(day, "YEAR_MONTH_FORMAT")


def _chart(
    kind: str, labels: list[str], datasets: list[dict[str, Any]], **options: Any
) -> dict[str, Any]:
    """What dashboard.js draws: chart.js type, labels, datasets (data, colours, and the
    formatted texts its tooltips show), plus layout options."""
    return {"kind": kind, "labels": labels, "datasets": datasets, **options}


def funnel_section(data: Dashboard, symbol: str) -> dict[str, Any]:
    rows = [
        {
            "stage": r.stage,
            "count": r.count,
            "amount": money_text(r.amount, symbol),
            "reached": r.reached,
            "conversion": _percent(r.conversion) if r.stage.kind != StageKind.LOST else "",
        }
        for r in data.funnel
    ]
    path_rows = [r for r in data.funnel if r.stage.kind != StageKind.LOST]
    chart = _chart(
        "bar",
        [str(r.stage.name) for r in path_rows],
        [
            {
                "label": _("Reached the stage"),
                "data": [r.reached for r in path_rows],
                "color": [stage_color(r.stage) for r in path_rows],
                "texts": [
                    f"{r.reached} · {_percent(r.conversion)}"
                    if r.conversion is not None
                    else str(r.reached)
                    for r in path_rows
                ],
            },
            {
                "label": _("In the stage now"),
                "data": [r.count for r in path_rows],
                "color": SOFT,
                "texts": [f"{r.count} · {money_text(r.amount, symbol)}" for r in path_rows],
            },
        ],
        horizontal=True,
    )
    return {
        "rows": rows,
        "chart": chart,
        "empty": not any(r.reached or r.count for r in data.funnel),
    }


def outcome_section(data: Dashboard, symbol: str) -> dict[str, Any]:
    won, lost = money_text(data.won_amount, symbol), money_text(data.lost_amount, symbol)
    outcome = _chart(
        "doughnut",
        [_("Won"), _("Lost")],
        [
            {
                "label": _("Deals"),
                "data": [data.won_count, data.lost_count],
                "color": [WON_COLOR, LOST_COLOR],
                "texts": [f"{data.won_count} · {won}", f"{data.lost_count} · {lost}"],
            }
        ],
    )
    reasons = _chart(
        "bar",
        [name for name, _n in data.lost_reasons],
        [
            {
                "label": _("Lost deals"),
                "data": [n for _name, n in data.lost_reasons],
                "color": LOST_COLOR,
            }
        ],
        horizontal=True,
    )
    return {
        "won": won,
        "lost": lost,
        "chart": outcome,
        "reasons_chart": reasons,
        "reasons": data.lost_reasons,
        "reasons_height": 40 + 30 * len(data.lost_reasons),
        "empty": not (data.won_count or data.lost_count),
    }


def revenue_section(data: Dashboard, symbol: str) -> dict[str, Any]:
    rows = [
        {"name": name, "amount": money_text(total, symbol), "count": n}
        for name, total, n in data.revenue_by_manager
    ]
    chart = _chart(
        "bar",
        [name for name, _t, _n in data.revenue_by_manager],
        [
            {
                "label": _("Revenue"),
                "data": [_num(total) for _name, total, _n in data.revenue_by_manager],
                "color": WON_COLOR,
                "texts": [r["amount"] for r in rows],
            }
        ],
        horizontal=True,
    )
    return {"rows": rows, "chart": chart, "empty": not rows}


def forecast_section(data: Dashboard, symbol: str) -> dict[str, Any]:
    rows = [
        {
            "month": _month(month),
            "amount": money_text(total, symbol),
            "weighted": money_text(weighted, symbol),
        }
        for month, total, weighted in data.forecast
    ]
    chart = _chart(
        "bar",
        [r["month"] for r in rows],
        [
            {
                "label": _("Amount × probability"),
                "data": [_num(w) for _m, _t, w in data.forecast],
                "color": ACCENT,
                "texts": [r["weighted"] for r in rows],
            },
            {
                "label": _("Amount of open deals"),
                "data": [_num(t) for _m, t, _w in data.forecast],
                "color": SOFT,
                "texts": [r["amount"] for r in rows],
            },
        ],
    )
    total = sum((w for _m, _t, w in data.forecast), Decimal(0))
    return {"rows": rows, "chart": chart, "empty": not rows, "total": money_text(total, symbol)}


def activity_section(data: Dashboard) -> dict[str, Any]:
    kinds = list(ActivityKind)
    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "counts": [counts.get(k.value, 0) for k in kinds],
            "total": sum(counts.values()),
        }
        for name, counts in data.activities
    ]
    chart = _chart(
        "bar",
        [r["name"] for r in rows],
        [
            {
                "label": str(k.label).capitalize(),
                "data": [r["counts"][i] for r in rows],
                "color": KIND_COLORS[k],
            }
            for i, k in enumerate(kinds)
        ],
        stacked=True,
    )
    return {
        "rows": rows,
        "kinds": [str(k.label).capitalize() for k in kinds],
        "chart": chart,
        "empty": not rows,
    }


def _period_text(flt: DashboardFilter) -> str:
    start = formats.date_format(flt.date_from, "SHORT_DATE_FORMAT") if flt.date_from else "…"
    end = formats.date_format(flt.date_to, "SHORT_DATE_FORMAT") if flt.date_to else "…"
    return f"{start} – {end}"


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    user = request.user
    filters = parse_filters(request.GET)
    data = analytics.dashboard(user, filters.flt)
    base = base_currency()
    symbol = (base.symbol or base.code) if base else ""
    sees_others = user.visibility_scope != Scope.OWN
    ctx = {
        "filters": filters,
        "values": filters.values,
        "errors": filters.errors,
        "periods": list(PERIODS.items()),
        "pipelines": list(Pipeline.objects.order_by("position", "id")),
        "pipeline": filters.flt.pipeline,
        "sees_others": sees_others,
        "teams": list(teams()) if sees_others else [],
        "owners": (
            [(u.pk, str(u)) for u in users_active().order_by("last_name", "first_name", "id")]
            if sees_others
            else []
        ),
        "period_text": _period_text(filters.flt),
        "win_rate": _percent(data.win_rate),
        "data": data,
        "funnel": funnel_section(data, symbol),
        "outcome": outcome_section(data, symbol),
        "revenue": revenue_section(data, symbol),
        "forecast": forecast_section(data, symbol),
        "activity": activity_section(data),
    }
    return render(request, "sales/dashboard/dashboard.html", ctx)


urlpatterns: list = [
    path("dashboard/", dashboard, name="dashboard"),
]
