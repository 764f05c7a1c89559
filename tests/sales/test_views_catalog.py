"""The products catalog pages: everyone reads, administrators and heads of sales edit; search,
filters and keyset pages; errors next to the input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from voronka.sales.models import Product
from voronka.sales.services import product_create

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return response.content.decode()


def form(**overrides: Any) -> dict[str, Any]:
    data = {"sku": "PUMP-1", "name": "Насос ЦН-100", "unit": "шт", "category": "Насосы",
            "vat_rate": "22", "description": "", "active": "on",
            "prices.RUB": "184 990,50", "prices.USD": "1999", "prices.EUR": ""}  # fmt: skip
    data.update(overrides)
    return data


@pytest.fixture
def head(make_user: Any) -> Any:
    return make_user("head", role="head_of_sales")


@pytest.fixture
def pump(admin: Any) -> Product:
    return product_create(
        actor=admin,
        data={"sku": "PUMP-1", "name": "Насос", "category": "Насосы", "prices": {"RUB": "100"}},
    )


def test_a_rep_reads_the_catalog_but_cannot_change_it(
    client: Client, alice: Any, pump: Product
) -> None:
    client.force_login(alice)
    page = text(client.get(reverse("sales:products")))
    assert "Насос" in page and "PUMP-1" in page
    assert reverse("sales:product_new") not in page
    assert "Deactivate" not in page
    detail = client.get(reverse("sales:product_edit", args=[pump.pk]))
    assert detail.status_code == 200
    assert "<form" not in text(detail).split('id="main"')[1].split("</main>")[0]
    assert client.get(reverse("sales:product_new")).status_code == 403
    assert client.post(reverse("sales:product_new"), form(sku="X")).status_code == 403
    assert client.post(reverse("sales:product_edit", args=[pump.pk]), form()).status_code == 403
    active = client.post(reverse("sales:product_active", args=[pump.pk]), {"active": "false"})
    assert active.status_code == 403
    pump.refresh_from_db()
    assert pump.active and not Product.objects.filter(sku="X").exists()


def test_a_head_of_sales_creates_a_product_with_prices(client: Client, head: Any) -> None:
    client.force_login(head)
    response = client.post(reverse("sales:product_new"), form(), follow=True)
    product = Product.objects.get(sku="PUMP-1")
    assert "Product “Насос ЦН-100” created." in text(response)
    prices = {p.currency_id: p.price for p in product.prices.all()}
    assert prices == {"RUB": Decimal("184990.50"), "USD": Decimal("1999.00")}
    assert product.vat_rate == Decimal("22.00") and product.active


def test_duplicate_sku_is_shown_next_to_the_input(
    client: Client, admin: Any, pump: Product
) -> None:
    client.force_login(admin)
    response = client.post(reverse("sales:product_new"), form(sku="pump-1", name="Another"))
    assert response.status_code == 400
    page = text(response)
    assert 'id="id_sku_error"' in page and "a product with this SKU exists" in page
    assert 'value="Another"' in page  # what was typed stays
    assert Product.objects.count() == 1


def test_a_bad_price_is_shown_next_to_its_currency(client: Client, admin: Any) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("sales:product_new"), form(**{"prices.USD": "abc", "vat_rate": "150"})
    )
    page = text(response)
    assert response.status_code == 400
    assert 'id="id_price_USD_error"' in page and "must be a number" in page
    assert 'id="id_vat_rate_error"' in page
    assert not Product.objects.exists()


def test_edit_replaces_the_prices_and_deactivate_hides_it(
    client: Client, admin: Any, pump: Product
) -> None:
    client.force_login(admin)
    url = reverse("sales:product_edit", args=[pump.pk])
    assert 'value="100.00"' in text(client.get(url))
    client.post(url, form(**{"prices.RUB": "", "prices.EUR": "12.5"}))
    pump.refresh_from_db()
    assert {p.currency_id: p.price for p in pump.prices.all()} == {
        "USD": Decimal("1999.00"),
        "EUR": Decimal("12.50"),
    }
    response = client.post(
        reverse("sales:product_active", args=[pump.pk]), {"active": "false"}, follow=True
    )
    assert "deactivated" in text(response)
    pump.refresh_from_db()
    assert not pump.active
    assert "PUMP-1" not in text(client.get(reverse("sales:products")))
    assert "PUMP-1" in text(client.get(reverse("sales:products"), {"status": "inactive"}))
    assert "PUMP-1" in text(client.get(reverse("sales:products"), {"status": "all"}))


def test_search_and_category_filter(client: Client, alice: Any, admin: Any) -> None:
    for sku, name, category in (("V-15", "Клапан 15", "Арматура"), ("P-1", "Насос", "Насосы"),
                                ("P-2", "Насос большой", "Насосы")):  # fmt: skip
        product_create(actor=admin, data={"sku": sku, "name": name, "category": category})
    client.force_login(alice)
    url = reverse("sales:products")

    def skus(**params: str) -> list[str]:
        page = text(client.get(url, params))
        return [s for s in ("V-15", "P-1", "P-2") if f">{s}<" in page]

    assert skus() == ["V-15", "P-1", "P-2"]
    assert skus(q="насос") == ["P-1", "P-2"]
    assert skus(q="v-1") == ["V-15"]
    assert skus(category="Насосы") == ["P-1", "P-2"]
    assert skus(q="большой", category="Насосы") == ["P-2"]
    nothing = text(client.get(url, {"q": "nothing"}))
    assert "No product matches this search." in nothing


def test_search_as_you_type_returns_only_the_results(
    client: Client, alice: Any, pump: Product
) -> None:
    client.force_login(alice)
    response = client.get(
        reverse("sales:products"), {"q": "PUMP"}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="product-results",
    )  # fmt: skip
    assert "PUMP-1" in text(response) and "<html" not in text(response)


def test_pages_follow_each_other_at_a_fixed_cost(
    client: Client, alice: Any, admin: Any, django_assert_max_num_queries: Any
) -> None:
    Product.objects.bulk_create(
        [Product(sku=f"SKU-{i:03d}", name=f"Product {i:03d}") for i in range(60)]
    )
    client.force_login(alice)
    url = reverse("sales:products")
    client.get(url)
    with django_assert_max_num_queries(8):
        first = client.get(url)
    page = text(first)
    assert page.count("SKU-0") == 50 and "Show more" in page
    more = page.split('hx-get="?')[1].split('"')[0].replace("&amp;", "&")
    rest = client.get(f"{url}?{more}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="product-more")
    body = text(rest)
    assert "SKU-050" in body and "SKU-059" in body and "SKU-049" not in body
    assert "Show more" not in body and "<html" not in body


def test_a_tampered_cursor_is_not_an_error_page(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = client.get(reverse("sales:products"), {"cursor": "garbage!!"})
    assert response.status_code == 200
    assert "That page link is no longer valid." in text(response)


def test_a_missing_product_is_404(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert client.get(reverse("sales:product_edit", args=[999999])).status_code == 404
