"""/api/v1/leads: create, read, change, list with filters and pages, convert; visibility and
bad input."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.core.models import AuditEntry
from voronka.customers.models import Company, Contact
from voronka.sales.models import Deal, Lead, Pipeline

pytestmark = pytest.mark.django_db

URL = "/api/v1/leads"


@pytest.fixture
def reader(make_user: Any) -> Any:
    """A read-only user: sees every record, may change none."""
    return make_user("reader", role="read_only")


def make_lead(owner: Any, **data: Any) -> Lead:
    from voronka.sales.services import lead_create

    data.setdefault("last_name", "Сидоров")
    data.setdefault("owner_id", owner.pk)
    return lead_create(actor=owner, data=data)


def test_create_read_patch_list(api: Any, alice: Any) -> None:
    client = api(alice)
    created = client.post(URL, {
        "first_name": "Анна", "last_name": "Смирнова", "company_name": "ООО Вектор",
        "email": "Anna@Vector.RU", "phone": "8 (916) 555-12-34", "source": "site",
        "utm_campaign": "spring", "message": "Нужен расчёт",
    })  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["email"] == "anna@vector.ru"
    assert body["phone"] == "+79165551234"
    assert body["owner_id"] == alice.pk
    assert body["status"] == "new"
    assert body["converted_deal_id"] is None
    assert client.get(f"{URL}/{body['id']}").json() == body

    patched = client.patch(f"{URL}/{body['id']}", {"status": "in_progress"}).json()
    assert patched["status"] == "in_progress"
    assert patched["email"] == "anna@vector.ru"
    assert client.get(URL).json() == {"items": [patched], "next_cursor": None}
    assert AuditEntry.objects.filter(channel="api").count() == 2


def test_filters_and_pages(api: Any, alice: Any) -> None:
    for i in range(5):
        make_lead(alice, last_name=f"Лид {i}", source="site" if i % 2 else "expo")
    make_lead(alice, last_name="Мусор", status="junk", junk_reason="spam")
    client = api(alice)
    names: list[str] = []
    params: dict[str, Any] = {"limit": 2, "source": "site"}
    while True:
        page = client.get(URL, **params).json()
        names += [lead["last_name"] for lead in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert names == ["Лид 3", "Лид 1"]
    assert [x["last_name"] for x in client.get(URL, status="junk").json()["items"]] == ["Мусор"]
    assert len(client.get(URL, owner="me").json()["items"]) == 6
    assert [x["last_name"] for x in client.get(URL, q="Лид 4").json()["items"]] == ["Лид 4"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "hot"}, "status"), ({"owner": "boss"}, "owner"), ({"limit": "0"}, "limit"),
     ({"cursor": "!!!"}, "cursor")],
)  # fmt: skip
def test_bad_filters_name_the_parameter(
    api: Any, alice: Any, params: dict[str, str], field: str
) -> None:
    response = api(alice).get(URL, **params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "last_name"),
        ({"last_name": "X", "email": "nope"}, "email"),
        ({"last_name": "X", "phone": "12"}, "phone"),
        ({"last_name": "X", "status": "hot"}, "status"),
        ({"last_name": "X", "status": "junk"}, "junk_reason"),
        ({"last_name": "X", "owner_id": 999999}, "owner_id"),
        ({"last_name": "X", "rating": 5}, "rating"),
        ({"last_name": "N" * 151}, "last_name"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    api: Any, alice: Any, body: dict[str, Any], field: str
) -> None:
    lead = make_lead(alice, last_name="Было")
    client = api(alice)
    responses = [client.post(URL, body)]
    if body:  # an empty PATCH changes nothing and is fine
        responses.append(client.patch(f"{URL}/{lead.pk}", body))
    for response in responses:
        assert response.status_code == 422, response.content
        assert field in [e["field"] for e in response.json()["errors"]]
    assert Lead.objects.count() == 1
    lead.refresh_from_db()
    assert lead.last_name == "Было"


def test_malformed_json_is_400(api: Any, alice: Any) -> None:
    response = api(alice).post(URL, raw="{")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


@pytest.mark.parametrize("viewer", ["bob", "charlie"])
def test_a_colleagues_lead_is_404(
    api: Any, alice: Any, bob: Any, charlie: Any, viewer: str
) -> None:
    lead = make_lead(alice, last_name="Секрет")
    client = api({"bob": bob, "charlie": charlie}[viewer])
    path = f"{URL}/{lead.pk}"
    for response in (
        client.get(path),
        client.patch(path, {"last_name": "x"}),
        client.post(f"{path}/convert", {}),
    ):
        assert response.status_code == 404
    assert client.get(URL).json()["items"] == []
    lead.refresh_from_db()
    assert lead.last_name == "Секрет" and lead.converted_at is None


def test_read_only_role_reads_but_may_not_write(api: Any, alice: Any, reader: Any) -> None:
    lead = make_lead(alice)
    client = api(reader)
    assert client.get(f"{URL}/{lead.pk}").status_code == 200
    for response in (
        client.post(URL, {"last_name": "X"}),
        client.patch(f"{URL}/{lead.pk}", {"last_name": "X"}),
        client.post(f"{URL}/{lead.pk}/convert", {}),
    ):
        assert response.status_code == 403
        assert response.json()["detail"]
    assert Lead.objects.count() == 1 and Deal.objects.count() == 0


def test_convert_answers_the_contact_company_and_deal(api: Any, alice: Any) -> None:
    lead = make_lead(
        alice, first_name="Анна", last_name="Смирнова", company_name="ООО Вектор",
        email="anna@vector.ru",
    )  # fmt: skip
    pipeline = Pipeline.objects.get(is_default=True)
    response = api(alice).post(f"{URL}/{lead.pk}/convert", {
        "deal_title": "Вектор: поставка", "amount": "150000.50", "pipeline_id": pipeline.pk,
    })  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    contact = Contact.objects.get(pk=body["contact_id"])
    assert contact.last_name == "Смирнова" and contact.owner_id == alice.pk
    assert Company.objects.get(pk=body["company_id"]).name == "ООО Вектор"
    deal = Deal.objects.get(pk=body["deal_id"])
    assert deal.title == "Вектор: поставка" and str(deal.amount) == "150000.50"
    assert body["lead"]["status"] == "qualified"
    assert body["lead"]["converted_deal_id"] == deal.pk
    assert api(alice).get(f"/api/v1/deals/{deal.pk}").json()["amount"] == "150000.50"

    again = api(alice).post(f"{URL}/{lead.pk}/convert", {})
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "status"


def test_convert_takes_no_body(api: Any, alice: Any, client: Any, api_key_for: Any) -> None:
    lead = make_lead(alice, last_name="Смирнова", company_name="ООО Вектор")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_key_for(alice)}"}
    response = client.generic("POST", f"{URL}/{lead.pk}/convert", b"", **headers)
    assert response.status_code == 200, response.content
    deal = Deal.objects.get(pk=response.json()["deal_id"])
    assert deal.title == "ООО Вектор" and deal.owner_id == alice.pk


def test_convert_without_a_deal(api: Any, alice: Any) -> None:
    lead = make_lead(alice, last_name="Смирнова", phone="+79165551234")
    body = api(alice).post(f"{URL}/{lead.pk}/convert", {"create_deal": False}).json()
    assert body["deal_id"] is None and body["company_id"] is None
    assert body["contact_id"] == Contact.objects.get().pk
    assert Deal.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "lots"}, "amount"),
        ({"pipeline_id": 999999}, "pipeline_id"),
        ({"create_deal": "perhaps"}, "create_deal"),
        ({"stage": 1}, "stage"),
    ],
)
def test_a_refused_conversion_writes_nothing(
    api: Any, alice: Any, body: dict[str, Any], field: str
) -> None:
    lead = make_lead(alice, last_name="Смирнова", company_name="ООО Вектор")
    response = api(alice).post(f"{URL}/{lead.pk}/convert", body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (Contact.objects.count(), Company.objects.count(), Deal.objects.count()) == (0, 0, 0)
    lead.refresh_from_db()
    assert lead.converted_at is None and lead.status == "new"


def test_convert_is_idempotent(api: Any, alice: Any) -> None:
    lead = make_lead(alice, last_name="Смирнова")
    client = api(alice)
    first = client.post(f"{URL}/{lead.pk}/convert", {}, HTTP_IDEMPOTENCY_KEY="conv-1")
    again = client.post(f"{URL}/{lead.pk}/convert", {}, HTTP_IDEMPOTENCY_KEY="conv-1")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Deal.objects.count() == 1
