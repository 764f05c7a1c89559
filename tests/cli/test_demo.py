"""``voronka demo``: the asked counts, values as the services store them, search that works."""

from __future__ import annotations

import re
from typing import Any

from django.core.management import call_command

from voronka.accounts.models import User
from voronka.core.models import AuditEntry, CustomField
from voronka.core.text import normalize_email, normalize_phone
from voronka.customers.models import Company, Contact, ContactEmail, ContactPhone
from voronka.customers.selectors import company_search, contact_search
from voronka.customers.services import company_search_text, contact_search_text
from voronka.customers.validation import inn_is_valid


def _load(capsys: Any, *args: str) -> str:
    call_command("demo", "--companies", "12", "--contacts", "60", *args)
    return str(capsys.readouterr().out)


def test_demo_loads_what_was_asked_and_search_finds_it(db: Any, admin: Any, capsys: Any) -> None:
    out = _load(capsys, "--seed", "7")
    assert "Loaded 12 companies and 60 contacts" in out
    assert Company.objects.count() == 12
    assert Contact.objects.count() == 60

    found = contact_search(admin, "8 (916) 123-45-67")
    assert [c.full_name for c in found] == ["Петров Иван Сергеевич"]
    assert found[0].company is not None and found[0].company.name == "Северные технологии"
    assert [c.name for c in company_search(admin, "северные технологии")] == ["Северные технологии"]
    someone = Contact.objects.exclude(phones__phone="+79161234567").first()
    assert someone is not None
    assert someone in contact_search(admin, someone.last_name, limit=100)


def test_demo_values_are_what_the_services_would_store(db: Any, capsys: Any) -> None:
    _load(capsys, "--seed", "3")
    for phone in ContactPhone.objects.values_list("phone", flat=True):
        assert normalize_phone(phone) == phone
    for email in ContactEmail.objects.values_list("email", flat=True):
        assert normalize_email(email) == email
    companies = list(Company.objects.all())
    for company in companies:
        assert company.search_text == company_search_text(company)
        assert company.inn.isdigit() is False or inn_is_valid(company.inn)
        assert company.custom["segment"] in CustomField.objects.get(key="segment").options
    assert sum(1 for c in companies if c.inn.isdigit()) >= 8
    for contact in Contact.objects.select_related("company").prefetch_related("emails", "phones"):
        emails = [e.email for e in contact.emails.all()]
        phones = [p.phone for p in contact.phones.all()]
        assert contact.search_text == contact_search_text(contact, emails, phones)
        assert contact.owner is not None
    assert AuditEntry.objects.filter(action="create").count() >= 72


def test_demo_users_have_roles_teams_and_the_printed_password(db: Any, capsys: Any) -> None:
    out = _load(capsys)
    password = re.search(r"password: (\S+)\)", out)
    assert password is not None
    roles = dict(User.objects.values_list("username", "role__code"))
    assert roles["olga"] == "head_of_sales"
    assert roles["maria"] == "marketer"
    assert sorted(u for u, r in roles.items() if r == "sales_rep") == [
        "anna", "dmitry", "ekaterina", "sergey",
    ]  # fmt: skip
    assert len(set(User.objects.values_list("team__name", flat=True))) == 2
    assert User.objects.get(username="anna").check_password(password.group(1))


def test_demo_russian_names_agree_in_gender(db: Any, capsys: Any) -> None:
    _load(capsys, "--seed", "11")
    for contact in Contact.objects.exclude(middle_name=""):
        female = contact.middle_name.endswith("вна")
        if contact.last_name.endswith(("ова", "ева", "ина")):
            assert female, contact.full_name
        if contact.last_name.endswith(("ов", "ев", "ин", "ский")):
            assert not female, contact.full_name


def test_same_seed_same_data_and_reruns_add(db: Any, capsys: Any) -> None:
    _load(capsys, "--seed", "5")
    first = list(Contact.objects.order_by("id").values_list("last_name", "first_name"))
    Contact.objects.all().delete()
    Company.objects.all().delete()
    out = _load(capsys, "--seed", "5")
    assert "kept their passwords" in out
    again = list(Contact.objects.order_by("id").values_list("last_name", "first_name"))
    assert again == first
    _load(capsys, "--seed", "6")
    assert Contact.objects.count() == 120
    assert ContactPhone.objects.filter(phone="+79161234567").count() == 1


def test_demo_fills_the_sales_pipeline_without_setting_off_automation(db: Any, capsys: Any) -> None:
    from voronka.core.models import OutboxEvent
    from voronka.sales.models import Activity, Deal, DealStageHistory, Lead, SalesDocument

    out = _load(capsys)
    deals = Deal.objects.count()
    assert deals == 12  # one per company at this size
    assert re.search(rf"Also: {deals} deals, 30 leads, \d+ activities", out)
    assert Lead.objects.count() == 30 + 3  # and the inbox's two strangers and a Telegram chat
    assert Activity.objects.exists()
    assert SalesDocument.objects.filter(kind="quote").exists()
    kinds = set(Deal.objects.values_list("stage__kind", flat=True))
    assert "open" in kinds
    # Each deal's history starts when it was created, with time spent in every stage.
    for deal in Deal.objects.all():
        history = list(DealStageHistory.objects.filter(deal=deal).order_by("entered_at"))
        assert history[0].entered_at == deal.created_at or history[0].entered_at >= deal.created_at
        assert all(h.left_at is not None for h in history[:-1])
    sales_events = OutboxEvent.objects.filter(
        name__regex=r"^(deal|lead|activity|product|document|quote|invoice)\."
    )
    assert not sales_events.exists()
    _load(capsys)  # a second run adds more and fails on nothing
    assert Deal.objects.count() == 2 * deals


def test_demo_fills_the_inbox_with_threads_of_every_channel(db: Any, capsys: Any) -> None:
    from voronka.core.models import OutboxEvent
    from voronka.inbox.models import Conversation, Message

    out = _load(capsys)
    assert re.search(r"\d+ conversations", out)
    assert {"email", "telegram", "call"} <= set(Conversation.objects.values_list("kind", flat=True))
    thread = Conversation.objects.get(subject="Счёт на поставку")
    assert thread.contact_id is not None
    assert list(thread.messages.values_list("direction", flat=True)) == ["in", "out", "in"]
    assert Conversation.objects.filter(lead__isnull=False, contact__isnull=True).exists()
    assert not OutboxEvent.objects.filter(name__startswith="message.").exists()
    before = Message.objects.count()
    _load(capsys)  # the same demo messages again are recognised, not doubled
    assert Message.objects.count() == before
