"""The sales dashboard's figures follow the deals, and respect visibility."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from voronka.sales.analytics import DashboardFilter, dashboard
from voronka.sales.models import LostReason, Pipeline, Stage, StageKind
from voronka.sales.services import deal_create, deal_move

pytestmark = pytest.mark.django_db


def stages() -> list[Stage]:
    return list(
        Stage.objects.filter(pipeline=Pipeline.objects.get(is_default=True)).order_by("position")
    )


def test_funnel_and_won_lost_change_as_deals_move(alice: Any, admin: Any) -> None:
    s = stages()
    won = next(x for x in s if x.kind == StageKind.WON)
    lost = next(x for x in s if x.kind == StageKind.LOST)
    a = deal_create(
        actor=alice, data={"title": "A", "amount": 1000, "expected_close_date": "2027-01-15"}
    )
    b = deal_create(actor=alice, data={"title": "B", "amount": 300, "currency": "USD"})
    c = deal_create(actor=alice, data={"title": "C", "amount": 50})
    before = dashboard(admin, DashboardFilter())
    assert before.funnel[0].count == 3 and before.won_count == 0
    assert before.funnel[0].amount == Decimal("1000") + Decimal("300") * 90 + Decimal("50")
    assert before.forecast[0][1] == Decimal("1000.00") and before.forecast[0][2] == Decimal(
        "100.00"
    )  # 10 %
    deal_move(actor=alice, deal=a, stage_id=s[2].pk)
    deal_move(actor=alice, deal=a, stage_id=won.pk)
    deal_move(
        actor=alice, deal=b, stage_id=lost.pk, lost_reason_id=LostReason.objects.get(position=0).pk
    )
    after = dashboard(admin, DashboardFilter())
    assert after.won_count == 1 and after.won_amount == Decimal("1000.00")
    assert after.lost_count == 1 and after.lost_amount == Decimal("27000.00")
    assert after.win_rate == 0.5
    assert after.lost_reasons == [(LostReason.objects.get(position=0).name, 1)]
    assert after.revenue_by_manager[0][1] == Decimal("1000.00")
    by_stage = {row.stage.pk: row for row in after.funnel}
    assert by_stage[s[0].pk].count == 1  # only C is still in the first stage
    assert by_stage[s[0].pk].reached == 3  # every deal starts in the first stage
    # A skipped stage 2 but reaching a later stage counts as passing it.
    assert by_stage[s[1].pk].reached == 1 and by_stage[s[1].pk].conversion == pytest.approx(1 / 3)
    assert by_stage[s[2].pk].reached == 1 and by_stage[s[2].pk].conversion == 1.0
    assert by_stage[won.pk].reached == 1 and by_stage[lost.pk].reached == 1
    assert c.stage == s[0]


def test_a_reps_dashboard_counts_only_visible_deals(alice: Any, charlie: Any) -> None:
    deal_create(actor=charlie, data={"title": "Чужая", "amount": 999})
    deal_create(actor=alice, data={"title": "Моя", "amount": 1})
    mine = dashboard(alice, DashboardFilter())
    assert sum(r.count for r in mine.funnel) == 1
    assert sum(r.amount for r in mine.funnel) == Decimal("1.00")


def test_a_team_scope_funnel_and_kanban_totals_count_the_whole_team(
    alice: Any, bob: Any, charlie: Any, set_scope: Any
) -> None:
    from voronka.sales.analytics import stage_totals

    set_scope("sales_rep", "team")
    alice.refresh_from_db()
    for actor, title, amount in ((alice, "A", 10), (bob, "B", 20), (charlie, "C", 999)):
        deal_create(actor=actor, data={"title": title, "amount": amount})
    team = dashboard(alice, DashboardFilter())
    assert sum(r.count for r in team.funnel) == 2
    assert sum(r.amount for r in team.funnel) == Decimal("30.00")
    totals = stage_totals(alice, Pipeline.objects.get(is_default=True))
    assert [(t.count, t.amount) for t in totals.values()] == [(2, Decimal("30.00"))]


def test_funnel_runs_the_same_queries_for_three_stages_and_for_twelve(
    alice: Any, admin: Any
) -> None:
    """One GROUP BY answers every stage: the query count does not grow with the stages."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from voronka.sales.analytics import funnel
    from voronka.sales.services import pipeline_create

    def counted(n_stages: int) -> tuple[int, list[Any]]:
        specs = [{"name": f"S{i}", "probability": i} for i in range(n_stages - 2)]
        specs += [{"name": "Won", "kind": "won"}, {"name": "Lost", "kind": "lost"}]
        pipeline = pipeline_create(actor=admin, name=f"P{n_stages}", stages=specs)
        s = list(pipeline.stages.order_by("position"))
        for i in range(4):
            deal = deal_create(actor=alice, data={"title": f"D{i}", "pipeline_id": pipeline.pk})
            reason = LostReason.objects.first().pk if s[i + 1].kind == "lost" else None  # type: ignore[union-attr]
            deal_move(actor=alice, deal=deal, stage_id=s[i + 1].pk, lost_reason_id=reason)
        with CaptureQueriesContext(connection) as ctx:
            rows = funnel(admin, DashboardFilter(pipeline=pipeline))
        return len(ctx.captured_queries), rows

    few, rows3 = counted(5)
    many, rows12 = counted(12)
    assert few == many
    # S0, S1, S2, Won, Lost: the deals went to S1, S2, Won and Lost.
    assert [r.reached for r in rows3] == [4, 3, 2, 1, 1]
    assert [r.count for r in rows3] == [0, 1, 1, 1, 1]
    assert [r.conversion for r in rows3[:4]] == [None, 0.75, pytest.approx(2 / 3), 0.5]
    assert [r.reached for r in rows12[:5]] == [4, 4, 3, 2, 1]
