"""/api/v1/companies: CRUD, visibility, bad input, filters and pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from voronka.customers.models import Company

pytestmark = pytest.mark.django_db

URL = "/api/v1/companies"


def test_create_read_patch_list(api: Any, alice: Any) -> None:
    client = api(alice)
    created = client.post(URL, {
        "name": "ООО Ромашка", "legal_name": "Общество с ограниченной ответственностью «Ромашка»",
        "inn": "7707083893", "industry": "Retail", "size": "11-50", "website": "romashka.ru",
        "phone": "8 (495) 123-45-67", "email": "Info@Romashka.RU", "region": "Москва",
        "tags": ["key"], "addresses": [{"kind": "legal", "address": "Москва, ул. Ленина, 1"}],
    })  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["phone"] == "+74951234567"
    assert body["email"] == "info@romashka.ru"
    assert body["website"] == "https://romashka.ru"
    assert body["owner_id"] == alice.pk
    assert body["addresses"] == [{"kind": "legal", "address": "Москва, ул. Ленина, 1"}]
    assert body["tags"] == ["key"]
    assert client.get(f"{URL}/{body['id']}").json() == body

    patched = client.patch(f"{URL}/{body['id']}", {"region": "Казань"}).json()
    assert patched["region"] == "Казань"
    assert patched["inn"] == "7707083893" and patched["addresses"] == body["addresses"]
    assert client.get(URL).json() == {"items": [patched], "next_cursor": None}


def test_delete(api: Any, alice: Any, make_company: Any, can_delete: None) -> None:
    company = make_company(alice)
    assert api(alice).delete(f"{URL}/{company.pk}").status_code == 204
    assert not Company.objects.filter(pk=company.pk).exists()


@pytest.mark.parametrize("viewer", ["bob", "charlie"])
def test_a_colleagues_company_is_404(
    api: Any, alice: Any, bob: Any, charlie: Any, make_company: Any, can_delete: None,
    viewer: str,
) -> None:  # fmt: skip
    company = make_company(alice, name="Секретная", inn="7707083893")
    client = api({"bob": bob, "charlie": charlie}[viewer])
    path = f"{URL}/{company.pk}"
    for response in (client.get(path), client.patch(path, {"name": "x"}), client.delete(path)):
        assert response.status_code == 404
    assert client.get(URL).json()["items"] == []
    assert client.get("/api/v1/search", q="7707083893").json()["companies"] == []
    company.refresh_from_db()
    assert company.name == "Секретная"


def test_team_scope_shows_teammates_companies_only(
    api: Any, alice: Any, bob: Any, charlie: Any, make_company: Any, set_scope: Any
) -> None:
    company = make_company(alice, name="Общая")
    set_scope("sales_rep", "team")
    assert api(bob).get(f"{URL}/{company.pk}").json()["name"] == "Общая"
    assert [c["name"] for c in api(bob).get(URL).json()["items"]] == ["Общая"]
    assert api(charlie).get(f"{URL}/{company.pk}").status_code == 404
    assert api(charlie).get("/api/v1/search", q="общая").json()["companies"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "N" * 256}, "name"),
        ({"name": "X", "inn": "7707083890"}, "inn"),
        ({"name": "X", "email": "nope"}, "email"),
        ({"name": "X", "phone": "123"}, "phone"),
        ({"name": "X", "size": "huge"}, "size"),
        ({"name": "X", "addresses": [{"kind": "home", "address": "x"}]}, "addresses[0].kind"),
        ({"name": "X", "addresses": [{"address": "a" * 501}]}, "addresses[0].address"),
        ({"name": "X", "custom": {"region": "Moscow"}}, "custom.region"),
        ({"name": "X", "employees": 5}, "employees"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    api: Any, alice: Any, make_company: Any, db_rows: Callable[[], dict[str, int]],
    body: dict[str, Any], field: str,
) -> None:  # fmt: skip
    company = make_company(alice, name="Было")
    client = api(alice)
    before = db_rows()
    for response in (client.post(URL, body), client.patch(f"{URL}/{company.pk}", body)):
        assert response.status_code == 422, response.content
        assert field in [e["field"] for e in response.json()["errors"]]
    assert db_rows() == before
    company.refresh_from_db()
    assert company.name == "Было"


def test_custom_fields_on_companies(api: Any, alice: Any) -> None:
    from voronka.core.services import custom_field_create

    custom_field_create(entity="customers.company", label="Founded", key="founded", type="date")
    client = api(alice)
    ok = client.post(URL, {"name": "X", "custom": {"founded": "2001-02-03"}})
    assert ok.json()["custom"] == {"founded": "2001-02-03"}
    bad = client.post(URL, {"name": "Y", "custom": {"founded": "yesterday"}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "custom.founded"
    assert Company.objects.count() == 1


def test_pages_and_filters(api: Any, alice: Any, make_company: Any) -> None:
    for i in range(7):
        make_company(alice, name=f"Компания {i}", region="Москва" if i % 2 else "Казань")
    client = api(alice)
    names: list[str] = []
    params: dict[str, Any] = {"limit": 2, "region": "Москва"}
    while True:
        page = client.get(URL, **params).json()
        names += [c["name"] for c in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert names == ["Компания 1", "Компания 3", "Компания 5"]
    newest = client.get(URL, sort="-created_at", limit=1).json()["items"][0]["name"]
    assert newest == "Компания 6"
