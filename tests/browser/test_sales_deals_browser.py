"""From a lead to a priced deal in a real browser: create a lead, convert it in the card's
dialog, open the deal, move it to the next stage, tick the stage checklist, add a line item
from the catalogue and edit it.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.helpers import shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores roles and the pipeline.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:
    shot(page, f"deals-{name}")


def test_lead_to_deal_next_stage_and_line_item(
    page: Any, live_server: Any, admin: Any, alice: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.sales.models import Deal, Lead, Pipeline, StageKind
    from voronka.sales.services import product_create

    product = product_create(
        actor=admin,
        data={"sku": "CH-1", "name": "Стул офисный", "vat_rate": "20", "prices": {"RUB": "1500"}},
    )
    stages = [
        s
        for s in Pipeline.objects.get(is_default=True).stages.order_by("position")
        if s.kind == StageKind.OPEN
    ]
    base = live_server.url
    sign_in(page, base, "alice", password)

    # A lead typed by hand; its phone is stored in one standard form.
    page.goto(f"{base}/sales/leads/new/")
    page.get_by_label("Last name").fill("Браузерова")
    page.get_by_label("Company").fill("ООО Тестовая")
    page.get_by_label("Phone").fill("8 (916) 555-44-33")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/sales/leads/\d+/$"))
    expect(page.get_by_role("link", name="+7 916 555-44-33")).to_be_visible()

    # Convert in the card's dialog, with an amount; the deal opens.
    page.get_by_role("button", name="Convert").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Deal title")).to_have_value("ООО Тестовая")
    dialog.get_by_label("Amount").fill("1000")
    _shot(page, "convert")
    dialog.get_by_role("button", name="Convert").click()
    page.wait_for_url(re.compile(r".*/sales/deals/\d+/$"))
    lead = Lead.objects.get()
    deal = Deal.objects.get()
    assert lead.converted_deal_id == deal.pk and deal.company.name == "ООО Тестовая"
    expect(page.locator("[aria-current=step]")).to_contain_text(stages[0].name)

    # The stage's checklist keeps its ticks in this browser.
    first_step = page.locator("[data-vk-checklist] input").first
    first_step.check()
    page.reload()
    expect(page.locator("[data-vk-checklist] input").first).to_be_checked()

    # Move to the next stage from the stage bar.
    page.locator(".vk-stagebar").get_by_role("button", name=stages[1].name).click()
    expect(page.locator("[aria-current=step]")).to_contain_text(stages[1].name)
    expect(page.get_by_role("alert").filter(has_text="Moved to")).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage_id == stages[1].pk

    # Add a line from the catalogue: the product fills the name, price and VAT.
    lines = page.locator("#lines")
    lines.get_by_role("link", name="Edit").click()
    lines.get_by_label("Product").select_option(str(product.pk))
    expect(lines.get_by_label("Name")).to_have_value("Стул офисный")
    expect(lines.get_by_label("Price")).to_have_value("1500")
    lines.get_by_label("Qty").fill("2")
    lines.get_by_role("button", name="Save line items").click()
    expect(page.locator("#lines-total")).to_have_text("₽3,600.00")  # 2 × 1500 + 20 % VAT
    expect(page.locator("#deal-amount")).to_have_text("₽3,600.00")

    # Edit the line: three chairs with a 10 % discount.
    lines.get_by_role("link", name="Edit").click()
    lines.get_by_label("Qty").fill("3")
    lines.get_by_label("Discount, %").fill("10")
    _shot(page, "lines")
    lines.get_by_role("button", name="Save line items").click()
    expect(page.locator("#lines-total")).to_have_text("₽4,860.00")  # 4050 net + 810 VAT
    expect(page.locator("#timeline")).to_contain_text("4,860.00")  # the history follows
    _shot(page, "deal")
    deal.refresh_from_db()
    line = deal.lines.get()
    assert (line.quantity, line.discount_percent, deal.amount) == (
        Decimal("3.000"),
        Decimal("10.00"),
        Decimal("4860.00"),
    )
