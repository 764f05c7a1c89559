"""The worker's side of imports: the run itself, its dry run, undo, and resuming.

A run holds its job by ``run_token`` (:func:`_claim`); every chunk is written in ONE
transaction with the job's checkpoint and an ImportChunk row (the ids it created), after
checking the token under a row lock (:func:`_lock`), so a run killed anywhere leaves the
database at a chunk boundary and a run that lost its job to another worker stops at its next
chunk. Jobs whose heartbeat went stale are queued again by :func:`imports_resume_stale`, which
every worker runs periodically (imports/apps.py)."""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.imports import readers
from voronka.imports.bulk import to_ranges
from voronka.imports.models import (
    ImportChunk,
    ImportJob,
    ImportRejection,
    ImportStatus,
    ImportUpdate,
)
from voronka.imports.pipeline import Outcome
from voronka.imports.services import (
    Superseded,
    chunk_size,
    enqueue,
    import_discard_file,
    importer_for,
    job_file,
    run_context,
    stale_after,
)

log = logging.getLogger("voronka.imports")
REJECTION_VALUES_LIMIT = 2000  # characters of a rejected row kept for the report


def _claim(job_id: int, statuses: tuple[str, ...], status: str) -> tuple[ImportJob, str] | None:
    """Take the job for this run if nobody holds it or its holder stopped beating."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = (
        ImportJob.objects.filter(pk=job_id, status__in=statuses)
        .filter(Q(run_token="") | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - stale_after()))
        .update(status=status, run_token=token, heartbeat_at=now, attempts=F("attempts") + 1,
                resume_requested_at=None)
    )  # fmt: skip
    if not taken:
        return None
    return ImportJob.objects.get(pk=job_id), token


def _lock(job_id: int, token: str, status: str) -> ImportJob:
    """The job row, locked for this transaction, if this run still holds it."""
    job = ImportJob.objects.select_for_update().get(pk=job_id)
    if job.run_token != token or job.status != status:
        raise Superseded
    return job


def _beat(job_id: int, token: str) -> None:
    ImportJob.objects.filter(pk=job_id, run_token=token).update(heartbeat_at=timezone.now())


def _actor(job: ImportJob) -> Any:
    if job.created_by_id is None:
        raise Forbidden(_("the user who started the import no longer exists"))
    user = get_user_model().objects.select_related("role", "team").get(pk=job.created_by_id)
    if not user.is_active or not user.can_write:
        raise Forbidden(_("the user who started the import may no longer write"))
    return user


def _rows_after(job: ImportJob, token: str, skip: int) -> Iterator[tuple[int, list[str]]]:
    """The file's data rows after the first ``skip`` (beating while skipping a big file)."""
    source = readers.Source.from_dict(job.source)
    rows = readers.iter_rows(job_file(job), source)
    last = time.monotonic()
    for i, row in enumerate(rows):
        if i >= skip:
            yield row
        elif time.monotonic() - last > 5:
            _beat(job.pk, token)
            last = time.monotonic()


FIRST_CHUNK_ROWS = 1000


