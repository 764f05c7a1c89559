"""Importing contacts from the files people have, and what the import writes: the same rows,
search text, audit entries and events as the services, with the channel "import"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tests.imports import samples
from voronka.core.events import json_safe
from voronka.core.models import AuditEntry, OutboxEvent
from voronka.customers.models import Company, Contact
from voronka.customers.services import contact_search_text, contact_snapshot
from voronka.imports.models import ImportRejection

pytestmark = pytest.mark.django_db


def contact(last_name: str) -> Contact:
    return Contact.objects.select_related("company").get(last_name=last_name)


def emails(c: Contact) -> list[tuple[str, str]]:
    return [(e.email, e.kind) for e in c.emails.all()]


def phones(c: Contact) -> list[tuple[str, str]]:
    return [(p.phone, p.kind) for p in c.phones.all()]


def assert_like_the_services(user: Any) -> None:
    """Every imported contact has the service's search text, audit entry and event."""
    for c in Contact.objects.select_related("company").prefetch_related("emails", "phones"):
        assert c.search_text == contact_search_text(
            c, [e.email for e in c.emails.all()], [p.phone for p in c.phones.all()]
        )
        snapshot = json_safe(contact_snapshot(c))
        entry = AuditEntry.objects.get(object_id=c.pk, content_type__model="contact")
        assert (entry.action, entry.channel, entry.actor_id) == ("create", "import", user.pk)
        assert entry.changes == snapshot
        event = OutboxEvent.objects.get(entity="customers.contact", entity_id=c.pk)
        assert (event.name, event.channel, event.payload) == ("contact.created", "import", snapshot)


