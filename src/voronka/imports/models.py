"""Import jobs: the uploaded file, its mapping, and a durable checkpoint of the rows done.

A job is processed in chunks; each chunk commits its records together with an
:class:`ImportChunk` row (the ids it created, for undo) and the job's new checkpoint, in one
transaction. A worker killed in the middle of a chunk leaves nothing of that chunk behind, and
the next run starts at the checkpoint: no row is lost, none is imported twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ImportEntity(models.TextChoices):
    """What a file holds; imports.kinds describes how each is read and written."""

    CONTACTS = "contacts", _("Contacts")
    COMPANIES = "companies", _("Companies")
    LEADS = "leads", _("Leads")
    DEALS = "deals", _("Deals")
    PRODUCTS = "products", _("Products")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("waiting for the mapping")
    CHECKING = "checking", _("checking")
    CHECKED = "checked", _("checked")
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("importing")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    UNDOING = "undoing", _("undoing")
    UNDONE = "undone", _("undone")


class DedupeMode(models.TextChoices):
    SKIP = "skip", _("skip the row")
    UPDATE = "update", _("update the existing record")
    CREATE = "create", _("create a new record anyway")


ACTIVE_STATUSES = (
    ImportStatus.CHECKING,
    ImportStatus.QUEUED,
    ImportStatus.RUNNING,
    ImportStatus.UNDOING,
)


class ImportJob(models.Model):
    """One uploaded file on its way in: mapping, dedupe mode, progress, counts and outcome.

    ``rows_done`` is the checkpoint: how many data rows of the file are committed.
    ``run_token`` names the run that holds the job; a run that finds another token in it
    stops (another worker took over a job whose heartbeat went stale)."""

    entity = models.CharField(_("records"), max_length=16, choices=ImportEntity.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), null=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    file_name = models.CharField(_("file"), max_length=255)
    file_path = models.CharField(max_length=500, blank=True)
    file_size = models.BigIntegerField(default=0)
    source = models.JSONField(default=dict)
    mapping = models.JSONField(default=list, blank=True)
    dedupe = models.CharField(
        _("when a record exists"), max_length=8, choices=DedupeMode.choices,
        default=DedupeMode.SKIP,
    )  # fmt: skip
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner of new records"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    rows_total = models.IntegerField(null=True, blank=True)
    rows_done = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    companies_created = models.IntegerField(default=0)
    # Rows imported with something left out, by reason ("contact_not_found": 3); of the
    # latest run, the dry run's while the job is checked.
    notes = models.JSONField(default=dict, blank=True)
    check_counts = models.JSONField(default=dict, blank=True)
    undo_counts = models.JSONField(default=dict, blank=True)
    run_token = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    resume_requested_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="import_status_idx"),
            models.Index(fields=["created_by", "-created_at", "-id"], name="import_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.entity})"

    def get_absolute_url(self) -> str:
        return reverse("imports:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int:
        total = self.rows_total or 0
        done = self.check_counts.get("rows", 0) if self.status == ImportStatus.CHECKING else (
            self.undo_counts.get("chunks_done", 0) if self.status == ImportStatus.UNDOING
            else self.rows_done
        )  # fmt: skip
        if self.status == ImportStatus.UNDOING:
            total = self.undo_counts.get("chunks", 0)
        if not total:
            return 0
        return max(0, min(100, int(done * 100 / total)))


class ImportChunk(models.Model):
    """A committed chunk of a job: its rows and the records it created (id ranges)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    first_row = models.IntegerField()
    rows = models.IntegerField()
    created_ids = models.JSONField(default=dict)
    undone = models.BooleanField(default=False)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="import_chunk_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.number}"


class ImportUpdate(models.Model):
    """A record an import changed, as it was before: undo puts it back."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="updates")
    entity = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    before = models.JSONField(default=dict)
    restored = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "restored", "id"], name="import_update_idx")]

    def __str__(self) -> str:
        return f"{self.entity}#{self.object_id}"


class ImportRejection(models.Model):
    """A row that was not imported and why; ``dry_run`` rows come from the check."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    dry_run = models.BooleanField(default=False)
    row = models.IntegerField()
    reason = models.TextField()
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "dry_run", "row"], name="import_rejection_idx")]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


class ImportKey(models.Model):
    """The id a record had in the system its file came from ("external id" column), so the
    same export imported again finds the record instead of creating it twice."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="keys")
    entity = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    object_id = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["entity", "key"], name="import_key_idx")]

    def __str__(self) -> str:
        return f"{self.entity}:{self.key}"
