"""The kanban board as a user sees it: columns with counts and sums of visible deals only,
filters, column pages, and moves through the move endpoint (JSON for the board's script, a
plain form POST without it) that refuse with the missing fields named and change nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from voronka.sales.models import Deal, DealStageHistory, LostReason, Pipeline, Stage, StageKind
from voronka.sales.services import deal_create, pipeline_create

pytestmark = pytest.mark.django_db

BOARD = "/sales/kanban/"
HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = {"HTTP_ACCEPT": "application/json"}


def stages() -> list[Stage]:
    return list(Pipeline.objects.get(is_default=True).stages.order_by("position", "id"))


def column_html(html: str, stage: Stage) -> str:
    start = html.index(f'data-stage="{stage.pk}" data-kind=')
    end = html.find("</section>", start)
    return html[start:end]


def header(html: str, stage: Stage) -> tuple[str, str]:
    col = column_html(html, stage)
    count = re.search(r"<span data-count>(\d+)</span>", col)
    total = re.search(r'<span class="vk-kcol-sum" data-sum>([^<]*)</span>', col)
    assert count and total
    return count.group(1), total.group(1)


def move_url(deal: Deal) -> str:
    return f"/sales/kanban/deals/{deal.pk}/move/"


@pytest.fixture
def board_deals(alice: Any, charlie: Any) -> dict[str, Deal]:
    return {
        "rub": deal_create(actor=alice, data={"title": "Рублёвая", "amount": 1000}),
        "usd": deal_create(actor=alice, data={"title": "Долларовая", "amount": 100, "currency": "USD"}),
        "charlie": deal_create(actor=charlie, data={"title": "Чужая сделка", "amount": 999}),
    }  # fmt: skip


def test_board_shows_columns_with_counts_and_sums_of_visible_deals_only(
    client: Any, alice: Any, admin: Any, board_deals: dict[str, Deal]
) -> None:
    first = stages()[0]
    client.force_login(alice)
    response = client.get(BOARD)
    html = response.content.decode()
    assert response.status_code == 200
    for stage in stages():
        assert f'id="kcol-{stage.pk}"' in html  # one column per stage
    assert "Рублёвая" in html and "Долларовая" in html
    assert "Чужая сделка" not in html
    # 1 000 ₽ + 100 $ at 90 = 10 000 in the base currency; the outsider's 999 is not counted.
    assert header(html, first) == ("2", "₽10,000")
    assert header(html, stages()[1]) == ("0", "₽0")
    client.force_login(admin)
    assert header(client.get(BOARD).content.decode(), first) == ("3", "₽10,999")


def test_cards_show_company_amount_owner_close_date_and_overdue(
    client: Any, alice: Any, make_company: Any
) -> None:
    company = make_company(alice, name="ООО Вектор")
    deal_create(actor=alice, data={"title": "Просроченная", "amount": "1500.50",
                                   "company_id": company.pk, "expected_close_date": "2020-03-01"})  # fmt: skip
    client.force_login(alice)
    html = client.get(BOARD).content.decode()
    card = html[html.index("Просроченная") - 600 : html.index("Просроченная") + 2500]
    assert "ООО Вектор" in card
    assert "₽1,500.50" in card
    assert "Alice" in card
    assert "overdue" in card and "is-overdue" in card


def test_board_filters_by_owner_tag_close_dates_and_search(
    client: Any, alice: Any, set_scope: Any, bob: Any
) -> None:
    set_scope("sales_rep", "team")
    deal_create(
        actor=alice, data={"title": "Alpha", "tags": ["vip"], "expected_close_date": "2030-01-10"}
    )
    deal_create(actor=bob, data={"title": "Beta", "expected_close_date": "2030-05-10"})
    client.force_login(alice)

    def titles(**params: str) -> set[str]:
        html = client.get(BOARD, params).content.decode()
        return {t for t in ("Alpha", "Beta") if f">{t}</a>" in html}

    assert titles() == {"Alpha", "Beta"}
    assert titles(owner=str(bob.pk)) == {"Beta"}
    assert titles(owner="me") == {"Alpha"}
    assert titles(tag="VIP") == {"Alpha"}
    assert titles(close_from="2030-02-01") == {"Beta"}
    assert titles(close_to="2030-02-01") == {"Alpha"}
    assert titles(q="bet") == {"Beta"}
    first = stages()[0]
    assert header(client.get(BOARD, {"q": "bet"}).content.decode(), first)[0] == "1"
    bad = client.get(BOARD, {"close_from": "soon"})
    assert bad.status_code == 200
    assert "must be a date (YYYY-MM-DD)" in bad.content.decode()
    # Search as you type swaps only the board.
    part = client.get(BOARD, {"q": "alp"}, HTTP_HX_TARGET="kanban-board", **HTMX).content.decode()
    assert "<html" not in part and "Alpha" in part and "Beta" not in part


def test_pipeline_switcher_shows_the_chosen_pipeline(client: Any, admin: Any, alice: Any) -> None:
    other = pipeline_create(
        actor=admin, name="Тендеры", stages=[{"name": "Заявка"}, {"name": "Итог", "kind": "won"}]
    )
    deal_create(actor=alice, data={"title": "Тендер", "pipeline_id": other.pk})
    deal_create(actor=alice, data={"title": "Обычная"})
    client.force_login(alice)
    default = client.get(BOARD).content.decode()
    assert "Обычная" in default and "Тендер<" not in default
    assert f'href="?pipeline={other.pk}"' in default
    chosen = client.get(BOARD, {"pipeline": other.pk}).content.decode()
    assert "Заявка" in chosen and "Тендер" in chosen and "Обычная" not in chosen
    assert client.get(BOARD, {"pipeline": "999999"}).status_code == 404


def test_columns_load_in_keyset_pages(
    client: Any, alice: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(23):
        deal_create(actor=alice, data={"title": f"Deal {i:02d}"})
    client.force_login(alice)
    html = client.get(BOARD).content.decode()
    first = column_html(html, stages()[0])
    shown = set(re.findall(r">(Deal \d\d)</a>", first))
    assert len(shown) == 20
    assert header(html, stages()[0])[0] == "23"
    more = re.search(r'hx-get="([^"]+)"', first)
    assert more and "Load more" in first
    with django_assert_max_num_queries(12) as ctx:
        page = client.get(more.group(1).replace("&amp;", "&"), **HTMX)
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
    rest = set(re.findall(r">(Deal \d\d)</a>", page.content.decode()))
    assert len(rest) == 3 and not rest & shown
    assert "Load more" not in page.content.decode()
    # Without JavaScript the same link opens the column as a page of its own.
    plain = client.get(more.group(1).replace("&amp;", "&"))
    assert "<html" in plain.content.decode() and "Back to the board" in plain.content.decode()


def test_board_costs_the_same_queries_for_few_and_many_deals(
    client: Any, alice: Any, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    deal_create(actor=alice, data={"title": "One"})
    client.force_login(alice)
    with CaptureQueriesContext(connection) as few:
        client.get(BOARD)
    for i in range(30):
        deal_create(
            actor=alice, data={"title": f"More {i}", "tags": ["t"], "stage_id": stages()[i % 3].pk}
        )
    with CaptureQueriesContext(connection) as many:
        client.get(BOARD)
    assert len(many.captured_queries) <= len(few.captured_queries) + len(stages())


def test_move_endpoint_moves_the_deal_and_returns_new_headers(
    client: Any, alice: Any, board_deals: dict[str, Deal]
) -> None:
    s = stages()
    deal = board_deals["rub"]
    client.force_login(alice)
    response = client.post(move_url(deal), {"stage_id": s[2].pk}, **JSON)
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True and data["stage_id"] == s[2].pk
    assert "moved to" in data["message"]
    assert f'data-stage="{s[2].pk}"' in data["card"] and "Рублёвая" in data["card"]
    heads = {c["stage_id"]: (c["count"], c["total"]) for c in data["columns"]}
    assert heads[s[0].pk] == (1, "₽9,000")  # the dollar deal stays; charlie's is not counted
    assert heads[s[2].pk] == (1, "₽1,000")
    deal.refresh_from_db()
    assert deal.stage_id == s[2].pk
    assert DealStageHistory.objects.filter(deal=deal, stage=s[2]).exists()


def test_move_headers_follow_the_board_filters(
    client: Any, alice: Any, board_deals: dict[str, Deal]
) -> None:
    s = stages()
    client.force_login(alice)
    response = client.post(move_url(board_deals["rub"]) + "?q=Рубл", {"stage_id": s[1].pk}, **JSON)
    heads = {c["stage_id"]: c["count"] for c in response.json()["columns"]}
    assert heads[s[0].pk] == 0 and heads[s[1].pk] == 1


def test_refused_move_names_the_missing_fields_and_changes_nothing(client: Any, alice: Any) -> None:
    s = stages()
    Stage.objects.filter(pk=s[2].pk).update(required_fields=["amount", "expected_close_date"])
    deal = deal_create(actor=alice, data={"title": "Пустая"})
    history = DealStageHistory.objects.filter(deal=deal).count()
    client.force_login(alice)
    response = client.post(move_url(deal), {"stage_id": s[2].pk}, **JSON)
    assert response.status_code == 400
    data = response.json()
    assert data["ok"] is False
    assert {e["field"] for e in data["errors"]} == {"amount", "expected_close_date"}
    assert {e["label"] for e in data["errors"]} == {"Amount", "Expected close date"}
    assert "Пустая" in data["title"] and s[2].name in data["title"]
    deal.refresh_from_db()
    assert deal.stage_id == s[0].pk
    assert DealStageHistory.objects.filter(deal=deal).count() == history


def test_plain_form_move_redirects_back_and_a_refusal_shows_the_form(
    client: Any, alice: Any
) -> None:
    s = stages()
    Stage.objects.filter(pk=s[3].pk).update(required_fields=["company"])
    deal = deal_create(actor=alice, data={"title": "Без JS"})
    client.force_login(alice)
    back = f"{BOARD}?owner=me"
    moved = client.post(move_url(deal), {"stage_id": s[1].pk, "next": back})
    assert moved.status_code == 302 and moved["Location"] == back
    deal.refresh_from_db()
    assert deal.stage_id == s[1].pk
    refused = client.post(move_url(deal), {"stage_id": s[3].pk, "next": back})
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "Company: required in stage" in html
    assert f'value="{s[3].pk}" checked' in html
    deal.refresh_from_db()
    assert deal.stage_id == s[1].pk
    offsite = client.post(move_url(deal), {"stage_id": s[0].pk, "next": "https://evil.example/"})
    assert offsite["Location"] == f"{BOARD}?pipeline={deal.pipeline_id}"
    # The menu's fallback page lists the stages and the lost reasons.
    page = client.get(move_url(deal)).content.decode()
    assert all(st.name in page for st in s) and LostReason.objects.first().name in page  # type: ignore[union-attr]


def test_moving_to_a_lost_stage_asks_for_a_reason(client: Any, alice: Any) -> None:
    lost = next(x for x in stages() if x.kind == StageKind.LOST)
    reason = LostReason.objects.filter(active=True).first()
    assert reason is not None
    deal = deal_create(actor=alice, data={"title": "Потеря", "amount": 10})
    client.force_login(alice)
    refused = client.post(move_url(deal), {"stage_id": lost.pk}, **JSON)
    assert refused.status_code == 400 and refused.json()["needs_reason"] is True
    assert refused.json()["errors"][0]["label"] == "Lost reason"
    done = client.post(
        move_url(deal),
        {"stage_id": lost.pk, "lost_reason_id": reason.pk, "lost_comment": "дорого"},
        **JSON,
    )
    assert done.status_code == 200
    deal.refresh_from_db()
    assert deal.stage_id == lost.pk and deal.lost_reason_id == reason.pk
    assert deal.lost_comment == "дорого" and deal.closed_at is not None


def test_bad_stage_input_is_a_field_error_not_a_500(client: Any, alice: Any) -> None:
    deal = deal_create(actor=alice, data={"title": "X"})
    client.force_login(alice)
    for value in ("", "abc", "999999"):
        response = client.post(move_url(deal), {"stage_id": value}, **JSON)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "stage_id"
    other = pipeline_create(actor=None, name="Другая", stages=[{"name": "Чужая стадия"}])
    foreign = other.stages.get()
    response = client.post(move_url(deal), {"stage_id": foreign.pk}, **JSON)
    assert response.status_code == 400
    deal.refresh_from_db()
    assert deal.stage_id == stages()[0].pk


def test_invisible_deal_is_404_and_a_read_only_user_gets_403(
    client: Any, alice: Any, charlie: Any, make_user: Any
) -> None:
    s = stages()
    theirs = deal_create(actor=charlie, data={"title": "Чужая"})
    client.force_login(alice)
    assert client.post(move_url(theirs), {"stage_id": s[1].pk}, **JSON).status_code == 404
    assert client.get(move_url(theirs)).status_code == 404
    viewer = make_user("viewer", role="read_only")
    client.force_login(viewer)
    assert client.post(move_url(theirs), {"stage_id": s[1].pk}).status_code == 403
    theirs.refresh_from_db()
    assert theirs.stage_id == s[0].pk
    html = client.get(BOARD).content.decode()
    assert "Чужая" in html  # read_only sees everything …
    assert 'draggable="true"' not in html and "Move to…" not in html  # … but moves nothing


def test_board_without_a_pipeline_says_what_to_do(client: Any, alice: Any) -> None:
    Deal.objects.all().delete()
    Stage.objects.all().delete()
    Pipeline.objects.all().delete()
    client.force_login(alice)
    html = client.get(BOARD).content.decode()
    assert "No pipeline yet." in html


def test_move_json_is_sent_as_json(client: Any, alice: Any) -> None:
    deal = deal_create(actor=alice, data={"title": "J"})
    client.force_login(alice)
    response = client.post(move_url(deal), {"stage_id": stages()[1].pk}, **JSON)
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["deal_id"] == deal.pk
