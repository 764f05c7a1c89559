"""The contact and company lists as a user sees them: visibility, search, filters, columns,
pages, bulk actions, saved views and export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from voronka.core.services import custom_field_create
from voronka.customers.models import Contact

LIST = "/customers/contacts/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def people(alice: Any, bob: Any, charlie: Any, make_contact: Any) -> dict[str, Any]:
    return {
        "alice": make_contact(alice, last_name="Alisova", phones=["8 (916) 123-45-67"]),
        "bob": make_contact(bob, last_name="Bobrov"),
        "charlie": make_contact(charlie, last_name="Charlin"),
    }


def test_rep_with_scope_own_sees_only_own_contacts(client: Any, alice: Any, people: Any) -> None:
    client.force_login(alice)
    html = client.get(LIST).content.decode()
    assert "Alisova" in html
    assert "Bobrov" not in html
    assert "Charlin" not in html


def test_team_scope_shows_teammates_but_not_outsiders(
    client: Any, alice: Any, people: Any, set_scope: Any
) -> None:
    set_scope("sales_rep", "team")
    client.force_login(alice)
    html = client.get(LIST).content.decode()
    assert "Alisova" in html and "Bobrov" in html
    assert "Charlin" not in html


def test_search_as_you_type_returns_only_the_results_fragment(
    client: Any, alice: Any, people: Any
) -> None:
    client.force_login(alice)
    response = client.get(LIST, {"q": "8 (916) 123-45-67"}, HTTP_HX_TARGET="list-results", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Alisova" in html
    assert "+7 916 123-45-67" in html  # formatted
    assert 'href="tel:+79161234567"' in html
    miss = client.get(LIST, {"q": "Nobody-here"}, HTTP_HX_TARGET="list-results", **HTMX)
    assert "Nothing matches" in miss.content.decode()


def test_empty_list_says_what_to_do(client: Any, alice: Any) -> None:
    client.force_login(alice)
    html = client.get(LIST).content.decode()
    assert "No contacts yet." in html
    assert 'href="/customers/contacts/new/"' in html


def test_keyset_pages_append_rows_without_count(
    client: Any, alice: Any, make_contact: Any, django_assert_max_num_queries: Any
) -> None:
    for name in ("Anna", "Boris", "Vera"):
        make_contact(alice, last_name=name)
    client.force_login(alice)
    first = client.get(LIST, {"limit": "2"}).content.decode()
    assert "Anna" in first and "Boris" in first and "Vera" not in first
    assert "Next page" in first
    start = first.index('id="more-row"')
    href = first[first.index('hx-get="', start) + 8 :]
    href = href[: href.index('"')].replace("&amp;", "&")
    with django_assert_max_num_queries(15) as ctx:
        more = client.get(href, HTTP_HX_TARGET="more-row", **HTMX)
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
    html = more.content.decode()
    assert "<table" not in html and "Vera" in html and "Anna" not in html
    assert "Next page" not in html


def test_bad_filter_shows_a_message_next_to_the_filter(client: Any, alice: Any) -> None:
    client.force_login(alice)
    response = client.get(LIST, {"created_from": "yesterday-ish"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "must be a date (YYYY-MM-DD)" in html
    assert 'id="flt_id_created_from_error"' in html


def test_sorting_and_column_chooser(client: Any, alice: Any, make_contact: Any) -> None:
    make_contact(alice, last_name="Aaa", position="Zeta")
    make_contact(alice, last_name="Bbb", position="Alpha")
    client.force_login(alice)
    html = client.get(LIST, {"sort": "-last_name", "cols": "position"}).content.decode()
    assert html.index("Bbb") < html.index("Aaa")
    thead = html[html.index("<thead>") : html.index("</thead>")]
    assert "Position" in thead
    assert "Owner" not in thead  # the chosen columns replace the default ones
    assert 'aria-sort="descending"' in html


def test_bulk_tag_touches_only_visible_rows(client: Any, alice: Any, people: Any) -> None:
    client.force_login(alice)
    ids = [people["alice"].pk, people["charlie"].pk]
    response = client.post(
        "/customers/contacts/bulk/",
        {"ids": ids, "action": "tag_add", "tag": "vip", "next": LIST},
    )
    assert response.status_code == 302
    assert [t.name for t in people["alice"].tags.all()] == ["vip"]
    assert not people["charlie"].tags.exists()


def test_bulk_assign_owner_and_delete_respect_visibility(
    client: Any,
    admin: Any,
    alice: Any,
    bob: Any,
    people: Any,
    make_user: Any,
    team_a: Any,
    set_scope: Any,
) -> None:
    client.force_login(alice)
    ids = [people["alice"].pk, people["bob"].pk]
    client.post("/customers/contacts/bulk/", {"ids": ids, "action": "owner", "owner_id": admin.pk})
    people["alice"].refresh_from_db()
    people["bob"].refresh_from_db()
    assert people["alice"].owner_id == admin.pk
    assert people["bob"].owner_id == bob.pk
    # A sales rep may not delete.
    denied = client.post(
        "/customers/contacts/bulk/", {"ids": [people["bob"].pk], "action": "delete"}
    )
    assert denied.status_code == 403
    assert Contact.objects.filter(pk=people["bob"].pk).exists()
    # A head of sales who sees the team deletes the teammate's row, not the outsider's.
    set_scope("head_of_sales", "team")
    client.force_login(make_user("helen", role="head_of_sales", team=team_a))
    ids = [people["bob"].pk, people["charlie"].pk]
    client.post("/customers/contacts/bulk/", {"ids": ids, "action": "delete"})
    assert not Contact.objects.filter(pk=people["bob"].pk).exists()
    assert Contact.objects.filter(pk=people["charlie"].pk).exists()


def test_company_bulk_tag(client: Any, alice: Any, charlie: Any, make_company: Any) -> None:
    mine = make_company(alice, name="Mine LLC")
    theirs = make_company(charlie, name="Theirs LLC")
    client.force_login(alice)
    client.post(
        "/customers/companies/bulk/",
        {"ids": [mine.pk, theirs.pk], "action": "tag_add", "tag": "partner"},
    )
    assert mine.tags.filter(name="partner").exists()
    assert not theirs.tags.exists()


def test_saved_views_personal_and_shared(
    client: Any, alice: Any, bob: Any, admin: Any, people: Any
) -> None:
    client.force_login(alice)
    response = client.post(
        "/customers/contacts/views/",
        {"name": "My VIPs", "query": "tag=vip", "cols": "phone,tags"},
    )
    assert response.status_code == 302
    assert "tag=vip" in response["Location"] and "cols=phone%2Ctags" in response["Location"]
    assert "My VIPs" in client.get(LIST).content.decode()
    client.force_login(bob)
    assert "My VIPs" not in client.get(LIST).content.decode()
    client.force_login(admin)
    client.post("/customers/contacts/views/", {"name": "Everyone's", "query": "", "shared": "on"})
    client.force_login(bob)
    assert "Everyone&#x27;s" in client.get(LIST).content.decode()


def test_export_contains_only_visible_rows_of_the_filter(
    client: Any, alice: Any, make_contact: Any, people: Any
) -> None:
    for i in range(3):
        make_contact(alice, last_name=f"Extra{i}", source="fair")
    client.force_login(alice)
    rows = _csv(client.get("/customers/contacts/export/", {"format": "csv", "limit": "1"}))
    names = {r[1] for r in rows[1:]}
    assert names == {"Alisova", "Extra0", "Extra1", "Extra2"}  # not just one page
    rows = _csv(client.get("/customers/contacts/export/", {"format": "csv", "source": "fair"}))
    assert {r[1] for r in rows[1:]} == {"Extra0", "Extra1", "Extra2"}


def test_export_needs_the_export_right(client: Any, alice: Any) -> None:
    from voronka.accounts.models import Role

    Role.objects.filter(code="sales_rep").update(can_export=False)
    client.force_login(alice)
    assert client.get("/customers/contacts/export/", {"format": "csv"}).status_code == 403
    assert "Export" not in client.get(LIST).content.decode().split("</header>")[-1]


def test_export_escapes_formulas(client: Any, alice: Any, make_contact: Any) -> None:
    make_contact(
        alice, last_name='=HYPERLINK("http://evil")', first_name="@SUM(A1)", position="-2+3"
    )
    client.force_login(alice)
    rows = _csv(client.get("/customers/contacts/export/", {"format": "csv"}))
    row = rows[1]
    assert row[1] == '\'=HYPERLINK("http://evil")'
    assert row[2] == "'@SUM(A1)"
    assert row[5] == "'-2+3"
    response = client.get("/customers/contacts/export/", {"format": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert values[1] == '\'=HYPERLINK("http://evil")'
    assert values[5] == "'-2+3"


def test_custom_field_appears_in_form_column_filter_and_export(
    client: Any, admin: Any, alice: Any, make_contact: Any
) -> None:
    client.force_login(admin)
    response = client.post(
        "/customers/fields/",
        {
            "entity": "customers.contact",
            "type": "select",
            "label": "Region",
            "key": "region",
            "options": "North\nSouth",
        },
    )
    assert response.status_code == 302
    make_contact(alice, last_name="Northman", custom={"region": "North"})
    make_contact(alice, last_name="Southman", custom={"region": "South"})
    client.force_login(alice)
    form = client.get("/customers/contacts/new/").content.decode()
    assert 'name="custom.region"' in form and ">North<" in form
    html = client.get(LIST, {"cols": "cf.region", "cf.region": "North"}).content.decode()
    assert "Northman" in html and "Southman" not in html
    assert "Region" in html[html.index("<thead>") : html.index("</thead>")]
    rows = _csv(client.get("/customers/contacts/export/", {"format": "csv"}))
    header = rows[0]
    assert "Region" in header
    by_name = {r[1]: r[header.index("Region")] for r in rows[1:]}
    assert by_name == {"Northman": "North", "Southman": "South"}


def test_money_custom_field_is_shown_in_the_users_locale(
    client: Any, alice: Any, make_contact: Any
) -> None:
    custom_field_create(entity="customers.contact", label="Budget", type="money", key="budget")
    make_contact(alice, last_name="Rich", custom={"budget": "1234567.5"})
    client.force_login(alice)
    assert "1,234,567.50" in client.get(LIST, {"cols": "cf.budget"}).content.decode()
    alice.language = "ru"
    alice.save(update_fields=["language"])
    html = client.get(LIST, {"cols": "cf.budget"}).content.decode()
    assert "1\xa0234\xa0567,50" in html or "1 234 567,50" in html


@pytest.mark.parametrize("url", [LIST, "/customers/companies/"])
def test_list_pages_cost_a_fixed_number_of_queries(
    client: Any, alice: Any, make_contact: Any, make_company: Any, url: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(alice)
    company = make_company(alice, name="Acme")
    make_contact(alice, last_name="One", phones=["+79161234567"], tags=["a"], company_id=company.pk)
    few = queries()
    for i in range(15):
        make_company(alice, name=f"Co {i}")
        make_contact(alice, last_name=f"N{i}", emails=[f"n{i}@example.com"], tags=["b"],
                     company_id=company.pk)  # fmt: skip
    assert queries() == few
    assert few <= 20
