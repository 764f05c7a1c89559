"""Cross-domain plumbing every domain uses: the outbox, audit history, notes, custom field
definitions, saved views and idempotency keys. It knows no domain model by name."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Through what a change came in; shown in the history next to who made it."""

    UI = "ui", _("web interface")
    API = "api", _("API")
    IMPORT = "import", _("import")
    AUTOMATION = "automation", _("automation")
    SYSTEM = "system", _("system")


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change it describes.

    Consumers (automation, webhooks, analytics) read it in id order and remember how far
    they got, so a consumer that is down loses nothing."""

    name = models.CharField(max_length=64)
    entity = models.CharField(max_length=64)
    entity_id = models.BigIntegerField()
    payload = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.SYSTEM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["entity", "entity_id", "id"], name="outbox_entity_idx")]

    def __str__(self) -> str:
        return f"{self.name} {self.entity}#{self.entity_id}"


class OutboxCursor(models.Model):
    """How far one consumer has read the outbox."""

    consumer = models.CharField(max_length=64, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.consumer}@{self.last_event_id}"


class AuditAction(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("updated")
    DELETE = "delete", _("deleted")
    MERGE = "merge", _("merged")


class AuditEntry(models.Model):
    """Who changed which field of which record from what to what, when and through what."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    changes = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.SYSTEM)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-id"], name="audit_record_idx")
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.content_type_id}#{self.object_id}"


class Note(models.Model):
    """A note on any record; its HTML is sanitized before it is stored."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    body_html = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-id"], name="note_record_idx")
        ]

    def __str__(self) -> str:
        return f"note {self.pk}"


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("text")
    LONG_TEXT = "long_text", _("long text")
    NUMBER = "number", _("number")
    MONEY = "money", _("money")
    DATE = "date", _("date")
    DATETIME = "datetime", _("date and time")
    SELECT = "select", _("select")
    MULTI_SELECT = "multi_select", _("multi-select")
    BOOLEAN = "boolean", _("yes/no")
    URL = "url", _("URL")
    EMAIL = "email", _("e-mail")
    PHONE = "phone", _("phone")


class CustomField(models.Model):
    """A field an administrator adds to an entity; values live in the record's ``custom`` JSON
    keyed by ``key``, validated by type on every write."""

    entity = models.CharField(max_length=64, db_index=True)
    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=128)
    type = models.CharField(max_length=16, choices=CustomFieldType.choices)
    required = models.BooleanField(default=False)
    options = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="custom_field_entity_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.key}"


class SavedView(models.Model):
    """A list's filters, sort and columns saved under a name, for one user or shared."""

    entity = models.CharField(max_length=64)
    name = models.CharField(max_length=128)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(default=False)
    query = models.CharField(max_length=2000, blank=True)
    columns = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` header, replayed on retry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    path = models.CharField(max_length=512)
    status_code = models.PositiveSmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "path"], name="idempotency_uniq")
        ]

    def __str__(self) -> str:
        return self.key


class Notification(models.Model):
    """An in-app notification (reminders, mentions, automation). ``dedupe_key`` makes a
    redelivered cause produce one notification, never two."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-id"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.title


class ConsumerReceipt(models.Model):
    """Proof that one consumer is done with one outbox event, written in the same transaction
    as the handler's own rows: a redelivered event finds its receipt and has no second effect.

    ``ok`` is false when the dispatcher gave up after the last attempt (the error is in
    :class:`ConsumerFailure`); a retry from the jobs page replaces the receipt."""

    consumer = models.CharField(max_length=64)
    event_id = models.BigIntegerField()
    ok = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consumer", "event_id"]
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event_id"], name="receipt_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.consumer}#{self.event_id}"


class ConsumerFailureStatus(models.TextChoices):
    RETRYING = "retrying", _("retrying")
    FAILED = "failed", _("failed")
    RESOLVED = "resolved", _("resolved")


class ConsumerFailure(models.Model):
    """A handler that raised on an event: how often, the last error and when to try again.
    Shown on the jobs page so an administrator sees what a consumer skipped."""

    consumer = models.CharField(max_length=64)
    event_id = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=ConsumerFailureStatus.choices, default=ConsumerFailureStatus.RETRYING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event_id"], name="consumer_failure_uniq")
        ]
        indexes = [models.Index(fields=["status", "-updated_at"], name="consumer_failure_st_idx")]

    def __str__(self) -> str:
        return f"{self.consumer}#{self.event_id} {self.status}"
