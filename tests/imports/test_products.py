"""Importing a price list through ``product_create``/``product_update``: prices in several
currencies written the Russian way, VAT, dedupe by SKU, undo, and who may do it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.imports import sales_samples as samples
from voronka.core.errors import Forbidden
from voronka.core.models import AuditEntry
from voronka.imports.models import ImportRejection
from voronka.imports.runner import import_undo_run
from voronka.imports.services import import_undo
from voronka.sales.models import Product
from voronka.sales.services import product_create

pytestmark = pytest.mark.django_db


def prices(product: Product) -> dict[str, Decimal]:
    return {p.currency_id: p.price for p in product.prices.all()}


@pytest.fixture
def head(make_user: Callable[..., Any]) -> Any:
    """A head of sales: may change the catalog."""
    return make_user("head", role="head_of_sales")


def test_a_price_list_from_a_russian_excel(
    head: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    job = upload(head, "products", "Прайс.csv", samples.PRICES)
    assert job.mapping == ["sku", "name", "price:RUB", "price:USD", "unit", "vat_rate",
                           "category", "description", "active"]  # fmt: skip
    job = run_import(head, job)
    assert (job.created, job.rejected) == (2, 2)
    assert dict(ImportRejection.objects.filter(job=job).values_list("row", "reason")) == {
        4: "Price, RUB (column “Цена, руб.”): not a number: abc",
        5: "SKU (column “Артикул”): this field is required",
    }
    lathe = Product.objects.get(sku="ST-100")
    assert (lathe.name, lathe.unit, lathe.vat_rate, lathe.category, lathe.active) == (
        "Станок токарный", "шт", Decimal("20.00"), "Станки", True,
    )  # fmt: skip
    assert lathe.description == 'Станок "Универсал", 220 В'
    assert prices(lathe) == {"RUB": Decimal("1234567.80"), "USD": Decimal("13500.00")}
    service = Product.objects.get(sku="SRV-1")
    assert (service.unit, service.vat_rate, prices(service)) == (
        "час", None, {"RUB": Decimal("15000.00")},
    )  # fmt: skip
    entry = AuditEntry.objects.get(object_id=lathe.pk, content_type__model="product")
    assert (entry.action, entry.channel, entry.actor_id) == ("create", "import", head.pk)


def test_dedupe_by_sku_keeps_the_other_currencies(
    head: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    existing = product_create(actor=head, data={
        "sku": "st-100", "name": "Старое имя", "prices": {"RUB": "1000", "EUR": "12"},
    })  # fmt: skip
    job = run_import(head, upload(head, "products", "p.csv", samples.PRICES))
    assert (job.created, job.skipped) == (1, 1)  # "ST-100" is "st-100": the case aside

    created_anyway = run_import(head, upload(head, "products", "p.csv", samples.PRICES),
                                dedupe="create")  # fmt: skip
    reasons = set(
        ImportRejection.objects.filter(job=created_anyway).values_list("reason", flat=True)
    )
    assert "SKU (column “Артикул”): a product with this SKU exists" in reasons
    assert created_anyway.created == 0

    job = run_import(head, upload(head, "products", "p.csv", samples.PRICES), dedupe="update")
    assert (job.created, job.updated) == (0, 2)
    existing.refresh_from_db()
    assert (existing.sku, existing.name, existing.vat_rate) == (
        "st-100", "Станок токарный", Decimal("20.00"),
    )  # fmt: skip
    assert prices(existing) == {"RUB": Decimal("1234567.80"), "USD": Decimal("13500.00"),
                                "EUR": Decimal("12.00")}  # fmt: skip

    import_undo(actor=head, job=job)
    assert import_undo_run(job.pk) == "undone"
    existing.refresh_from_db()
    assert (existing.name, existing.vat_rate) == ("Старое имя", None)
    assert prices(existing) == {"RUB": Decimal("1000.00"), "EUR": Decimal("12.00")}
    assert Product.objects.count() == 2  # SRV-1 came with the first import, not this one


def test_undo_deletes_the_products_it_created(
    head: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    job = run_import(head, upload(head, "products", "p.csv", samples.PRICES))
    assert Product.objects.count() == 2
    import_undo(actor=head, job=job)
    assert import_undo_run(job.pk) == "undone"
    assert not Product.objects.exists()


def test_only_catalog_editors_import_products(
    alice: Any, upload: Callable[..., Any], client: Any
) -> None:
    with pytest.raises(Forbidden, match="only administrators and heads of sales"):
        upload(alice, "products", "p.csv", samples.PRICES)
    client.force_login(alice)
    page = client.get("/imports/").content.decode()
    assert 'value="deals"' in page and 'value="products"' not in page


def test_an_xlsx_price_list_with_a_currency_column(
    admin: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    content = samples.xlsx([
        ["SKU", "Product name", "Price", "Currency", "VAT rate", "Active"],
        ["LIC-1", "CRM licence, 1 year", 120.5, "EUR", 0.2, "yes"],
        ["LIC-2", "CRM licence, 3 years", "300", "$", None, "no"],
        ["LIC-3", "Support", "99", "GBP", None, "maybe"],
    ])  # fmt: skip
    job = upload(admin, "products", "prices.xlsx", content)
    assert job.mapping == ["sku", "name", "price", "currency", "vat_rate", "active"]
    job = run_import(admin, job)
    assert (job.created, job.rejected) == (2, 1)
    assert ImportRejection.objects.get(job=job).reason == (
        "Currency of the price (column “Currency”): unknown currency “GBP”; "
        "Active: must be yes or no: maybe"
    )
    one = Product.objects.get(sku="LIC-1")
    assert (prices(one), one.vat_rate) == ({"EUR": Decimal("120.50")}, Decimal("20.00"))
    three = Product.objects.get(sku="LIC-2")
    assert (prices(three), three.active) == ({"USD": Decimal("300.00")}, False)
