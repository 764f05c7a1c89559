"""Deal pages through Django's test client: list with filters, totals and pages; the card with
its stage bar, checklist and line items; create/edit/delete; moves refused for required
fields; the deals panel of contact and company cards; visibility and read-only roles."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from voronka.sales.models import Deal, DealStageHistory, LostReason, Pipeline, Stage, StageKind
from voronka.sales.services import deal_create, product_create, stage_change

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def stages() -> list[Stage]:
    return list(Pipeline.objects.get(is_default=True).stages.order_by("position", "id"))


def open_stage(i: int) -> Stage:
    return [s for s in stages() if s.kind == StageKind.OPEN][i]


def make_deal(owner: Any, **data: Any) -> Deal:
    data.setdefault("title", "Поставка")
    data.setdefault("owner_id", owner.pk)
    return deal_create(actor=owner, data=data)


def test_list_shows_visible_deals_with_filters_and_totals(
    client: Any, alice: Any, charlie: Any, django_assert_max_num_queries: Any
) -> None:
    make_deal(alice, title="Chairs", amount="1000", tags=["vip"])
    make_deal(alice, title="Tables", amount="2500.50", stage_id=open_stage(1).pk)
    make_deal(alice, title="Dollars", amount="10", currency="USD")
    make_deal(charlie, title="Secret", amount="999999")
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        response = client.get("/sales/deals/")
    html = response.content.decode()
    assert "Chairs" in html and "Tables" in html and "Secret" not in html
    assert "3 deals" in html and "$10.00" in html and "₽3,500.50" in html  # per currency
    assert f'href="{reverse("sales:kanban")}"' in html
    html = client.get("/sales/deals/", {"stage": open_stage(1).pk}).content.decode()
    assert "Tables" in html and "Chairs" not in html and "1 deal" in html
    html = client.get("/sales/deals/", {"tag": "VIP"}).content.decode()
    assert "Chairs" in html and "Tables" not in html
    html = client.get("/sales/deals/", {"q": "tab", "owner": "me"}).content.decode()
    assert "Tables" in html and "Chairs" not in html
    html = client.get("/sales/deals/", {"sort": "-amount"}).content.decode()
    assert html.index("Tables") < html.index("Chairs") < html.index("Dollars")
    bad = client.get("/sales/deals/", {"close_from": "someday", "sort": "colour"})
    assert bad.status_code == 200
    assert "must be a date" in bad.content.decode() and "cannot sort" in bad.content.decode()


def test_list_pages_with_htmx(client: Any, alice: Any) -> None:
    for i in range(3):
        make_deal(alice, title=f"Deal{i}")
    client.force_login(alice)
    html = client.get("/sales/deals/", {"limit": 2}).content.decode()
    assert 'id="more-row"' in html and "Deal0" not in html
    import html as html_lib
    import re

    url = html_lib.unescape(re.search(r'hx-get="([^"]*cursor=[^"]+)"', html).group(1))
    more = client.get(url, HTTP_HX_TARGET="more-row", **HTMX).content.decode()
    assert "Deal0" in more and "<html" not in more


def test_card_shows_stage_bar_checklist_and_panels(client: Any, alice: Any, admin: Any) -> None:
    stage_change(actor=admin, stage=open_stage(2), changes={"required_fields": ["amount"]})
    deal = make_deal(alice, amount="0", source="expo")
    client.force_login(alice)
    html = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    first = open_stage(0)
    assert 'aria-current="step"' in html and first.name in html
    for step in first.instructions:
        assert step in html
    assert f'data-vk-checklist="voronka.checklist.deal{deal.pk}.stage{first.pk}"' in html
    assert f'hx-get="{reverse("sales:deal_activities", args=[deal.pk])}"' in html
    assert f'hx-get="{reverse("sales:deal_documents", args=[deal.pk])}"' in html
    assert f"Needed for “{open_stage(2).name}”" in html  # the required fields ahead
    assert "Stage history" in html and "so far" in html
    assert f'name="stage_id" value="{open_stage(1).pk}"' in html


def test_create_reports_errors_then_creates(client: Any, alice: Any) -> None:
    client.force_login(alice)
    form = client.get("/sales/deals/new/").content.decode()
    assert 'name="pipeline_id"' in form and "<optgroup" in form
    bad = client.post(
        "/sales/deals/new/",
        {"title": "", "amount": "много", "probability": "200", "currency": "RUB"},
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="id_title_error"' in html and 'id="id_amount_error"' in html
    assert 'id="id_probability_error"' in html and 'value="много"' in html
    assert not Deal.objects.exists()
    ok = client.post(
        "/sales/deals/new/",
        {"title": "Крупный заказ", "amount": "12 500,00", "currency": "EUR",
         "expected_close_date": "2030-01-31", "tags": "vip, q1"},
    )  # fmt: skip
    deal = Deal.objects.get()
    assert ok["Location"] == f"/sales/deals/{deal.pk}/"
    assert (deal.amount, deal.currency_id, deal.owner_id) == (Decimal("12500.00"), "EUR", alice.pk)
    assert deal.stage == open_stage(0)
    assert sorted(t.name for t in deal.tags.all()) == ["q1", "vip"]


def test_new_deal_from_a_contact_or_company_card_is_prefilled(
    client: Any, alice: Any, charlie: Any, make_contact: Any, make_company: Any
) -> None:
    company = make_company(alice, name="Прогресс")
    contact = make_contact(alice, last_name="Кузнецов", company_id=company.pk)
    hidden = make_contact(charlie, last_name="Чужой")
    client.force_login(alice)
    html = client.get("/sales/deals/new/", {"contact": contact.pk}).content.decode()
    assert f'<option value="{contact.pk}" selected>' in html
    assert f'<option value="{company.pk}" selected>' in html
    html = client.get("/sales/deals/new/", {"company": company.pk}).content.decode()
    assert f'<option value="{company.pk}" selected>' in html
    html = client.get("/sales/deals/new/", {"contact": hidden.pk}).content.decode()
    assert "Чужой" not in html
    client.post(
        f"/sales/deals/new/?contact={contact.pk}",
        {"title": "X", "contact_ids": [str(contact.pk)], "company_id": str(company.pk)},
    )
    deal = Deal.objects.get()
    assert list(deal.contacts.all()) == [contact] and deal.company == company


def test_move_to_the_next_stage_and_refused_move_changes_nothing(
    client: Any, alice: Any, admin: Any
) -> None:
    target = open_stage(2)
    stage_change(
        actor=admin, stage=target, changes={"required_fields": ["amount", "expected_close_date"]}
    )
    deal = make_deal(alice)
    client.force_login(alice)
    moved = client.post(f"/sales/deals/{deal.pk}/move/", {"stage_id": open_stage(1).pk})
    assert moved.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == open_stage(1)
    before = deal.updated_at
    refused = client.post(f"/sales/deals/{deal.pk}/move/", {"stage_id": target.pk})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert f"The deal was not moved to “{target.name}”" in html
    assert "<strong>Amount</strong>" in html and "<strong>Expected close date</strong>" in html
    deal.refresh_from_db()
    assert deal.stage == open_stage(1) and deal.updated_at == before
    assert DealStageHistory.objects.filter(deal=deal).count() == 2
    other = Pipeline.objects.create(name="Other")
    foreign = Stage.objects.create(pipeline=other, name="Elsewhere")
    client.post(f"/sales/deals/{deal.pk}/move/", {"stage_id": foreign.pk})
    deal.refresh_from_db()
    assert deal.stage == open_stage(1)


def test_lost_asks_for_a_reason_and_won_closes(client: Any, alice: Any) -> None:
    deal = make_deal(alice)
    lost = next(s for s in stages() if s.kind == StageKind.LOST)
    won = next(s for s in stages() if s.kind == StageKind.WON)
    client.force_login(alice)
    refused = client.post(f"/sales/deals/{deal.pk}/move/", {"stage_id": lost.pk})
    assert refused.status_code == 400
    assert 'name="lost_reason_id"' in refused.content.decode()
    reason = LostReason.objects.first()
    client.post(
        f"/sales/deals/{deal.pk}/move/",
        {"stage_id": lost.pk, "lost_reason_id": reason.pk, "lost_comment": "Too slow"},
    )
    deal.refresh_from_db()
    assert deal.stage == lost and deal.lost_reason == reason and deal.closed_at is not None
    html = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert reason.name in html and "Too slow" in html
    client.post(f"/sales/deals/{deal.pk}/move/", {"stage_id": won.pk})
    deal.refresh_from_db()
    assert deal.stage == won and deal.lost_reason is None


def test_line_items_are_edited_and_totals_shown(client: Any, alice: Any, admin: Any) -> None:
    product = product_create(
        actor=admin,
        data={"sku": "CH-1", "name": "Стул", "vat_rate": "20", "prices": {"RUB": "1500"}},
    )  # fmt: skip
    deal = make_deal(alice)
    client.force_login(alice)
    editor = client.get(f"/sales/deals/{deal.pk}/lines/", **HTMX).content.decode()
    assert f'value="{product.pk}" data-name="Стул" data-price="1500" data-vat="20"' in editor
    bad = client.post(
        f"/sales/deals/{deal.pk}/lines/",
        {"lines[0].name": "Стул", "lines[0].quantity": "", "lines[0].unit_price": "1500",
         "lines[3].name": "Стол", "lines[3].quantity": "-1", "lines[3].unit_price": "x"},
    )  # fmt: skip
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="line_0_quantity_error"' in html and 'id="line_3_unit_price_error"' in html
    assert 'id="line_3_quantity_error"' in html
    assert not deal.lines.exists()
    saved = client.post(
        f"/sales/deals/{deal.pk}/lines/",
        {"lines[0].product_id": str(product.pk), "lines[0].name": "Стул", "lines[0].quantity": "4",
         "lines[0].unit_price": "1500", "lines[0].discount_percent": "10", "lines[0].vat_rate": "20",
         "lines[1].name": "", "lines[1].quantity": "", "lines[1].unit_price": "",
         "lines[2].name": "Доставка", "lines[2].quantity": "1", "lines[2].unit_price": "500"},
        **HTMX,
    )  # fmt: skip
    assert saved.status_code == 200 and saved["HX-Trigger"] == "timeline-changed"
    html = saved.content.decode()
    # 4 × 1500 − 10 % = 5400 net, 1080 VAT; delivery 500 without VAT.
    assert "₽5,900.00" in html and "₽1,080.00" in html and "₽6,980.00" in html
    assert 'id="deal-amount" hx-swap-oob="true"' in html
    deal.refresh_from_db()
    assert deal.amount == Decimal("6980.00") and deal.lines.count() == 2
    edit = client.get(f"/sales/deals/{deal.pk}/edit/").content.decode()
    assert "The sum of the line items" in edit  # the amount follows the lines


def test_edit_and_delete(client: Any, alice: Any, admin: Any) -> None:
    deal = make_deal(alice, amount="100")
    client.force_login(alice)
    bad = client.post(f"/sales/deals/{deal.pk}/edit/", {"title": "", "currency": "RUB"})
    assert bad.status_code == 400 and 'id="id_title_error"' in bad.content.decode()
    client.post(
        f"/sales/deals/{deal.pk}/edit/",
        {"title": "Renamed", "amount": "200", "currency": "RUB", "pipeline_id": deal.pipeline_id,
         "stage_id": deal.stage_id, "owner_id": alice.pk, "probability": "40"},
    )  # fmt: skip
    deal.refresh_from_db()
    assert (deal.title, deal.amount, deal.probability) == ("Renamed", Decimal("200.00"), 40)
    assert "Renamed" in client.get(f"/sales/deals/{deal.pk}/timeline/").content.decode()
    assert client.get(f"/sales/deals/{deal.pk}/delete/").status_code == 403  # reps may not
    client.force_login(admin)
    assert "cannot be undone" in client.get(f"/sales/deals/{deal.pk}/delete/").content.decode()
    response = client.post(f"/sales/deals/{deal.pk}/delete/")
    assert response["Location"] == "/sales/deals/" and not Deal.objects.exists()


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_invisible_deal_is_404(client: Any, request: Any, alice: Any, who: str) -> None:
    deal = make_deal(alice)
    client.force_login(request.getfixturevalue(who))
    base = f"/sales/deals/{deal.pk}"
    for url in (
        f"{base}/",
        f"{base}/edit/",
        f"{base}/lines/",
        f"{base}/timeline/",
        f"{base}/delete/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/move/", {"stage_id": open_stage(1).pk}).status_code == 404
    assert client.post(f"{base}/lines/", {"lines[0].name": "x"}).status_code == 404
    assert client.post(f"{base}/notes/", {"body": "hi"}).status_code == 404
    assert "Поставка" not in client.get("/sales/deals/").content.decode()
    deal.refresh_from_db()
    assert deal.stage == open_stage(0)


def test_read_only_role_sees_but_cannot_write(client: Any, make_user: Any, alice: Any) -> None:
    deal = make_deal(alice)
    reader = make_user("rita", role="read_only")
    client.force_login(reader)
    html = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert 'name="stage_id"' not in html and "/edit/" not in html
    assert client.get("/sales/deals/new/").status_code == 403
    assert (
        client.post(f"/sales/deals/{deal.pk}/move/", {"stage_id": open_stage(1).pk}).status_code
        == 403
    )
    assert client.post(f"/sales/deals/{deal.pk}/lines/", {"lines[0].name": "x"}).status_code == 403
    assert client.get(f"/sales/deals/{deal.pk}/lines/").status_code == 403
    assert client.post(f"/sales/deals/{deal.pk}/edit/", {"title": "X"}).status_code == 403
    deal.refresh_from_db()
    assert deal.stage == open_stage(0) and deal.title == "Поставка"


def test_panels_on_contact_and_company_cards(
    client: Any, alice: Any, charlie: Any, make_contact: Any, make_company: Any, set_scope: Any
) -> None:
    company = make_company(alice, name="Общая")
    contact = make_contact(alice, company_id=company.pk)
    make_deal(alice, title="Mine", company_id=company.pk, contact_ids=[contact.pk], amount="700")
    set_scope("sales_rep", "all")
    charlie.role.refresh_from_db()
    make_deal(charlie, title="Theirs", company_id=company.pk, contact_ids=[contact.pk])
    set_scope("sales_rep", "own")
    client.force_login(alice)
    html = client.get(reverse("sales:contact_deals", args=[contact.pk])).content.decode()
    assert html.startswith('<section class="card vk-section mb-3"')
    assert "Mine" in html and "Theirs" not in html and "₽700.00" in html
    assert f"/sales/deals/new/?contact={contact.pk}" in html
    html = client.get(reverse("sales:company_deals", args=[company.pk])).content.decode()
    assert "Mine" in html and "Theirs" not in html
    assert f"/sales/deals/new/?company={company.pk}" in html
    client.force_login(charlie)
    assert client.get(reverse("sales:contact_deals", args=[contact.pk])).status_code == 404
    assert client.get(reverse("sales:company_deals", args=[company.pk])).status_code == 404


def test_note_on_a_deal(client: Any, alice: Any) -> None:
    deal = make_deal(alice)
    client.force_login(alice)
    html = client.post(f"/sales/deals/{deal.pk}/notes/", {"body": "Sent the price list"}, **HTMX)
    assert "Sent the price list" in html.content.decode()
    plain = client.post(f"/sales/deals/{deal.pk}/notes/", {"body": "Again"})
    assert plain["Location"] == f"/sales/deals/{deal.pk}/#timeline"


def test_form_never_names_a_company_or_contact_the_user_cannot_see(
    client: Any, alice: Any, charlie: Any, make_contact: Any, make_company: Any
) -> None:
    secret_company = make_company(charlie, name="Тайная фирма")
    secret_contact = make_contact(charlie, last_name="Тайнов")
    client.force_login(alice)
    response = client.post(
        "/sales/deals/new/",
        {"title": "Probe", "company_id": str(secret_company.pk),
         "contact_ids": [str(secret_contact.pk)]},
    )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "no such company" in html and "no such contacts" in html
    assert "Тайная фирма" not in html and "Тайнов" not in html
    assert not Deal.objects.exists()
