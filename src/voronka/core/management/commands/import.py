"""``voronka import contacts|companies|leads|deals|products FILE``: import a CSV, XLSX or vCard
file from the command line.

The same path as the web page: the file is uploaded into a job, mapped (the suggestions, or
``--mapping``), checked or imported chunk by chunk with the job's checkpoint, and its rejected
rows can be written to a CSV report. It runs here, in this process, unless ``--background``
queues it for ``voronka worker``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from voronka.core.errors import Forbidden, ServiceValidationError


class Command(BaseCommand):
    help = "Import contacts, companies, leads, deals or products from a CSV, XLSX or vCard file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "entity", choices=["contacts", "companies", "leads", "deals", "products"]
        )
        parser.add_argument("file", help="the CSV, XLSX or vCard (.vcf) file")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would happen, write nothing"
        )
        parser.add_argument(
            "--dedupe", choices=["skip", "update", "create"], default="skip",
            help="when the record exists: same e-mail/phone (contacts, leads not yet converted), "
            "INN/e-mail/phone (companies), external ID (deals), SKU (products)",
        )  # fmt: skip
        parser.add_argument(
            "--mapping",
            help='JSON: ["first_name", "", "email", …] (one field per column) or '
            '{"Column header": "field", …}; a path to a .json file works too',
        )
        parser.add_argument("--user", help="who imports (default: the only administrator)")
        parser.add_argument("--owner", help="owner of new records: a username (default --user)")
        parser.add_argument("--report", help="write the rejected rows with reasons to this CSV")
        parser.add_argument(
            "--background", action="store_true",
            help="queue the import for `voronka worker` and print its id instead of waiting",
        )  # fmt: skip
        parser.add_argument("--chunk-size", type=int, default=None, help=Command.suppressed())

    @staticmethod
    def suppressed() -> str:
        import argparse

        return argparse.SUPPRESS

    def handle(self, *args: Any, **options: Any) -> None:
        from voronka.imports import runner, services

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        user = self._user(options["user"])
        owner = self._user(options["owner"]) if options["owner"] else user
        config = {"mapping": self._mapping(options["mapping"]), "dedupe": options["dedupe"],
                  "default_owner_id": owner.pk}  # fmt: skip
        try:
            job = services.import_upload(
                actor=user, entity=options["entity"], file_name=path.name, content=path
            )
            try:
                job = services.import_configure(actor=user, job=job, **config)
            except ServiceValidationError:
                self._describe(job)
                job.delete()
                services.import_discard_file(job)
                raise
            self._describe(job)
            if options["background"]:
                services.import_start(actor=user, job=job)
                self.stdout.write(f"Queued as import {job.pk}; `voronka worker` runs it.")
                return
            if options["dry_run"]:
                services.import_check(actor=user, job=job)
                runner.import_check_run(job.pk, size=options["chunk_size"])
            else:
                services.import_start(actor=user, job=job)
                runner.import_run(job.pk, size=options["chunk_size"])
        except ServiceValidationError as exc:
            raise CommandError(exc.detail) from exc
        except Forbidden as exc:
            raise CommandError(str(exc)) from exc
        job.refresh_from_db()
        self._summary(job, dry_run=options["dry_run"])
        if options["report"]:
            self._write_report(job, Path(options["report"]), options["dry_run"])
        if job.status == "failed":
            raise CommandError(job.error or "the import failed")

    def _user(self, username: str | None) -> Any:
        users = get_user_model().objects.select_related("role", "team").filter(is_active=True)
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"no active user {username!r}")
            return user
        admins = [u for u in users if u.is_admin]
        if len(admins) != 1:
            raise CommandError("say who imports: --user USERNAME")
        return admins[0]

    def _mapping(self, raw: str | None) -> Any:
        if not raw:
            return None
        text = Path(raw).read_text(encoding="utf-8") if raw.endswith(".json") else raw
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CommandError(f"--mapping is not JSON: {exc}") from exc

    def _describe(self, job: Any) -> None:
        from voronka.imports.mapping import target_labels

        source = job.source
        detail = source["format"].upper()
        if source["format"] == "csv":
            detail += f", {source['encoding']}, delimiter {source['delimiter']!r}"
        self.stdout.write(f"{job.file_name}: {detail}")
        labels = target_labels(job.entity)
        for header, target in zip(source["headers"], job.mapping, strict=False):
            self.stdout.write(f"  {header} → {labels.get(target, '(not imported)')}")

    def _summary(self, job: Any, *, dry_run: bool) -> None:
        from voronka.imports.kinds import describe_notes

        self._summary_counts(job, dry_run=dry_run)
        for note in describe_notes(job.notes):
            self.stdout.write(f"  {note}")

    def _summary_counts(self, job: Any, *, dry_run: bool) -> None:
        if dry_run:
            c = job.check_counts
            self.stdout.write(
                f"Dry run, nothing written: {c.get('rows', 0)} rows; would create "
                f"{c.get('created', 0)}, update {c.get('updated', 0)}, skip {c.get('skipped', 0)}"
                f", reject {c.get('rejected', 0)}."
            )
            return
        self.stdout.write(
            f"Import {job.pk} {job.status}: {job.rows_done} rows; created {job.created}, "
            f"updated {job.updated}, skipped {job.skipped}, rejected {job.rejected}"
            + (f"; {job.companies_created} new companies" if job.companies_created else "")
            + "."
        )

    def _write_report(self, job: Any, path: Path, dry_run: bool) -> None:
        from voronka.imports.report import csv_lines

        with path.open("w", encoding="utf-8", newline="") as f:
            for line in csv_lines(job, dry_run=dry_run):
                f.write(line)
        self.stdout.write(f"Rejected rows written to {path}")
