"""Line and document totals are exact: property-based over random line items."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from voronka.sales.money import CENT, document_totals, line_totals

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("10000000"), places=2)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
rates = st.sampled_from([None, Decimal("0"), Decimal("10"), Decimal("20")])


@given(quantities, prices, discounts, rates)
def test_line_totals_are_rounded_to_kopecks_and_add_up(
    q: Decimal, p: Decimal, d: Decimal, r: Decimal | None
) -> None:
    t = line_totals(q, p, d, r)
    assert t.net == t.net.quantize(CENT) and t.vat == t.vat.quantize(CENT)
    assert t.total == t.net + t.vat
    exact_net = q * p * (100 - d) / 100
    assert abs(t.net - exact_net) <= Decimal("0.005")
    assert Decimal(0) <= t.net <= (q * p).quantize(CENT) + CENT
    if r:
        assert abs(t.vat - t.net * r / 100) <= Decimal("0.005")
    else:
        assert t.vat == 0


@given(st.lists(st.tuples(quantities, prices, discounts, rates), min_size=1, max_size=20))
def test_document_total_is_the_sum_of_its_lines(
    items: list[tuple[Decimal, Decimal, Decimal, Decimal | None]],
) -> None:
    lines = [line_totals(q, p, d, r) for q, p, d, r in items]
    doc = document_totals(lines, [r for *_x, r in items])
    assert doc.total == sum(line.total for line in lines)
    assert doc.net + doc.vat == doc.total
    assert sum(doc.vat_by_rate.values(), Decimal(0)) == doc.vat


def test_known_example() -> None:
    # 3 × 1 999,99 with 10 % off = 5 399,97; VAT 20 % = 1 079,99 (1 079,994 rounds down)
    t = line_totals(Decimal(3), Decimal("1999.99"), Decimal(10), Decimal(20))
    assert (t.net, t.vat, t.total) == (Decimal("5399.97"), Decimal("1079.99"), Decimal("6479.96"))
