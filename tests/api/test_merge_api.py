"""POST /api/v1/contacts/{id}/merge and /api/v1/companies/{id}/merge: moves, history,
visibility (404), read-only roles (403) and bad input that names the field and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from voronka.core.models import AuditEntry, Note, OutboxEvent
from voronka.core.services import note_create
from voronka.customers.models import Company, Contact
from voronka.sales.models import Activity, Deal, Lead
from voronka.sales.services import activity_create, deal_create, lead_convert, lead_create

pytestmark = pytest.mark.django_db


def test_contact_merge_moves_deals_activities_notes_leads_and_answers_the_survivor(
    api: Any, alice: Any, make_contact: Any
) -> None:
    keep = make_contact(alice, last_name="Петров", emails=["ivan@example.com"], tags=["VIP"])
    dup = make_contact(alice, last_name="Петрофф", first_name="Ваня", position="CTO",
                       emails=["ivan@example.com", "home@example.com"], tags=["Lead"])  # fmt: skip
    note_create(record=dup, body="hello", actor=alice)
    deal = deal_create(actor=alice, data={"title": "Сделка", "contact_ids": [dup.pk]})
    activity = activity_create(actor=alice, data={"subject": "Позвонить", "contact_id": dup.pk})
    lead = lead_convert(
        actor=alice,
        lead=lead_create(actor=alice, data={"last_name": "X", "email": "home@example.com"}),
        create_deal=False,
    )
    response = api(alice).post(
        f"/api/v1/contacts/{keep.pk}/merge",
        {"others": [dup.pk], "values": {"last_name": "survivor", "first_name": dup.pk,
                                        "source": {"value": "merged"}}},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == keep.pk
    assert (body["last_name"], body["first_name"]) == ("Петров", "Ваня")
    assert body["position"] == "CTO" and body["source"] == "merged"
    assert [e["email"] for e in body["emails"]] == ["ivan@example.com", "home@example.com"]
    assert body["tags"] == ["Lead", "VIP"]
    assert not Contact.objects.filter(pk=dup.pk).exists()
    assert list(Deal.objects.get(pk=deal.pk).contacts.values_list("pk", flat=True)) == [keep.pk]
    assert Activity.objects.get(pk=activity.pk).contact_id == keep.pk
    assert Lead.objects.get(pk=lead.pk).converted_contact_id == keep.pk
    ct = ContentType.objects.get_for_model(Contact)
    assert Note.objects.get(content_type=ct).object_id == keep.pk
    entry = AuditEntry.objects.get(content_type=ct, object_id=keep.pk, action="merge")
    assert entry.channel == "api" and entry.changes["merged"][0]["id"] == dup.pk
    event = OutboxEvent.objects.get(name="contact.merged")
    assert event.payload["merged_ids"] == [dup.pk] and event.channel == "api"
    # The merged contact is gone from the API too.
    assert api(alice).get(f"/api/v1/contacts/{dup.pk}").status_code == 404


def test_company_merge_moves_its_contacts(api: Any, alice: Any, make_company: Any,
                                          make_contact: Any) -> None:  # fmt: skip
    keep = make_company(alice, name="Ромашка")
    dup = make_company(alice, name="Ромашка ООО", inn="7707083893", addresses=["Москва"])
    worker = make_contact(alice, company_id=dup.pk)
    deal = deal_create(actor=alice, data={"title": "Поставка", "company_id": dup.pk})
    response = api(alice).post(f"/api/v1/companies/{keep.pk}/merge", {"others": [dup.pk]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["inn"] == "7707083893" and body["name"] == "Ромашка"
    assert body["addresses"] == [{"kind": "actual", "address": "Москва"}]
    assert not Company.objects.filter(pk=dup.pk).exists()
    assert Contact.objects.get(pk=worker.pk).company_id == keep.pk
    assert Deal.objects.get(pk=deal.pk).company_id == keep.pk
    assert OutboxEvent.objects.filter(name="company.merged", entity_id=keep.pk).exists()


def test_invisible_records_are_not_found(
    api: Any, alice: Any, charlie: Any, make_contact: Any, make_company: Any,
    db_rows: Callable[[], dict[str, int]],
) -> None:  # fmt: skip
    mine, theirs = make_contact(alice), make_contact(charlie)
    client = api(alice)
    before = db_rows()
    for survivor, other in ((mine, theirs), (theirs, mine)):
        response = client.post(f"/api/v1/contacts/{survivor.pk}/merge", {"others": [other.pk]})
        assert response.status_code == 404, response.content
    assert client.post("/api/v1/contacts/999999/merge", {"others": [mine.pk]}).status_code == 404
    assert db_rows() == before
    firm, other_firm = make_company(alice), make_company(charlie)
    before = db_rows()
    response = client.post(f"/api/v1/companies/{firm.pk}/merge", {"others": [other_firm.pk]})
    assert response.status_code == 404
    assert db_rows() == before


def test_read_only_role_gets_403(api: Any, make_user: Any, alice: Any, make_contact: Any,
                                 db_rows: Callable[[], dict[str, int]]) -> None:  # fmt: skip
    reader = make_user("rita", role="read_only")
    a, b = make_contact(alice), make_contact(alice)
    client = api(reader)
    before = db_rows()
    response = client.post(f"/api/v1/contacts/{a.pk}/merge", {"others": [b.pk]})
    assert response.status_code == 403
    assert db_rows() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "others"),
        ({"others": "x"}, "others"),
        ({"others": []}, "others"),
        ({"others": ["SELF"]}, "others"),
        ({"others": ["B"], "values": {"nickname": "B"}}, "nickname"),
        ({"others": ["B"], "values": {"emails": ["nope"]}}, "emails[0].email"),
        ({"others": ["B"], "values": {"custom.region": "x"}}, "custom.region"),
        ({"others": ["B"], "values": {"birthday": "yesterday"}}, "birthday"),
        ({"others": ["B"], "values": []}, "values"),
        ({"others": ["B"], "extra": 1}, "extra"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    api: Any, alice: Any, make_contact: Any, db_rows: Callable[[], dict[str, int]],
    body: dict[str, Any], field: str,
) -> None:  # fmt: skip
    a, b = make_contact(alice), make_contact(alice, emails=["b@example.com"])
    ids = {"SELF": a.pk, "B": b.pk}
    if isinstance(body.get("others"), list):
        body = {**body, "others": [ids[i] for i in body["others"]]}
    client = api(alice)
    before = db_rows()
    response = client.post(f"/api/v1/contacts/{a.pk}/merge", body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert db_rows() == before


def test_merge_appears_in_the_openapi_document(api: Any, alice: Any) -> None:
    paths = api(alice).get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/contacts/{contact_id}/merge"]
    assert "post" in paths["/api/v1/companies/{company_id}/merge"]
