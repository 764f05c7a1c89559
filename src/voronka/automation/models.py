"""No-code rules: a trigger, conditions and ordered actions, plus the durable log of every run.

A run is written in the same transaction as its effects, so a redelivered event finds the run
(unique per rule and event) and does nothing twice. A "wait" step leaves a
:class:`PendingStep` that a periodic job resumes once it is due."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Rule(models.Model):
    """One automation rule. ``trigger``, ``conditions`` and ``actions`` are JSON documents
    validated by :func:`voronka.automation.schema.clean_rule`; ``state`` keeps small per-rule
    memory such as the round-robin pointer."""

    name = models.CharField(_("name"), max_length=128)
    active = models.BooleanField(_("active"), default=False)
    trigger = models.JSONField(default=dict)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    state = models.JSONField(default=dict, blank=True)
    recipe = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    runs_total = models.PositiveIntegerField(default=0)
    runs_failed = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["active", "id"], name="automation_rule_active_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("automation:rule_edit", args=[self.pk])


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    WAITING = "waiting", _("waiting")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("skipped")


class RuleRun(models.Model):
    """One execution of a rule for one record (or none, for record-less events)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    entity = models.CharField(max_length=64, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    event_id = models.BigIntegerField(null=True, blank=True)
    occurrence = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    reason = models.CharField(max_length=255, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    test = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="automation_run_event_uniq",
            ),
            models.UniqueConstraint(
                fields=["rule", "entity", "record_id", "occurrence"],
                condition=~models.Q(occurrence=""),
                name="automation_run_occurrence_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["rule", "-id"], name="automation_run_rule_idx"),
            models.Index(
                fields=["rule", "entity", "record_id", "started_at"], name="automation_run_rate_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of rule {self.rule_id}"


class StepStatus(models.TextChoices):
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    WAITING = "waiting", _("waiting")
    PREVIEW = "preview", _("would do")


class RunStep(models.Model):
    """What one action of a run did (or, in a dry run, would do)."""

    run = models.ForeignKey(RuleRun, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=StepStatus.choices)
    result = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "index", "id"]

    def __str__(self) -> str:
        return f"step {self.index} of run {self.run_id}"


class PendingStep(models.Model):
    """A waiting run's continuation: resume ``run`` at ``step_index`` once ``due_at`` passes."""

    run = models.OneToOneField(RuleRun, on_delete=models.CASCADE, related_name="pending")
    step_index = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["due_at", "id"], name="automation_pending_due_idx")]

    def __str__(self) -> str:
        return f"resume run {self.run_id} at {self.due_at}"


class EventOrigin(models.Model):
    """Marks an outbox event as caused by an automation run, with the run's depth, so the
    rule engine can refuse to chase its own effects forever."""

    event_id = models.BigIntegerField(unique=True)
    run = models.ForeignKey(RuleRun, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"event {self.event_id} from run {self.run_id}"


class HttpCallStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class AutomationHttpCall(models.Model):
    """A webhook call a rule asked for, delivered later by a periodic job with retries (no
    network inside the event handler's transaction)."""

    run = models.ForeignKey(RuleRun, on_delete=models.CASCADE, related_name="http_calls")
    step_index = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=8, default="POST")
    url = models.CharField(max_length=1000)
    body = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=HttpCallStatus.choices, default=HttpCallStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_attempt_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step_index"], name="automation_http_step_uniq")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="automation_http_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.url}"
