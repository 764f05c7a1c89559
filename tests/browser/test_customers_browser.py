"""The customer base in a real browser: create a contact with a phone typed the Russian way,
find it with search-as-you-type, open its card and edit a field in place.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:
    shot(page, f"{name}")


def test_create_find_open_and_edit_a_contact(
    page: Any, live_server: Any, alice: Any, charlie: Any, make_contact: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.customers.models import Contact

    make_contact(alice, last_name="Другой", first_name="Контакт")
    make_contact(charlie, last_name="Чужой", first_name="Контакт")
    from voronka.customers.services import company_create

    company = company_create(actor=alice, data={"name": "Ромашка-Трейд", "owner_id": alice.pk})
    company_create(actor=charlie, data={"name": "Ромашка-Чужая", "owner_id": charlie.pk})
    base = live_server.url
    sign_in(page, base, "alice", password)

    page.goto(f"{base}/customers/contacts/new/")
    page.get_by_label("Last name").fill("Браузеров")
    page.get_by_label("First name").fill("Пётр")
    # The company picker searches as you type and offers only companies alice may see.
    page.get_by_role("combobox", name="Company").fill("ромаш")
    options = page.locator(".vk-lookup-list").get_by_role("option")
    expect(options).to_have_count(1)
    page.get_by_role("combobox", name="Company").press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("combobox", name="Company")).to_have_value("Ромашка-Трейд")
    page.locator("#id_phones_0_value").fill("8 (916) 123-45-67")
    page.get_by_role("button", name="Add another (E-mails)").click()
    page.locator("#id_emails_1_value").fill("petr@example.com")
    _shot(page, "new")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"{base}/customers/contacts/*/")
    phone = page.get_by_role("link", name="+7 916 123-45-67")
    expect(phone).to_have_attribute("href", "tel:+79161234567")
    expect(page.get_by_role("link", name="petr@example.com")).to_be_visible()
    contact = Contact.objects.get(last_name="Браузеров")
    assert [p.phone for p in contact.phones.all()] == ["+79161234567"]
    assert contact.company_id == company.pk

    page.goto(f"{base}/customers/contacts/")
    rows = page.locator("#list-results tbody tr")
    expect(rows).to_have_count(2)  # alice's two, never charlie's
    expect(page.locator("#list-results")).not_to_contain_text("Чужой")
    page.get_by_label("Search", exact=True).press_sequentially("916 123 45", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Браузеров Пётр")
    assert "q=" in page.url  # the search is in the address, so it can be shared or reloaded
    _shot(page, "search")

    rows.first.get_by_role("link", name="Браузеров Пётр").click()
    page.wait_for_url(f"{base}/customers/contacts/{contact.pk}/")
    main = page.locator("#section-main")
    main.get_by_role("link", name="Edit").click()
    position = main.get_by_label("Position")
    expect(position).to_be_visible()
    position.fill("Chief technology officer")
    position.press("Enter")
    expect(main).to_contain_text("Chief technology officer")
    expect(main.get_by_label("Position")).to_have_count(0)
    # The history below updates by itself and says who changed what.
    expect(page.locator("#timeline")).to_contain_text("Chief technology officer")
    _shot(page, "edited")
    contact.refresh_from_db()
    assert contact.position == "Chief technology officer"

    # A bad value stays in the form with the error next to it; nothing is written.
    page.locator("#section-channels").get_by_role("link", name="Edit").click()
    page.locator("#id_phones_0_value").fill("12")
    page.locator("#section-channels").get_by_role("button", name="Save").click()
    expect(page.locator("#id_phones_0_error")).to_contain_text("not a valid phone number")
    assert [p.phone for p in contact.phones.all()] == ["+79161234567"]


def test_list_pages_bulk_and_saved_view(
    page: Any, live_server: Any, alice: Any, bob: Any, make_contact: Any, password: str
) -> None:
    from playwright.sync_api import expect

    for name in ("Антонов", "Борисов", "Васильев"):
        make_contact(alice, last_name=name)
    base = live_server.url
    sign_in(page, base, "alice", password)
    page.goto(f"{base}/customers/contacts/?limit=2")
    rows = page.locator("#list-results tbody tr:not(#more-row)")
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(3)  # appended in place, the page did not reload
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    assert "cursor=" not in page.url

    # Bulk: select two rows, add a tag.
    page.get_by_label("Select Антонов Иван").check()
    page.get_by_label("Select Борисов Иван").check()
    page.get_by_label("Action on selected rows").select_option("tag_add")
    expect(page.get_by_label("New owner")).to_be_hidden()
    page.get_by_label("Tag to add or remove").fill("выставка")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator(".alert-success")).to_contain_text("2")
    _shot(page, "bulk")

    # Save the tag filter as a personal view and apply it from the menu.
    page.goto(f"{base}/customers/contacts/?tag=выставка")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Views").click()
    page.get_by_label("Save the current view as").fill("Выставка")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("button", name="Views: Выставка")).to_be_visible()
    page.goto(f"{base}/customers/contacts/")
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="Views").click()
    page.get_by_role("link", name="Выставка").click()
    expect(rows).to_have_count(2)
