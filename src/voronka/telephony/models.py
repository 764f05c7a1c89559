"""Telephony: cloud PBX integrations, call tracking numbers and the calls they report.

A :class:`PbxIntegration` is one connected PBX account. The PBX posts its call events to
``/telephony/hook/<token>/``; the token finds the integration and the integration's secret
proves the sender (each provider signs in its own way, see :mod:`voronka.telephony.adapters`).
Events become one :class:`Call` per PBX call id; the finished call lands on the customer's
timeline through the inbox. A :class:`TrackingNumber` is a number published in one
advertising channel: a call to it carries that channel as the lead's source."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from voronka.core.visibility import owner_ids_visible_to

TOKEN_BYTES = 16  # 22 URL-safe characters: not guessable, short enough to paste


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class Provider(models.TextChoices):
    MANGO = "mango", _("Mango Office (VPBX API)")
    ZADARMA = "zadarma", _("Zadarma")
    GENERIC = "generic", _("Generic JSON (Voronka format)")


class PbxIntegration(models.Model):
    """One connected PBX account.

    ``secret`` is what the provider signs with (Mango's salt, Zadarma's API secret, our own
    HMAC key for the generic format). It must be kept as it is to check a signature, so it is
    stored, but never shown back after saving: pages and the API show ``secret_hint``.
    ``api_key`` is Mango's ``vpbx_api_key``, which every Mango request names."""

    name = models.CharField(_("name"), max_length=128)
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    api_key = models.CharField(_("API key"), max_length=255, blank=True)
    secret = models.CharField(_("secret"), max_length=255, blank=True)
    secret_hint = models.CharField(max_length=8, blank=True)
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("default manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    active = models.BooleanField(_("active"), default=True)
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("PBX integration")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("telephony:integration", args=[self.pk])

    @property
    def account(self) -> str:
        """The inbox account of this PBX's conversations."""
        return f"pbx:{self.pk}"


class TrackingNumber(models.Model):
    """A phone number published in one advertising channel (call tracking). A call to it
    names the channel as the new lead's source and its UTM tags."""

    number = models.CharField(_("number"), max_length=20, unique=True)  # E.164
    source = models.CharField(_("source"), max_length=100)
    utm_source = models.CharField(_("utm_source"), max_length=255, blank=True)
    utm_campaign = models.CharField(_("utm_campaign"), max_length=255, blank=True)
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("default manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["source", "number", "id"]
        verbose_name = _("tracking number")

    def __str__(self) -> str:
        return f"{self.number} ({self.source})"


class Extension(models.Model):
    """Who answers at an internal number of a PBX: the user a call to that extension is for.
    Kept here rather than on the user, since each PBX numbers its extensions its own way."""

    integration = models.ForeignKey(
        PbxIntegration, on_delete=models.CASCADE, related_name="extensions"
    )
    extension = models.CharField(_("extension"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["extension", "id"]
        verbose_name = _("extension")
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "extension"], name="telephony_extension_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.extension


class CallDirection(models.TextChoices):
    IN = "in", _("incoming")
    OUT = "out", _("outgoing")


class CallStatus(models.TextChoices):
    RINGING = "ringing", _("ringing")
    ANSWERED = "answered", _("answered")
    MISSED = "missed", _("missed")
    COMPLETED = "completed", _("completed")


FINAL_STATUSES = (CallStatus.MISSED, CallStatus.COMPLETED)
# A call only moves forward: a late "ringing" never undoes "answered", nor an end.
STATUS_RANK = {
    CallStatus.RINGING: 0,
    CallStatus.ANSWERED: 1,
    CallStatus.MISSED: 2,
    CallStatus.COMPLETED: 2,
}


class CallQuerySet(models.QuerySet["Call"]):
    def visible_to(self, user: Any) -> CallQuerySet:
        """Calls of contacts and leads the user may see, and calls the user took."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        owners = owner_ids_visible_to(user)
        if owners is None:
            return self
        return self.filter(
            Q(manager_id=user.pk) | Q(contact__owner_id__in=owners) | Q(lead__owner_id__in=owners)
        )


class Call(models.Model):
    """One call as the PBX reported it, from the first event to the summary.

    ``external_id`` is the PBX's id of the call (Mango's entry_id, Zadarma's pbx_call_id),
    unique per integration. ``events`` keeps every event received (its key and raw data), so a
    redelivered event is recognised and changes nothing. ``logged_at`` is set once the
    finished call was written to the CRM (timeline, activity, lead, task)."""

    integration = models.ForeignKey(
        PbxIntegration, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    external_id = models.CharField(max_length=255)
    direction = models.CharField(_("direction"), max_length=3, choices=CallDirection.choices)
    status = models.CharField(_("status"), max_length=16, choices=CallStatus.choices)
    caller = models.CharField(_("from"), max_length=64, blank=True)
    called = models.CharField(_("to"), max_length=64, blank=True)
    extension = models.CharField(_("extension"), max_length=64, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration, s"), null=True, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    recording_ref = models.CharField(max_length=255, blank=True)  # the PBX's recording id
    tracking_number = models.ForeignKey(
        TrackingNumber, verbose_name=_("tracking number"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="calls",
    )  # fmt: skip
    source = models.CharField(_("source"), max_length=100, blank=True)
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    lead = models.ForeignKey(
        "sales.Lead", verbose_name=_("lead"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activity = models.ForeignKey(
        "sales.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    callback_task = models.ForeignKey(
        "sales.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    events = models.JSONField(default=list, blank=True)
    logged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("call")
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "external_id"], name="telephony_call_external_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["-started_at", "-id"], name="call_recent_idx"),
            models.Index(fields=["manager", "-started_at"], name="call_manager_idx"),
            models.Index(fields=["contact", "-started_at"], name="call_contact_idx"),
            models.Index(fields=["lead", "-started_at"], name="call_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.caller or '?'} → {self.called or '?'}"

    def get_absolute_url(self) -> str:
        return reverse("telephony:call", args=[self.pk])

    @property
    def customer_number(self) -> str:
        """The customer's side: who called in, or whom we called."""
        return self.caller if self.direction == CallDirection.IN else self.called


class RingingAlert(models.Model):
    """A call ringing for a user right now: what the pop-up shows. Rows go when the call is
    answered or ends; the pop-up also ignores rows older than a few minutes, so a PBX that
    never reports the end cannot leave a card on screen."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="alerts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], name="telephony_alert_uniq")
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="ringing_user_idx")]

    def __str__(self) -> str:
        return f"{self.call_id}:{self.user_id}"
