"""Kanban columns, deal filters and "my day"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from voronka.core.errors import ServiceValidationError
from voronka.sales.models import Pipeline
from voronka.sales.selectors import deal_list, kanban, kanban_column, my_day, parse_deal_query
from voronka.sales.services import activity_complete, activity_create, deal_create, deal_move

pytestmark = pytest.mark.django_db


def test_kanban_columns_count_sum_and_page(alice: Any, charlie: Any, admin: Any) -> None:
    pipeline = Pipeline.objects.get(is_default=True)
    second = pipeline.stages.order_by("position")[1]
    for i in range(25):
        deal_create(
            actor=alice,
            data={"title": f"D{i}", "amount": 10, "tags": ["опт"] if i % 5 == 0 else []},
        )
    moved = deal_create(actor=alice, data={"title": "Moved", "amount": 1000})
    deal_move(actor=alice, deal=moved, stage_id=second.pk)
    deal_create(actor=charlie, data={"title": "Hidden", "amount": 5})
    columns = kanban(alice, pipeline, parse_deal_query({}, alice), limit=10)
    first = columns[0]
    assert (first.count, first.total) == (25, 250)
    assert len(first.page.items) == 10 and first.page.next_cursor
    assert columns[1].count == 1 and columns[1].page.items[0].title == "Moved"
    seen = [d.title for d in first.page.items]
    cursor = first.page.next_cursor
    while cursor:
        page = kanban_column(alice, first.stage, parse_deal_query({}, alice), cursor, 10)
        seen += [d.title for d in page.items]
        cursor = page.next_cursor
    assert sorted(seen) == sorted(f"D{i}" for i in range(25))
    tagged = kanban(alice, pipeline, parse_deal_query({"tag": "ОПТ"}, alice))
    assert tagged[0].count == 5
    assert (
        kanban(admin, pipeline, parse_deal_query({"owner": str(charlie.pk)}, admin))[0].count == 1
    )


def test_bad_deal_filters_name_the_parameter(alice: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        parse_deal_query(
            {"status": "maybe", "amount_min": "x", "sort": "secret", "close_from": "soon"}, alice
        )
    assert {e.field for e in exc.value.errors} == {"status", "amount_min", "sort", "close_from"}


def test_my_day(alice: Any, bob: Any) -> None:
    now = timezone.localtime().replace(hour=12, minute=0)  # midday: "today" has room either side
    late = activity_create(
        actor=alice, data={"subject": "Просрочено", "due_at": now - dt.timedelta(hours=30)}
    )
    activity_create(
        actor=alice, data={"subject": "Сегодня", "due_at": now + dt.timedelta(minutes=1)}
    )
    activity_create(actor=alice, data={"subject": "Потом", "due_at": now + dt.timedelta(days=3)})
    done = activity_create(
        actor=alice, data={"subject": "Сделано", "due_at": now - dt.timedelta(hours=1)}
    )
    activity_complete(actor=alice, activity=done)
    activity_create(actor=bob, data={"subject": "Чужое", "due_at": now})
    day = my_day(alice, now=now)
    assert [a.subject for a in day.overdue] == ["Просрочено"]
    assert [a.subject for a in day.upcoming] == ["Потом"]
    assert [a.subject for a in day.today] == ["Сегодня"]
    assert late in day.overdue


def test_deals_sorted_by_close_date_page_past_the_undated_ones(alice: Any) -> None:
    import datetime as dt

    from voronka.sales.services import deal_create

    for i in range(3):
        deal_create(actor=alice, data={"title": f"Без даты {i}"})
    for day in (5, 6):
        deal_create(
            actor=alice,
            data={"title": f"Дата {day}", "expected_close_date": dt.date(2026, 12, day)},
        )
    seen: list[str] = []
    params: dict[str, str] = {"sort": "expected_close_date", "limit": "2"}
    while True:
        page = deal_list(alice, parse_deal_query(params, alice))
        seen.extend(d.title for d in page.items)
        if not page.next_cursor:
            break
        params["cursor"] = page.next_cursor
    assert seen[:2] == ["Дата 5", "Дата 6"]
    assert sorted(seen[2:]) == ["Без даты 0", "Без даты 1", "Без даты 2"]
