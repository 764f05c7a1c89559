"""Mailboxes connected to the CRM: mail is fetched over IMAP and replies go out over SMTP.

Every message fetched becomes an :class:`voronka.inbox.models.Message` in the account
``mailbox:<pk>``; this app keeps only the connection settings and where the last sync
stopped (``uidvalidity`` and ``last_uid``), so a sync fetches only what is new."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("none (plain text)")


IMAP_PORTS = {Security.SSL: 993, Security.STARTTLS: 143, Security.NONE: 143}
SMTP_PORTS = {Security.SSL: 465, Security.STARTTLS: 587, Security.NONE: 25}


class Mailbox(models.Model):
    """One mailbox: where its mail is read (IMAP) and how replies are sent (SMTP).

    The passwords are stored as they are because the server needs them to log in; they are
    never shown back (see :attr:`imap_password_hint`). ``last_uid`` is the IMAP UID of the
    last message stored, valid only while the folder's ``uidvalidity`` stays the same.
    ``locked_until`` is a worker's lease on the mailbox while it syncs; ``next_sync_at`` is
    when the poller takes it next."""

    name = models.CharField(_("name"), max_length=128)
    address = models.EmailField(_("address"), max_length=254)
    imap_host = models.CharField(_("IMAP server"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=16, choices=Security.choices, default=Security.SSL
    )
    imap_username = models.CharField(_("IMAP login"), max_length=255, blank=True)
    imap_password = models.CharField(_("IMAP password"), max_length=255, blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    smtp_host = models.CharField(_("SMTP server"), max_length=255)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=465)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=16, choices=Security.choices, default=Security.SSL
    )
    smtp_username = models.CharField(_("SMTP login"), max_length=255, blank=True)
    smtp_password = models.CharField(_("SMTP password"), max_length=255, blank=True)
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("manager of new conversations"), null=True,
        blank=True, on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    import_since = models.DateField(_("import mail since"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # A message that failed to be stored, and how many syncs tried it (see mail.sync).
    stuck_uid = models.BigIntegerField(null=True, blank=True)
    stuck_attempts = models.PositiveSmallIntegerField(default=0)
    # The last messages skipped after those tries: {"uid", "subject", "error", "at"}.
    skipped = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        indexes = [models.Index(fields=["active", "next_sync_at"], name="mailbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def get_absolute_url(self) -> str:
        return reverse("mail:mailbox_edit", args=[self.pk])

    @property
    def account(self) -> str:
        """The inbox account of this mailbox's conversations and messages."""
        return f"mailbox:{self.pk}"

    @property
    def imap_login(self) -> str:
        return self.imap_username or self.address

    @property
    def smtp_login(self) -> str:
        return self.smtp_username or self.imap_username or self.address

    @property
    def smtp_secret(self) -> str:
        """The SMTP password, else the IMAP one: most providers use one password for both."""
        return self.smtp_password or self.imap_password

    @property
    def imap_password_hint(self) -> str:
        return password_hint(self.imap_password)

    @property
    def smtp_password_hint(self) -> str:
        return password_hint(self.smtp_password)


HINT_MIN_LENGTH = 12


def password_hint(password: str) -> str:
    """What the pages and the API show of a stored password: its last four characters when it
    is long enough that they give little away (app passwords are 16), else only that it is
    set."""
    if not password:
        return ""
    if len(password) >= HINT_MIN_LENGTH:
        return "…" + password[-4:]
    return "••••"
