"""The sales dashboard as a user sees it: every chart with its table of numbers, filters with
errors next to them, and only the figures the user may see."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from voronka.sales.models import LostReason, Pipeline, Stage, StageKind
from voronka.sales.services import activity_create, deal_create, deal_move, pipeline_create

pytestmark = pytest.mark.django_db

DASH = "/sales/dashboard/"


def stage(kind: str) -> Stage:
    return Stage.objects.filter(pipeline=Pipeline.objects.get(is_default=True), kind=kind).first()  # type: ignore[return-value]


def chart(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', html, re.S)
    assert found, name
    return json.loads(found.group(1))


@pytest.fixture
def sales(alice: Any, charlie: Any) -> None:
    won, lost = stage(StageKind.WON), stage(StageKind.LOST)
    reason = LostReason.objects.get(position=0)
    a = deal_create(
        actor=alice, data={"title": "A", "amount": 1200, "expected_close_date": "2031-02-10"}
    )
    deal_create(
        actor=alice, data={"title": "A2", "amount": 500, "expected_close_date": "2031-02-20"}
    )
    deal_move(actor=alice, deal=a, stage_id=won.pk)
    b = deal_create(actor=alice, data={"title": "B", "amount": 300})
    deal_move(actor=alice, deal=b, stage_id=lost.pk, lost_reason_id=reason.pk)
    c = deal_create(actor=charlie, data={"title": "C", "amount": 7777})
    deal_move(actor=charlie, deal=c, stage_id=won.pk)
    activity_create(actor=alice, data={"subject": "Позвонить", "kind": "call"})
    activity_create(actor=charlie, data={"subject": "Встреча", "kind": "meeting"})


def test_admin_sees_every_chart_with_its_numbers(client: Any, admin: Any, sales: None) -> None:
    client.force_login(admin)
    response = client.get(DASH)
    html = response.content.decode()
    assert response.status_code == 200
    for title in (
        "Funnel by stage",
        "Won and lost",
        "Revenue by manager",
        "Forecast",
        "Activities by manager",
    ):
        assert title in html
    assert html.count("Show the numbers") >= 5  # each chart has an accessible table
    assert html.count('role="img"') >= 5
    assert "vendor/chartjs/chart.umd.min.js" in html and "sales/dashboard.js" in html
    assert "₽8,977" in html  # won: 1 200 + 7 777
    assert "₽300" in html and LostReason.objects.get(position=0).name in html
    assert "67\u00a0%" in html  # win rate: 2 won of 3 closed
    revenue = chart(html, "chart-revenue")
    assert revenue["labels"] == ["Charlie", "Alice"]
    assert revenue["datasets"][0]["data"] == [7777.0, 1200.0]
    funnel = chart(html, "chart-funnel")
    assert funnel["datasets"][0]["data"][0] == 4  # every deal of the period entered stage 1
    forecast = chart(html, "chart-forecast")
    assert forecast["labels"] == ["February 2031"]
    assert forecast["datasets"][1]["data"] == [500.0]
    activity = chart(html, "chart-activity")
    assert sorted(activity["labels"]) == ["Alice", "Charlie"]


def test_a_rep_sees_only_own_figures(client: Any, alice: Any, sales: None) -> None:
    client.force_login(alice)
    html = client.get(DASH).content.decode()
    assert "₽1,200" in html
    assert "7,777" not in html and "8,977" not in html
    assert "Charlie" not in html
    assert chart(html, "chart-revenue")["labels"] == ["Alice"]
    assert chart(html, "chart-activity")["labels"] == ["Alice"]
    assert 'name="owner"' not in html  # a rep who sees only own deals has no manager filter


def test_period_and_manager_filters(client: Any, admin: Any, alice: Any, sales: None) -> None:
    client.force_login(admin)
    mine = client.get(DASH, {"owner": alice.pk, "period": "year"}).content.decode()
    assert chart(mine, "chart-revenue")["labels"] == ["Alice"]
    past = client.get(
        DASH, {"period": "custom", "date_from": "2001-01-01", "date_to": "2001-12-31"}
    ).content.decode()
    assert "No deals were closed in this period." in past
    assert "No deals were created in this period." in past


def test_bad_filters_are_named_next_to_their_inputs(client: Any, admin: Any) -> None:
    client.force_login(admin)
    response = client.get(
        DASH, {"period": "custom", "date_from": "вчера", "date_to": "2020-01-01", "team": "x"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="df_date_from_error">must be a date (YYYY-MM-DD)' in html
    assert "must be a whole number" in html
    reversed_ = client.get(
        DASH, {"period": "custom", "date_from": "2020-02-01", "date_to": "2020-01-01"}
    ).content.decode()
    assert "must not be before the start" in reversed_
    assert client.get(DASH, {"period": "decade"}).status_code == 200


def test_pipeline_filter_switches_the_funnel(client: Any, admin: Any, alice: Any) -> None:
    other = pipeline_create(
        actor=admin, name="Тендеры", stages=[{"name": "Заявка"}, {"name": "Итог", "kind": "won"}]
    )
    deal_create(actor=alice, data={"title": "T", "pipeline_id": other.pk})
    client.force_login(admin)
    html = client.get(DASH, {"pipeline": other.pk}).content.decode()
    assert chart(html, "chart-funnel")["labels"] == ["Заявка", "Итог"]
    assert client.get(DASH, {"pipeline": "999999"}).status_code == 200


def test_dashboard_query_count_is_bounded(
    client: Any, admin: Any, sales: None, django_assert_max_num_queries: Any
) -> None:
    client.force_login(admin)
    with django_assert_max_num_queries(25):
        client.get(DASH)
