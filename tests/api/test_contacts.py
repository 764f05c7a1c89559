"""/api/v1/contacts: CRUD, visibility, bad input, custom fields, filters, pages, query budget."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from voronka.customers.models import Contact

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts"


def test_create_read_and_list_show_the_full_representation(api: Any, alice: Any) -> None:
    client = api(alice)
    created = client.post(URL, {
        "first_name": "Иван", "middle_name": "Ильич", "last_name": "Петров",
        "emails": [{"email": "Ivan@Example.COM", "kind": "personal"}, "work@example.com"],
        "phones": ["8 (916) 123-45-67", {"phone": "+7 495 123 45 67", "kind": "work"}],
        "position": "CTO", "birthday": "1980-05-17", "source": "site",
        "email_consent": True, "tags": ["VIP", "lead"],
    })  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["emails"] == [
        {"email": "ivan@example.com", "kind": "personal"},
        {"email": "work@example.com", "kind": "work"},
    ]
    assert body["phones"] == [
        {"phone": "+79161234567", "kind": "mobile"},
        {"phone": "+74951234567", "kind": "work"},
    ]
    assert body["owner_id"] == alice.pk
    assert body["birthday"] == "1980-05-17"
    assert body["tags"] == ["lead", "VIP"]
    assert body["email_consent"] is True and body["sms_consent"] is False
    assert body["custom"] == {} and body["company_id"] is None
    assert {"created_at", "updated_at"} <= body.keys()

    read = client.get(f"{URL}/{body['id']}")
    assert read.status_code == 200
    assert read.json() == body
    listed = client.get(URL).json()
    assert listed == {"items": [body], "next_cursor": None}


def test_patch_changes_only_the_keys_sent(api: Any, alice: Any, make_contact: Any) -> None:
    contact = make_contact(alice, position="CTO", emails=["a@example.com"], tags=["vip"])
    response = api(alice).patch(f"{URL}/{contact.pk}", {"position": "CEO"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["position"] == "CEO"
    assert body["emails"] == [{"email": "a@example.com", "kind": "work"}]
    assert body["tags"] == ["vip"]
    assert body["last_name"] == "Петров"
    contact.refresh_from_db()
    assert contact.position == "CEO"


def test_patch_lists_replace_and_null_clears(api: Any, alice: Any, make_contact: Any) -> None:
    contact = make_contact(alice, emails=["a@example.com"], birthday="1990-01-01")
    body = api(alice).patch(f"{URL}/{contact.pk}", {
        "emails": ["b@example.com"], "birthday": None, "tags": ["new"],
    }).json()  # fmt: skip
    assert body["emails"] == [{"email": "b@example.com", "kind": "work"}]
    assert body["birthday"] is None
    assert body["tags"] == ["new"]


def test_delete_needs_the_delete_right(
    api: Any, alice: Any, make_contact: Any, set_scope: Any
) -> None:
    contact = make_contact(alice)
    response = api(alice).delete(f"{URL}/{contact.pk}")
    assert response.status_code == 403
    assert response.json()["detail"]
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_delete_removes_the_contact(
    api: Any, alice: Any, make_contact: Any, can_delete: None
) -> None:
    contact = make_contact(alice)
    response = api(alice).delete(f"{URL}/{contact.pk}")
    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert api(alice).get(f"{URL}/{contact.pk}").status_code == 404


# --- visibility -------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["bob", "charlie"])
def test_a_colleagues_contact_is_404_for_every_method(
    api: Any, alice: Any, bob: Any, charlie: Any, make_contact: Any, can_delete: None,
    viewer: str,
) -> None:  # fmt: skip
    contact = make_contact(alice, last_name="Скрытый", emails=["hidden@example.com"])
    client = api({"bob": bob, "charlie": charlie}[viewer])
    path = f"{URL}/{contact.pk}"
    for response in (client.get(path), client.patch(path, {"position": "x"}), client.delete(path)):
        assert response.status_code == 404
        assert response.json() == {"detail": "not found", "errors": []}
    assert client.get(URL).json() == {"items": [], "next_cursor": None}
    assert client.get("/api/v1/search", q="hidden@example.com").json()["contacts"] == []
    contact.refresh_from_db()
    assert contact.position == "" and contact.last_name == "Скрытый"


def test_team_scope_lets_bob_see_and_edit_alices_but_never_charlie(
    api: Any, alice: Any, bob: Any, charlie: Any, make_contact: Any, set_scope: Any
) -> None:
    contact = make_contact(alice, last_name="Алисина", phones=["+79161234567"])
    set_scope("sales_rep", "team")
    bob_client, charlie_client = api(bob), api(charlie)
    path = f"{URL}/{contact.pk}"
    assert bob_client.get(path).json()["last_name"] == "Алисина"
    assert [c["id"] for c in bob_client.get(URL).json()["items"]] == [contact.pk]
    assert (
        bob_client.get("/api/v1/search", q="89161234567").json()["contacts"][0]["id"] == contact.pk
    )
    assert bob_client.patch(path, {"position": "by bob"}).status_code == 200
    assert charlie_client.get(path).status_code == 404
    assert charlie_client.patch(path, {"position": "by charlie"}).status_code == 404
    assert charlie_client.get(URL).json()["items"] == []
    assert charlie_client.get("/api/v1/search", q="89161234567").json()["contacts"] == []
    contact.refresh_from_db()
    assert contact.position == "by bob"


def test_company_id_of_an_invisible_company_is_refused(
    api: Any, alice: Any, charlie: Any, make_company: Any, db_rows: Callable[[], dict[str, int]]
) -> None:
    foreign = make_company(charlie, name="Чужая")
    client = api(alice)
    before = db_rows()
    response = client.post(URL, {"last_name": "X", "company_id": foreign.pk})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "company_id", "message": "no such company"}]
    assert db_rows() == before


# --- bad input ----------------------------------------------------------------------------------

BAD_INPUT = [
    ({"last_name": "X", "emails": ["not-an-email"]}, "emails[0].email"),
    ({"last_name": "X", "emails": [{"email": "a@example.com", "kind": "pager"}]}, "emails[0].kind"),
    ({"last_name": "X", "phones": ["12345"]}, "phones[0].phone"),
    ({"last_name": "X", "phones": "+79161234567"}, "phones"),
    ({"last_name": "X", "custom": {"nope": 1}}, "custom.nope"),
    ({"last_name": "X", "custom": {"region": "Paris"}}, "custom.region"),
    ({"last_name": "X", "custom": {"budget": "lots"}}, "custom.budget"),
    ({"last_name": "X", "custom": ["region"]}, "custom"),
    ({"last_name": "X" * 151}, "last_name"),
    ({"last_name": "X", "position": "p" * 256}, "position"),
    ({"last_name": "X", "birthday": "2020-13-45"}, "birthday"),
    ({"last_name": "X", "birthday": "3000-01-01"}, "birthday"),
    ({"last_name": "X", "email_consent": "yes please"}, "email_consent"),
    ({"last_name": "X", "owner_id": "someone"}, "owner_id"),
    ({"last_name": "X", "owner_id": 10**20}, "owner_id"),
    ({"last_name": "X", "tags": "vip"}, "tags"),
    ({"last_name": 42}, "last_name"),
    ({"last_name": "X", "nickname": "Ваня"}, "nickname"),
    ({"last_name": "X\x00"}, "last_name"),
    ({"last_name": "X", "custom": {"region\x00": "Moscow"}}, "custom.region\x00"),
]


@pytest.mark.parametrize(("body", "field"), BAD_INPUT)
def test_bad_input_names_the_field_and_writes_nothing(
    api: Any, alice: Any, make_contact: Any, region_field: Any, budget_field: Any,
    db_rows: Callable[[], dict[str, int]], body: dict[str, Any], field: str,
) -> None:  # fmt: skip
    contact = make_contact(alice)
    client = api(alice)
    before = db_rows()
    for response in (client.post(URL, body), client.patch(f"{URL}/{contact.pk}", body)):
        assert response.status_code == 422, response.content
        errors = response.json()["errors"]
        assert field in [e["field"] for e in errors], errors
        assert all(e["message"] for e in errors)
        assert response.json()["detail"]
    assert db_rows() == before
    fresh = Contact.objects.get(pk=contact.pk)
    assert (fresh.last_name, fresh.custom) == ("Петров", {})


def test_a_contact_needs_a_name(api: Any, alice: Any) -> None:
    response = api(alice).post(URL, {"first_name": "", "position": "CTO"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "last_name", "message": "give a first or a last name"}
    ]
    assert Contact.objects.count() == 0


def test_several_bad_fields_are_reported_together(api: Any, alice: Any) -> None:
    response = api(alice).post(URL, {
        "last_name": "X", "emails": ["bad", "good@example.com", "worse"], "phones": ["1"],
    })  # fmt: skip
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "emails[0].email", "emails[2].email", "phones[0].phone",
    ]  # fmt: skip


@pytest.mark.parametrize("raw", ["{bad json", '{"last_name": "X",}', "\xff\xfe"])
def test_malformed_json_is_400_naming_the_body(
    api: Any, alice: Any, make_contact: Any, db_rows: Callable[[], dict[str, int]], raw: str
) -> None:
    contact = make_contact(alice)
    client = api(alice)
    before = db_rows()
    for response in (client.post(URL, raw=raw), client.patch(f"{URL}/{contact.pk}", raw=raw)):
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "body"
    assert db_rows() == before


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "null", ""])
def test_a_body_that_is_not_an_object_is_refused(api: Any, alice: Any, raw: str) -> None:
    response = api(alice).post(URL, raw=raw)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "-1", "99999999999999999999999"])
def test_ids_that_are_not_records_are_404(api: Any, alice: Any, bad_id: str) -> None:
    client = api(alice)
    for response in (client.get(f"{URL}/{bad_id}"), client.patch(f"{URL}/{bad_id}", {})):
        assert response.status_code == 404
        assert response.json()["detail"] == "not found"


# --- custom fields --------------------------------------------------------------------------------


def test_custom_fields_are_written_cleaned_and_read_back(
    api: Any, alice: Any, region_field: Any, budget_field: Any
) -> None:
    client = api(alice)
    body = client.post(
        URL, {"last_name": "X", "custom": {"region": "Moscow", "budget": "1 500,5"}}
    ).json()
    assert body["custom"] == {"region": "Moscow", "budget": 1500.5}
    patched = client.patch(f"{URL}/{body['id']}", {"custom": {"budget": None}}).json()
    assert patched["custom"] == {"region": "Moscow"}
    assert client.get(f"{URL}/{body['id']}").json()["custom"] == {"region": "Moscow"}


def test_custom_field_filters_and_sort(
    api: Any, alice: Any, make_contact: Any, region_field: Any, budget_field: Any
) -> None:
    make_contact(alice, last_name="A", custom={"region": "Moscow", "budget": 10})
    make_contact(alice, last_name="B", custom={"region": "SPb", "budget": 300})
    make_contact(alice, last_name="C", custom={"region": "Moscow", "budget": 200})
    client = api(alice)

    def names(**params: Any) -> list[str]:
        response = client.get(URL, **params)
        assert response.status_code == 200, response.content
        return [c["last_name"] for c in response.json()["items"]]

    assert names(**{"cf.region": "Moscow"}) == ["A", "C"]
    assert names(**{"cf.budget.gte": "100", "sort": "-cf.budget"}) == ["B", "C"]
    assert names(sort="cf.budget") == ["A", "C", "B"]
    bad = client.get(URL, **{"cf.nope": "1"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"field": "cf.nope", "message": "unknown custom field"}]


# --- filters, pages, budgets ------------------------------------------------------------------


def test_filters_by_tag_owner_and_consent(
    api: Any, alice: Any, bob: Any, make_contact: Any, set_scope: Any
) -> None:
    make_contact(alice, last_name="A", tags=["vip"], sms_consent=True)
    make_contact(alice, last_name="B", tags=["vip", "hot"])
    make_contact(bob, last_name="C", tags=["vip"])
    set_scope("sales_rep", "team")
    client = api(alice)

    def names(params: Any) -> list[str]:
        return [c["last_name"] for c in client.get(URL, **params).json()["items"]]

    assert names({"tag": "VIP"}) == ["A", "B", "C"]
    assert names({"tag": ["vip", "hot"]}) == ["B"]
    assert names({"owner": "me"}) == ["A", "B"]
    assert names({"owner": str(bob.pk)}) == ["C"]
    assert names({"sms_consent": "true"}) == ["A"]
    assert names({"sort": "-last_name"}) == ["C", "B", "A"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "salary"}, "sort"), ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
     ({"cursor": "%%%"}, "cursor"), ({"created_from": "2020-02-30"}, "created_from"),
     ({"owner": "someone"}, "owner"), ({"q": "a\x00b"}, "q")],
)  # fmt: skip
def test_bad_list_parameters_are_422_naming_them(
    api: Any, alice: Any, params: dict[str, str], field: str
) -> None:
    response = api(alice).get(URL, **params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_tampered_cursor_is_refused(api: Any, alice: Any, make_contact: Any) -> None:
    import base64

    for i in range(3):
        make_contact(alice, last_name=f"N{i}")
    forged = base64.urlsafe_b64encode(json.dumps(["a", "b", "not-an-id"]).encode()).decode()
    response = api(alice).get(URL, cursor=forged)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_cursor_pages_walk_every_visible_contact_once(
    api: Any, alice: Any, bob: Any, make_contact: Any
) -> None:
    expected = {make_contact(alice, last_name=f"Фамилия{i % 4}", first_name=f"И{i}").pk
                for i in range(11)}  # fmt: skip
    make_contact(bob, last_name="Невидимый")
    client = api(alice)
    seen: list[int] = []
    pages = 0
    params: dict[str, Any] = {"limit": 3, "sort": "last_name"}
    while True:
        page = client.get(URL, **params).json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 3
        seen += [c["id"] for c in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert pages == 4
    assert len(seen) == len(set(seen)) == 11
    assert set(seen) == expected


def _list_queries(client: Any, url: str) -> int:
    client.get(url)  # the key's first use records last_used_at; measure the steady state
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, limit=500)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_costs_the_same_queries_for_any_page_size(
    api: Any, alice: Any, make_contact: Any, make_company: Any, region_field: Any,
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    client = api(alice)
    company = make_company(alice)
    make_contact(alice, emails=["a@example.com"], phones=["+79161234567"], tags=["t"],
                 company_id=company.pk)  # fmt: skip
    small = _list_queries(client, URL)
    for i in range(25):
        make_contact(alice, last_name=f"L{i}", emails=[f"e{i}@example.com", f"f{i}@example.com"],
                     phones=["+79161234567"], tags=["t", f"t{i}"], company_id=company.pk,
                     custom={"region": "Moscow"})  # fmt: skip
    large = _list_queries(client, URL)
    assert small == large
    with django_assert_max_num_queries(8):
        assert len(client.get(URL, limit=500).json()["items"]) == 26
