"""Fetching new mail: the poller's claim, and one mailbox's sync by IMAP UID.

Safe to stop at any point. Each message is stored by :func:`voronka.inbox.services.receive`
in its own transaction together with the advance of ``last_uid``, so a worker killed
mid-sync loses nothing (the next sync starts after the last message stored) and stores
nothing twice (receive is idempotent on the Message-ID, which also covers a refetch after
the server renumbered the folder, i.e. changed UIDVALIDITY).

Several workers run the poller; a mailbox is claimed with ``SELECT … FOR UPDATE SKIP
LOCKED`` and a lease (``locked_until``), so two workers never sync one mailbox at once, and a
dead worker's lease simply runs out."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core.errors import ServiceValidationError
from voronka.inbox.models import Message
from voronka.inbox.services import receive
from voronka.mail import connections
from voronka.mail.models import Mailbox
from voronka.mail.parsing import parse, to_incoming

log = logging.getLogger("voronka.mail")

LEASE = dt.timedelta(minutes=10)  # longer than any sync can take (see TIME_BUDGET)
BATCH = 200  # messages per sync; the rest come with the next one, right after
TIME_BUDGET = 20.0  # seconds a sync keeps fetching before it hands over to the next one
TICK_BUDGET = 25.0  # seconds one run of the periodic job spends on mailboxes
MANUAL_BATCH = 50  # "Sync now" runs in a web request: keep it short
MANUAL_TIME_BUDGET = 20.0
SKIPPED_KEPT = 20
MESSAGE_ATTEMPTS = 3  # syncs that try a message that cannot be stored before it is skipped
ERROR_LIMIT = 2000
DEFAULT_POLL_SECONDS = 60
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
TRUNCATED_BYTES = 512 * 1024  # of a message over the limit: headers and text, no files
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _setting(name: str, default: int) -> int:
    """A number from settings, else the environment, else the default: the lead may add the
    variable to settings.py, and it works from the environment until then."""
    raw = getattr(settings, name, None)
    if raw is None:
        raw = os.environ.get(name, "")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def poll_seconds() -> int:
    """``VORONKA_MAIL_POLL_SECONDS``: how often each mailbox is checked for new mail."""
    return _setting("VORONKA_MAIL_POLL_SECONDS", DEFAULT_POLL_SECONDS)


def max_message_bytes() -> int:
    """``VORONKA_MAIL_MAX_BYTES``: a message larger than this is kept without attachments."""
    return _setting("VORONKA_MAIL_MAX_BYTES", DEFAULT_MAX_BYTES)


@dataclass
class SyncResult:
    """What one sync did, for the page that asked, the API and the log."""

    mailbox_id: int
    stored: int = 0  # new messages in the CRM
    already: int = 0  # fetched again but stored before (a refetch, or our own reply)
    skipped: int = 0  # could not be stored; the reason is on the mailbox
    ignored: int = 0  # sent by the mailbox itself
    more: bool = False  # stopped at the batch size or time budget; the next sync goes on
    busy: bool = False  # another worker is syncing this mailbox now
    error: str = ""  # the sync failed (connection, login, folder)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error and not self.busy

    def as_dict(self) -> dict[str, Any]:
        return {
            "mailbox_id": self.mailbox_id, "ok": self.ok, "stored": self.stored,
            "already": self.already, "skipped": self.skipped, "ignored": self.ignored,
            "more": self.more, "busy": self.busy, "error": self.error,
            "problems": list(self.problems),
        }  # fmt: skip


def imap_endpoint(mailbox: Mailbox) -> connections.Endpoint:
    return connections.Endpoint(
        host=mailbox.imap_host, port=mailbox.imap_port, security=mailbox.imap_security,
        username=mailbox.imap_login, password=mailbox.imap_password,
    )  # fmt: skip


def smtp_endpoint(mailbox: Mailbox) -> connections.Endpoint:
    return connections.Endpoint(
        host=mailbox.smtp_host, port=mailbox.smtp_port, security=mailbox.smtp_security,
        username=mailbox.smtp_login, password=mailbox.smtp_secret,
    )  # fmt: skip


# --- claiming -----------------------------------------------------------------------------------


def _free(now: dt.datetime) -> Q:
    return Q(locked_until__isnull=True) | Q(locked_until__lt=now)


def claim_due(
    now: dt.datetime | None = None, limit: int = 5, exclude: Collection[int] = ()
) -> list[int]:
    """Active mailboxes whose turn has come and that no worker holds, leased to this one."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Mailbox.objects.select_for_update(skip_locked=True)
            .filter(_free(now), Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
            .filter(active=True)
            .exclude(pk__in=list(exclude))
            .order_by(F("next_sync_at").asc(nulls_first=True), "id")
            .values_list("id", flat=True)[:limit]
        )
        Mailbox.objects.filter(pk__in=ids).update(locked_until=now + LEASE)
    return ids


