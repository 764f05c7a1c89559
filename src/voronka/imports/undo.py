"""Undo of a finished import: delete what it created, put back what it updated.

Chunk by chunk, newest first, each in one transaction that also marks the chunk undone, so an
undo interrupted by a dead worker resumes where it stopped. Records the import updated are
restored through the services (``contact_update``/``company_update``) on behalf of the user
who ran the import, so their history shows the restore like any other change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core.actors import OnBehalfOf
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.models import Company, Contact
from voronka.customers.services import (
    COMPANY_ENTITY,
    CONTACT_ENTITY,
    company_update,
    contact_update,
)
from voronka.imports.bulk import Writer, batches, from_ranges
from voronka.imports.models import ImportChunk, ImportJob, ImportStatus, ImportUpdate
from voronka.imports.pipeline import History

MODELS: dict[str, Any] = {CONTACT_ENTITY: Contact, COMPANY_ENTITY: Company}
EVENTS = {CONTACT_ENTITY: "contact.deleted", COMPANY_ENTITY: "company.deleted"}
MAX_PROBLEMS = 50


def _delete(entity: str, ids: list[int], history: History) -> int:
    model = MODELS[entity]
    deleted = 0
    for batch in batches(ids):
        existing = list(model.objects.filter(pk__in=batch).values_list("pk", flat=True))
        for pk in existing:
            history.add(model, entity, EVENTS[entity], "delete", pk, "{}")
        model.objects.filter(pk__in=existing).delete()
        deleted += len(existing)
    history.flush()
    return deleted


def _restore(update: ImportUpdate, actor: Any) -> str:
    """ "restored", "missing", or what the service refused."""
    model = MODELS.get(update.entity)
    record = model.objects.filter(pk=update.object_id).first() if model else None
    if record is None:
        return "missing"
    changes = dict(update.before)
    custom = dict(changes.get("custom") or {})
    for key in record.custom or {}:
        custom.setdefault(key, None)  # added by the import: removed again
    changes["custom"] = custom
    try:
        if update.entity == CONTACT_ENTITY:
            contact_update(actor=actor, contact=record, changes=changes, channel=Channel.IMPORT)
        else:
            company_update(actor=actor, company=record, changes=changes, channel=Channel.IMPORT)
    except ServiceValidationError as exc:
        return f"#{update.object_id}: {exc.detail}"
    return "restored"


def run(job: ImportJob, token: str, lock: Callable[[], ImportJob]) -> None:
    counts: dict[str, Any] = {"deleted": 0, "restored": 0, "missing": 0, "problems": []}
    counts.update(job.undo_counts or {})
    chunks = ImportChunk.objects.filter(job=job)
    counts["chunks"] = chunks.count()
    pending = list(chunks.filter(undone=False).order_by("-number").values_list("pk", flat=True))
    counts["chunks_done"] = counts["chunks"] - len(pending)
    actor_id = job.created_by_id
    for chunk_pk in pending:
        with transaction.atomic():
            lock()
            chunk = ImportChunk.objects.get(pk=chunk_pk)
            history = History(Writer(), actor_id)
            # Contacts first: companies the import created may be theirs.
            for entity in (CONTACT_ENTITY, COMPANY_ENTITY):
                ranges = chunk.created_ids.get(entity)
                if ranges:
                    counts["deleted"] += _delete(entity, from_ranges(ranges), history)
            chunk.undone = True
            chunk.save(update_fields=["undone"])
            counts["chunks_done"] += 1
            ImportJob.objects.filter(pk=job.pk).update(
                undo_counts=dict(counts), heartbeat_at=timezone.now()
            )
    actor = OnBehalfOf(job.created_by)
    # Newest first: a record updated by several chunks ends as it was before the first.
    to_restore = ImportUpdate.objects.filter(job=job, restored=False).order_by("-id")
    while batch := list(to_restore[:200]):
        with transaction.atomic():
            lock()
            for update in batch:
                result = _restore(update, actor)
                if result in ("restored", "missing"):
                    counts[result] += 1
                elif len(counts["problems"]) < MAX_PROBLEMS:
                    counts["problems"].append(result)
            ImportUpdate.objects.filter(pk__in=[u.pk for u in batch]).update(restored=True)
            ImportJob.objects.filter(pk=job.pk).update(
                undo_counts=dict(counts), heartbeat_at=timezone.now()
            )
    with transaction.atomic():
        locked = lock()
        locked.status = ImportStatus.UNDONE
        locked.run_token = ""
        locked.undo_counts = counts
        if counts["problems"]:
            locked.error = _("Some records could not be restored.")
        locked.save(update_fields=["status", "run_token", "undo_counts", "error"])