def _first_size(size: int) -> int:
    """Rows of a run's first chunk: on PostgreSQL at most FIRST_CHUNK_ROWS, so the server
    starts writing after a short parse and the reader thread parses the next, full chunk
    meanwhile. SQLite runs in this process and needs the GIL for every row it writes, so the
    reader thread cannot work alongside it: a short first chunk would only add a commit."""
    return min(size, FIRST_CHUNK_ROWS) if connection.vendor == "postgresql" else size


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Chunks of ``size`` rows, the first one of :func:`_first_size`."""
    if chunk := list(islice(rows, _first_size(size))):
        yield chunk
    while chunk := list(islice(rows, size)):
        yield chunk


@contextmanager
def _collect_between_chunks() -> Iterator[None]:
    """Automatic garbage collection off while chunks are built, a young-generation collection
    after each: with thousands of rows alive per chunk, the collector's full passes otherwise
    cost a quarter of the parsing time. Rows hold no reference cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def _parsed_chunks(importer: Any, rows: Iterator[Any], size: int) -> Iterator[tuple[Any, Any]]:
    """(rows, parsed rows) chunk after chunk, read and parsed one chunk ahead in a thread.

    Reading and parsing are pure Python; writing a chunk mostly waits on the database. The
    thread overlaps the two. It touches no database (``parse_chunk`` does not) and speaks the
    caller's language (messages of rejected rows).

    It starts on a chunk only when the writer has taken the previous one (``turn``): one
    chunk ahead is all the overlap there is, and a reader running further ahead only competes
    with the writer for the GIL (each of the writer's queries and COPY blocks then waits for
    it) while the first chunks are written."""
    language = translation.get_language()
    ready: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()
    turn = threading.Semaphore(1)

    def wait_turn() -> bool:
        while not stop.is_set():
            if turn.acquire(timeout=0.2):
                return True
        return False

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with translation.override(language):
                chunks = _chunks(rows, size)
                while wait_turn() and (chunk := next(chunks, None)) is not None:
                    if not put((chunk, importer.parse_chunk(chunk))):
                        return
        except BaseException as exc:
            put(_Failed(exc))
        put(_END)

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.exc
            turn.release()
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def _fit_size(importer: Any, size: int) -> int:
    """Rows per chunk for this importer: one calling a service per row keeps its chunks small,
    so a chunk's transaction (a write lock on SQLite) stays short and the heartbeat, written
    per chunk, stays well within the stale limit."""
    return min(size, getattr(importer, "max_chunk_rows", size))


def _ensure_total(job: ImportJob, token: str) -> None:
    if job.rows_total is None:
        total = readers.count_rows(job_file(job), readers.Source.from_dict(job.source))
        ImportJob.objects.filter(pk=job.pk, run_token=token).update(
            rows_total=total, heartbeat_at=timezone.now()
        )
        job.rows_total = total


class _Total:
    """The file's row count (for the progress bar), counted in a thread of its own while the
    first chunks are read and written: reading a big file once more before starting would
    keep the database idle (about 2 s a million rows). The count is saved with the next
    chunk's checkpoint once known; until then the job shows no percentage."""

    def __init__(self, job: ImportJob) -> None:
        self.value: int | None = job.rows_total
        self.saved = self.value is not None
        if self.saved:
            return
        if connection.vendor != "postgresql":
            # SQLite writes in this process and takes the GIL back after every row: a thread
            # counting alongside would only slow it down. Count first, as before.
            self.value = readers.count_rows(job_file(job), readers.Source.from_dict(job.source))
            return
        path, source = job_file(job), readers.Source.from_dict(job.source)
        self._thread = threading.Thread(target=self._count, args=(path, source),
                                        name="import-counter", daemon=True)  # fmt: skip
        self._thread.start()

    def _count(self, path: Any, source: readers.Source) -> None:
        try:
            self.value = readers.count_rows(path, source)
        except Exception:  # the reader thread meets the same problem and reports it
            log.debug("counting the rows failed", exc_info=True)

    def unsaved(self) -> dict[str, int]:
        """{"rows_total": n} once the count is known and not yet saved, else {}; the caller
        sets ``saved`` when the transaction writing it has committed."""
        if self.saved or self.value is None:
            return {}
        return {"rows_total": self.value}


def _rejections(job: ImportJob, out: Outcome, *, dry_run: bool) -> None:
    ImportRejection.objects.bulk_create(
        [ImportRejection(job=job, dry_run=dry_run, row=row, reason=reason[:2000],
                         values=_trim(values)) for row, reason, values in out.rejections],
        batch_size=1000,
    )  # fmt: skip


def _trim(values: list[str]) -> list[str]:
    total, kept = 0, []
    for value in values:
        total += len(value)
        kept.append(value if total <= REJECTION_VALUES_LIMIT else value[:100])
    return kept


