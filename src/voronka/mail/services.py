"""Every write of the mail settings: adding, changing and deleting a mailbox, and checking a
mailbox's settings against its servers. Administrators only.

A password left empty keeps the stored one, so a form never has to show it back. Pointing a
mailbox at another server, login or folder starts reading that folder afresh (messages
already stored are recognised by their Message-ID and kept once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.errors import Collector
from voronka.core.models import Channel
from voronka.core.text import normalize_email
from voronka.customers.validation import clean_bool, clean_date, clean_str
from voronka.mail import connections
from voronka.mail.models import IMAP_PORTS, SMTP_PORTS, Mailbox, Security
from voronka.mail.sync import imap_endpoint, smtp_endpoint
from voronka.sales.services.common import require_admin, unknown_fields

MAILBOX_ENTITY = "mail.mailbox"
PASSWORDS = ("imap_password", "smtp_password")
TEXT_LIMITS = {
    "name": 128, "address": 254, "imap_host": 255, "imap_username": 255, "folder": 255,
    "smtp_host": 255, "smtp_username": 255, "imap_password": 255, "smtp_password": 255,
}  # fmt: skip
FIELDS = {*TEXT_LIMITS, "imap_port", "imap_security", "smtp_port", "smtp_security",
          "default_owner_id", "import_since", "active"}  # fmt: skip
REQUIRED = ("name", "address", "imap_host", "smtp_host")
# A change of these points the mailbox at another folder: read it from the start.
LOCATION = ("imap_host", "imap_port", "imap_username", "folder")
AUDITED = sorted(FIELDS - set(PASSWORDS))
IMPORT_DAYS = 7  # a new mailbox brings the last week's mail, not years of it


def _clean_host(errors: Collector, data: dict[str, Any], name: str) -> None:
    value = data.get(name)
    if (
        isinstance(value, str)
        and value
        and (any(ch.isspace() for ch in value) or "/" in value or ":" in value.strip("[]"))
    ):
        errors.add(name, _("write the server name only, e.g. imap.example.com"))


def _clean_port(errors: Collector, data: dict[str, Any], name: str) -> None:
    if name not in data:
        return
    value = data[name]
    if value in (None, ""):
        data[name] = None  # filled in from the security setting below
        return
    if isinstance(value, bool):
        errors.add(name, _("must be a port number from 1 to 65535"))
        return
    try:
        port = int(str(value).strip())
    except ValueError:
        errors.add(name, _("must be a port number from 1 to 65535"))
        return
    if not 1 <= port <= 65535:
        errors.add(name, _("must be a port number from 1 to 65535"))
        return
    data[name] = port


def _clean_security(errors: Collector, data: dict[str, Any], name: str) -> None:
    if name in data and data[name] not in Security.values:
        errors.add(name, _("must be one of: %(values)s") % {"values": ", ".join(Security.values)})


def _clean_owner(errors: Collector, data: dict[str, Any]) -> None:
    if "default_owner_id" not in data:
        return
    value = data["default_owner_id"]
    if value in (None, ""):
        data["default_owner_id"] = None
        return
    try:
        pk = int(value)
    except (TypeError, ValueError):
        errors.add("default_owner_id", _("no such active user"))
        return
    if (
        isinstance(value, bool)
        or not get_user_model().objects.filter(pk=pk, is_active=True).exists()
    ):
        errors.add("default_owner_id", _("no such active user"))
        return
    data["default_owner_id"] = pk


def _clean(data: dict[str, Any], *, instance: Mailbox | None) -> Collector:
    errors = Collector()
    unknown_fields(errors, data, FIELDS)
    for name, limit in TEXT_LIMITS.items():
        if name in PASSWORDS and data.get(name) is None:
            data.pop(name, None)  # null keeps the stored password, like an empty one
            continue
        clean_str(errors, data, name, limit)
    for name in PASSWORDS:
        if name in data and not data[name]:
            del data[name]
    for name in REQUIRED:
        if (instance is None or name in data) and not data.get(name):
            errors.add(name, _("this field is required"))
    if data.get("address"):
        try:
            data["address"] = normalize_email(data["address"])
        except ValueError:
            errors.add("address", _("enter a valid e-mail address"))
    if "folder" in data and not data["folder"]:
        data["folder"] = "INBOX"
    for name in ("imap_host", "smtp_host"):
        _clean_host(errors, data, name)
    for name in ("imap_port", "smtp_port"):
        _clean_port(errors, data, name)
    for name in ("imap_security", "smtp_security"):
        _clean_security(errors, data, name)
    clean_bool(errors, data, "active")
    clean_date(errors, data, "import_since")
    _clean_owner(errors, data)
    return errors


def _default_ports(data: dict[str, Any], mailbox: Mailbox) -> None:
    """An empty port takes the usual one for the chosen security (993, 143, 465, 587, 25)."""
    if data.get("imap_port") is None and ("imap_port" in data or mailbox.pk is None):
        data["imap_port"] = IMAP_PORTS[Security(data.get("imap_security", mailbox.imap_security))]
    if data.get("smtp_port") is None and ("smtp_port" in data or mailbox.pk is None):
        data["smtp_port"] = SMTP_PORTS[Security(data.get("smtp_security", mailbox.smtp_security))]


def _password_again(errors: Collector, values: dict[str, Any], mailbox: Mailbox | None) -> None:
    """A stored password goes only to the server it was typed for: pointing the mailbox at
    another server needs it typed again, so nobody who lacks it can send it elsewhere."""
    if mailbox is None or mailbox.pk is None:
        return
    again = _("type the password again: the server changed")
    imap_moved = values.get("imap_host", mailbox.imap_host) != mailbox.imap_host
    if imap_moved and mailbox.imap_password and not values.get("imap_password"):
        errors.add("imap_password", again)
    smtp_moved = values.get("smtp_host", mailbox.smtp_host) != mailbox.smtp_host
    typed = values.get("smtp_password") or values.get("imap_password")
    if smtp_moved and mailbox.smtp_secret and not typed:
        errors.add("smtp_password", again)


def _snapshot(mailbox: Mailbox) -> dict[str, Any]:
    values = {name: getattr(mailbox, name) for name in AUDITED}
    for name in PASSWORDS:
        values[name] = "set" if getattr(mailbox, name) else ""
    return values


def mailbox_create(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> Mailbox:
    """A new mailbox; it is synced by the next poll. Without ``import_since`` it brings the
    last week's mail; ``import_since: null`` brings all of the folder."""
    require_admin(actor)
    values = dict(data)
    if "import_since" not in values:
        values["import_since"] = timezone.localdate() - dt.timedelta(days=IMPORT_DAYS)
    _clean(values, instance=None).raise_if_any()
    mailbox = Mailbox()
    _default_ports(values, mailbox)
    with transaction.atomic():
        for name, value in values.items():
            setattr(mailbox, name, value)
        mailbox.save()
        audit.record(mailbox, action="create", changes=_snapshot(mailbox), actor=actor,
                     channel=channel)  # fmt: skip
        events.publish("mailbox.created", entity=MAILBOX_ENTITY, entity_id=mailbox.pk,
                       payload={"name": mailbox.name, "address": mailbox.address},
                       actor=actor, channel=channel)  # fmt: skip
    return mailbox


