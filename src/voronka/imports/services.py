"""The import feature's writes that a user asks for: upload, mapping, preview, and queueing
the dry run, the import, its undo (or resuming a failed one). The work itself is done by a
worker: see imports.runner, which is restart-safe chunk by chunk."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.core.visibility import owner_ids_visible_to
from voronka.imports import readers
from voronka.imports.bulk import Writer
from voronka.imports.cleaning import Owners
from voronka.imports.kinds import importer_class, kind
from voronka.imports.mapping import clean_mapping, suggest
from voronka.imports.models import DedupeMode, ImportEntity, ImportJob, ImportStatus
from voronka.imports.pipeline import Context

CHUNK_SIZE = 5000
RULES = "rules"  # "owner of new records": whom the assignment rules choose (leads)


def _setting(env: str, name: str, default: float) -> float:
    """An environment variable, else a Django setting, else the default."""
    raw: Any = os.environ.get(env) or getattr(settings, name, default)
    return float(raw)


def chunk_size() -> int:
    """Rows per chunk (one transaction each): VORONKA_IMPORT_CHUNK_SIZE, default 5000."""
    return int(_setting("VORONKA_IMPORT_CHUNK_SIZE", "IMPORT_CHUNK_SIZE", CHUNK_SIZE))


def stale_after() -> timedelta:
    """How long without a heartbeat before a running job counts as abandoned."""
    return timedelta(seconds=_setting("VORONKA_IMPORT_STALE_SECONDS", "IMPORT_STALE_SECONDS", 60))


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 1024 * 1024 * 1024))


def uploads_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def job_file(job: ImportJob) -> Path:
    return uploads_root() / job.file_path


class Superseded(Exception):
    """Another run holds the job now (or it was finished): this run stops quietly."""


def _require_writer(actor: Any) -> None:
    if not getattr(actor, "can_write", False):
        raise Forbidden(_("your role is read-only"))


def _clean_entity(entity: str, actor: Any) -> str:
    if entity not in ImportEntity.values:
        raise ServiceValidationError.single(
            "entity",
            _("must be one of: %(options)s") % {"options": ", ".join(ImportEntity.values)},
        )
    info = kind(entity)
    if not info.may_import(actor):
        raise Forbidden(str(info.not_allowed or _("your role is read-only")))
    return entity


# --- upload and mapping ----------------------------------------------------------------------


def import_upload(*, actor: Any, entity: str, file_name: str, content: Any) -> ImportJob:
    """Keep the uploaded file and look at it: a job waiting for its mapping, with suggestions.

    ``content`` is a Django UploadedFile, a path or bytes. A file that cannot be imported
    (empty, binary, broken vCard, no columns) raises ServiceValidationError on "file" and
    leaves nothing behind."""
    _require_writer(actor)
    entity = _clean_entity(entity, actor)
    name = get_valid_filename(Path(file_name or "upload").name)[:200] or "upload"
    folder = uuid.uuid4().hex
    path = uploads_root() / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        size = _save(content, path)
        if size > max_upload_bytes():
            raise ServiceValidationError.single(
                "file", _("The file is larger than %(n)d MB.") % {"n": max_upload_bytes() >> 20}
            )
        try:
            source = readers.inspect_file(path, name)
        except readers.ImportFileError as exc:
            raise ServiceValidationError.single("file", str(exc)) from exc
        with transaction.atomic():
            job = ImportJob.objects.create(
                entity=entity, created_by=actor, file_name=name, file_path=f"{folder}/{name}",
                file_size=size, source=source.as_dict(),
                default_owner_id=None if kind(entity).assigns_owner else actor.pk,
                mapping=suggest(source.headers, entity),
            )  # fmt: skip
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    return job


def _save(content: Any, path: Path) -> int:
    size = 0
    with path.open("wb") as out:
        if isinstance(content, bytes):
            out.write(content)
            return len(content)
        if isinstance(content, str | Path):
            with Path(content).open("rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
            return path.stat().st_size
        for block in content.chunks():
            size += len(block)
            if size > max_upload_bytes():
                return size
            out.write(block)
    return size


def import_configure(
    *, actor: Any, job: ImportJob, mapping: Any = None, dedupe: str | None = None,
    default_owner_id: Any = None,
) -> ImportJob:  # fmt: skip
    """Set the mapping, dedupe mode and owner of new records (only before the import).

    ``default_owner_id`` "rules" (leads): the assignment rules choose, else the importer."""
    _require_writer(actor)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED):
        raise ServiceValidationError.single("status", _("this import has already started"))
    headers = job.source.get("headers", [])
    cleaned = clean_mapping(job.entity, headers, job.mapping if mapping is None else mapping)
    if dedupe is not None and dedupe not in DedupeMode.values:
        raise ServiceValidationError.single(
            "dedupe", _("must be one of: %(options)s") % {"options": ", ".join(DedupeMode.values)}
        )
    owner_id = job.default_owner_id
    if default_owner_id == RULES and kind(job.entity).assigns_owner:
        owner_id = None
    elif default_owner_id not in (None, ""):
        try:
            owner_id = int(default_owner_id)
        except (TypeError, ValueError):
            raise ServiceValidationError.single("default_owner", _("must be a user id")) from None
        if not get_user_model().objects.filter(pk=owner_id, is_active=True).exists():
            raise ServiceValidationError.single("default_owner", _("no such active user"))
    changed = cleaned != job.mapping or (dedupe or job.dedupe) != job.dedupe
    job.mapping = cleaned
    job.dedupe = dedupe or job.dedupe
    changed = changed or owner_id != job.default_owner_id
    job.default_owner_id = owner_id
    fields = ["mapping", "dedupe", "default_owner"]
    if changed and job.status == ImportStatus.CHECKED:
        # The check was for another mapping: it no longer says what will happen.
        job.status = ImportStatus.UPLOADED
        job.check_counts = {}
        fields += ["status", "check_counts"]
    job.save(update_fields=fields)
    return job


def import_preview(*, actor: Any, job: ImportJob, mapping: Any = None,
                   limit: int = 5) -> list[dict[str, Any]]:  # fmt: skip
    """The first rows as they would be read with ``mapping``: the values under the kind's
    ``preview_labels`` ("cells"), or the reason of refusal ("error").

    Nothing is written and duplicates are not looked up (the dry run does that)."""
    source = readers.Source.from_dict(job.source)
    cleaned = clean_mapping(job.entity, source.headers, job.mapping if mapping is None else mapping)
    ctx = run_context(job, actor, dry_run=True, dedupe=DedupeMode.CREATE)
    importer = importer_for(job.entity, ctx, cleaned)
    rows = []
    for number, values in islice(readers.iter_rows(job_file(job), source), limit):
        parsed = importer.parse(number, values)
        if isinstance(parsed, str):
            rows.append({"row": number, "error": parsed, "draft": None, "cells": []})
        else:
            rows.append({"row": number, "error": "", "draft": parsed,
                         "cells": importer.preview(parsed)})  # fmt: skip
    return rows


# --- starting, checking, undoing (requests) -------------------------------------------------


def enqueue(kind: str, job_id: int) -> None:
    from voronka.imports import tasks

    task = {"check": tasks.import_check_task, "run": tasks.import_run_task,
            "undo": tasks.import_undo_task}[kind]  # fmt: skip
    transaction.on_commit(lambda: task.enqueue(job_id))


def import_check(*, actor: Any, job: ImportJob, **config: Any) -> ImportJob:
    """Queue a dry run: every row read, checked and matched, nothing written."""
    job = import_configure(actor=actor, job=job, **config)
    with transaction.atomic():
        job.status = ImportStatus.CHECKING
        job.run_token = ""
        job.heartbeat_at = timezone.now()
        job.check_counts = {}
        job.notes = {}
        job.save(update_fields=["status", "run_token", "heartbeat_at", "check_counts", "notes"])
        enqueue("check", job.pk)
    return job


def import_start(*, actor: Any, job: ImportJob, **config: Any) -> ImportJob:
    """Queue the import itself; a worker picks it up (``voronka worker`` / ``serve``)."""
    job = import_configure(actor=actor, job=job, **config)
    with transaction.atomic():
        job.status = ImportStatus.QUEUED
        job.run_token = ""
        job.heartbeat_at = timezone.now()
        job.notes = {}  # the dry run's until now
        job.save(update_fields=["status", "run_token", "heartbeat_at", "notes"])
        enqueue("run", job.pk)
    return job


def import_cancel(*, actor: Any, job: ImportJob) -> None:
    """Drop an upload that was not imported (waiting for its mapping, or checked)."""
    _require_writer(actor)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED):
        raise ServiceValidationError.single("status", _("this import has already started"))
    job.delete()
    import_discard_file(job)


def import_resume(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue a failed import again; it continues from its checkpoint."""
    _require_writer(actor)
    if job.status != ImportStatus.FAILED or not job_file(job).exists():
        raise ServiceValidationError.single("status", _("only a failed import can be resumed"))
    with transaction.atomic():
        job.status = ImportStatus.QUEUED
        job.run_token = ""
        job.error = ""
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "run_token", "error", "heartbeat_at"])
        enqueue("run", job.pk)
    return job