def import_run(job_id: int, *, size: int | None = None, max_chunks: int | None = None) -> str:
    """The import of a queued (or abandoned) job, chunk after chunk from its checkpoint.

    ``max_chunks`` stops the run after that many chunks as if the worker had died (tests)."""
    claimed = _claim(job_id, (ImportStatus.QUEUED, ImportStatus.RUNNING), ImportStatus.RUNNING)
    if claimed is None:
        return "not claimed"
    job, token = claimed
    try:
        return _run(job, token, size or chunk_size(), max_chunks)
    except Superseded:
        return "superseded"
    except Exception as exc:
        log.exception("import %s failed", job_id)
        _fail(job_id, token, ImportStatus.RUNNING, exc)
        return "failed"


def _run(job: ImportJob, token: str, size: int, max_chunks: int | None) -> str:
    ImportJob.objects.filter(pk=job.pk, started_at__isnull=True).update(started_at=timezone.now())
    actor = _actor(job)
    total = _Total(job)
    ctx = run_context(job, actor, dry_run=False)
    importer = importer_for(job.entity, ctx, job.mapping)
    size = _fit_size(importer, size)
    done = job.rows_done
    rows = _rows_after(job, token, done)
    # Skipping to the checkpoint happens here, not in a thread (it beats the heartbeat).
    first = list(islice(rows, _first_size(size)))
    with _collect_between_chunks():
        return _run_chunks(job, token, importer, chain(first, rows), size, max_chunks, done,
                           total)  # fmt: skip


def _run_chunks(job: ImportJob, token: str, importer: Any, rows: Iterator[Any], size: int,
                max_chunks: int | None, done: int, total: _Total) -> str:  # fmt: skip
    number = (ImportChunk.objects.filter(job=job).order_by("-number").values_list(
        "number", flat=True).first() or 0)  # fmt: skip
    for count, (chunk, parsed) in enumerate(_parsed_chunks(importer, rows, size), start=1):
        gc.collect(1)
        number += 1
        counted = total.unsaved()
        with transaction.atomic():
            locked = _lock(job.pk, token, ImportStatus.RUNNING)
            if locked.rows_done != done:
                raise Superseded
            out = importer.process(chunk, parsed)
            _rejections(locked, out, dry_run=False)
            ImportUpdate.objects.bulk_create(
                [ImportUpdate(job=locked, entity=e, object_id=pk, before=before)
                 for e, pk, before in out.updates], batch_size=1000,
            )  # fmt: skip
            ImportChunk.objects.create(
                job=locked, number=number, first_row=done, rows=len(chunk),
                created_ids={e: to_ranges(ids) for e, ids in out.created_ids.items() if ids},
            )  # fmt: skip
            done += len(chunk)
            ImportJob.objects.filter(pk=job.pk).update(
                rows_done=done, created=F("created") + out.created,
                updated=F("updated") + out.updated, skipped=F("skipped") + out.skipped,
                rejected=F("rejected") + out.rejected,
                companies_created=F("companies_created") + out.companies_created,
                notes=_add_notes(locked.notes, out), heartbeat_at=timezone.now(), **counted,
            )  # fmt: skip
        total.saved = total.saved or bool(counted)
        if max_chunks and count >= max_chunks:
            return "stopped"
    with transaction.atomic():
        locked = _lock(job.pk, token, ImportStatus.RUNNING)
        locked.status = ImportStatus.DONE
        locked.finished_at = timezone.now()
        locked.run_token = ""
        locked.rows_total = done
        locked.save(update_fields=["status", "finished_at", "run_token", "rows_total"])
        transaction.on_commit(lambda: import_discard_file(locked))
    return "done"


def _add_notes(notes: dict[str, int] | None, out: Outcome) -> dict[str, int]:
    total = dict(notes or {})
    for key, count in out.notes.items():
        total[key] = total.get(key, 0) + count
    return total


