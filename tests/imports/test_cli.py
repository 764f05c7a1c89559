"""``voronka import contacts FILE``: the same import from the command line."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.imports import samples
from voronka.customers.models import Company, Contact
from voronka.imports.models import ImportJob

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_dry_run_then_import_with_a_report(tmp_path: Path, alice: Any) -> None:
    path = tmp_path / "Клиенты.csv"
    path.write_bytes(samples.EXCEL_RU)
    output = _run("contacts", str(path), "--user", "alice", "--dry-run")
    assert "Клиенты.csv: CSV, cp1251, delimiter ';'" in output
    assert "  ФИО → Full name (last, first, middle)" in output
    assert "  Комментарий → (not imported)" in output
    assert ("Dry run, nothing written: 5 rows; would create 3, update 0, skip 0, reject 2."
            in output)  # fmt: skip
    assert not Contact.objects.exists()

    report = tmp_path / "rejected.csv"
    output = _run("contacts", str(path), "--user", "alice", "--report", str(report),
                  "--chunk-size", "2")  # fmt: skip
    job = ImportJob.objects.get(check_counts={})
    assert f"Import {job.pk} done: 5 rows; created 3, updated 0, skipped 0, rejected 2" in output
    assert Contact.objects.filter(owner=alice).count() == 3
    assert "7,91612E+10" in report.read_text(encoding="utf-8-sig")
    # Again with --dedupe skip: every row is a duplicate now (or rejected as before).
    output = _run("contacts", str(path), "--user", "alice")
    assert "created 0, updated 0, skipped 3, rejected 2" in output


def test_mapping_owner_and_companies(tmp_path: Path, alice: Any, bob: Any) -> None:
    path = tmp_path / "c.csv"
    path.write_text("Название фирмы;Номер\nРомашка;7707083893\n", encoding="utf-8")
    output = _run("companies", str(path), "--user", "alice", "--owner", "bob", "--mapping",
                  '{"Название фирмы": "name", "Номер": "inn"}')  # fmt: skip
    assert "created 1" in output
    assert Company.objects.get().owner_id == bob.pk


def test_errors_are_clear(tmp_path: Path, admin: Any) -> None:
    with pytest.raises(CommandError, match="no such file"):
        _run("contacts", str(tmp_path / "missing.csv"))
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="file: The file is empty"):
        _run("contacts", str(path))
    path.write_text("Колонка А;Колонка Б\nодин;два\n", encoding="utf-8")
    with pytest.raises(CommandError, match="None of the columns was recognised"):
        _run("contacts", str(path))
    with pytest.raises(CommandError, match="no active user 'ghost'"):
        _run("contacts", str(path), "--user", "ghost")
    assert not ImportJob.objects.exists()


def test_background_queues_for_the_worker(
    tmp_path: Path, admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    path = tmp_path / "g.csv"
    path.write_bytes(samples.GOOGLE_CSV)
    with django_capture_on_commit_callbacks(execute=True):
        output = _run("contacts", str(path), "--background")
    job = ImportJob.objects.get()
    assert f"Queued as import {job.pk}" in output
    assert job.status == "queued"
    assert DBTaskResult.objects.get().args_kwargs["args"] == [job.pk]
