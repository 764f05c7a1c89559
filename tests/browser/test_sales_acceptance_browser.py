"""The sales issue's acceptance run in Chromium: a rep creates a lead, converts it, drags the
deal across the kanban to the won stage, and the dashboard's won figures change with it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.helpers import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _won_kpi(page: Any) -> Any:
    label = page.locator(".vk-kpi-label", has_text=re.compile(r"^Won$"))
    return page.locator(".vk-kpi").filter(has=label)


def _won_count(page: Any, base: str) -> int:
    page.goto(f"{base}/sales/dashboard/?period=year")
    text = _won_kpi(page).locator(".vk-kpi-sub").inner_text()
    return int(re.match(r"\d+", text.strip()).group())  # type: ignore[union-attr]


def test_lead_to_won_deal_moves_the_dashboard(
    page: Any, live_server: Any, alice: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.sales.models import Deal, Lead, Pipeline, StageKind

    base = live_server.url
    stages = list(Pipeline.objects.get(is_default=True).stages.order_by("position", "id"))
    won = next(s for s in stages if s.kind == StageKind.WON)
    sign_in(page, base, "alice", password)
    assert _won_count(page, base) == 0

    page.goto(f"{base}/sales/leads/new/")
    page.get_by_label("Last name").fill("Приёмкина")
    page.get_by_label("Company").fill("ООО Приёмка")
    page.get_by_label("Phone").fill("+7 916 700-00-01")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/sales/leads/\d+/$"))
    page.get_by_role("button", name="Convert").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Amount").fill("250000")
    dialog.get_by_role("button", name="Convert").click()
    page.wait_for_url(re.compile(r".*/sales/deals/\d+/$"))
    deal = Deal.objects.get()
    assert Lead.objects.get().converted_deal_id == deal.pk

    page.set_viewport_size({"width": 1920, "height": 900})  # every column on screen
    page.goto(f"{base}/sales/kanban/")
    target = f'.vk-kcol[data-stage="{won.pk}"] .vk-kcol-list'
    page.drag_and_drop(f"#deal-{deal.pk}", target)
    expect(page.locator(f"{target} #deal-{deal.pk}")).to_be_visible()
    expect(page.locator(f'.vk-kcol[data-stage="{won.pk}"] [data-count]')).to_have_text("1")
    deal.refresh_from_db()
    assert deal.stage_id == won.pk and deal.closed_at is not None

    assert _won_count(page, base) == 1
    expect(_won_kpi(page)).to_contain_text("250")
