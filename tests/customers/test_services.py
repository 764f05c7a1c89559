"""The customer base's write path: normalization, validation, audit, events, atomicity."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.core.audit import history
from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.core.models import AuditEntry, OutboxEvent
from voronka.core.services import custom_field_create
from voronka.customers.models import Company, Contact, ContactEmail, ContactPhone, Tag
from voronka.customers.services import (
    company_create,
    company_update,
    contact_create,
    contact_delete,
    contact_update,
    contacts_bulk_assign_owner,
    contacts_bulk_delete,
    contacts_bulk_tag,
)

pytestmark = pytest.mark.django_db


def fields_of(exc: pytest.ExceptionInfo[ServiceValidationError]) -> set[str]:
    return {e.field for e in exc.value.errors}


@pytest.mark.parametrize(
    "typed", ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567", "+7(916)1234567"]
)
def test_phones_typed_any_way_are_stored_as_one_e164_number(alice: Any, typed: str) -> None:
    contact = contact_create(actor=alice, data={"last_name": "Петров", "phones": [typed]})
    assert list(contact.phones.values_list("phone", flat=True)) == ["+79161234567"]


def test_emails_are_lower_cased_and_duplicates_dropped(alice: Any) -> None:
    contact = contact_create(
        actor=alice,
        data={"last_name": "Smith", "emails": ["John@Example.COM", {"email": "john@example.com"},
                                               {"email": "j@home.org", "kind": "personal"}]},
    )  # fmt: skip
    assert list(contact.emails.values_list("email", "kind")) == [
        ("john@example.com", "work"),
        ("j@home.org", "personal"),
    ]


def test_create_records_history_and_publishes_event_in_the_same_transaction(alice: Any) -> None:
    contact = contact_create(actor=alice, data={"first_name": "Анна", "last_name": "Иванова"})
    entry = next(e for e in history(contact) if e.action == "create")
    assert entry.actor_id == alice.pk
    assert entry.changes["last_name"] == "Иванова"
    event = OutboxEvent.objects.get(name="contact.created", entity_id=contact.pk)
    assert event.payload["first_name"] == "Анна"
    assert contact.owner_id == alice.pk


def test_update_records_changed_fields_from_and_to(alice: Any) -> None:
    contact = contact_create(actor=alice, data={"last_name": "Петров", "position": "Менеджер"})
    contact_update(
        actor=alice,
        contact=contact,
        changes={"position": "Директор", "phones": ["+79161234567"]},
        channel="api",
    )
    (entry,) = [e for e in history(contact) if e.action == "update"]
    assert entry.changes["position"] == ["Менеджер", "Директор"]
    assert entry.changes["phones"] == [[], ["+79161234567"]]
    assert entry.channel == "api"
    event = OutboxEvent.objects.get(name="contact.updated", entity_id=contact.pk)
    assert event.payload["changed"] == ["phones", "position"]


def test_an_update_that_changes_nothing_writes_no_history(alice: Any) -> None:
    contact = contact_create(actor=alice, data={"last_name": "Петров"})
    contact_update(actor=alice, contact=contact, changes={"last_name": "Петров"})
    assert [e.action for e in history(contact)] == ["create"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"emails": ["not-an-email"]}, "emails[0].email"),
        ({"phones": ["12"]}, "phones[0].phone"),
        ({"phones": [{"phone": "+79161234567", "kind": "pager"}]}, "phones[0].kind"),
        ({"custom": {"nope": 1}}, "custom.nope"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"birthday": "31.02.1990"}, "birthday"),
        ({"birthday": "2999-01-01"}, "birthday"),
        ({"owner_id": 999999}, "owner_id"),
        ({"company_id": 999999}, "company_id"),
        ({"favourite_colour": "red"}, "favourite_colour"),
        ({"email_consent": "yes"}, "email_consent"),
        ({"tags": "vip"}, "tags"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    alice: Any, data: dict[str, Any], field: str
) -> None:
    before = (Contact.objects.count(), ContactPhone.objects.count(), OutboxEvent.objects.count(),
              AuditEntry.objects.count())  # fmt: skip
    with pytest.raises(ServiceValidationError) as exc:
        contact_create(
            actor=alice, data={"last_name": "Петров", "phones": ["+79161234567"], **data}
        )
    assert field in fields_of(exc)
    after = (Contact.objects.count(), ContactPhone.objects.count(), OutboxEvent.objects.count(),
             AuditEntry.objects.count())  # fmt: skip
    assert after == before


def test_all_bad_fields_are_reported_at_once(alice: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        contact_create(actor=alice, data={"last_name": "", "emails": ["bad"], "phones": ["bad"]})
    assert {"last_name", "emails[0].email", "phones[0].phone"} <= fields_of(exc)


def test_failed_update_leaves_the_contact_as_it_was(alice: Any) -> None:
    contact = contact_create(actor=alice, data={"last_name": "Петров", "phones": ["+79161234567"]})
    with pytest.raises(ServiceValidationError):
        contact_update(
            actor=alice, contact=contact, changes={"last_name": "Сидоров", "emails": ["bad"]}
        )
    contact.refresh_from_db()
    assert contact.last_name == "Петров"
    assert list(contact.phones.values_list("phone", flat=True)) == ["+79161234567"]


def test_custom_fields_are_validated_by_type(admin: Any, alice: Any) -> None:
    custom_field_create(
        entity="customers.contact", label="Segment", type="select", options=["A", "B"]
    )
    custom_field_create(entity="customers.contact", label="Revenue", type="money")
    custom_field_create(entity="customers.contact", label="Since", type="date")
    custom_field_create(entity="customers.contact", label="Subscribed", type="boolean")
    contact = contact_create(
        actor=alice,
        data={"last_name": "Петров", "custom": {"segment": "A", "revenue": "1 234,5", "since": "2024-02-29",
                                                "subscribed": "да"}},
    )  # fmt: skip
    assert contact.custom == {
        "segment": "A",
        "revenue": 1234.5,
        "since": "2024-02-29",
        "subscribed": True,
    }
    for bad, field in (({"segment": "C"}, "custom.segment"), ({"revenue": "много"}, "custom.revenue"),
                       ({"since": "2024-02-30"}, "custom.since"), ({"subscribed": "maybe"}, "custom.subscribed")):  # fmt: skip
        with pytest.raises(ServiceValidationError) as exc:
            contact_update(actor=alice, contact=contact, changes={"custom": bad})
        assert fields_of(exc) == {field}


def test_required_custom_field_must_be_given(alice: Any) -> None:
    custom_field_create(entity="customers.company", label="Segment", type="text", required=True)
    with pytest.raises(ServiceValidationError) as exc:
        company_create(actor=alice, data={"name": "ООО Ромашка"})
    assert fields_of(exc) == {"custom.segment"}


@pytest.mark.parametrize(("inn", "ok"), [("7707083893", True), ("7707083894", False),
                                         ("500100732259", True), ("12345", False), ("DE123456789", True)])  # fmt: skip
def test_inn_checksum(alice: Any, inn: str, ok: bool) -> None:
    if ok:
        assert company_create(actor=alice, data={"name": "X", "inn": inn}).inn == inn
    else:
        with pytest.raises(ServiceValidationError) as exc:
            company_create(actor=alice, data={"name": "X", "inn": inn})
        assert fields_of(exc) == {"inn"}


def test_renaming_a_company_refreshes_its_contacts_search_text(alice: Any) -> None:
    company = company_create(actor=alice, data={"name": "Ромашка"})
    contact = contact_create(actor=alice, data={"last_name": "Петров", "company_id": company.pk})
    company_update(actor=alice, company=company, changes={"name": "Василёк"})
    contact.refresh_from_db()
    assert "василек" in contact.search_text


def test_contact_cannot_link_a_company_the_user_cannot_see(alice: Any, charlie: Any) -> None:
    hidden = company_create(actor=charlie, data={"name": "Чужая"})
    with pytest.raises(ServiceValidationError) as exc:
        contact_create(actor=alice, data={"last_name": "Петров", "company_id": hidden.pk})
    assert fields_of(exc) == {"company_id"}


def test_tags_are_shared_and_case_insensitive(alice: Any) -> None:
    a = contact_create(actor=alice, data={"last_name": "A", "tags": ["VIP"]})
    b = contact_create(actor=alice, data={"last_name": "B", "tags": ["vip", "Опт"]})
    assert Tag.objects.count() == 2
    assert {t.name for t in b.tags.all()} == {"VIP", "Опт"}
    assert a.tags.get().pk == b.tags.get(name="VIP").pk


def test_read_only_role_cannot_write(make_user: Any) -> None:
    viewer = make_user("viewer", role="read_only")
    with pytest.raises(Forbidden):
        contact_create(actor=viewer, data={"last_name": "Петров"})


def test_sales_rep_cannot_delete_but_admin_can(alice: Any, admin: Any) -> None:
    contact = contact_create(actor=alice, data={"last_name": "Петров"})
    with pytest.raises(Forbidden):
        contact_delete(actor=alice, contact=contact)
    contact_id = contact.pk
    contact_delete(actor=admin, contact=contact)
    assert not Contact.objects.filter(pk=contact_id).exists()
    assert OutboxEvent.objects.filter(name="contact.deleted", entity_id=contact_id).exists()


def test_bulk_actions_touch_only_visible_contacts(alice: Any, charlie: Any, admin: Any) -> None:
    mine = contact_create(actor=alice, data={"last_name": "Мой"})
    theirs = contact_create(actor=charlie, data={"last_name": "Чужой"})
    assert contacts_bulk_tag(actor=alice, ids=[mine.pk, theirs.pk], add=["Горячий"]) == 1
    assert list(theirs.tags.all()) == []
    assert [t.name for t in mine.tags.all()] == ["Горячий"]
    assert contacts_bulk_assign_owner(actor=alice, ids=[mine.pk, theirs.pk], owner_id=admin.pk) == 1
    theirs.refresh_from_db()
    assert theirs.owner_id == charlie.pk
    assert contacts_bulk_tag(actor=admin, ids=[mine.pk], remove=["горячий"]) == 1
    assert list(mine.tags.all()) == []
    assert contacts_bulk_delete(actor=admin, ids=[mine.pk]) == 1
    assert Contact.objects.filter(pk=theirs.pk).exists()


def test_company_fields_are_normalized(alice: Any) -> None:
    company = company_create(
        actor=alice,
        data={"name": "  ООО «Ромашка» ", "phone": "8 495 123-45-67", "email": "INFO@Romashka.RU",
              "website": "romashka.ru", "addresses": [{"kind": "legal", "address": "Москва, ул. Ленина, 1"}],
              "size": "11-50"},
    )  # fmt: skip
    company = Company.objects.get(pk=company.pk)
    assert (company.name, company.phone, company.email, company.website) == (
        "ООО «Ромашка»",
        "+74951234567",
        "info@romashka.ru",
        "https://romashka.ru",
    )
    assert list(company.addresses.values_list("kind", "address")) == [
        ("legal", "Москва, ул. Ленина, 1")
    ]


def test_emails_replaced_on_update(alice: Any) -> None:
    contact = contact_create(actor=alice, data={"last_name": "A", "emails": ["a@x.ru", "b@x.ru"]})
    contact_update(actor=alice, contact=contact, changes={"emails": ["c@x.ru"]})
    assert list(ContactEmail.objects.filter(contact=contact).values_list("email", flat=True)) == [
        "c@x.ru"
    ]
