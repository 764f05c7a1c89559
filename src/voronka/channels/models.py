"""Channels through which leads arrive by themselves: web forms on any website and inbound
webhooks of other systems (landing-page builders, marketplaces, call trackers).

Public endpoints are reached by an unguessable token in the URL, never by the row id, so a
form or a source cannot be found by counting."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

TOKEN_BYTES = 16  # 22 URL-safe characters: not guessable, short enough for a link


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class WebForm(models.Model):
    """A form an administrator builds; each submission becomes a lead.

    ``fields`` is the ordered list of inputs, each ``{"key", "label", "required"}`` where the
    key is a lead field (``email``) or a lead custom field (``custom.budget``)."""

    name = models.CharField(_("name"), max_length=128)
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    title = models.CharField(_("heading"), max_length=255, blank=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    button_text = models.CharField(_("button text"), max_length=64, blank=True)
    consent_required = models.BooleanField(_("consent checkbox"), default=False)
    consent_text = models.TextField(_("consent text"), blank=True)
    success_message = models.TextField(_("thank-you text"), blank=True)
    redirect_url = models.URLField(_("redirect to"), max_length=500, blank=True)
    source = models.CharField(_("lead source"), max_length=100, blank=True)
    allowed_origins = models.JSONField(_("allowed websites"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("web form")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("channels:form_edit", args=[self.pk])

    @property
    def lead_source(self) -> str:
        """What the lead's ``source`` says: the form's own setting, else its name."""
        return self.source or self.name


class FormSubmission(models.Model):
    """One accepted submission of a web form: what was typed, where the visitor came from,
    and the lead it created. Rejected input (errors, spam) leaves no row."""

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    lead = models.ForeignKey(
        "sales.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    page_url = models.CharField(max_length=2000, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["form", "-created_at", "-id"], name="formsub_form_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id}#{self.pk}"


class LeadSource(models.Model):
    """An inbound webhook: another system posts JSON to the source's URL with its secret.

    Only a hash of the secret is kept; the secret is shown once, when made or rotated."""

    name = models.CharField(_("name"), max_length=128)
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    secret_hint = models.CharField(max_length=8, blank=True, editable=False)
    source = models.CharField(_("lead source"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("lead source")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("channels:source_edit", args=[self.pk])

    @property
    def lead_source(self) -> str:
        return self.source or self.name


class InboundLead(models.Model):
    """A lead received through a webhook. ``external_id`` (the sender's id, when given) is
    unique per source: the same id again answers with the same lead instead of a new one."""

    source = models.ForeignKey(LeadSource, on_delete=models.CASCADE, related_name="received")
    external_id = models.CharField(max_length=255, blank=True)
    lead = models.ForeignKey(
        "sales.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="inbound_lead_external_uniq",
            )
        ]
        indexes = [models.Index(fields=["source", "-created_at"], name="inbound_source_idx")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id or self.pk}"


class RateLimitHit(models.Model):
    """One attempt on a public endpoint, counted over a short window.

    A table rather than the cache: the default cache is per process, and a limit that several
    server processes each count separately is no limit."""

    bucket = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["bucket", "created_at"], name="ratelimit_bucket_idx")]

    def __str__(self) -> str:
        return self.bucket
