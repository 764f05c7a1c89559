"""Contact and company cards, in-place edit, notes, history, create and delete forms, and
the administrator's custom fields page, through Django's test client."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.core.models import CustomField
from voronka.core.services import custom_field_create
from voronka.customers.models import Company, Contact

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_card_shows_fields_formatted_and_clickable(
    client: Any, alice: Any, make_contact: Any, make_company: Any
) -> None:
    company = make_company(alice, name="Romashka LLC")
    contact = make_contact(
        alice, phones=["8 (916) 123-45-67"], emails=["ivan@example.com"], company_id=company.pk
    )
    client.force_login(alice)
    html = client.get(f"/customers/contacts/{contact.pk}/").content.decode()
    assert '<a href="tel:+79161234567">+7 916 123-45-67</a>' in html
    assert 'href="mailto:ivan@example.com"' in html
    assert f'href="/customers/companies/{company.pk}/"' in html
    form = client.get(f"/customers/contacts/{contact.pk}/section/channels/").content.decode()
    assert 'value="+7 916 123-45-67"' in form  # edited as people read it
    company_html = client.get(f"/customers/companies/{company.pk}/").content.decode()
    assert f'href="/customers/contacts/{contact.pk}/"' in company_html


@pytest.mark.parametrize("who, status", [("alice", 200), ("bob", 404), ("charlie", 404)])
def test_card_visibility(
    client: Any,
    request: Any,
    alice: Any,
    make_contact: Any,
    make_company: Any,
    who: str,
    status: int,
) -> None:
    contact = make_contact(alice)
    company = make_company(alice)
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/customers/contacts/{contact.pk}/").status_code == status
    assert client.get(f"/customers/companies/{company.pk}/").status_code == status
    assert client.get(f"/customers/contacts/{contact.pk}/section/main/").status_code == status
    post = client.post(f"/customers/contacts/{contact.pk}/section/main/", {"last_name": "X"})
    assert post.status_code in ({200, 302} if status == 200 else {404})
    note = client.post(f"/customers/contacts/{contact.pk}/notes/", {"body": "hi"})
    assert note.status_code == (302 if status == 200 else 404)


def test_teammate_sees_card_with_team_scope(
    client: Any, alice: Any, bob: Any, make_contact: Any, set_scope: Any
) -> None:
    set_scope("sales_rep", "team")
    contact = make_contact(alice)
    client.force_login(bob)
    assert client.get(f"/customers/contacts/{contact.pk}/").status_code == 200


def test_company_card_lists_only_visible_contacts(
    client: Any, alice: Any, charlie: Any, make_contact: Any, make_company: Any, set_scope: Any
) -> None:
    set_scope("sales_rep", "all")
    company = make_company(alice)
    make_contact(alice, last_name="Visible", company_id=company.pk)
    charlie.role.refresh_from_db()
    make_contact(charlie, last_name="Hidden", company_id=company.pk)
    set_scope("sales_rep", "own")
    client.force_login(alice)
    html = client.get(f"/customers/companies/{company.pk}/").content.decode()
    assert "Visible" in html
    assert "Hidden" not in html


def test_edit_in_place_saves_and_shows_history(client: Any, alice: Any, make_contact: Any) -> None:
    contact = make_contact(alice, position="Manager")
    client.force_login(alice)
    url = f"/customers/contacts/{contact.pk}/section/main/"
    form = client.get(url, **HTMX).content.decode()
    assert "<html" not in form and 'name="position"' in form and 'value="Manager"' in form
    response = client.post(
        url, {"last_name": "Petrov", "first_name": "Ivan", "position": "Director"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "timeline-changed"
    assert "Director" in response.content.decode()
    contact.refresh_from_db()
    assert contact.position == "Director"
    timeline = client.get(f"/customers/contacts/{contact.pk}/timeline/").content.decode()
    assert "Position" in timeline and "Manager" in timeline and "Director" in timeline
    assert "web interface" in timeline and "Alice" in timeline


def test_edit_with_bad_input_shows_the_error_and_writes_nothing(
    client: Any, alice: Any, make_contact: Any
) -> None:
    contact = make_contact(alice, emails=["good@example.com"])
    client.force_login(alice)
    url = f"/customers/contacts/{contact.pk}/section/channels/"
    data = {
        "emails[0].email": "",
        "emails[0].kind": "work",
        "emails[1].email": "not-an-email",
        "emails[1].kind": "work",
        "phones[0].phone": "12",
        "phones[0].kind": "mobile",
    }
    response = client.post(url, data, **HTMX)
    html = response.content.decode()
    assert "not a valid e-mail address" in html
    assert 'id="id_emails_1_error"' in html  # next to the row typed in, not row 0
    assert "not a valid phone number" in html
    assert list(contact.emails.values_list("email", flat=True)) == ["good@example.com"]
    plain = client.post(url, data)
    assert plain.status_code == 400
    assert "not a valid e-mail address" in plain.content.decode()


def test_plain_post_fallback_redirects_to_the_card(
    client: Any, alice: Any, make_company: Any
) -> None:
    company = make_company(alice)
    client.force_login(alice)
    page = client.get(f"/customers/companies/{company.pk}/section/channels/")
    assert "<html" in page.content.decode()
    response = client.post(
        f"/customers/companies/{company.pk}/section/channels/",
        {
            "phone": "+7 495 123-45-67",
            "email": "",
            "region": "Moscow",
            "addresses[0].address": "Tverskaya 1",
            "addresses[0].kind": "legal",
        },
    )
    assert (
        response.status_code == 302
        and response["Location"] == f"/customers/companies/{company.pk}/"
    )
    company.refresh_from_db()
    assert company.phone == "+74951234567" and company.region == "Moscow"
    assert [a.address for a in company.addresses.all()] == ["Tverskaya 1"]


def test_notes_are_sanitized_and_shown(client: Any, alice: Any, make_contact: Any) -> None:
    contact = make_contact(alice)
    client.force_login(alice)
    response = client.post(
        f"/customers/contacts/{contact.pk}/notes/",
        {"body": "Called <script>alert(1)</script>\nagreed"},
        **HTMX,
    )
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "Called &lt;script&gt;" in html and "agreed" in html
    empty = client.post(f"/customers/contacts/{contact.pk}/notes/", {"body": "  "}, **HTMX)
    assert "the note is empty" in empty.content.decode()


def test_create_contact_with_several_phones_and_custom_field(
    client: Any, alice: Any, make_company: Any
) -> None:
    custom_field_create(
        entity="customers.contact", label="Budget", type="money", key="budget", required=True
    )
    company = make_company(alice, name="Acme")
    client.force_login(alice)
    form = client.get("/customers/contacts/new/", {"company": company.pk}).content.decode()
    assert 'name="custom.budget"' in form and "required" in form
    assert f'name="company_id" value="{company.pk}"' in form
    assert 'value="Acme"' in form
    response = client.post(
        "/customers/contacts/new/",
        {
            "last_name": "Sidorov",
            "first_name": "Petr",
            "company_id": company.pk,
            "phones[0].phone": "8 (916) 123-45-67",
            "phones[0].kind": "mobile",
            "phones[3].phone": "+7 495 765-43-21",
            "phones[3].kind": "work",
            "emails[0].email": "P@Example.com",
            "emails[0].kind": "work",
            "tags": "vip, fair",
            "owner_id": alice.pk,
            "custom.budget": "1 500,50",
            "email_consent": "on",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(last_name="Sidorov")
    assert response["Location"] == f"/customers/contacts/{contact.pk}/"
    assert [p.phone for p in contact.phones.all()] == ["+79161234567", "+74957654321"]
    assert [e.email for e in contact.emails.all()] == ["p@example.com"]
    assert sorted(t.name for t in contact.tags.all()) == ["fair", "vip"]
    assert contact.custom == {"budget": 1500.5}
    assert contact.email_consent is True and contact.company_id == company.pk


def test_create_with_bad_input_shows_errors_and_writes_nothing(client: Any, alice: Any) -> None:
    custom_field_create(
        entity="customers.contact", label="Region", type="text", key="region", required=True
    )
    client.force_login(alice)
    response = client.post(
        "/customers/contacts/new/",
        {
            "last_name": "",
            "first_name": "",
            "phones[0].phone": "8 (916) 123-45-67",
            "phones[0].kind": "mobile",
            "phones[1].phone": "abc",
            "phones[1].kind": "mobile",
            "birthday": "31.02.2020",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "give a first or a last name" in html
    assert 'id="id_phones_1_error"' in html
    assert 'value="8 (916) 123-45-67"' in html  # what was typed stays
    assert 'id="id_custom_region_error"' in html
    assert 'id="id_birthday_error"' in html
    assert Contact.objects.count() == 0


def test_create_company_and_inn_error(client: Any, alice: Any) -> None:
    client.force_login(alice)
    bad = client.post("/customers/companies/new/", {"name": "Acme", "inn": "1234567890"})
    assert bad.status_code == 400 and "check digits" in bad.content.decode()
    assert Company.objects.count() == 0
    good = client.post("/customers/companies/new/", {"name": "Acme", "inn": "7707083893"})
    assert good.status_code == 302
    assert Company.objects.get().inn == "7707083893"


def test_delete_needs_the_right_and_confirmation(
    client: Any, alice: Any, make_user: Any, make_contact: Any
) -> None:
    contact = make_contact(alice)
    client.force_login(alice)
    assert client.get(f"/customers/contacts/{contact.pk}/delete/").status_code == 403
    head = make_user("helen", role="head_of_sales")
    client.force_login(head)
    page = client.get(f"/customers/contacts/{contact.pk}/delete/").content.decode()
    assert "cannot be undone" in page
    assert Contact.objects.filter(pk=contact.pk).exists()
    response = client.post(f"/customers/contacts/{contact.pk}/delete/")
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_read_only_role_cannot_edit(
    client: Any, make_user: Any, alice: Any, make_contact: Any
) -> None:
    contact = make_contact(alice)
    reader = make_user("rita", role="read_only")
    client.force_login(reader)
    card = client.get(f"/customers/contacts/{contact.pk}/")
    assert card.status_code == 200 and "/section/main/" not in card.content.decode()
    assert (
        client.post(
            f"/customers/contacts/{contact.pk}/section/main/", {"last_name": "X"}
        ).status_code
        == 403
    )
    assert client.get("/customers/contacts/new/").status_code == 403


def test_custom_fields_page_is_for_administrators(client: Any, admin: Any, alice: Any) -> None:
    client.force_login(alice)
    assert client.get("/customers/fields/").status_code == 404
    assert client.post("/customers/fields/", {"entity": "customers.contact"}).status_code == 404
    client.force_login(admin)
    assert "No custom fields yet" in client.get("/customers/fields/").content.decode()
    bad = client.post(
        "/customers/fields/", {"entity": "customers.company", "type": "select", "label": ""}
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="id_label_error"' in html and 'id="id_options_error"' in html
    assert not CustomField.objects.exists()
    client.post(
        "/customers/fields/",
        {
            "entity": "customers.company",
            "type": "select",
            "label": "Tier",
            "options": "Gold\nSilver",
        },
    )
    field = CustomField.objects.get()
    assert (field.key, field.options) == ("tier", ["Gold", "Silver"])
    client.post(
        f"/customers/fields/{field.pk}/",
        {"label": "Level", "options": "Gold\nSilver\nBronze", "required": "on"},
    )
    field.refresh_from_db()
    assert (field.label, field.required, field.options) == (
        "Level",
        True,
        ["Gold", "Silver", "Bronze"],
    )
    client.post(f"/customers/fields/{field.pk}/delete/")
    assert not CustomField.objects.exists()


def test_company_picker_offers_only_visible_companies(
    client: Any, alice: Any, charlie: Any, make_company: Any
) -> None:
    make_company(alice, name="Альфа Снаб")
    make_company(charlie, name="Альфа Чужая")
    client.force_login(alice)
    html = client.get("/customers/companies/lookup/?q=альфа").content.decode()
    assert "Альфа Снаб" in html
    assert "Альфа Чужая" not in html
    assert (
        "No company matches." in client.get("/customers/companies/lookup/?q=zzzz").content.decode()
    )


def test_contact_form_keeps_the_chosen_company_on_an_error(
    client: Any, alice: Any, make_company: Any
) -> None:
    company = make_company(alice, name="Бета Групп")
    client.force_login(alice)
    response = client.post(
        "/customers/contacts/new/",
        {"last_name": "", "first_name": "", "company_id": str(company.pk), "owner_id": alice.pk},
    )
    html = response.content.decode()
    assert 'value="Бета Групп"' in html
    assert f'name="company_id" value="{company.pk}"' in html


def test_timeline_leaves_out_activities_the_user_may_not_see(
    client: Any, admin: Any, alice: Any, charlie: Any, make_contact: Any
) -> None:
    from voronka.sales.services import activity_create

    contact = make_contact(alice, last_name="Общий")
    activity_create(actor=alice, data={"subject": "Звонок Алисы", "contact_id": contact.pk})
    activity_create(
        actor=admin,
        data={"subject": "Встреча Чарли", "contact_id": contact.pk, "owner_id": charlie.pk},
    )
    client.force_login(alice)
    html = client.get(f"/customers/contacts/{contact.pk}/").content.decode()
    assert "Звонок Алисы" in html
    assert "Встреча Чарли" not in html
    client.force_login(admin)
    assert "Встреча Чарли" in client.get(f"/customers/contacts/{contact.pk}/").content.decode()
