"""/api/v1/products: the catalogue with a price per currency; everyone reads it, the roles
that set prices (administrators, heads of sales) change it."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.sales.models import Product, ProductPrice

pytestmark = pytest.mark.django_db

URL = "/api/v1/products"


def test_create_read_patch_list(api: Any, admin: Any, alice: Any) -> None:
    client = api(admin)
    created = client.post(URL, {
        "sku": "PUMP-38", "name": "Насос ЦНС-38", "unit": "шт", "category": "Насосы",
        "vat_rate": "20", "prices": {"RUB": "199999.99", "usd": 2222.5},
    })  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["prices"] == {"RUB": "199999.99", "USD": "2222.50"}
    assert body["vat_rate"] == "20.00" and body["active"] is True
    assert api(alice).get(f"{URL}/{body['id']}").json() == body

    patched = client.patch(f"{URL}/{body['id']}", {"prices": {"EUR": "2000"}, "active": False})
    assert patched.status_code == 200, patched.content
    assert patched.json()["prices"] == {"EUR": "2000.00"}
    assert patched.json()["sku"] == "PUMP-38"
    assert ProductPrice.objects.count() == 1
    assert api(alice).get(URL).json() == {"items": [patched.json()], "next_cursor": None}


def test_list_filters_and_pages(api: Any, admin: Any) -> None:
    from voronka.sales.services import product_create

    for i in range(5):
        product_create(actor=admin, data={
            "sku": f"S-{i}", "name": f"Товар {i}", "active": i != 4,
            "category": "A" if i % 2 else "B", "prices": {"RUB": str(i + 1)},
        })  # fmt: skip
    client = api(admin)
    names: list[str] = []
    params: dict[str, Any] = {"limit": 2, "active": "true"}
    while True:
        page = client.get(URL, **params).json()
        names += [p["name"] for p in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert names == ["Товар 0", "Товар 1", "Товар 2", "Товар 3"]
    assert [p["sku"] for p in client.get(URL, category="A").json()["items"]] == ["S-1", "S-3"]
    assert [p["sku"] for p in client.get(URL, q="s-4").json()["items"]] == ["S-4"]
    bad = client.get(URL, active="perhaps")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "active"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X"}, "sku"),
        ({"sku": "S"}, "name"),
        ({"sku": "S", "name": "X", "vat_rate": "120"}, "vat_rate"),
        ({"sku": "S", "name": "X", "prices": {"RUB": "-1"}}, "prices.RUB"),
        ({"sku": "S", "name": "X", "prices": {"XYZ": "1"}}, "prices.XYZ"),
        ({"sku": "S", "name": "X", "prices": {"RUB": "1.234"}}, "prices.RUB"),
        ({"sku": "S", "name": "X", "prices": [1]}, "prices"),
        ({"sku": "S", "name": "X", "active": "yes"}, "active"),
        ({"sku": "S", "name": "X", "weight": 5}, "weight"),
        ({"sku": "S" * 65, "name": "X"}, "sku"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    api: Any, admin: Any, body: dict[str, Any], field: str
) -> None:
    from voronka.sales.services import product_create

    product = product_create(actor=admin, data={"sku": "OLD", "name": "Было"})
    client = api(admin)
    response = client.post(URL, body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    if set(body) - {"name", "sku"}:  # a PATCH without the other keys must fail the same way
        patch = {k: v for k, v in body.items() if k not in {"name", "sku"} or k == field}
        response = client.patch(f"{URL}/{product.pk}", patch)
        assert response.status_code == 422, response.content
        assert field in [e["field"] for e in response.json()["errors"]]
    assert Product.objects.count() == 1 and ProductPrice.objects.count() == 0
    product.refresh_from_db()
    assert product.name == "Было"


def test_a_taken_sku_is_refused(api: Any, admin: Any) -> None:
    from voronka.sales.services import product_create

    product_create(actor=admin, data={"sku": "P-1", "name": "A"})
    response = api(admin).post(URL, {"sku": "p-1", "name": "B"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sku"


def test_unknown_product_is_404(api: Any, alice: Any) -> None:
    client = api(alice)
    assert client.get(f"{URL}/999999").status_code == 404
    assert client.get(f"{URL}/abc").status_code == 404


@pytest.mark.parametrize("role", ["sales_rep", "read_only"])
def test_who_may_not_change_the_catalogue(api: Any, admin: Any, make_user: Any, role: str) -> None:
    from voronka.sales.services import product_create

    product = product_create(actor=admin, data={"sku": "P-1", "name": "Было"})
    client = api(make_user("someone", role=role))
    assert client.get(f"{URL}/{product.pk}").status_code == 200
    for response in (
        client.post(URL, {"sku": "P-2", "name": "X"}),
        client.patch(f"{URL}/{product.pk}", {"name": "X"}),
    ):
        assert response.status_code == 403
    product.refresh_from_db()
    assert product.name == "Было" and Product.objects.count() == 1


def test_create_is_idempotent(api: Any, admin: Any) -> None:
    client = api(admin)
    body = {"sku": "P-1", "name": "A", "prices": {"RUB": "10"}}
    first = client.post(URL, body, HTTP_IDEMPOTENCY_KEY="p-1")
    again = client.post(URL, body, HTTP_IDEMPOTENCY_KEY="p-1")
    assert (first.status_code, again.content) == (201, first.content)
    assert Product.objects.count() == 1
