"""Undo of a whole import, the rejected-rows report, and runs that stop midway: a run
continues from the job's checkpoint, neither losing nor repeating a row."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.imports import samples
from voronka.core.models import AuditEntry
from voronka.customers.models import Company, Contact, ContactEmail
from voronka.imports import report
from voronka.imports.models import ImportChunk, ImportJob
from voronka.imports.runner import import_run, import_undo_run, imports_resume_stale
from voronka.imports.services import import_start, import_undo

pytestmark = pytest.mark.django_db


def test_undo_deletes_what_it_created_and_restores_what_it_updated(
    alice: Any, make_contact: Callable[..., Any], make_company: Callable[..., Any],
    upload: Callable[..., Any], run_import: Callable[..., Any],
) -> None:  # fmt: skip
    company = make_company(alice, name="Старая")
    kept = make_contact(alice, last_name="Старый", emails=["ivan.petrov@mail.ru"],
                        position="Инженер", company_id=company.pk, tags=["Клиент"])  # fmt: skip
    job = run_import(alice, upload(alice, "contacts", "x.csv", samples.EXCEL_RU), size=2,
                     dedupe="update")  # fmt: skip
    assert (job.created, job.updated) == (2, 1)
    kept.refresh_from_db()
    assert (kept.last_name, kept.position, kept.company.name) == (
        "Петров", "Генеральный директор", 'ООО "Ромашка"',
    )  # fmt: skip
    assert Company.objects.count() == 4

    import_undo(actor=alice, job=job)
    assert import_undo_run(job.pk) == "undone"
    job.refresh_from_db()
    assert job.status == "undone"
    assert job.undo_counts["deleted"] == 2 + 3  # two contacts, three companies
    assert job.undo_counts["restored"] == 1
    assert list(Contact.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(Company.objects.values_list("name", flat=True)) == ["Старая"]
    kept.refresh_from_db()
    assert (kept.last_name, kept.position, kept.company_id) == ("Старый", "Инженер", company.pk)
    assert [p.phone for p in kept.phones.all()] == []
    assert [t.name for t in kept.tags.all()] == ["Клиент"]
    deletions = AuditEntry.objects.filter(action="delete", channel="import")
    assert deletions.count() == 5


def test_only_the_importer_or_an_administrator_undoes(
    alice: Any, bob: Any, admin: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    from voronka.core.errors import Forbidden

    job = run_import(alice, upload(alice, "contacts", "x.csv", samples.GOOGLE_CSV))
    with pytest.raises(Forbidden):
        import_undo(actor=bob, job=job)
    import_undo(actor=admin, job=job)
    assert ImportJob.objects.get(pk=job.pk).status == "undoing"


def test_rejected_rows_report(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    job = run_import(alice, upload(alice, "contacts", "x.csv", samples.EXCEL_RU))
    text = "".join(report.csv_lines(job, dry_run=False))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0] == ["Row", "Reason", "ФИО", "Телефон", "E-mail", "Компания", "Должность",
                       "Дата рождения", "Комментарий"]  # fmt: skip
    assert rows[1][:4] == ["6", "Phone: not a valid phone number: 7,91612E+10",
                           "Смирнова Ольга Петровна", "7,91612E+10"]  # fmt: skip
    assert rows[2][0] == "7"
    assert len(rows) == 3


def test_the_report_neutralises_formulas(
    alice: Any, upload: Callable[..., Any], run_import: Callable[..., Any]
) -> None:
    content = 'Фамилия;Телефон;E-mail\n=HYPERLINK("http://x");+7 916 123-45-67;@bad\n'
    job = run_import(alice, upload(alice, "contacts", "f.csv", content.encode()))
    text = "".join(report.csv_lines(job, dry_run=False))
    row = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))[1]
    assert row[2:] == ['\'=HYPERLINK("http://x")', "+7 916 123-45-67", "'@bad"]


def _rows(count: int) -> bytes:
    lines = ["Фамилия;Имя;E-mail;Телефон"]
    lines += [f"Петров{i};Иван;user{i}@example.com;8 (916) {i:03d}-00-00" for i in range(count)]
    return ("\n".join(lines) + "\n").encode()


def test_a_run_stopped_midway_continues_from_its_checkpoint(
    admin: Any, upload: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    job = upload(admin, "contacts", "big.csv", _rows(23))
    import_start(actor=admin, job=job)
    assert import_run(job.pk, size=5, max_chunks=2) == "stopped"  # the worker "dies" here
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created) == ("running", 10, 10)
    assert Contact.objects.count() == 10

    # Its heartbeat is fresh: nobody else may take the job yet.
    assert import_run(job.pk, size=5) == "not claimed"
    assert imports_resume_stale() == 0

    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert imports_resume_stale() == 1
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "voronka.imports.tasks.import_run_task"
    assert queued.args_kwargs["args"] == [job.pk]
    assert imports_resume_stale() == 0  # asked once per stale period, not on every tick
    assert import_run(job.pk, size=5) == "done"
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created, job.rejected) == ("done", 23, 23, 0)
    assert Contact.objects.count() == 23
    assert not ContactEmail.objects.values("email").annotate(n=Count("id")).filter(n__gt=1)
    assert list(ImportChunk.objects.filter(job=job).values_list("number", "first_row")) == [
        (1, 0), (2, 5), (3, 10), (4, 15), (5, 20),
    ]  # fmt: skip


def test_a_superseded_run_stops_at_its_next_chunk(admin: Any, upload: Callable[..., Any]) -> None:
    job = upload(admin, "contacts", "big.csv", _rows(12))
    import_start(actor=admin, job=job)
    assert import_run(job.pk, size=4, max_chunks=1) == "stopped"
    # Another worker took the job over (as after a stale heartbeat): the token changed.
    ImportJob.objects.filter(pk=job.pk).update(run_token="another-run")
    assert import_run(job.pk, size=4) == "not claimed"
    ImportJob.objects.filter(pk=job.pk).update(
        run_token="", heartbeat_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert import_run(job.pk, size=4) == "done"
    assert Contact.objects.count() == 12


def test_undo_of_a_record_updated_by_several_chunks(
    alice: Any, make_contact: Callable[..., Any], upload: Callable[..., Any],
    run_import: Callable[..., Any],
) -> None:  # fmt: skip
    kept = make_contact(alice, emails=["a@example.com"], position="Инженер")
    content = "Фамилия;E-mail;Должность\nПетров;a@example.com;Директор\nПетров;a@example.com;CEO\n"
    job = run_import(alice, upload(alice, "contacts", "u.csv", content.encode()), size=1,
                     dedupe="update")  # fmt: skip
    kept.refresh_from_db()
    assert (job.updated, kept.position) == (2, "CEO")
    import_undo(actor=alice, job=job)
    import_undo_run(job.pk)
    kept.refresh_from_db()
    assert kept.position == "Инженер"
