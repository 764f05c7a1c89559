"""Leads: normalization, assignment rules, conversion without duplicates."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.accounts.models import User
from voronka.core.errors import ServiceValidationError
from voronka.core.models import OutboxEvent
from voronka.customers.models import Company, Contact
from voronka.sales.models import AssignmentRule, Lead, LeadStatus
from voronka.sales.services import lead_convert, lead_create

pytestmark = pytest.mark.django_db


def test_lead_contact_data_is_normalized(alice: Any) -> None:
    lead = lead_create(actor=alice, data={"first_name": "Олег", "email": "Oleg@Mail.RU", "phone": "8 (916) 123-45-67",
                                          "utm_source": "yandex", "utm_campaign": "spring"})  # fmt: skip
    assert (lead.email, lead.phone, lead.status) == ("oleg@mail.ru", "+79161234567", LeadStatus.NEW)
    assert OutboxEvent.objects.filter(name="lead.created", entity_id=lead.pk).exists()


def test_bad_lead_input(alice: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        lead_create(actor=alice, data={"email": "nope", "phone": "12", "status": "weird"})
    assert {e.field for e in exc.value.errors} >= {"email", "phone", "status"}
    assert Lead.objects.count() == 0


def test_converting_a_lead_reuses_the_contact_with_the_same_phone(
    alice: Any, make_contact: Any
) -> None:
    existing = make_contact(alice, phones=["+79161234567"])
    lead = lead_create(actor=alice, data={"first_name": "Иван", "phone": "8 916 123 45 67", "company_name": "Ромашка",
                                          "email": "ivan@romashka.ru"})  # fmt: skip
    contacts_before = Contact.objects.count()
    lead = lead_convert(actor=alice, lead=lead)
    assert Contact.objects.count() == contacts_before
    assert lead.converted_contact == existing
    assert lead.status == LeadStatus.QUALIFIED
    assert "ivan@romashka.ru" in existing.emails.values_list("email", flat=True)
    assert lead.converted_deal.contacts.get() == existing
    assert lead.converted_company.name == "Ромашка"
    assert existing.__class__.objects.get(pk=existing.pk).company_id == lead.converted_company.pk
    assert OutboxEvent.objects.filter(name="lead.converted", entity_id=lead.pk).exists()
    with pytest.raises(ServiceValidationError):
        lead_convert(actor=alice, lead=lead)


def test_conversion_matches_an_email_of_a_contact_the_rep_cannot_see(
    alice: Any, charlie: Any, make_contact: Any
) -> None:
    hidden = make_contact(charlie, emails=["boss@corp.ru"])
    lead = lead_create(actor=alice, data={"last_name": "Босс", "email": "BOSS@corp.ru"})
    lead = lead_convert(actor=alice, lead=lead)
    assert lead.converted_contact == hidden
    assert Contact.objects.filter(emails__email="boss@corp.ru").count() == 1


def test_conversion_matches_company_by_inn(alice: Any, make_company: Any) -> None:
    company = make_company(alice, name="ПАО Сбербанк", inn="7707083893")
    lead = lead_create(
        actor=alice, data={"last_name": "Петров", "company_name": "Сбер", "inn": "7707083893"}
    )
    lead = lead_convert(actor=alice, lead=lead, deal_title="Зарплатный проект")
    assert lead.converted_company == company
    assert Company.objects.count() == 1
    assert lead.converted_deal.title == "Зарплатный проект"


def test_round_robin_assignment_within_a_team(
    alice: Any, bob: Any, team_a: Any, admin: Any
) -> None:
    AssignmentRule.objects.create(name="RR", kind="round_robin", team=team_a)
    owners = [lead_create(actor=admin, data={"last_name": f"L{i}"}).owner_id for i in range(4)]
    members = sorted(User.objects.filter(team=team_a).values_list("id", flat=True))
    assert owners == [members[0], members[1], members[0], members[1]]


def test_assignment_by_source(alice: Any, bob: Any, admin: Any) -> None:
    AssignmentRule.objects.create(name="Сайт", kind="by_source", match_value="website", user=bob)
    assert lead_create(actor=admin, data={"last_name": "A", "source": "Website"}).owner_id == bob.pk
    assert lead_create(actor=admin, data={"last_name": "B", "source": "phone"}).owner_id == admin.pk