def import_undo(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue the undo: what the import created is deleted, what it updated is put back.

    Allowed to the user who ran the import (it takes back their own change) and to an
    administrator."""
    _require_writer(actor)
    if not (actor.is_admin or job.created_by_id == actor.pk):
        raise Forbidden(_("only the user who ran the import or an administrator may undo it"))
    if job.status not in (ImportStatus.DONE, ImportStatus.FAILED):
        raise ServiceValidationError.single("status", _("only a finished import can be undone"))
    with transaction.atomic():
        job.status = ImportStatus.UNDOING
        job.run_token = ""
        job.heartbeat_at = timezone.now()
        job.undo_counts = {}
        job.save(update_fields=["status", "run_token", "heartbeat_at", "undo_counts"])
        enqueue("undo", job.pk)
    return job


def run_context(job: ImportJob, actor: Any, *, dry_run: bool, dedupe: str | None = None) -> Context:
    owners = owner_ids_visible_to(actor)
    return Context(
        actor=actor, dedupe=dedupe or job.dedupe, dry_run=dry_run,
        default_owner_id=job.default_owner_id or (None if kind(job.entity).assigns_owner
                                                  else actor.pk),
        visible_owners=None if owners is None else set(owners), owners=Owners(),
        headers=list(job.source.get("headers", [])), job_id=job.pk, writer=Writer(),
    )  # fmt: skip


def importer_for(entity: str, ctx: Context, mapping: list[str]) -> Any:
    """The importer of the job's kind of record (imports.kinds) for one run."""
    return importer_class(entity)(ctx, mapping)


def import_discard_file(job: ImportJob) -> None:
    """The uploaded file is not needed once the import is over (the report keeps its rows)."""
    path = job_file(job)
    if job.file_path and path.parent.parent == uploads_root():
        shutil.rmtree(path.parent, ignore_errors=True)


__all__ = [
    "Superseded", "enqueue", "import_cancel", "import_check", "import_configure",
    "import_discard_file", "import_preview", "import_resume", "import_start", "import_undo",
    "import_upload", "importer_for", "run_context",
]  # fmt: skip