def claim(mailbox_id: int, now: dt.datetime | None = None) -> bool:
    """Lease one mailbox now (for "Sync now"), whatever its schedule; False when a worker
    is syncing it already."""
    now = now or timezone.now()
    with transaction.atomic():
        found = (
            Mailbox.objects.select_for_update(skip_locked=True)
            .filter(_free(now), pk=mailbox_id)
            .values_list("id", flat=True)
            .first()
        )
        if found is None:
            return False
        Mailbox.objects.filter(pk=mailbox_id).update(locked_until=now + LEASE)
    return True


# --- one sync -----------------------------------------------------------------------------------


def imap_date(day: dt.date) -> str:
    """01-Jan-2026, as IMAP SEARCH SINCE wants it whatever the locale."""
    return f"{day.day:02d}-{MONTHS[day.month - 1]}-{day.year}"


def fallback_id(mailbox: Mailbox, raw: bytes) -> str:
    """An id for a message without Message-ID, stable across refetches of the same bytes."""
    digest = hashlib.sha256(raw).hexdigest()[:24]
    return f"<no-id.{digest}@{mailbox.pk}.voronka>"


def _advance(mailbox: Mailbox, uidvalidity: int, uid: int) -> None:
    """Move the mark forward only: a slower worker whose lease ran out cannot move it back."""
    Mailbox.objects.filter(pk=mailbox.pk, uidvalidity=uidvalidity, last_uid__lt=uid).update(
        last_uid=uid
    )


def _store(mailbox: Mailbox, uidvalidity: int, uid: int, raw: bytes, truncated: bool) -> str:
    """Parse and store one message; "stored", "already" or "ignored"."""
    mail = parse(raw, truncated=truncated)
    if mail.from_address and mail.from_address == mailbox.address.lower():
        _advance(mailbox, uidvalidity, uid)
        return "ignored"
    incoming = to_incoming(
        mail,
        account=mailbox.account,
        # Not translated: assignment rules and reports match the source as stored.
        source=f"E-mail: {mailbox.name}",
        default_owner_id=mailbox.default_owner_id,
        fallback_id=fallback_id(mailbox, raw),
    )
    known = Message.objects.filter(
        account=incoming.account, external_id=incoming.external_id
    ).exists()
    with transaction.atomic():
        receive(incoming)
        _advance(mailbox, uidvalidity, uid)
    return "already" if known else "stored"


def _skip(mailbox: Mailbox, uidvalidity: int, uid: int, raw: bytes | None, error: str) -> None:
    """Record a message that cannot be stored and step past it, so it blocks no other."""
    subject = ""
    if raw:
        try:
            subject = parse(raw).subject
        except Exception:  # the subject is a courtesy in the report, nothing more
            subject = ""
    entry = {
        "uid": uid, "subject": subject[:200], "error": error[:500],
        "at": timezone.now().isoformat(),
    }  # fmt: skip
    with transaction.atomic():
        row = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        skipped = [entry, *list(row.skipped or [])][:SKIPPED_KEPT]
        Mailbox.objects.filter(pk=mailbox.pk).update(skipped=skipped)
        _advance(mailbox, uidvalidity, uid)


def _failed(
    mailbox: Mailbox, uidvalidity: int, uid: int, raw: bytes, reason: str, result: SyncResult
) -> bool:
    """A message could not be stored. The first times the sync stops there and the next
    poll tries again (the cause may pass: a full disk, a restart); after
    ``MESSAGE_ATTEMPTS`` tries it is skipped and recorded, so it blocks the mailbox no longer.
    True when the sync may go on."""
    attempts = mailbox.stuck_attempts + 1 if mailbox.stuck_uid == uid else 1
    if attempts < MESSAGE_ATTEMPTS:
        Mailbox.objects.filter(pk=mailbox.pk).update(stuck_uid=uid, stuck_attempts=attempts)
        mailbox.stuck_uid, mailbox.stuck_attempts = uid, attempts
        result.error = _(
            "message UID %(uid)s could not be stored (try %(n)d of %(max)d): %(error)s"
        ) % {"uid": uid, "n": attempts, "max": MESSAGE_ATTEMPTS, "error": reason}
        log.warning("mailbox %s: %s", mailbox.pk, result.error)
        return False
    log.warning("mailbox %s: message UID %s skipped: %s", mailbox.pk, uid, reason)
    _skip(mailbox, uidvalidity, uid, raw, reason)
    Mailbox.objects.filter(pk=mailbox.pk).update(stuck_uid=None, stuck_attempts=0)
    mailbox.stuck_uid, mailbox.stuck_attempts = None, 0
    result.skipped += 1
    result.problems.append(
        _("message UID %(uid)s skipped: %(error)s") % {"uid": uid, "error": reason}
    )
    return True


def _reason(exc: Exception) -> str:
    if isinstance(exc, ServiceValidationError):
        return exc.detail
    return f"{type(exc).__name__}: {exc}"


