"""Every list endpoint costs the same number of queries for 1 row and for many."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/contacts", "/api/v1/companies", "/api/v1/tags", "/api/v1/users",
         "/api/v1/teams", "/api/v1/custom-fields", "/api/v1/search?q=petrov"]  # fmt: skip


def _queries(client: Any, path: str) -> int:
    client.get(path)  # the key's first use records last_used_at; measure the steady state
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def _add_rows(
    start: int, n: int, owner: Any, make_contact: Any, make_company: Any, make_user: Any
) -> None:
    from voronka.accounts.services import team_create
    from voronka.core.services import custom_field_create

    for i in range(start, start + n):
        company = make_company(owner, name=f"Petrov {i} LLC", tags=[f"c{i}", "co"],
                               addresses=[f"Street {i}", f"Avenue {i}"])  # fmt: skip
        make_contact(owner, last_name=f"Petrov{i}", company_id=company.pk, tags=[f"t{i}", "all"],
                     emails=[f"p{i}@example.com"], phones=["+79161234567"])  # fmt: skip
        make_user(f"user{i}", team=team_create(name=f"Team {i}"))
        custom_field_create(entity="customers.contact", label=f"Field {i}", type="text")


@pytest.mark.parametrize("path", LISTS)
def test_list_query_count_does_not_grow_with_rows(
    api: Any, alice: Any, make_contact: Any, make_company: Any, make_user: Any,
    django_assert_max_num_queries: Any, path: str,
) -> None:  # fmt: skip
    client = api(alice)
    _add_rows(0, 1, alice, make_contact, make_company, make_user)
    few = _queries(client, path)
    _add_rows(1, 6, alice, make_contact, make_company, make_user)
    many = _queries(client, path)
    assert few == many
    # The search asks twice when the names starting with the term are fewer than the limit
    # (selectors.ranked_search): once for contacts, once for companies.
    with django_assert_max_num_queries(10 if "/search" in path else 8):
        client.get(path)
