"""Importing leads through ``lead_create``/``lead_update``: a form export, duplicates among
the leads not yet converted, update and its undo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.imports import sales_samples as samples
from voronka.core.models import AuditEntry, OutboxEvent
from voronka.imports.models import ImportRejection
from voronka.imports.runner import import_undo_run
from voronka.imports.services import import_undo
from voronka.sales.models import AssignmentRule, Lead
from voronka.sales.services import lead_convert, lead_create

pytestmark = pytest.mark.django_db


def test_a_form_export(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    job = upload(alice, "leads", "tilda.csv", samples.LEADS)
    assert job.mapping == ["full_name", "phone", "email", "message", "utm_source",
                           "utm_campaign", "source"]  # fmt: skip
    job = run_import(alice, job)
    assert (job.created, job.rejected) == (3, 1)
    assert dict(ImportRejection.objects.filter(job=job).values_list("row", "reason")) == {
        4: "E-mail (column “Email”): not a valid e-mail address: petr@@example.com"
    }
    ivan = Lead.objects.get(email="ivan@example.com")
    assert (ivan.first_name, ivan.last_name, ivan.phone) == ("Иван", "Петров", "+79161234567")
    assert (ivan.message, ivan.utm_source, ivan.utm_campaign, ivan.source) == (
        "Нужен расчёт на 10 станков", "yandex", "spring", "Сайт",
    )  # fmt: skip
    assert (ivan.status, ivan.owner) == ("new", alice)
    anna = Lead.objects.get(first_name="Анна")
    assert (anna.phone, anna.email) == ("+79037654321", "")
    only_email = Lead.objects.get(email="orders@vector.example")
    assert (only_email.source, only_email.message) == ("Выставка", "Прайс по почте")
    for lead in Lead.objects.all():
        entry = AuditEntry.objects.get(object_id=lead.pk, content_type__model="lead")
        assert (entry.action, entry.channel) == ("create", "import")
        assert (
            OutboxEvent.objects.get(entity="sales.lead", entity_id=lead.pk).name == "lead.created"
        )


def test_assignment_rules_choose_the_owner_unless_the_file_or_the_form_does(
    alice: Any, bob: Any, admin: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    AssignmentRule.objects.create(name="Выставка", kind="by_source", match_value="Выставка",
                                  user=bob)  # fmt: skip
    content = ("Email;Источник;Ответственный\nx@example.com;Выставка;\ny@example.com;Сайт;alice\n"
               "z@example.com;Сайт;\n")  # fmt: skip
    job = upload(admin, "leads", "l.csv", content.encode())
    assert job.default_owner_id is None  # leads: the rules by default, as from a web form
    run_import(admin, job)
    owners = dict(Lead.objects.values_list("email", "owner__username"))
    assert owners == {"x@example.com": "bob", "y@example.com": "alice", "z@example.com": "admin"}
    # An owner chosen on the form wins over the rules.
    content = "Email;Источник\nw@example.com;Выставка\n"
    job = run_import(admin, upload(admin, "leads", "l.csv", content.encode()),
                     default_owner_id=alice.pk)  # fmt: skip
    assert Lead.objects.get(email="w@example.com").owner == alice


def test_duplicates_are_leads_not_yet_converted(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    open_lead = lead_create(actor=alice, data={"email": "ivan@example.com", "message": "Старое"})
    converted = lead_create(actor=alice, data={"phone": "+7 903 765-43-21", "first_name": "Анна"})
    lead_convert(actor=alice, lead=converted, create_deal=False)

    job = run_import(alice, upload(alice, "leads", "l.csv", samples.LEADS))
    assert (job.created, job.skipped, job.rejected) == (2, 1, 1)  # Анна's lead was converted
    assert Lead.objects.filter(phone="+79037654321").count() == 2

    job = run_import(alice, upload(alice, "leads", "l.csv", samples.LEADS), dedupe="update")
    assert (job.created, job.updated) == (0, 3)
    open_lead.refresh_from_db()
    assert (open_lead.message, open_lead.phone, open_lead.first_name) == (
        "Нужен расчёт на 10 станков", "+79161234567", "Иван",
    )  # fmt: skip
    import_undo(actor=alice, job=job)
    assert import_undo_run(job.pk) == "undone"
    open_lead.refresh_from_db()
    assert (open_lead.message, open_lead.phone, open_lead.first_name) == ("Старое", "", "")
    job.refresh_from_db()
    assert job.undo_counts["restored"] == 1  # the two others did not change


def test_the_status_is_read_in_either_language(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    content = ("Фамилия;Статус;Причина\nПетров;В работе;\nСидоров;мусор;спам-бот\n"
               "Кузнецов;горячий;\n")  # fmt: skip
    job = run_import(alice, upload(alice, "leads", "l.csv", content.encode()))
    assert dict(Lead.objects.values_list("last_name", "status")) == {
        "Петров": "in_progress", "Сидоров": "junk",
    }  # fmt: skip
    assert Lead.objects.get(last_name="Сидоров").junk_reason == "спам-бот"
    assert ImportRejection.objects.get(job=job).reason == (
        "Status (column “Статус”): “горячий” is none of: new, in progress, qualified, junk"
    )
