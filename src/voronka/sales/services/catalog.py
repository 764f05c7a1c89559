"""Products and their prices per currency.

Everyone may read the catalog; changing it (prices above all) is for administrators and heads
of sales. Marketers and support agents also see all records by default, but setting prices is
not their job, so the check names the role rather than the scope."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from voronka.accounts.models import RoleCode
from voronka.core import audit, events
from voronka.core.errors import Collector, Forbidden
from voronka.core.models import Channel
from voronka.sales.models import Currency, Product, ProductPrice
from voronka.sales.services.common import clean_decimal, unknown_fields

PRODUCT_FIELDS = {"sku", "name", "unit", "category", "vat_rate", "active", "description", "prices"}


def can_edit_catalog(user: Any) -> bool:
    """Administrators, and heads of sales whose role may write."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_admin:
        return True
    role = user.role if user.role_id else None
    return bool(role is not None and role.code == RoleCode.HEAD_OF_SALES and role.can_write)


def require_catalog_editor(actor: Any) -> None:
    if actor is not None and not can_edit_catalog(actor):
        raise Forbidden(_("only administrators and heads of sales may change products"))


def _clean_product(
    data: dict[str, Any], *, instance: Product | None
) -> tuple[dict[str, Any], Collector]:
    errors = Collector()
    unknown_fields(errors, data, PRODUCT_FIELDS)
    for name, limit, required in (
        ("sku", 64, True),
        ("name", 255, True),
        ("unit", 32, False),
        ("category", 128, False),
    ):
        if name in data or (instance is None and required):
            value = str(data.get(name) or "").strip()
            if required and not value:
                errors.add(name, _("this field is required"))
            elif len(value) > limit:
                errors.add(name, _("is longer than %(n)d characters") % {"n": limit})
            data[name] = value
    if (
        data.get("sku")
        and Product.objects.filter(sku__iexact=data["sku"])
        .exclude(pk=instance.pk if instance else 0)
        .exists()
    ):
        errors.add("sku", _("a product with this SKU exists"))
    clean_decimal(errors, data, "vat_rate", maximum=Decimal(100))
    if "active" in data and not isinstance(data["active"], bool):
        errors.add("active", _("must be true or false"))
    if "prices" in data:
        prices = data["prices"] or {}
        if not isinstance(prices, dict):
            errors.add("prices", _("must be an object keyed by currency code"))
            prices = {}
        cleaned = {}
        known = set(Currency.objects.values_list("code", flat=True))
        for code, price in prices.items():
            holder = {"price": price}
            clean_decimal(errors, holder, "price", field=f"prices.{code}")
            if code.upper() not in known:
                errors.add(f"prices.{code}", _("unknown currency"))
            elif holder["price"] is not None:
                cleaned[code.upper()] = holder["price"]
        data["prices"] = cleaned
    return data, errors


def product_create(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> Product:
    require_catalog_editor(actor)
    values, errors = _clean_product(dict(data), instance=None)
    errors.raise_if_any()
    prices = values.pop("prices", {})
    with transaction.atomic():
        product = Product.objects.create(**values)
        ProductPrice.objects.bulk_create(
            [ProductPrice(product=product, currency_id=c, price=p) for c, p in prices.items()]
        )
        audit.record(
            product,
            action="create",
            changes={**values, "prices": prices},
            actor=actor,
            channel=channel,
        )
        events.publish(
            "product.created",
            entity="sales.product",
            entity_id=product.pk,
            payload={"sku": product.sku},
            actor=actor,
            channel=channel,
        )
    return product


def product_update(
    *, actor: Any, product: Product, changes: Mapping[str, Any], channel: str = Channel.UI
) -> Product:
    require_catalog_editor(actor)
    values, errors = _clean_product(dict(changes), instance=product)
    errors.raise_if_any()
    prices = values.pop("prices", None)
    with transaction.atomic():
        before = {k: getattr(product, k) for k in values}
        for name, value in values.items():
            setattr(product, name, value)
        product.save()
        if prices is not None:
            product.prices.all().delete()
            ProductPrice.objects.bulk_create(
                [ProductPrice(product=product, currency_id=c, price=p) for c, p in prices.items()]
            )
        audit.record(
            product,
            action="update",
            changes=audit.diff(before, values),
            actor=actor,
            channel=channel,
        )
    return product
