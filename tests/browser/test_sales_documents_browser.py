"""Quotes in a real browser: a manager creates a quote from a deal, the customer opens the
public link in a browser of their own (no session), accepts it, and the manager sees it.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import new_page, shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:
    shot(page, f"docs-{name}")


def test_quote_from_a_deal_accepted_through_the_public_link(
    browser: Any, live_server: Any, alice: Any, make_company: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.core.audit import history
    from voronka.sales.models import DocumentStatus, SalesDocument
    from voronka.sales.services import deal_create

    company = make_company(alice, name="ООО «Северные технологии»")
    deal = deal_create(actor=alice, data={"title": "Поставка насосов", "company_id": company.pk, "lines": [
        {"name": "Насос ЦНС-38", "quantity": 2, "unit": "шт", "unit_price": "1000", "vat_rate": 20},
    ]})  # fmt: skip
    base = live_server.url
    manager = new_page(browser, locale="en-US")
    sign_in(manager, base, "alice", password)

    # The deal's documents: create a quote from its lines.
    manager.goto(f"{base}/sales/documents/deal/{deal.pk}/")
    expect(manager.locator("#deal-documents")).to_contain_text("No quotes or invoices yet")
    manager.get_by_role("button", name="Create quote").click()
    manager.wait_for_url(f"{base}/sales/documents/*/")
    quote = SalesDocument.objects.get(deal=deal)
    expect(manager.get_by_role("heading", level=1)).to_contain_text(quote.number)
    expect(manager.locator("#doc-status")).to_have_text("draft")
    expect(manager.locator("#doc-total")).to_contain_text("2,400.00")
    preview = manager.frame_locator("iframe.vk-doc-frame")
    expect(preview.get_by_text("Насос ЦНС-38")).to_be_visible()
    manager.get_by_role("button", name="Copy link").click()
    expect(manager.get_by_role("button", name="Copied")).to_be_visible()
    link = manager.locator("#public-link").input_value()
    assert link == f"{base}/sales/q/{quote.public_token}/"
    _shot(manager, "document")

    # The customer: a fresh browser context, no session, a phone-sized screen.
    customer = new_page(browser, width=390, locale="en-US")
    customer.goto(link)
    expect(customer.get_by_role("heading", level=1)).to_contain_text(quote.number)
    customer.get_by_role("button", name="Accept").click()
    expect(customer.get_by_text("give your name")).to_be_visible()  # the name is required
    customer.get_by_label("Your name").fill("Иван Петров")
    customer.get_by_label("Comment (optional)").fill("Ждём счёт")
    _shot(customer, "public")
    customer.get_by_role("button", name="Accept").click()
    expect(customer.locator("#quote-result")).to_contain_text("You accepted this quote")
    expect(customer.get_by_role("button", name="Accept")).to_have_count(0)
    _shot(customer, "public-accepted")

    quote.refresh_from_db()
    assert quote.status == DocumentStatus.ACCEPTED
    assert any(
        e.changes.get("quote_accepted") == [quote.number, "Иван Петров"] for e in history(deal)
    )

    # The manager sees the answer on the document page.
    manager.reload()
    expect(manager.locator("#doc-status")).to_have_text("accepted")
    expect(manager.get_by_role("button", name="Mark accepted")).to_have_count(0)
    manager.goto(f"{base}/sales/documents/deal/{deal.pk}/")
    expect(manager.locator("#deal-documents")).to_contain_text("accepted")
