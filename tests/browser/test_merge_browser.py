"""Finding and merging duplicates in a real browser: open the duplicates page, compare two
contacts, take a field from the other record, merge, and land on the kept contact's card.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.helpers import shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:
    shot(page, f"merge-{name}")


def test_find_compare_pick_a_field_and_merge(
    page: Any, live_server: Any, alice: Any, make_contact: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.customers.models import Contact

    keep = make_contact(alice, last_name="Петров", first_name="Иван", emails=["ivan@example.com"])
    dup = make_contact(alice, last_name="Петров", first_name="Иван Ильич", position="CTO",
                       emails=["Ivan@Example.com"], phones=["8 916 123-45-67"])  # fmt: skip
    base = live_server.url
    sign_in(page, base, "alice", password)

    page.goto(f"{base}/customers/duplicates/contacts/")
    group = page.get_by_role("region", name="2 records")
    expect(group).to_contain_text("Same e-mail: ivan@example.com")
    _shot(page, "duplicates")
    group.get_by_role("button", name="Compare and merge").click()
    page.wait_for_url(re.compile(r"/customers/contacts/merge/\?"))

    # Keep the older contact; take the first name from the other one.
    expect(page.get_by_role("radio", name="Keep this one", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="CTO")).to_be_checked()  # empty on the kept one
    page.get_by_role("radio", name="Иван Ильич").check()
    _shot(page, "compare")
    page.get_by_role("button", name=re.compile("Merge into")).click()

    page.wait_for_url(f"{base}/customers/contacts/{keep.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Петров Иван Ильич")
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text(
        "Merged 1 record into"
    )
    expect(page.locator("#section-channels")).to_contain_text("+7 916 123-45-67")
    _shot(page, "card")
    assert not Contact.objects.filter(pk=dup.pk).exists()


def test_choosing_the_other_record_to_keep_updates_the_defaults(
    page: Any, live_server: Any, alice: Any, make_contact: Any, password: str
) -> None:
    from playwright.sync_api import expect

    keep = make_contact(alice, last_name="Орлов", first_name="Пётр", emails=["p@example.com"])
    dup = make_contact(alice, last_name="Орлова", first_name="Пётр", emails=["p@example.com"])
    base = live_server.url
    sign_in(page, base, "alice", password)
    page.goto(f"{base}/customers/contacts/merge/?ids={keep.pk}&ids={dup.pk}")
    expect(page.get_by_role("radio", name="Орлов", exact=True)).to_be_checked()
    # By id, not by label: after htmx redraws the form, "Keep this one instead" labels the
    # *other* radio, and a check() retried on the redrawn form would pick the first record again.
    page.locator(f"#keep-{dup.pk}").check()
    # htmx redraws the form: the new survivor's own values are now the defaults.
    expect(page.get_by_role("radio", name="Орлова", exact=True)).to_be_checked()
    expect(page.get_by_role("button", name=re.compile("Merge into"))).to_contain_text("Орлова")
    page.set_viewport_size({"width": 390, "height": 800})
    _shot(page, "compare-mobile")
    page.get_by_role("button", name=re.compile("Merge into")).click()
    page.wait_for_url(f"{base}/customers/contacts/{dup.pk}/")
