"""Sales settings in a real browser: an administrator adds a stage with a checklist, then moves
it up with the keyboard-reachable arrow buttons (the list updates in place and the focus
stays on the button), and the order sticks after a reload.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles and
    # the default pipeline after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:
    shot(page, f"setup-{name}")


def stage_names(page: Any) -> list[str]:
    return [n.strip() for n in page.locator("#stage-list .vk-stage-title a").all_inner_texts()]


def test_add_a_stage_with_a_checklist_and_move_it_up(
    page: Any, live_server: Any, admin: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.sales.models import Pipeline, Stage

    pipeline = Pipeline.objects.get(is_default=True)
    base = live_server.url
    sign_in(page, base, "admin", password)
    page.get_by_role("link", name="Sales settings").click()
    page.wait_for_url(f"{base}/sales/setup/pipelines/")
    page.get_by_role("link", name=pipeline.name, exact=True).click()
    page.wait_for_url(f"{base}/sales/setup/pipelines/{pipeline.pk}/")

    before = stage_names(page)
    form = page.locator("#add-stage")
    form.get_by_label("Name").fill("Contract signing")
    form.get_by_label("Probability, %").fill("90")
    form.get_by_label("Checklist").fill("Send the contract\nGet it signed\nAttach the scan")
    form.get_by_label("Amount").check()
    form.get_by_role("button", name="Add stage").click()
    page.wait_for_url(f"{base}/sales/setup/pipelines/{pipeline.pk}/#stage-*")
    expect(
        page.get_by_role("alert").filter(has_text="Stage “Contract signing” added.")
    ).to_be_visible()

    # An open stage lands before the won and lost stages, with its checklist shown.
    names = stage_names(page)
    assert names == [*before[:-2], "Contract signing", *before[-2:]]
    stage = Stage.objects.get(name="Contract signing")
    assert stage.instructions == ["Send the contract", "Get it signed", "Attach the scan"]
    assert stage.required_fields == ["amount"]
    row = page.locator(f"#stage-{stage.pk}")
    expect(row.locator(".vk-stage-checklist li")).to_have_text(
        ["Send the contract", "Get it signed", "Attach the scan"]
    )
    _shot(page, "added")

    # Move it up twice: the list updates in place, the focus stays on the arrow.
    up = page.get_by_role("button", name="Move Contract signing up")
    up.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#stage-list .vk-stage-title a").nth(len(before) - 3)).to_have_text(
        "Contract signing"
    )
    expect(page.get_by_role("button", name="Move Contract signing up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#stage-list .vk-stage-title a").nth(len(before) - 4)).to_have_text(
        "Contract signing"
    )
    expected = [*before[:-4], "Contract signing", *before[-4:]]
    page.reload()
    assert stage_names(page) == expected
    assert [s.name for s in pipeline.stages.order_by("position", "id")] == expected
    _shot(page, "moved")


def test_the_stage_list_works_at_phone_width(
    page: Any, live_server: Any, admin: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.sales.models import Pipeline

    pipeline = Pipeline.objects.get(is_default=True)
    page.set_viewport_size({"width": 390, "height": 844})
    base = live_server.url
    sign_in(page, base, "admin", password)
    page.goto(f"{base}/sales/setup/pipelines/{pipeline.pk}/")
    first, second = stage_names(page)[:2]
    page.get_by_role("button", name=f"Move {second} up").click()
    expect(page.locator("#stage-list .vk-stage-title a").first).to_have_text(second)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing sticks out sideways
    _shot(page, "phone")
    assert stage_names(page)[:2] == [second, first]
