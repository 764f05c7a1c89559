"""The "Duplicates" page and "Compare and merge", through Django's test client."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.core.models import AuditEntry
from voronka.customers.models import Company, Contact

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def dupes(alice: Any, make_contact: Any) -> tuple[Any, Any]:
    keep = make_contact(alice, last_name="Петров", first_name="Иван", emails=["ivan@example.com"])
    dup = make_contact(alice, last_name="Петров", first_name="Иван Ильич", position="CTO",
                       emails=["ivan@example.com"], phones=["+79161234567"])  # fmt: skip
    return keep, dup


def test_duplicates_page_lists_groups_with_their_reason(
    client: Any, alice: Any, charlie: Any, dupes: Any, make_contact: Any
) -> None:
    make_contact(charlie, last_name="Чужой", emails=["ivan@example.com"])
    client.force_login(alice)
    response = client.get("/customers/duplicates/contacts/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Same e-mail: ivan@example.com" in html
    keep, dup = dupes
    assert f'href="/customers/contacts/{keep.pk}/"' in html
    assert f'href="/customers/contacts/{dup.pk}/"' in html
    assert "Чужой" not in html  # charlie's contact is not alice's to see
    assert "Compare and merge" in html
    assert f'name="ids" value="{keep.pk}"' in html


def test_duplicates_page_filters_by_reason_and_shows_an_empty_state(
    client: Any, alice: Any, dupes: Any
) -> None:
    client.force_login(alice)
    html = client.get("/customers/duplicates/contacts/?reason=phone").content.decode()
    assert "No duplicates found." in html
    html = client.get("/customers/duplicates/contacts/?reason=zodiac&page=x").content.decode()
    assert "Same e-mail" in html  # an unknown reason or page is ignored, never a 500


def test_company_duplicates_tab(client: Any, alice: Any, make_company: Any) -> None:
    make_company(alice, name="ООО «Ромашка»", inn="7707083893")
    make_company(alice, name="Ромашка", inn="7707083893")
    client.force_login(alice)
    html = client.get("/customers/duplicates/companies/").content.decode()
    assert "Same INN: 7707083893" in html and "Same name: " in html
    assert 'aria-current="page">Companies<' in html


def test_read_only_role_sees_duplicates_but_no_merge(
    client: Any, make_user: Any, dupes: Any
) -> None:
    client.force_login(make_user("rita", role="read_only"))
    html = client.get("/customers/duplicates/contacts/").content.decode()
    assert "Same e-mail" in html and "Compare and merge" not in html
    keep, dup = dupes
    response = client.get(f"/customers/contacts/merge/?ids={keep.pk}&ids={dup.pk}")
    assert response.status_code == 403
    post = client.post("/customers/contacts/merge/", {"ids": [keep.pk, dup.pk]})
    assert post.status_code == 403
    assert Contact.objects.count() == 2


def test_compare_page_shows_records_side_by_side_with_defaults(
    client: Any, alice: Any, dupes: Any
) -> None:
    keep, dup = dupes
    client.force_login(alice)
    html = client.get(f"/customers/contacts/merge/?ids={keep.pk},{dup.pk}").content.decode()
    # The survivor is the first one given; differing fields have a radio per record.
    assert f'name="survivor" value="{keep.pk}" id="keep-{keep.pk}" checked' in html
    assert f'name="f.first_name" value="{keep.pk}" id="f-first_name-{keep.pk}" checked' in html
    assert f'name="f.first_name" value="{dup.pk}" id="f-first_name-{dup.pk}">' in html
    # Empty on the survivor: the other's value is chosen by default.
    assert f'name="f.position" value="{dup.pk}" id="f-position-{dup.pk}" checked' in html
    assert "+7 916 123-45-67" in html  # the phones are united
    # Choosing the other record to keep recomputes the defaults.
    swapped = client.get(
        f"/customers/contacts/merge/?ids={keep.pk}&ids={dup.pk}&survivor={dup.pk}", **HTMX
    ).content.decode()
    assert swapped.startswith('<form id="merge-form"')
    assert f'name="f.first_name" value="{dup.pk}" id="f-first_name-{dup.pk}" checked' in swapped


def test_merge_lands_on_the_survivor_with_the_chosen_values(
    client: Any, alice: Any, dupes: Any
) -> None:
    keep, dup = dupes
    client.force_login(alice)
    response = client.post(
        "/customers/contacts/merge/",
        {"ids": [keep.pk, dup.pk], "survivor": dup.pk, "f.first_name": keep.pk,
         "f.position": dup.pk},
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == f"/customers/contacts/{dup.pk}/"
    assert not Contact.objects.filter(pk=keep.pk).exists()
    survivor = Contact.objects.get(pk=dup.pk)
    assert (survivor.first_name, survivor.position) == ("Иван", "CTO")
    card = client.get(response["Location"]).content.decode()
    assert "Merged 1 record into" in card
    assert AuditEntry.objects.filter(action="merge", object_id=dup.pk).exists()


@pytest.mark.parametrize("who, status", [("bob", 404), ("charlie", 404)])
def test_records_the_user_cannot_see_are_not_found(
    client: Any, request: Any, dupes: Any, who: str, status: int
) -> None:
    keep, dup = dupes
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/customers/contacts/merge/?ids={keep.pk}&ids={dup.pk}").status_code == 404
    post = client.post("/customers/contacts/merge/", {"ids": [keep.pk, dup.pk]})
    assert post.status_code == 404
    assert Contact.objects.count() == 2


def test_one_invisible_record_among_visible_ones_is_not_found(
    client: Any, alice: Any, charlie: Any, dupes: Any, make_contact: Any
) -> None:
    keep, _dup = dupes
    theirs = make_contact(charlie)
    client.force_login(alice)
    assert (
        client.get(f"/customers/contacts/merge/?ids={keep.pk}&ids={theirs.pk}").status_code == 404
    )
    assert client.get(f"/customers/contacts/merge/?ids={theirs.pk}").status_code == 404
    assert client.get("/customers/contacts/merge/?ids=abc").status_code == 404
    # One record (the others unticked): back to the list, with a word on why.
    response = client.get(f"/customers/contacts/merge/?ids={keep.pk}", follow=True)
    assert response.redirect_chain == [("/customers/duplicates/contacts/", 302)]
    assert "Choose from 2 to 10 records to compare." in response.content.decode()


def test_a_field_error_is_shown_on_its_row_and_nothing_is_merged(
    client: Any, alice: Any, charlie: Any, make_contact: Any, make_company: Any
) -> None:
    hidden = make_company(charlie, name="Чужая фирма")
    keep = make_contact(alice, last_name="Петров")
    dup = make_contact(alice, last_name="Петров")
    Contact.objects.filter(pk=dup.pk).update(company_id=hidden.pk)
    client.force_login(alice)
    response = client.post(
        "/customers/contacts/merge/",
        {"ids": [keep.pk, dup.pk], "survivor": keep.pk, "f.company_id": dup.pk},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was merged" in html
    assert 'id="f-company_id-error">no such company<' in html
    assert 'aria-describedby="f-company_id-error"' in html
    assert Contact.objects.count() == 2


def test_companies_merge_from_the_compare_page(
    client: Any, alice: Any, make_company: Any, make_contact: Any
) -> None:
    keep = make_company(alice, name="Ромашка")
    dup = make_company(alice, name="ООО «Ромашка»", inn="7707083893")
    worker = make_contact(alice, company_id=dup.pk)
    client.force_login(alice)
    html = client.get(f"/customers/companies/merge/?ids={keep.pk}&ids={dup.pk}").content.decode()
    assert "1 contact<" in html  # what moves is said before merging
    response = client.post(
        "/customers/companies/merge/",
        {"ids": [keep.pk, dup.pk], "survivor": keep.pk, "f.name": dup.pk},
    )
    assert response.status_code == 302
    survivor = Company.objects.get(pk=keep.pk)
    assert (survivor.name, survivor.inn) == ("ООО «Ромашка»", "7707083893")
    worker.refresh_from_db()
    assert worker.company_id == keep.pk


def test_merge_history_rows_name_the_merged_records(alice: Any, dupes: Any) -> None:
    from voronka.core.services import note_create
    from voronka.customers.merge import contact_merge
    from voronka.customers.views_merge import merge_history_rows
    from voronka.sales.services import deal_create

    keep, dup = dupes
    note_create(record=dup, body="hi", actor=alice)
    for title in ("A", "B"):
        deal_create(actor=alice, data={"title": title, "contact_ids": [dup.pk]})
    contact_merge(actor=alice, survivor_id=keep.pk, other_ids=[dup.pk])
    entry = AuditEntry.objects.get(action="merge", object_id=keep.pk)
    rows = merge_history_rows("customers.contact", entry.changes)
    assert rows[0] == (f"#{dup.pk}", "Петров Иван Ильич", "merged into this record")
    assert rows[-1] == ("Moved here", "—", "1 note, 2 deals")
    gone = AuditEntry.objects.get(action="merge", object_id=dup.pk)
    assert merge_history_rows("customers.contact", gone.changes) == [
        ("Merged into", "—", f"#{keep.pk}")
    ]


def test_ids_past_a_thousand_are_not_written_with_separators(
    client: Any, alice: Any, make_contact: Any
) -> None:
    """USE_THOUSAND_SEPARATOR must not turn id 12345 into "12,345" (or "12 345") in a form."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('customers_contact', 'id'), 12344)"
            )
        else:
            make_contact(alice).delete()  # so SQLite has a sequence row to move
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = 12344 WHERE name = 'customers_contact'"
            )
    a = make_contact(alice, emails=["same@example.com"])
    b = make_contact(alice, emails=["same@example.com"])
    assert (a.pk, b.pk) == (12345, 12346)
    client.force_login(alice)
    html = client.get("/customers/duplicates/contacts/").content.decode()
    assert 'name="ids" value="12345"' in html
    html = client.get("/customers/contacts/merge/?ids=12345&ids=12346").content.decode()
    assert 'name="ids" value="12345"' in html and 'name="survivor" value="12346"' in html
    assert "ids=12345&amp;ids=12346" in html
