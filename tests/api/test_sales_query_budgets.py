"""Every sales list endpoint costs the same number of queries for 1 row and for many, and a
full page of deals costs what a page of one does."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/deals", "/api/v1/leads", "/api/v1/activities", "/api/v1/products",
         "/api/v1/pipelines", "/api/v1/quotes", "/api/v1/invoices",
         "/api/v1/deals?tag=hot&sort=-amount&owner=me"]  # fmt: skip


def _queries(client: Any, path: str) -> int:
    client.get(path)  # the key's first use records last_used_at; measure the steady state
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
        assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def _add_rows(
    start: int, n: int, owner: Any, admin: Any, make_contact: Any, make_company: Any
) -> None:
    """Rows with every relation a list item shows: tags, contacts, lines, participants,
    prices, stages, documents."""
    from voronka.sales.services import (
        activity_create,
        deal_create,
        document_create,
        lead_create,
        pipeline_create,
        product_create,
    )

    for i in range(start, start + n):
        company = make_company(owner, name=f"Company {i}")
        contacts = [make_contact(owner, last_name=f"C{i}-{j}").pk for j in range(2)]
        deal = deal_create(actor=owner, data={
            "title": f"Deal {i}", "company_id": company.pk, "contact_ids": contacts,
            "tags": ["hot", f"t{i}"], "lines": [{"name": "A", "quantity": 1, "unit_price": "10"}],
        })  # fmt: skip
        lead_create(actor=owner, data={"last_name": f"Lead {i}", "owner_id": owner.pk})
        activity_create(actor=owner, data={
            "subject": f"Call {i}", "deal_id": deal.pk, "participant_ids": [admin.pk, owner.pk],
        })  # fmt: skip
        product_create(actor=admin, data={
            "sku": f"SKU-{i}", "name": f"Product {i}", "prices": {"RUB": "1", "USD": "2"},
        })  # fmt: skip
        pipeline_create(actor=admin, name=f"Pipeline {i}", stages=[{"name": "S"}, {"name": "T"}])
        document_create(actor=owner, deal=deal, kind="quote")
        document_create(actor=owner, deal=deal, kind="invoice")


@pytest.mark.parametrize("path", LISTS)
def test_list_query_count_does_not_grow_with_rows(
    api: Any, alice: Any, admin: Any, make_contact: Any, make_company: Any,
    django_assert_max_num_queries: Any, path: str,
) -> None:  # fmt: skip
    client = api(alice)
    _add_rows(0, 1, alice, admin, make_contact, make_company)
    few = _queries(client, path)
    _add_rows(1, 6, alice, admin, make_contact, make_company)
    many = _queries(client, path)
    assert few == many
    with django_assert_max_num_queries(8):
        client.get(path)


def test_deal_page_size_does_not_change_the_query_count(
    api: Any, alice: Any, admin: Any, make_contact: Any, make_company: Any
) -> None:
    _add_rows(0, 12, alice, admin, make_contact, make_company)
    client = api(alice)
    counts = {limit: _queries(client, f"/api/v1/deals?limit={limit}") for limit in (1, 5, 50)}
    assert len(set(counts.values())) == 1, counts
    assert len(client.get("/api/v1/deals", limit=50).json()["items"]) == 12
