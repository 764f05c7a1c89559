"""W5: the sales funnel over all deals of a pipeline, and the kanban board's first screen.

Funnel, ours: ``analytics.funnel(user, DashboardFilter(pipeline))`` as the dashboard calls it.
Baseline: the GROUP BY by hand — deals now in each stage (count, amount in the base currency)
and how many deals reached each stage (a deal that got to a later open or won stage passed
the earlier ones), from the progress columns the services keep on each deal from its stage
history. Both return the same figures, checked per stage.

Kanban, ours: ``selectors.kanban`` (counts and sums per column and the first page of each
column). Baseline: one GROUP BY for the headers and one ``LIMIT`` query per column."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bench.dataset import DatasetInfo
from bench.workloads.common import (
    RawSQL,
    Result,
    Settings,
    compare_ids,
    first_call,
    fresh_user,
    percentiles,
    time_calls,
    visible_owner_ids,
)
from voronka.sales.analytics import DashboardFilter, funnel
from voronka.sales.models import Pipeline
from voronka.sales.selectors import KANBAN_PAGE, kanban, parse_deal_query

FUNNEL_TARGET = "p95 < 300 ms and ≤ 2× raw SQL"
# Grouped in deal_progress_idx's column order (owner first), so that the database streams
# the index without sorting: the fastest GROUP BY we found for these figures on both databases.
GROUPS = "d.owner_id, d.stage_id, d.furthest_position, d.lost_at_stage_id, d.currency_id"
KANBAN_TARGET = "p95 < 300 ms and ≤ 2× raw SQL"


def _owner_filter(raw: RawSQL, user: Any, column: str) -> tuple[str, list[Any]]:
    owners = visible_owner_ids(raw, user)
    if owners is None:
        return "", []
    return f" AND {column} IN ({raw.marks(owners)})", list(owners)


def baseline_funnel(raw: RawSQL, user: Any, pipeline_id: int) -> list[tuple[int, int, int, int]]:
    """(stage id, deals now there, amount in base currency rounded, deals that reached it).

    One GROUP BY over the deals by current stage, furthest open/won position reached and
    lost stage entered (the columns the services keep from the stage history) and currency;
    the amounts converted with the rates read once."""
    owner_sql, owner_args = _owner_filter(raw, user, "d.owner_id")
    stages = raw.fetch(
        "SELECT id, position, kind FROM sales_stage WHERE pipeline_id = %s ORDER BY position, id",
        [pipeline_id],
    )
    rates = {code: Decimal(str(rate)) for code, rate in raw.fetch(
        "SELECT code, rate FROM sales_currency", []
    )}  # fmt: skip
    now: dict[int, list[Any]] = {}
    furthest: dict[int, int] = {}
    lost: dict[int, int] = {}
    for _owner, stage_id, reached, lost_at, currency, n, amount in raw.fetch(
        f"SELECT {GROUPS}, COUNT(*), SUM(d.amount) FROM sales_deal d"
        f" WHERE d.pipeline_id = %s{owner_sql} GROUP BY {GROUPS}",
        [pipeline_id, *owner_args],
    ):
        row = now.setdefault(stage_id, [0, Decimal(0)])
        row[0] += n
        row[1] += Decimal(str(amount or 0)) * rates[currency]
        if reached is not None:
            furthest[reached] = furthest.get(reached, 0) + n
        if lost_at is not None:
            lost[lost_at] = lost.get(lost_at, 0) + n
    rows = []
    for stage_id, position, kind in stages:
        count, amount = now.get(stage_id, (0, 0))
        if kind == "lost":
            reached = lost.get(stage_id, 0)
        else:
            reached = sum(n for pos, n in furthest.items() if pos >= position)
        rows.append((stage_id, count, round(Decimal(str(amount or 0))), reached))
    return rows


def baseline_kanban(raw: RawSQL, user: Any, pipeline_id: int) -> list[int]:
    """Headers by GROUP BY, then each column's first page with its company and owner."""
    owner_sql, owner_args = _owner_filter(raw, user, "d.owner_id")
    stages = raw.fetch(
        "SELECT id FROM sales_stage WHERE pipeline_id = %s ORDER BY position, id", [pipeline_id]
    )
    raw.fetch(
        f"SELECT {GROUPS}, COUNT(*), SUM(d.amount) FROM sales_deal d"
        f" WHERE d.pipeline_id = %s{owner_sql} GROUP BY {GROUPS}",
        [pipeline_id, *owner_args],
    )
    ids: list[int] = []
    for (stage_id,) in stages:
        page = raw.fetch(
            "SELECT d.id, d.title, d.amount, d.currency_id, d.expected_close_date,"
            " d.updated_at, co.name, u.username, u.first_name, u.last_name FROM sales_deal d"
            " LEFT JOIN customers_company co ON co.id = d.company_id"
            " LEFT JOIN accounts_user u ON u.id = d.owner_id"
            f" WHERE d.stage_id = %s{owner_sql} ORDER BY d.updated_at DESC, d.id DESC"
            f" LIMIT {KANBAN_PAGE + 1}",
            [stage_id, *owner_args],
        )[:KANBAN_PAGE]
        ids.extend(r[0] for r in page)
    return ids


def _ours_funnel(user: Any, pipeline: Pipeline) -> list[tuple[int, int, int, int]]:
    user.__dict__.pop("_team_member_ids", None)
    return [
        (r.stage.pk, r.count, round(r.amount), r.reached)
        for r in funnel(user, DashboardFilter(pipeline=pipeline))
    ]


def _ours_kanban(user: Any, pipeline: Pipeline) -> list[int]:
    user.__dict__.pop("_team_member_ids", None)
    columns = kanban(user, pipeline, parse_deal_query({}, user))
    return [d.pk for column in columns for d in column.page.items]


def run(info: DatasetInfo, db: str, settings: Settings) -> list[Result]:
    raw = RawSQL()
    pipeline = Pipeline.objects.get(pk=info.pipeline_id)
    results: list[Result] = []
    cases = (
        ("funnel", FUNNEL_TARGET, _ours_funnel, baseline_funnel),
        ("kanban first screen", KANBAN_TARGET, _ours_kanban, baseline_kanban),
    )
    for who, user_id in (("sales rep (team)", info.rep_id), ("administrator", info.admin_id)):
        user = fresh_user(user_id)
        for case, target, ours_fn, base_fn in cases:

            def ours(fn: Any = ours_fn, user: Any = user) -> Any:
                return fn(user, pipeline)

            def baseline(fn: Any = base_fn, user: Any = user) -> Any:
                return fn(raw, user, pipeline.pk)

            mine = first_call(ours)
            raw.statements = 0
            base = first_call(baseline)
            statements = raw.statements
            compare_ids(f"W5 {case} as {who} on {db}", mine.value, base.value)
            ours_t = percentiles(time_calls(ours, settings, known_slow=mine.seconds > 1))
            base_t = percentiles(time_calls(baseline, settings, known_slow=base.seconds > 1))
            result = Result(
                workload="W5", case=case, db=db, user=who, ours=ours_t, baseline=base_t,
                ratio=ours_t["p50"] / base_t["p50"] if base_t.get("p50") else None,
                queries=mine.queries, baseline_queries=statements, peak_kb=mine.peak_kb,
                rows=len(mine.value), target=target, ids_match=True,
            )  # fmt: skip
            result.passed = ours_t["p95"] < 300 and (result.ratio or 0) <= 2
            results.append(result)
    return results