def _finish(mailbox: Mailbox, result: SyncResult) -> None:
    now = timezone.now()
    next_at = (
        now if result.more and not result.error else now + dt.timedelta(seconds=poll_seconds())
    )
    changes: dict[str, Any] = {"locked_until": None, "next_sync_at": next_at}
    if result.error:
        changes.update(last_error=result.error[:ERROR_LIMIT], last_error_at=now)
    else:
        changes["last_sync_at"] = now
        if result.problems:
            text = "; ".join(result.problems)
            changes.update(last_error=text[:ERROR_LIMIT], last_error_at=now)
        else:
            changes["last_error"] = ""
    Mailbox.objects.filter(pk=mailbox.pk).update(**changes)
    log.info("mailbox %s synced: %s", mailbox.pk, result.as_dict())


def _run(mailbox: Mailbox, result: SyncResult, limit: int, budget: float) -> None:
    endpoint = imap_endpoint(mailbox)
    deadline = time.monotonic() + budget
    limit_bytes = max_message_bytes()
    with connections.imap(endpoint) as conn:
        state = connections.select(conn, mailbox.folder)
        after = mailbox.last_uid
        if mailbox.uidvalidity != state.uidvalidity:
            # A new folder, or the server renumbered it: read it again from the start;
            # receive() recognises what is stored already by its Message-ID.
            Mailbox.objects.filter(pk=mailbox.pk).update(
                uidvalidity=state.uidvalidity, last_uid=0, stuck_uid=None, stuck_attempts=0
            )
            mailbox.uidvalidity, mailbox.last_uid, after = state.uidvalidity, 0, 0
            mailbox.stuck_uid, mailbox.stuck_attempts = None, 0
        since = imap_date(mailbox.import_since) if mailbox.import_since else ""
        uids = connections.new_uids(conn, after, since)
        result.more = len(uids) > limit
        uids = uids[:limit]
        size_of = connections.sizes(conn, uids)
        for uid in uids:
            if time.monotonic() > deadline:
                result.more = True
                break
            too_big = size_of.get(uid, 0) > limit_bytes
            raw = connections.fetch(conn, uid, first_bytes=TRUNCATED_BYTES if too_big else None)
            if raw is None:  # deleted since the search
                _advance(mailbox, state.uidvalidity, uid)
                continue
            try:
                outcome = _store(mailbox, state.uidvalidity, uid, raw, too_big)
            except (OperationalError, InterfaceError):
                raise  # the database, not the message: stop here and try again later
            except Exception as exc:  # a message that cannot be stored: retried, then skipped
                if not _failed(mailbox, state.uidvalidity, uid, raw, _reason(exc), result):
                    return
                continue
            if mailbox.stuck_uid == uid:
                Mailbox.objects.filter(pk=mailbox.pk).update(stuck_uid=None, stuck_attempts=0)
                mailbox.stuck_uid, mailbox.stuck_attempts = None, 0
            if outcome == "stored":
                result.stored += 1
            elif outcome == "already":
                result.already += 1
            else:
                result.ignored += 1


def mailbox_sync(
    mailbox_id: int, *, limit: int = BATCH, budget: float = TIME_BUDGET, claimed: bool = True
) -> SyncResult:
    """Fetch the new messages of one mailbox this worker has claimed (see :func:`claim`)
    and release it. A failure (connection, login, folder) is recorded on the mailbox as its
    ``last_error``; it is never raised to the caller."""
    result = SyncResult(mailbox_id=mailbox_id)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        result.error = _("the mailbox no longer exists")
        return result
    if not claimed and not claim(mailbox_id):
        result.busy = True
        return result
    try:
        _run(mailbox, result, limit, budget)
    except Exception as exc:  # recorded on the mailbox for the administrator; never fatal
        result.error = connections.describe(exc, imap_endpoint(mailbox))
        log.warning("mailbox %s sync failed: %s", mailbox.pk, result.error)
    _finish(mailbox, result)
    return result


def sync_now(mailbox_id: int) -> SyncResult:
    """ "Sync now" from the page or the API: a short sync right away, unless one runs."""
    return mailbox_sync(mailbox_id, limit=MANUAL_BATCH, budget=MANUAL_TIME_BUDGET, claimed=False)


def poll_due(now: dt.datetime | None = None) -> int:
    """The periodic job: sync the mailboxes that are due, one claimed at a time, for at most
    ``TICK_BUDGET`` seconds (the worker's other periodic jobs wait meanwhile; what is left
    waits for the next tick or another worker). Returns how many messages came."""
    stored = 0
    done: set[int] = set()  # one sync per mailbox per run, whatever its schedule says
    deadline = time.monotonic() + TICK_BUDGET
    while (left := deadline - time.monotonic()) > 1:
        claimed = claim_due(now, limit=1, exclude=done)
        if not claimed:
            break
        done.add(claimed[0])
        stored += mailbox_sync(claimed[0], budget=min(TIME_BUDGET, max(left, 5.0))).stored
    return stored
