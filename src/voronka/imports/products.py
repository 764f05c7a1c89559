"""Products from a price list, through ``product_create``/``product_update``: SKU uniqueness,
price and VAT checks as in the catalog pages (which also limit it to catalog editors).

A product is found by its SKU (case aside). A price list rarely has every currency: the
prices a row gives are set, the product's prices in other currencies are kept."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.core.text import fold
from voronka.imports import cleaning
from voronka.imports.deals import Currencies, money
from voronka.imports.kinds import PRODUCTS
from voronka.imports.pipeline import Match
from voronka.imports.records import RecordImporter, Row
from voronka.sales.models import Product
from voronka.sales.services import product_create, product_update

TEXT_FIELDS = ("sku", "name", "unit", "category", "description")
NO_VAT = {"без ндс", "ндс не облагается", "не облагается", "нет", "no vat", "vat exempt",
          "exempt", "none", "-", "—"}  # fmt: skip
PRICE = "price:"


class ProductImporter(RecordImporter):
    kind = PRODUCTS
    model = Product
    deleted_event = "product.deleted"
    owned = False
    field_targets = {"prices": "price"}
    preview_labels = (gettext_lazy("SKU"), gettext_lazy("Name"), gettext_lazy("Prices"),
                      gettext_lazy("Unit"), gettext_lazy("VAT, %"), gettext_lazy("Category"),
                      gettext_lazy("Active"))  # fmt: skip

    def __init__(self, ctx: Any, mapping: list[str]) -> None:
        super().__init__(ctx, mapping)
        self.currencies = Currencies()
        self.price_columns = [(key[len(PRICE) :], key) for key in self.columns
                              if key.startswith(PRICE)]  # fmt: skip

    def parse(self, number: int, values: list[str]) -> Row | str:
        errors: list[str] = []
        row = Row(row=number)
        data = row.data
        for name in TEXT_FIELDS:
            if text := self.text(values, name):
                data[name] = text
        if sku := data.get("sku"):
            row.keys.append(f"s:{sku.lower()}")
        else:
            errors.append(f"{self.label('sku')}: {_('this field is required')}")
        prices = self._prices(values, errors)
        if prices:
            data["prices"] = prices
        if text := self.text(values, "vat_rate"):
            if fold(text) in NO_VAT:
                data["vat_rate"] = None
            else:
                try:
                    data["vat_rate"] = cleaning.parse_percent(text)
                except ValueError as exc:
                    errors.append(f"{self.label('vat_rate')}: {exc}")
        if text := self.text(values, "active"):
            try:
                data["active"] = cleaning.parse_bool(text)
            except ValueError as exc:
                errors.append(f"{self.label('active')}: {exc}")
        return "; ".join(errors) if errors else row

    def _prices(self, values: list[str], errors: list[str]) -> dict[str, Decimal]:
        prices: dict[str, Decimal] = {}
        if text := self.text(values, "price"):
            try:
                price, written = cleaning.parse_money(text)
            except ValueError as exc:
                errors.append(f"{self.label('price')}: {exc}")
            else:
                column = self.text(values, "currency")
                code = self.currencies.resolve(column or written) if column or written else (
                    self.currencies.base
                )  # fmt: skip
                if code is None:
                    key = "currency" if column else "price"
                    errors.append(f"{self.label(key)}: " + _("unknown currency “%(value)s”")
                                  % {"value": column or written})  # fmt: skip
                elif price is not None:
                    prices[code] = price
        for code, key in self.price_columns:
            if text := self.text(values, key):
                try:
                    price, _written = cleaning.parse_money(text)
                except ValueError as exc:
                    errors.append(f"{self.label(key)}: {exc}")
                else:
                    if price is not None:
                        prices[code] = price
        return prices

    def preview(self, row: Row) -> list[str]:
        data = row.data
        vat = data.get("vat_rate")
        active = data.get("active")
        return [
            data.get("sku", ""), data.get("name", ""),
            ", ".join(f"{money(price)} {code}" for code, price in data.get("prices", {}).items()),
            data.get("unit", ""), "" if vat is None else str(vat), data.get("category", ""),
            "" if active is None else (_("yes") if active else _("no")),
        ]  # fmt: skip

    # --- the database ------------------------------------------------------------------------

    def lookup(self, rows: list[Row]) -> dict[str, Match]:
        skus = sorted({k[2:] for r in rows for k in r.keys})
        found: dict[str, Match] = {}
        products = (
            Product.objects.annotate(lower_sku=Lower("sku"))
            .filter(lower_sku__in=skus)
            .order_by("pk")
            .values_list("pk", "sku")
        )
        for pk, sku in products:
            found.setdefault(f"s:{sku.lower()}", ("db", pk))
        return found

    def create(self, row: Row) -> int:
        return product_create(actor=self.ctx.actor, data=row.data, channel=self.channel).pk

    def update(self, pk: int, row: Row) -> dict[str, Any] | None:
        product = Product.objects.get(pk=pk)
        changes = dict(row.data)
        changes.pop("sku", None)  # the key it was found by, maybe in other letter case
        before = self._state(product, changes)
        if "prices" in changes:
            changes["prices"] = {**before["prices"], **changes["prices"]}
        product = product_update(actor=self.ctx.actor, product=product, changes=changes,
                                 channel=self.channel)  # fmt: skip
        return self.changed_before(before, self._state(product, changes))

    @staticmethod
    def _state(product: Product, changes: dict[str, Any]) -> dict[str, Any]:
        state = {k: getattr(product, k) for k in changes if k != "prices"}
        if "prices" in changes:
            state["prices"] = {p.currency_id: p.price for p in product.prices.all()}
        return state

    @classmethod
    def restore(cls, user: Any, record: Any, changes: dict[str, Any]) -> None:
        # The catalog is for its editors: the user who imported (not a system step) restores.
        product_update(actor=user, product=record, changes=changes, channel=cls.channel)


__all__ = ["ProductImporter"]
