"""Undo of a finished import: delete what it created, put back what it updated.

Chunk by chunk, newest first, each in one transaction that also marks the chunk undone, so an
undo interrupted by a dead worker resumes where it stopped. Records the import updated are
restored through the services (``contact_update``, ``deal_update``…) on behalf of the user
who ran the import, so their history shows the restore like any other change."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
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
from voronka.imports.kinds import KINDS, importer_class
from voronka.imports.models import ImportChunk, ImportJob, ImportKey, ImportStatus, ImportUpdate
from voronka.imports.pipeline import History

# Deleted in this order: deals before the contacts and companies they point at.
ORDER = ("sales.deal", "sales.lead", CONTACT_ENTITY, COMPANY_ENTITY, "sales.product")
MAX_PROBLEMS = 50


def _restore_contact(user: Any, record: Any, changes: dict[str, Any]) -> None:
    contact_update(actor=OnBehalfOf(user), contact=record, changes=changes,
                   channel=Channel.IMPORT)  # fmt: skip


def _restore_company(user: Any, record: Any, changes: dict[str, Any]) -> None:
    company_update(actor=OnBehalfOf(user), company=record, changes=changes,
                   channel=Channel.IMPORT)  # fmt: skip


@cache
def _entities() -> dict[str, tuple[Any, str, Any]]:
    """(model, deletion event, restore(user, record, changes)) of each entity imports write."""
    result: dict[str, tuple[Any, str, Any]] = {
        CONTACT_ENTITY: (Contact, "contact.deleted", _restore_contact),
        COMPANY_ENTITY: (Company, "company.deleted", _restore_company),
    }
    for key, info in KINDS.items():
        importer = importer_class(key)
        if info.entity not in result:
            result[info.entity] = (importer.model, importer.deleted_event, importer.restore)
    return result


def _delete(entity: str, ids: list[int], history: History) -> int:
    model, event, _restore = _entities()[entity]
    deleted = 0
    for batch in batches(ids):
        existing = list(model.objects.filter(pk__in=batch).values_list("pk", flat=True))
        for pk in existing:
            history.add(model, entity, event, "delete", pk, "{}")
        model.objects.filter(pk__in=existing).delete()
        ImportKey.objects.filter(entity=entity, object_id__in=existing).delete()
        deleted += len(existing)
    history.flush()
    return deleted


def _restore(update: ImportUpdate, user: Any) -> str:
    """ "restored", "missing", or what the service refused."""
    model, _event, restore = _entities().get(update.entity, (None, "", None))
    record = model.objects.filter(pk=update.object_id).first() if model else None
    if record is None:
        return "missing"
    changes = dict(update.before)
    if "custom" in changes:
        custom = dict(changes.get("custom") or {})
        for key in record.custom or {}:
            custom.setdefault(key, None)  # added by the import: removed again
        changes["custom"] = custom
    try:
        restore(user, record, changes)
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
            for entity in ORDER:
                ranges = chunk.created_ids.get(entity)
                if ranges:
                    counts["deleted"] += _delete(entity, from_ranges(ranges), history)
            chunk.undone = True
            chunk.save(update_fields=["undone"])
            counts["chunks_done"] += 1
            ImportJob.objects.filter(pk=job.pk).update(
                undo_counts=dict(counts), heartbeat_at=timezone.now()
            )
    user = job.created_by
    # Newest first: a record updated by several chunks ends as it was before the first.
    to_restore = ImportUpdate.objects.filter(job=job, restored=False).order_by("-id")
    while batch := list(to_restore[:200]):
        with transaction.atomic():
            lock()
            for update in batch:
                result = _restore(update, user)
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