def mailbox_update(
    *, actor: Any, mailbox: Mailbox, changes: Mapping[str, Any], channel: str = Channel.UI
) -> Mailbox:
    """Change only the keys given; an empty or null password keeps the stored one."""
    require_admin(actor)
    values = dict(changes)
    errors = _clean(values, instance=mailbox)
    _password_again(errors, values, mailbox)
    errors.raise_if_any()
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        _default_ports(values, mailbox)
        before = _snapshot(mailbox)
        moved = any(name in values and values[name] != getattr(mailbox, name) for name in LOCATION)
        for name, value in values.items():
            setattr(mailbox, name, value)
        if moved:
            mailbox.uidvalidity, mailbox.last_uid = None, 0
            mailbox.stuck_uid, mailbox.stuck_attempts = None, 0
        if "active" in values or moved:
            mailbox.next_sync_at = None  # check it at the next poll
        mailbox.save()
        changed = audit.diff(before, _snapshot(mailbox))
        for name in PASSWORDS:
            if name in values and name not in changed:
                changed[name] = ["set", "changed"]
        if changed:
            audit.record(mailbox, action="update", changes=changed, actor=actor, channel=channel)
    return mailbox


def mailbox_delete(*, actor: Any, mailbox: Mailbox, channel: str = Channel.UI) -> None:
    """The settings go; the conversations and messages fetched stay in the inbox (replies
    in them can no longer be sent)."""
    require_admin(actor)
    with transaction.atomic():
        audit.record(mailbox, action="delete", changes={"name": mailbox.name,
                     "address": mailbox.address}, actor=actor, channel=channel)  # fmt: skip
        events.publish("mailbox.deleted", entity=MAILBOX_ENTITY, entity_id=mailbox.pk,
                       payload={"name": mailbox.name, "address": mailbox.address},
                       actor=actor, channel=channel)  # fmt: skip
        mailbox.delete()


# --- checking the settings ----------------------------------------------------------------------


@dataclass
class ConnectionReport:
    imap: connections.Check
    smtp: connections.Check

    def as_dict(self) -> dict[str, Any]:
        return {
            "imap": {"ok": self.imap.ok, "message": self.imap.message},
            "smtp": {"ok": self.smtp.ok, "message": self.smtp.message},
        }


def mailbox_test_connection(
    *, actor: Any, data: Mapping[str, Any], mailbox: Mailbox | None = None
) -> ConnectionReport:
    """Log in to the IMAP and the SMTP server with these settings (unsaved ones, from the
    form; an empty password means the stored one). Writes nothing."""
    require_admin(actor)
    values = dict(data)
    errors = _clean(values, instance=mailbox)
    errors.errors = [e for e in errors.errors if e.field not in REQUIRED]
    _password_again(errors, values, mailbox)
    errors.raise_if_any()
    probe = Mailbox()
    if mailbox is not None:
        for name in (*AUDITED, *PASSWORDS):
            setattr(probe, name, getattr(mailbox, name))
        probe.pk = mailbox.pk
    _default_ports(values, probe)
    for name, value in values.items():
        setattr(probe, name, value)
    missing = _("fill in the server first")
    imap_check = (
        connections.check_imap(imap_endpoint(probe), probe.folder)
        if probe.imap_host
        else connections.Check(False, missing)
    )
    smtp_check = (
        connections.check_smtp(smtp_endpoint(probe))
        if probe.smtp_host
        else connections.Check(False, missing)
    )
    return ConnectionReport(imap=imap_check, smtp=smtp_check)
