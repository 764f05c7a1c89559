"""/api/v1/deals: lines with totals computed by the server, stage moves refused by required
fields, stage history, filters and pages, visibility and bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from voronka.core.models import AuditEntry, IdempotencyKey, OutboxEvent
from voronka.sales.models import Deal, DealLine, DealStageHistory, LostReason, Pipeline, Stage

pytestmark = pytest.mark.django_db

URL = "/api/v1/deals"

LINES = [
    {"name": "Насос ЦНС-38", "quantity": 3, "unit": "шт", "unit_price": "1999.99",
     "discount_percent": 10, "vat_rate": 20},
    {"name": "Монтаж", "quantity": "1.5", "unit": "ч", "unit_price": "2500", "vat_rate": "20"},
    {"name": "Доставка", "quantity": 1, "unit_price": 700},
]  # fmt: skip


@pytest.fixture
def reader(make_user: Any) -> Any:
    return make_user("reader", role="read_only")


@pytest.fixture
def sales_rows(db: Any) -> Callable[[], dict[str, int]]:
    """Row counts of every table a deal write touches."""
    models = [Deal, DealLine, DealStageHistory, AuditEntry, OutboxEvent, IdempotencyKey]

    def counts() -> dict[str, int]:
        return {m.__name__: m.objects.count() for m in models}

    return counts


def stage(position: int = 0, kind: str | None = None) -> Stage:
    qs = Stage.objects.filter(pipeline__is_default=True).order_by("position", "id")
    return qs.filter(kind=kind).first() if kind else qs[position]  # type: ignore[return-value]


def make_deal(owner: Any, **data: Any) -> Deal:
    from voronka.sales.services import deal_create

    data.setdefault("title", "Поставка")
    return deal_create(actor=owner, data=data)


def test_create_with_lines_computes_totals(api: Any, alice: Any, make_contact: Any) -> None:
    contact = make_contact(alice)
    response = api(alice).post(URL, {
        "title": "Поставка насосов", "lines": LINES, "contact_ids": [contact.pk],
        "expected_close_date": "2030-03-31", "tags": ["VIP"],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    # 5399.97 + 3750.00 + 700.00 net; VAT 20 % on the first two = 1079.99 + 750.00
    assert (body["net_total"], body["vat_total"], body["amount"]) == (
        "9849.97", "1829.99", "11679.96",
    )  # fmt: skip
    assert [(ln["net_total"], ln["vat_total"], ln["total"]) for ln in body["lines"]] == [
        ("5399.97", "1079.99", "6479.96"), ("3750.00", "750.00", "4500.00"),
        ("700.00", "0.00", "700.00"),
    ]  # fmt: skip
    assert body["lines"][1]["quantity"] == "1.500"
    assert body["lines"][2]["vat_rate"] is None
    assert body["currency"] == "RUB" and body["owner_id"] == alice.pk
    assert body["stage_id"] == stage(0).pk and body["status"] == "open"
    assert body["contacts"] == [{"id": contact.pk, "name": contact.full_name}]
    assert body["contact_ids"] == [contact.pk] and body["tags"] == ["VIP"]
    assert body["expected_close_date"] == "2030-03-31"
    assert [v["stage_id"] for v in body["stage_history"]] == [stage(0).pk]
    assert body["stage_history"][0]["left_at"] is None
    read = api(alice).get(f"{URL}/{body['id']}").json()
    for answer in (read, body):  # the time in stage grows between the two answers
        answer["stage_history"][0].pop("seconds_in_stage")
    assert read == body


def test_a_line_may_name_a_product(api: Any, admin: Any, alice: Any) -> None:
    from voronka.sales.services import product_create

    product = product_create(actor=admin, data={
        "sku": "P-1", "name": "Насос", "unit": "шт", "vat_rate": "20", "prices": {"RUB": "1000"},
    })  # fmt: skip
    body = api(alice).post(URL, {"title": "X", "lines": [
        {"product_id": product.pk, "quantity": 2, "unit_price": "1000"},
    ]}).json()  # fmt: skip
    line = body["lines"][0]
    assert (line["product_id"], line["name"], line["unit"], line["vat_rate"]) == (
        product.pk, "Насос", "шт", "20.00",
    )  # fmt: skip
    assert body["amount"] == "2400.00"


def test_patch_replaces_lines_and_keeps_the_rest(api: Any, alice: Any) -> None:
    client = api(alice)
    deal = client.post(URL, {"title": "A", "lines": LINES, "source": "expo"}).json()
    patched = client.patch(f"{URL}/{deal['id']}", {
        "lines": [{"name": "Одна", "quantity": 2, "unit_price": "10.005"}],
    })  # fmt: skip
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["field"] == "lines[0].unit_price"
    patched = client.patch(f"{URL}/{deal['id']}", {
        "lines": [{"name": "Одна", "quantity": 2, "unit_price": "10.50"}], "title": "B",
    }).json()  # fmt: skip
    assert [ln["name"] for ln in patched["lines"]] == ["Одна"]
    assert patched["amount"] == "21.00" and patched["title"] == "B"
    assert patched["source"] == "expo"
    assert DealLine.objects.count() == 1


def test_money_is_never_a_float(api: Any, alice: Any) -> None:
    make_deal(alice, amount="0.10")
    raw = api(alice).get(URL).content.decode()
    assert '"amount": "0.10"' in raw


def test_move_and_stage_history(api: Any, alice: Any) -> None:
    deal = make_deal(alice, amount="100")
    client = api(alice)
    moved = client.post(f"{URL}/{deal.pk}/move", {"stage_id": stage(1).pk})
    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert body["stage_id"] == stage(1).pk and body["stage_name"] == stage(1).name
    visits = body["stage_history"]
    assert [v["stage_id"] for v in visits] == [stage(0).pk, stage(1).pk]
    assert visits[0]["left_at"] is not None and visits[1]["left_at"] is None
    assert all(v["seconds_in_stage"] >= 0 for v in visits)
    won = client.post(f"{URL}/{deal.pk}/move", {"stage_id": stage(kind="won").pk}).json()
    assert won["status"] == "won" and won["closed_at"] is not None


def test_lost_needs_a_reason(api: Any, alice: Any) -> None:
    deal = make_deal(alice)
    lost = stage(kind="lost").pk
    client = api(alice)
    refused = client.post(f"{URL}/{deal.pk}/move", {"stage_id": lost})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["lost_reason_id"]
    reason = LostReason.objects.first()
    assert reason is not None
    ok = client.post(f"{URL}/{deal.pk}/move", {
        "stage_id": lost, "lost_reason_id": reason.pk, "lost_comment": "Дорого",
    }).json()  # fmt: skip
    assert ok["status"] == "lost" and ok["lost_reason_id"] == reason.pk
    assert ok["lost_comment"] == "Дорого"


@pytest.mark.parametrize("key", [None, "move-1"])
def test_a_move_refused_by_required_fields_names_them_and_changes_nothing(
    api: Any, admin: Any, alice: Any, sales_rows: Callable[[], dict[str, int]], key: str | None
) -> None:
    from voronka.sales.services import stage_change

    target = stage(2)
    stage_change(actor=admin, stage=target, changes={
        "required_fields": ["amount", "expected_close_date", "company"],
    })  # fmt: skip
    deal = make_deal(alice)
    client = api(alice)
    before = sales_rows()
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = client.post(f"{URL}/{deal.pk}/move", {"stage_id": target.pk}, **extra)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert sorted(fields) == ["amount", "company_id", "expected_close_date"]
    assert target.name in response.json()["errors"][0]["message"]
    assert sales_rows() == before
    deal.refresh_from_db()
    assert deal.stage_id == stage(0).pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "T" * 256}, "title"),
        ({"title": "X", "amount": "a lot"}, "amount"),
        ({"title": "X", "amount": "-5"}, "amount"),
        ({"title": "X", "currency": "XYZ"}, "currency"),
        ({"title": "X", "probability": 101}, "probability"),
        ({"title": "X", "expected_close_date": "soon"}, "expected_close_date"),
        ({"title": "X", "stage_id": 999999}, "stage_id"),
        ({"title": "X", "pipeline_id": 999999}, "pipeline_id"),
        ({"title": "X", "company_id": 999999}, "company_id"),
        ({"title": "X", "contact_ids": [999999]}, "contact_ids"),
        ({"title": "X", "tags": "VIP"}, "tags"),
        ({"title": "X", "lines": [{"name": "A", "quantity": 0, "unit_price": 1}]},
         "lines[0].quantity"),
        ({"title": "X", "lines": [{"name": "A", "quantity": 1}]}, "lines[0].unit_price"),
        ({"title": "X", "lines": [{"name": "A", "quantity": 1, "unit_price": 1,
                                   "discount_percent": 101}]}, "lines[0].discount_percent"),
        ({"title": "X", "lines": [{"quantity": 1, "unit_price": 1, "product_id": 999999}]},
         "lines[0].product_id"),
        ({"title": "X", "lines": [{"name": "A", "quantity": 1, "unit_price": 1, "colour": 1}]},
         "lines[0].colour"),
        ({"title": "X", "lines": "none"}, "lines"),
        ({"title": "X", "budget": 5}, "budget"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(
    api: Any, alice: Any, sales_rows: Callable[[], dict[str, int]], body: dict[str, Any],
    field: str,
) -> None:  # fmt: skip
    deal = make_deal(alice, title="Было")
    client = api(alice)
    before = sales_rows()
    for response in (client.post(URL, body), client.patch(f"{URL}/{deal.pk}", body)):
        assert response.status_code == 422, response.content
        assert field in [e["field"] for e in response.json()["errors"]]
    assert sales_rows() == before
    deal.refresh_from_db()
    assert deal.title == "Было"


def test_the_move_body_is_checked(api: Any, alice: Any) -> None:
    deal = make_deal(alice)
    client = api(alice)
    missing = client.post(f"{URL}/{deal.pk}/move", {})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "stage_id"
    other = Pipeline.objects.create(name="Другая")
    foreign = Stage.objects.create(pipeline=other, name="Чужая")
    wrong = client.post(f"{URL}/{deal.pk}/move", {"stage_id": foreign.pk})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "stage_id"


def test_list_filters_sort_and_pages(
    api: Any, alice: Any, bob: Any, make_company: Any, set_scope: Any
) -> None:
    company = make_company(alice, name="Ромашка")
    for i in range(5):
        make_deal(
            alice, title=f"Сделка {i}", amount=str(100 * (i + 1)), tags=["hot"] if i % 2 else []
        )
    make_deal(bob, title="Боба", company_id=None)
    make_deal(alice, title="С компанией", company_id=company.pk, stage_id=stage(1).pk)
    set_scope("sales_rep", "team")
    client = api(alice)
    titles: list[str] = []
    params: dict[str, Any] = {"limit": 2, "sort": "-amount", "owner": "me"}
    while True:
        page = client.get(URL, **params).json()
        titles += [d["title"] for d in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert titles == ["Сделка 4", "Сделка 3", "Сделка 2", "Сделка 1", "Сделка 0", "С компанией"]
    assert {d["title"] for d in client.get(URL, tag="hot").json()["items"]} == {
        "Сделка 1", "Сделка 3",
    }  # fmt: skip
    assert [d["title"] for d in client.get(URL, stage=stage(1).pk).json()["items"]] == [
        "С компанией"
    ]
    assert [d["title"] for d in client.get(URL, q="Ромашка").json()["items"]] == ["С компанией"]
    assert [d["title"] for d in client.get(URL, owner=bob.pk).json()["items"]] == ["Боба"]
    pipeline = Pipeline.objects.get(is_default=True).pk
    assert len(client.get(URL, pipeline=pipeline, limit=500).json()["items"]) == 7
    assert client.get(URL, status="won").json()["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "colour"}, "sort"), ({"stage": "first"}, "stage"), ({"limit": "501"}, "limit"),
     ({"created_from": "yesterday"}, "created_from"), ({"status": "maybe"}, "status"),
     ({"amount_min": "x"}, "amount_min"), ({"cursor": "bm9wZQ"}, "cursor")],
)  # fmt: skip
def test_bad_filters_name_the_parameter(
    api: Any, alice: Any, params: dict[str, str], field: str
) -> None:
    make_deal(alice)
    response = api(alice).get(URL, **params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize("viewer", ["bob", "charlie"])
def test_a_colleagues_deal_is_404(
    api: Any, alice: Any, bob: Any, charlie: Any, viewer: str, can_delete: None
) -> None:
    deal = make_deal(alice, title="Секретная", amount="500")
    client = api({"bob": bob, "charlie": charlie}[viewer])
    path = f"{URL}/{deal.pk}"
    for response in (
        client.get(path),
        client.patch(path, {"title": "x"}),
        client.delete(path),
        client.post(f"{path}/move", {"stage_id": stage(1).pk}),
    ):
        assert response.status_code == 404
        assert response.json()["errors"] == []
    assert client.get(URL).json()["items"] == []
    deal.refresh_from_db()
    assert deal.title == "Секретная" and deal.stage_id == stage(0).pk


def test_read_only_role_reads_but_may_not_write(api: Any, alice: Any, reader: Any) -> None:
    deal = make_deal(alice)
    client = api(reader)
    assert client.get(f"{URL}/{deal.pk}").json()["title"] == "Поставка"
    assert [d["id"] for d in client.get(URL).json()["items"]] == [deal.pk]
    for response in (
        client.post(URL, {"title": "X"}),
        client.patch(f"{URL}/{deal.pk}", {"title": "X"}),
        client.delete(f"{URL}/{deal.pk}"),
        client.post(f"{URL}/{deal.pk}/move", {"stage_id": stage(1).pk}),
    ):
        assert response.status_code == 403
    assert Deal.objects.count() == 1
    deal.refresh_from_db()
    assert deal.title == "Поставка" and deal.stage_id == stage(0).pk


def test_delete_needs_the_right_to_delete(api: Any, alice: Any, make_user: Any) -> None:
    deal = make_deal(alice)
    refused = api(alice).delete(f"{URL}/{deal.pk}")
    assert refused.status_code == 403
    assert Deal.objects.filter(pk=deal.pk).exists()
    from voronka.accounts.models import Role

    Role.objects.filter(code="sales_rep").update(can_delete=True)
    assert api(alice).delete(f"{URL}/{deal.pk}").status_code == 204
    assert not Deal.objects.filter(pk=deal.pk).exists()
    assert api(alice).get(f"{URL}/{deal.pk}").status_code == 404


def test_create_is_idempotent(api: Any, alice: Any) -> None:
    client = api(alice)
    first = client.post(URL, {"title": "Одна", "lines": LINES}, HTTP_IDEMPOTENCY_KEY="d-1")
    again = client.post(URL, {"title": "Одна", "lines": LINES}, HTTP_IDEMPOTENCY_KEY="d-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert Deal.objects.count() == 1 and DealLine.objects.count() == 3


def test_a_deal_given_away_is_still_answered(api: Any, alice: Any, bob: Any) -> None:
    """Handing a deal to someone else answers the written deal, though the caller can no
    longer see it afterwards."""
    deal = make_deal(alice)
    response = api(alice).patch(f"{URL}/{deal.pk}", {"owner_id": bob.pk})
    assert response.status_code == 200
    assert response.json()["owner_id"] == bob.pk
    assert api(alice).get(f"{URL}/{deal.pk}").status_code == 404