def _fail(job_id: int, token: str, status: str, exc: BaseException) -> None:
    message = str(exc) if isinstance(exc, Forbidden | ServiceValidationError) else (
        _("Unexpected error: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
    )  # fmt: skip
    ImportJob.objects.filter(pk=job_id, run_token=token, status=status).update(
        status=ImportStatus.FAILED if status != ImportStatus.CHECKING else ImportStatus.UPLOADED,
        error=message[:2000], run_token="", finished_at=timezone.now(),
    )  # fmt: skip


def import_check_run(job_id: int, *, size: int | None = None) -> str:
    """The dry run: counts of what would be created, updated, skipped and rejected."""
    claimed = _claim(job_id, (ImportStatus.CHECKING,), ImportStatus.CHECKING)
    if claimed is None:
        return "not claimed"
    job, token = claimed
    try:
        actor = _actor(job)
        _ensure_total(job, token)
        # A dry run keeps its state in memory, so an interrupted one starts over.
        ImportRejection.objects.filter(job=job, dry_run=True).delete()
        ctx = run_context(job, actor, dry_run=True)
        importer = importer_for(job.entity, ctx, job.mapping)
        counts = {"rows": 0, "created": 0, "updated": 0, "skipped": 0, "rejected": 0,
                  "companies_created": 0}  # fmt: skip
        notes: dict[str, int] = {}
        size = _fit_size(importer, size or chunk_size())
        chunks = _parsed_chunks(importer, _rows_after(job, token, 0), size)
        with _collect_between_chunks():
            for chunk, parsed in chunks:
                gc.collect(1)
                out = importer.process(chunk, parsed)
                with transaction.atomic():
                    _lock(job.pk, token, ImportStatus.CHECKING)
                    _rejections(job, out, dry_run=True)
                    counts["rows"] += len(chunk)
                    for key in ("created", "updated", "skipped", "rejected",
                                "companies_created"):  # fmt: skip
                        counts[key] += getattr(out, key)
                    notes = _add_notes(notes, out)
                    ImportJob.objects.filter(pk=job.pk).update(
                        check_counts=dict(counts), notes=notes, heartbeat_at=timezone.now()
                    )
        with transaction.atomic():
            locked = _lock(job.pk, token, ImportStatus.CHECKING)
            locked.status = ImportStatus.CHECKED
            locked.run_token = ""
            locked.check_counts = counts
            locked.save(update_fields=["status", "run_token", "check_counts"])
        return "checked"
    except Superseded:
        return "superseded"
    except Exception as exc:
        log.exception("import check %s failed", job_id)
        _fail(job_id, token, ImportStatus.CHECKING, exc)
        return "failed"


def import_undo_run(job_id: int) -> str:
    """Delete what the import created (newest chunk first), then restore what it updated."""
    from voronka.imports import undo

    claimed = _claim(job_id, (ImportStatus.UNDOING,), ImportStatus.UNDOING)
    if claimed is None:
        return "not claimed"
    job, token = claimed
    try:
        undo.run(job, token, lambda: _lock(job.pk, token, ImportStatus.UNDOING))
    except Superseded:
        return "superseded"
    except Exception as exc:
        log.exception("import undo %s failed", job_id)
        ImportJob.objects.filter(pk=job_id, run_token=token).update(
            status=ImportStatus.DONE, run_token="",
            error=_("Undo failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"},
        )  # fmt: skip
        return "failed"
    return "undone"


def imports_resume_stale() -> int:
    """Queue again every job whose run stopped beating (its worker was killed). Periodic."""
    now = timezone.now()
    cutoff = now - stale_after()
    stale = ImportJob.objects.filter(
        status__in=[ImportStatus.CHECKING, ImportStatus.QUEUED, ImportStatus.RUNNING,
                    ImportStatus.UNDOING],
        heartbeat_at__lt=cutoff,
    ).filter(Q(resume_requested_at__isnull=True) | Q(resume_requested_at__lt=cutoff))  # fmt: skip
    resumed = 0
    for job in stale.only("pk", "status", "resume_requested_at"):
        with transaction.atomic():
            taken = ImportJob.objects.filter(
                pk=job.pk, resume_requested_at=job.resume_requested_at
            ).update(resume_requested_at=now)
            if not taken:
                continue
            kinds: dict[str, str] = {ImportStatus.CHECKING: "check", ImportStatus.UNDOING: "undo"}
            kind = kinds.get(job.status, "run")
            enqueue(kind, job.pk)
            resumed += 1
    return resumed


__all__ = ["import_check_run", "import_run", "import_undo_run", "imports_resume_stale"]