def test_excel_csv_saved_in_a_russian_locale(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    job = upload(alice, "contacts", "Клиенты.csv", samples.EXCEL_RU)
    assert job.mapping == ["fio", "phone", "email", "company", "position", "birthday", ""]
    job = run_import(alice, job)
    assert (job.status, job.rows_done, job.created, job.skipped, job.rejected) == (
        "done", 5, 3, 0, 2,
    )  # fmt: skip
    petrov = contact("Петров")
    assert (petrov.first_name, petrov.middle_name) == ("Иван", "Сергеевич")
    assert emails(petrov) == [("ivan.petrov@mail.ru", "work")]
    assert phones(petrov) == [("+79161234567", "mobile")]
    assert petrov.company.name == 'ООО "Ромашка"'
    assert petrov.company.owner_id == alice.pk
    assert (petrov.position, petrov.birthday) == ("Генеральный директор", dt.date(1985, 3, 15))
    assert petrov.owner_id == alice.pk
    assert contact("Кузнецов").phones.get().phone == "+79057778899"
    assert job.companies_created == 3
    reasons = dict(ImportRejection.objects.filter(job=job).values_list("row", "reason"))
    assert reasons == {
        6: "Phone: not a valid phone number: 7,91612E+10",
        7: "E-mail: not a valid e-mail address: petr@@mail.ru; Birthday: not a date: 32.13.1990",
    }
    assert_like_the_services(alice)


def test_google_contacts_export(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    job = run_import(alice, upload(alice, "contacts", "contacts.csv", samples.GOOGLE_CSV))
    assert (job.created, job.rejected) == (3, 0)
    ivan = contact("Петров")
    assert ivan.first_name == "Иван"
    assert emails(ivan) == [("ivan@example.com", "work"), ("ivan.home@example.com", "work")]
    assert phones(ivan) == [("+79161234567", "mobile"), ("+74951112233", "mobile")]
    assert sorted(t.name for t in ivan.tags.all()) == ["VIP", "Клиенты"]
    assert (ivan.company.name, ivan.position) == ("ООО Ромашка", "Директор")
    assert ivan.birthday == dt.date(1985, 3, 15)
    anna = contact("Smith")
    assert anna.birthday is None  # "--07-04": no year
    assert phones(anna) == [("+442079460958", "mobile")]
    only_phone = contact("Телефон")  # just "Name": first, then last
    assert only_phone.first_name == "Только"
    assert_like_the_services(alice)


def test_outlook_export(alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]):  # type: ignore[no-untyped-def]
    job = run_import(alice, upload(alice, "contacts", "outlook.csv", samples.OUTLOOK_CSV))
    assert job.source["encoding"] == "cp1251"
    assert (job.created, job.rejected) == (2, 0)
    orlov = contact("Орлов")
    assert (orlov.first_name, orlov.middle_name, orlov.position) == (
        "Сергей", "Иванович", "Главный инженер",
    )  # fmt: skip
    assert phones(orlov) == [("+79265554433", "mobile"), ("+74951234567", "work")]
    assert orlov.birthday is None  # Outlook's 0.0.00
    assert sorted(t.name for t in orlov.tags.all()) == ["Москва", "Поставщики"]
    assert emails(orlov) == [("s.orlov@vector.ru", "work")]
    lebedeva = contact("Лебедева")
    assert phones(lebedeva) == [("+78125551234", "home")]
    assert lebedeva.birthday == dt.date(1979, 6, 21)
    assert len(emails(lebedeva)) == 2


@pytest.mark.parametrize("sample", ["VCARD_21", "VCARD_30", "VCARD_40"])
def test_vcards_from_phones(
    sample: str, alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    job = run_import(alice, upload(alice, "contacts", "contacts.vcf", getattr(samples, sample)))
    assert job.rejected == 0
    if sample == "VCARD_21":
        petrov = contact("Петров")
        assert (petrov.first_name, petrov.middle_name) == ("Иван", "Сергеевич")
        assert petrov.company.name == "ООО Ромашка"
        assert phones(petrov) == [("+79161234567", "mobile"), ("+74957654321", "work")]
        assert emails(petrov) == [("ivan.petrov@mail.ru", "personal")]
        assert phones(contact("Мама")) == [("+79031112233", "home")]
    elif sample == "VCARD_30":
        maria = contact("Лебедева")
        assert maria.position == "Руководитель отдела закупок"
        assert maria.company.name == "Рога и копыта, ООО"
        assert maria.birthday == dt.date(1979, 6, 21)
        assert sorted(t.name for t in maria.tags.all()) == ["Москва", "Поставщики"]
    else:
        olga = contact("Смирнова")
        assert phones(olga) == [("+79035556677", "mobile"), ("+78125556677", "work")]
        assert olga.birthday == dt.date(1990, 4, 1)
    assert_like_the_services(alice)


CSV = "Фамилия;Имя;E-mail;Телефон;Должность\n"


def test_dedupe_skip_update_create(
    alice: Any, make_contact: Callable[..., Any], upload: Callable[..., Any],
    run_import: Callable[..., Any],
) -> None:  # fmt: skip
    existing = make_contact(alice, emails=["ivan@example.com"], phones=["+79161234567"])
    rows = CSV + "Петров;Иван;IVAN@example.com;;Директор\nНовый;Пётр;;8 916 123 45 67;\n"
    job = run_import(alice, upload(alice, "contacts", "a.csv", rows.encode()), dedupe="skip")
    assert (job.created, job.skipped, job.updated) == (0, 2, 0)
    assert Contact.objects.count() == 1

    rows = CSV + "Петров;Иван;ivan@example.com;+7 903 000-00-01;Директор\n"
    job = run_import(alice, upload(alice, "contacts", "b.csv", rows.encode()), dedupe="update")
    assert (job.created, job.updated) == (0, 1)
    existing.refresh_from_db()
    assert existing.position == "Директор"
    assert phones(existing) == [("+79161234567", "mobile"), ("+79030000001", "mobile")]
    update = AuditEntry.objects.filter(object_id=existing.pk, action="update").get()
    assert update.channel == "import"
    assert update.changes["position"] == ["", "Директор"]
    event = OutboxEvent.objects.get(name="contact.updated", entity_id=existing.pk)
    assert event.payload["changed"] == ["phones", "position"]

    rows = CSV + "Петров;Иван;ivan@example.com;;\n"
    job = run_import(alice, upload(alice, "contacts", "c.csv", rows.encode()), dedupe="create")
    assert job.created == 1
    assert Contact.objects.filter(emails__email="ivan@example.com").count() == 2


def test_duplicates_within_the_file_across_chunks(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    rows = CSV + "".join(f"Петров{i};Иван;p{i % 7}@example.com;;\n" for i in range(20))
    for mode, created, skipped, updated in (("skip", 7, 13, 0), ("update", 7, 0, 13)):
        Contact.objects.all().delete()
        job = run_import(alice, upload(alice, "contacts", "d.csv", rows.encode()), size=3,
                         dedupe=mode)  # fmt: skip
        assert (job.created, job.skipped, job.updated) == (created, skipped, updated)
        assert Contact.objects.count() == 7
    # "update": the later rows' names overwrite the earlier ones.
    assert set(Contact.objects.values_list("last_name", flat=True)) == {
        f"Петров{i}" for i in range(13, 20)
    }


def test_dedupe_only_against_what_the_importer_sees(
    alice: Any, bob: Any, admin: Any, make_contact: Callable[..., Any],
    upload: Callable[..., Any], run_import: Callable[..., Any],
) -> None:  # fmt: skip
    make_contact(bob, emails=["shared@example.com"])
    rows = (CSV + "Петров;Иван;shared@example.com;;\n").encode()
    job = run_import(alice, upload(alice, "contacts", "e.csv", rows))
    assert (job.created, job.skipped) == (1, 0)  # Bob's contact is not Alice's to see
    job = run_import(admin, upload(admin, "contacts", "e.csv", rows))
    assert (job.created, job.skipped) == (0, 1)


def test_dry_run_writes_nothing_and_counts_like_the_import(
    alice: Any, make_contact: Callable[..., Any], upload: Callable[..., Any],
    check_import: Callable[..., Any], run_import: Callable[..., Any],
) -> None:  # fmt: skip
    make_contact(alice, emails=["ivan.petrov@mail.ru"])
    before = (Contact.objects.count(), Company.objects.count(), AuditEntry.objects.count(),
              OutboxEvent.objects.count())  # fmt: skip
    job = check_import(alice, upload(alice, "contacts", "x.csv", samples.EXCEL_RU), size=2)
    assert job.status == "checked"
    assert job.check_counts == {"rows": 5, "created": 2, "updated": 0, "skipped": 1,
                                "rejected": 2, "companies_created": 2}  # fmt: skip
    after = (Contact.objects.count(), Company.objects.count(), AuditEntry.objects.count(),
             OutboxEvent.objects.count())  # fmt: skip
    assert after == before
    assert ImportRejection.objects.filter(job=job, dry_run=True).count() == 2
    job = run_import(alice, job, size=2)
    counts = job.check_counts
    assert (job.created, job.skipped, job.rejected, job.companies_created) == (
        counts["created"],
        counts["skipped"],
        counts["rejected"],
        counts["companies_created"],
    )


def test_owner_column_and_default_owner(
    alice: Any, bob: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    rows = "Фамилия;Имя;Ответственный\nПервый;А;bob\nВторой;Б;\nТретий;В;nobody\n"
    job = upload(alice, "contacts", "o.csv", rows.encode())
    job = run_import(alice, job)
    assert (job.created, job.rejected) == (2, 1)
    assert contact("Первый").owner_id == bob.pk
    assert contact("Второй").owner_id == alice.pk
    assert (
        ImportRejection.objects.get(job=job).reason
        == "Owner (username or e-mail): no such active user: nobody"
    )


def test_required_custom_field_and_custom_columns(
    admin: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    from voronka.core.services import custom_field_create

    custom_field_create(entity="customers.contact", label="Регион", key="region",
                        type="select", options=["Москва", "Казань"], required=True)  # fmt: skip
    rows = "Фамилия;Регион\nПервый;Москва\nВторой;\nТретий;Тула\n"
    job = upload(admin, "contacts", "r.csv", rows.encode())
    assert job.mapping == ["last_name", "cf:region"]
    job = run_import(admin, job)
    assert (job.created, job.rejected) == (1, 2)
    assert contact("Первый").custom == {"region": "Москва"}
    reasons = list(ImportRejection.objects.filter(job=job).values_list("reason", flat=True))
    assert reasons == ["Регион: this field is required", "Регион: must be one of: Москва, Казань"]
