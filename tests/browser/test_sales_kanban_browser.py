"""The kanban board in a real browser: drag a card to another column, move one with the
keyboard through its "Move to…" menu, see a refused move put the card back with the fields to
fill, and give a lost reason in the dialog. Column headers update after every move.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in rows after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:
    shot(page, f"kanban-{name}")


def column(page: Any, stage: Any) -> Any:
    return page.locator(f'#kanban-board .vk-kcol[data-stage="{stage.pk}"]')


def test_drag_keyboard_refusal_and_lost_reason(
    page: Any, live_server: Any, alice: Any, charlie: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.sales.models import Deal, LostReason, Pipeline, Stage
    from voronka.sales.services import deal_create

    s = list(Pipeline.objects.get(is_default=True).stages.order_by("position", "id"))
    lost = next(x for x in s if x.kind == "lost")
    Stage.objects.filter(pk=s[3].pk).update(required_fields=["company"])
    dragged = deal_create(actor=alice, data={"title": "Перетащи меня", "amount": 1000})
    keyboard = deal_create(actor=alice, data={"title": "Клавиатурная", "amount": 250})
    refused = deal_create(actor=alice, data={"title": "Без компании", "amount": 50})
    deal_create(actor=charlie, data={"title": "Чужая", "amount": 7})
    base = live_server.url
    sign_in(page, base, "alice", password)
    page.goto(f"{base}/sales/kanban/")
    first, second = column(page, s[0]), column(page, s[1])
    expect(first.locator(".vk-kcard")).to_have_count(3)  # never charlie's deal
    expect(first.locator("[data-count]")).to_have_text("3")
    expect(first.locator("[data-sum]")).to_have_text("₽1,300")

    # Drag a card onto the next column: it lands there and both headers follow.
    page.drag_and_drop(f"#deal-{dragged.pk}", f'.vk-kcol[data-stage="{s[1].pk}"] .vk-kcol-list')
    expect(second.locator(f"#deal-{dragged.pk}")).to_be_visible()
    expect(second.locator("[data-count]")).to_have_text("1")
    expect(second.locator("[data-sum]")).to_have_text("₽1,000")
    expect(first.locator("[data-count]")).to_have_text("2")
    expect(first.locator("[data-sum]")).to_have_text("₽300")
    expect(page.locator("#kanban-status")).to_contain_text("moved to")
    _shot(page, "dragged")
    dragged.refresh_from_db()
    assert dragged.stage_id == s[1].pk

    # The keyboard: open the card's "Move to…" menu, pick a stage, press Enter.
    card = page.locator(f"#deal-{keyboard.pk}")
    card.locator(".vk-move summary").focus()
    page.keyboard.press("Enter")
    option = card.get_by_role("button", name=s[2].name)
    expect(option).to_be_visible()
    option.focus()
    page.keyboard.press("Enter")
    expect(column(page, s[2]).locator(f"#deal-{keyboard.pk}")).to_be_visible()
    expect(column(page, s[2]).locator("[data-count]")).to_have_text("1")
    # The focus stays on the moved card, so the next move needs no mouse either.
    assert page.evaluate(f"document.activeElement.closest('#deal-{keyboard.pk}') !== null")
    keyboard.refresh_from_db()
    assert keyboard.stage_id == s[2].pk

    # A refused move: the stage requires a company; the card goes back, the alert says why.
    page.drag_and_drop(f"#deal-{refused.pk}", f'.vk-kcol[data-stage="{s[3].pk}"] .vk-kcol-list')
    alert = page.locator("#kanban-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Company")
    expect(alert).to_contain_text("Без компании")
    expect(first.locator(f"#deal-{refused.pk}")).to_be_visible()
    expect(column(page, s[3]).locator(".vk-kcard")).to_have_count(0)
    expect(column(page, s[3]).locator("[data-count]")).to_have_text("0")
    _shot(page, "refused")
    refused.refresh_from_db()
    assert refused.stage_id == s[0].pk

    # Moving to the lost stage asks for the reason first, by keyboard too.
    reason = LostReason.objects.filter(active=True).order_by("position").first()
    assert reason is not None
    card = page.locator(f"#deal-{refused.pk}")
    card.locator(".vk-move summary").focus()
    page.keyboard.press("Enter")
    card.get_by_role("button", name=lost.name).focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#kanban-lost-dialog")
    expect(dialog).to_be_visible()
    page.get_by_label("Lost reason").select_option(str(reason.pk))
    page.get_by_label("Comment").fill("дорого")
    _shot(page, "lost-dialog")
    page.get_by_role("button", name="Mark as lost").click()
    expect(column(page, lost).locator(f"#deal-{refused.pk}")).to_be_visible()
    expect(column(page, lost).locator("[data-count]")).to_have_text("1")
    expect(alert).to_be_hidden()
    refused = Deal.objects.get(pk=refused.pk)
    assert refused.stage_id == lost.pk and refused.lost_reason_id == reason.pk


def test_columns_load_more_cards_as_they_scroll(
    page: Any, live_server: Any, alice: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.sales.models import Pipeline
    from voronka.sales.services import deal_create

    for i in range(25):
        deal_create(actor=alice, data={"title": f"Сделка {i:02d}"})
    first = Pipeline.objects.get(is_default=True).stages.order_by("position", "id").first()
    assert first is not None
    base = live_server.url
    sign_in(page, base, "alice", password)
    page.set_viewport_size({"width": 390, "height": 800})  # a phone: columns scroll sideways
    page.goto(f"{base}/sales/kanban/")
    cards = column(page, first).locator(".vk-kcard")
    expect(cards).to_have_count(20)
    column(page, first).locator(".vk-kmore a").scroll_into_view_if_needed()
    expect(cards).to_have_count(25)
    expect(column(page, first).locator(".vk-kmore")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "mobile")
