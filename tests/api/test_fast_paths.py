"""The hot contact endpoints (W4) answer exactly what the general path answers, for less.

``GET /api/v1/contacts`` reads its page as values and renders the body itself, without
ninja's re-validation; ``POST /api/v1/contacts`` writes each row once and reads nothing back.
These tests hold them to the general path's bytes and to their query budgets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from voronka.core.api import page_body
from voronka.core.models import AuditEntry, OutboxEvent
from voronka.customers import selectors
from voronka.customers.api import contact_out
from voronka.customers.models import Contact
from voronka.customers.schemas import ContactPage

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts"


def _general_answer(user: Any, query_string: str) -> bytes:
    """The list answer as the model-based selector and ninja's validated schema give it."""
    from voronka.accounts.models import User
    from voronka.api import api

    user = User.objects.select_related("role").get(pk=user.pk)  # as the key loads it
    query = selectors.parse_list_query(selectors.CONTACT_SPEC, QueryDict(query_string), user)
    body = page_body(selectors.contact_list(user, query), contact_out)
    validated = ContactPage.model_validate(body).model_dump()
    return bytes(api.create_response(RequestFactory().get("/"), validated, status=200).content)


@pytest.fixture
def base(
    alice: Any, bob: Any, charlie: Any, make_contact: Any, make_company: Any, set_scope: Any,
    region_field: Any, budget_field: Any,
) -> None:  # fmt: skip
    set_scope("sales_rep", "team")
    company = make_company(alice, name="Альфа")
    for i in range(7):
        make_contact(
            alice if i % 2 else bob, last_name=f"Ёлкин{i % 3}", first_name=f"Имя{i}",
            emails=[f"e{i}@example.com", f"x{i}@example.com"] if i % 3 else [],
            phones=["+79161234567"] if i % 2 else [], tags=["vip", "Ёж", f"t{i}", "Zeta"][: i % 4],
            company_id=company.pk if i % 2 else None, birthday=f"1990-01-0{i % 9 + 1}",
            custom={"region": "Moscow", "budget": 1000 * i} if i % 2 else {},
        )  # fmt: skip
    make_contact(charlie, last_name="Чужой")


@pytest.mark.parametrize(
    "query_string",
    ["", "limit=2", "limit=3&sort=-created_at", "limit=2&sort=company", "limit=3&sort=-cf.budget",
     "tag=vip&limit=1", "q=елкин&limit=2", "sort=first_name&limit=4"],
)  # fmt: skip
def test_every_page_is_the_same_bytes_as_the_general_path(
    api: Any, alice: Any, charlie: Any, base: None, query_string: str
) -> None:
    for user in (alice, charlie):
        client = api(user)
        cursor, pages = None, 0
        while True:
            qs = query_string + (f"&cursor={cursor}" if cursor else "")
            response = client.get(URL + "?" + qs)
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == "application/json; charset=utf-8"
            assert response.content == _general_answer(user, qs)
            cursor = response.json()["next_cursor"]
            pages += 1
            if not cursor:
                break
        assert pages >= 1
    seen = {c["last_name"] for c in api(charlie).get(URL).json()["items"]}
    assert seen == {"Чужой"}  # the outsider sees only their own


def test_a_page_shows_children_in_their_order(api: Any, alice: Any, make_contact: Any) -> None:
    make_contact(alice, last_name="Kid", emails=["b@example.com", "a@example.com"],
                 phones=["+79161234567", "+74951234567"], tags=["beta", "Alpha", "ёлка"])  # fmt: skip
    item = api(alice).get(URL).json()["items"][0]
    assert [e["email"] for e in item["emails"]] == ["b@example.com", "a@example.com"]
    assert [p["phone"] for p in item["phones"]] == ["+79161234567", "+74951234567"]
    assert item["tags"] == ["Alpha", "beta", "ёлка"]


def test_create_writes_each_row_once_and_reads_nothing_back(
    api: Any, alice: Any, make_contact: Any
) -> None:
    make_contact(alice, last_name="Earlier", tags=["vip"])  # the tag VIP exists, "new" does not
    client = api(alice)
    client.get(URL)  # the key's first use records last_used_at; measure the steady state
    body = {"last_name": "Быстров", "emails": ["Fast@Example.com", "two@example.com"],
            "phones": ["8 916 123-45-67"], "tags": ["new", "VIP"], "position": "CEO"}  # fmt: skip
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(URL, body)
    assert response.status_code == 201, response.content
    sqls = [q["sql"] for q in ctx.captured_queries]
    # The key, the custom field definitions, the tags' lookup and the one new tag, then one
    # INSERT each: the contact, its e-mails, phones and tags, the audit entry and the event
    # (plus BEGIN/COMMIT and savepoints, not counted).
    assert len([s for s in sqls if s.upper().startswith(("SELECT", "INSERT", "UPDATE"))]) <= 10
    assert not [s for s in sqls if s.upper().startswith("UPDATE")]
    created = response.json()
    assert [e["email"] for e in created["emails"]] == ["fast@example.com", "two@example.com"]
    assert created["phones"] == [{"phone": "+79161234567", "kind": "mobile"}]
    assert created["tags"] == ["new", "vip"]  # an existing tag keeps its name
    assert client.get(f"{URL}/{created['id']}").json() == created
    contact = Contact.objects.get(pk=created["id"])
    assert contact.search_text == "быстров ceo fast@example.com two@example.com 79161234567"
    audit = AuditEntry.objects.get(object_id=contact.pk, action="create")
    event = OutboxEvent.objects.get(entity_id=contact.pk, name="contact.created")
    assert audit.changes["emails"] == ["fast@example.com", "two@example.com"]
    assert audit.changes["phones"] == ["+79161234567"]
    assert audit.changes["tags"] == ["new", "vip"]
    assert event.payload == json.loads(json.dumps(audit.changes))
