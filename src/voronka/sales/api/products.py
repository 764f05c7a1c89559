"""Sales API: products."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    idempotent,
    page_body,
    patch_body,
    simple_page,
)
from voronka.core.errors import NotFound
from voronka.core.models import Channel
from voronka.core.schemas import ERRORS
from voronka.sales import services
from voronka.sales.models import (
    Product,
    ProductPrice,
)
from voronka.sales.schemas import (
    ProductIn,
    ProductOut,
    ProductPage,
)

# --- products -------------------------------------------------------------------------------

products = Router(tags=["products"])


def product_out(product: Product) -> dict[str, Any]:
    """Expects the prices prefetched."""
    return {
        "id": product.pk, "sku": product.sku, "name": product.name, "unit": product.unit,
        "category": product.category, "vat_rate": product.vat_rate, "active": product.active,
        "description": product.description,
        "prices": {p.currency_id: p.price for p in product.prices.all()},
        "created_at": product.created_at, "updated_at": product.updated_at,
    }  # fmt: skip


def _products() -> QuerySet[Product]:
    prices = ProductPrice.objects.order_by("currency_id")
    return Product.objects.prefetch_related(Prefetch("prices", queryset=prices))


def _product(product_id: int) -> Product:
    product = _products().filter(pk=product_id).first()
    if product is None:
        raise NotFound(f"product {product_id} not found")
    return product


@products.get("", response={200: ProductPage, **ERRORS})
def list_products(
    request: ApiRequest, page: Query[PageParams], q: str = "", category: str = "",
    active: bool | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The catalogue by name; ``q`` searches the name and SKU."""
    qs = _products()
    if q.strip():
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(sku__icontains=q.strip()))
    if category:
        qs = qs.filter(category=category)
    if active is not None:
        qs = qs.filter(active=active)
    return page_body(simple_page(qs, ["name", "id"], page), product_out)


@products.post("", response={201: ProductOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_product(request: ApiRequest, payload: ProductIn) -> Status[dict[str, Any]]:
    product = services.product_create(
        actor=request.auth, data=patch_body(payload), channel=Channel.API
    )
    return Status(201, product_out(_product(product.pk)))


@products.get("/{product_id}", response={200: ProductOut, **ERRORS})
def read_product(request: ApiRequest, product_id: int) -> dict[str, Any]:
    return product_out(_product(product_id))


@products.patch("/{product_id}", response={200: ProductOut, **ERRORS})
def update_product(request: ApiRequest, product_id: int, payload: ProductIn) -> dict[str, Any]:
    """Change only the keys sent; ``prices`` given replaces the whole price list."""
    services.product_update(
        actor=request.auth, product=_product(product_id), changes=patch_body(payload),
        channel=Channel.API,
    )  # fmt: skip
    return product_out(_product(product_id))
