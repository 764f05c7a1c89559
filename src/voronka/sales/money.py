"""Exact money arithmetic for deal lines, quotes and invoices.

Prices exclude VAT. For each line: net = quantity × price × (1 − discount%), rounded half-up
to kopecks; VAT = net × rate%, rounded the same way; total = net + VAT. Document totals are
the sums of the rounded line figures, so the lines always add up to the total shown."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineTotals:
    net: Decimal
    vat: Decimal
    total: Decimal


def line_totals(
    quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, vat_rate: Decimal | None
) -> LineTotals:
    gross = quantity * unit_price
    net = money(gross * (HUNDRED - discount_percent) / HUNDRED)
    vat = money(net * vat_rate / HUNDRED) if vat_rate else Decimal("0.00")
    return LineTotals(net=net, vat=vat, total=net + vat)


@dataclass(frozen=True)
class DocumentTotals:
    net: Decimal
    vat: Decimal
    total: Decimal
    vat_by_rate: dict[Decimal, Decimal]


def document_totals(lines: list[LineTotals], rates: list[Decimal | None]) -> DocumentTotals:
    vat_by_rate: dict[Decimal, Decimal] = {}
    for line, rate in zip(lines, rates, strict=True):
        if rate:
            vat_by_rate[rate] = vat_by_rate.get(rate, Decimal("0.00")) + line.vat
    net = sum((line.net for line in lines), Decimal("0.00"))
    vat = sum((line.vat for line in lines), Decimal("0.00"))
    return DocumentTotals(net=net, vat=vat, total=net + vat, vat_by_rate=vat_by_rate)


def to_base(amount: Decimal, rate: Decimal) -> Decimal:
    """An amount in the base currency, for totals across currencies."""
    return money(amount * rate)
