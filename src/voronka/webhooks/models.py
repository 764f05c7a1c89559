"""Outbound HTTP: webhook subscriptions and their deliveries, and stage actions (buttons on a
pipeline stage that send the deal to another system). Every request is a durable row first;
a periodic job sends due rows through :func:`voronka.webhooks.http.safe_request` and retries."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    return secrets.token_hex(24)


class WebhookSubscription(models.Model):
    """An external URL that wants some domain events, signed with its own secret."""

    name = models.CharField(_("name"), max_length=128)
    url = models.URLField(_("URL"), max_length=1000)
    events = models.JSONField(_("events"), default=list, blank=True)  # empty: every event
    secret = models.CharField(_("secret"), max_length=128, default=new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_name: str) -> bool:
        return self.is_active and (not self.events or event_name in self.events)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")


class WebhookDelivery(models.Model):
    """One event for one subscription: the payload, every attempt's outcome and when to try
    again. ``id`` is the delivery id the receiver sees (``X-Voronka-Delivery``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.BigIntegerField(null=True, blank=True)
    event = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_request = models.JSONField(default=dict, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"],
                name="webhook_delivery_event_uniq",
                condition=models.Q(event_id__isnull=False),
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_sub_idx"),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.status})"


class StageAction(models.Model):
    """A button on a pipeline stage: pressing it on a deal POSTs the customer and the deal's
    products to ``url`` (an order system, a warehouse) and shows the answer on the deal."""

    stage = models.ForeignKey(
        "sales.Stage", verbose_name=_("stage"), on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(_("label"), max_length=64)
    url = models.URLField(_("URL"), max_length=1000)
    method = models.CharField(_("method"), max_length=8, default="POST")
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stage", "position", "id"]

    def __str__(self) -> str:
        return self.label


class RunStatus(models.TextChoices):
    PENDING = "pending", _("sending")
    SUCCEEDED = "succeeded", _("done")
    FAILED = "failed", _("failed")


class StageActionRun(models.Model):
    """One press of a stage action button. ``id`` is sent as ``Idempotency-Key``, so a retry
    after a timeout creates one order on the receiver's side, not two."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    action = models.ForeignKey(StageAction, on_delete=models.CASCADE, related_name="runs")
    deal = models.ForeignKey("sales.Deal", on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="stage_run_due_idx"),
            models.Index(fields=["deal", "-created_at"], name="stage_run_deal_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action_id} on deal {self.deal_id} ({self.status})"
