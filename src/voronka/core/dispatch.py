"""Event dispatch: hand each outbox event to every consumer that asked for it, in order.

A consumer is a name, a handler and the event names it wants. The dispatcher reads
``core.OutboxEvent`` in id order from the consumer's cursor and calls the handler inside a
transaction that also inserts a :class:`~voronka.core.models.ConsumerReceipt`; the handler's
rows, the receipt and the cursor commit together or not at all. So a worker killed at any point
redelivers the event later, and the receipt makes that redelivery a no-op: at-least-once
delivery, exactly-once database effect.

Handlers write durable rows only (a queued message, a webhook delivery). Anything outside the
database (SMTP, HTTP) is done later by a job that reads those rows and retries.

A handler that raises is retried with backoff; the consumer waits (its order matters) but other
consumers go on. After ``VORONKA_DISPATCH_MAX_ATTEMPTS`` the event is recorded as failed (see
:class:`~voronka.core.models.ConsumerFailure`, shown on the jobs page) and the consumer moves on.

Several workers may dispatch at once: on PostgreSQL each consumer's cursor row is locked with
``FOR UPDATE SKIP LOCKED`` so a busy consumer is skipped, not waited for; SQLite serializes
writers (the connection begins ``IMMEDIATE`` transactions), so one batch runs at a time.

Events from concurrent PostgreSQL transactions can become visible out of id order (id 10
commits after id 11). The dispatcher therefore reads "after the cursor and without a receipt",
and moves the cursor only past events older than ``VORONKA_DISPATCH_SETTLE_SECONDS``: a late
event is still found, and the receipts keep the window cheap to re-read."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from voronka.core.models import (
    ConsumerFailure,
    ConsumerFailureStatus,
    ConsumerReceipt,
    OutboxCursor,
    OutboxEvent,
)

log = logging.getLogger("voronka.dispatch")

Handler = Callable[[OutboxEvent], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler
    events: frozenset[str] | None  # None: every event


_consumers: dict[str, Consumer] = {}
_batch = threading.local()


def batch_memo(key: str, factory: Callable[[], T]) -> T:
    """A value computed once per dispatcher batch (a consumer's subscriptions, say).

    Handlers run once per event; reading the same settings rows for each of thousands of
    events is what makes a burst slow. The memo lives for one batch transaction only, so it
    never outlives a rollback. Outside a batch, ``factory`` is simply called."""
    memo: dict[str, Any] | None = getattr(_batch, "memo", None)
    if memo is None:
        return factory()
    if key not in memo:
        memo[key] = factory()
    return memo[key]  # type: ignore[no-any-return]


def register_consumer(name: str, handler: Handler, *, events: set[str] | None = None) -> None:
    """Subscribe ``handler`` to the outbox; ``events`` are names like "deal.stage_changed"."""
    if len(name) > 64:
        raise ValueError("consumer name longer than 64 characters")
    _consumers[name] = Consumer(name, handler, frozenset(events) if events is not None else None)


def unregister_consumer(name: str) -> None:
    """Forget a consumer (tests register throw-away ones)."""
    _consumers.pop(name, None)


def consumers() -> list[Consumer]:
    return list(_consumers.values())


def _setting_int(name: str, default: int) -> int:
    value = getattr(settings, name, None) or os.environ.get(name)
    return int(value) if value not in (None, "") else default


def max_attempts() -> int:
    return _setting_int("VORONKA_DISPATCH_MAX_ATTEMPTS", 5)


def _settle_seconds() -> int:
    # SQLite has one writer at a time, so ids become visible in order: no window needed.
    default = 60 if connection.vendor == "postgresql" else 0
    return _setting_int("VORONKA_DISPATCH_SETTLE_SECONDS", default)


def backoff(attempts: int) -> dt.timedelta:
    """5 s, 10 s, 20 s … capped at 10 minutes."""
    return dt.timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 600))


def dispatch_pending(
    limit: int = 500, *, only: Iterable[str] | None = None, now: dt.datetime | None = None
) -> int:
    """Run one batch (up to ``limit`` events) for each consumer; returns events handled.

    ``only`` restricts the run to some consumers, ``now`` overrides the clock (tests)."""
    names = set(only) if only is not None else None
    handled = 0
    for consumer in consumers():
        if names is not None and consumer.name not in names:
            continue
        try:
            handled += _dispatch_consumer(consumer, limit, now or timezone.now())
        except Exception:
            log.exception("dispatch for consumer %s failed", consumer.name)
    return handled


def dispatch_job(budget_seconds: float = 5.0) -> int:
    """The periodic job: batches until the outbox is drained or the time budget is spent.

    On SQLite the batches are smaller and a short pause follows each, so the task worker and
    the web requests get the write lock between them instead of timing out."""
    sqlite = connection.vendor == "sqlite"
    limit = 200 if sqlite else 500
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < budget_seconds:
        handled = dispatch_pending(limit)
        total += handled
        if not handled:
            break
        if sqlite:
            time.sleep(0.05)
    return total


def _ensure_cursor(name: str) -> None:
    if OutboxCursor.objects.filter(consumer=name).exists():
        return
    try:
        with transaction.atomic():
            OutboxCursor.objects.create(consumer=name, last_event_id=0)
    except IntegrityError:
        pass  # another worker created it


def _dispatch_consumer(consumer: Consumer, limit: int, now: dt.datetime) -> int:
    _ensure_cursor(consumer.name)
    with transaction.atomic():
        cursor = (
            OutboxCursor.objects.select_for_update(skip_locked=True)
            .filter(consumer=consumer.name)
            .first()
        )
        if cursor is None:
            return 0  # another worker holds this consumer
        if _waiting_for_retry(consumer.name, cursor.last_event_id, now):
            return 0
        _batch.memo = {}
        try:
            return _run_batch(consumer, cursor, limit, now)
        finally:
            _batch.memo = None


def _run_batch(consumer: Consumer, cursor: OutboxCursor, limit: int, now: dt.datetime) -> int:
    events = list(_pending_events(consumer, cursor.last_event_id, limit))
    failing = set(
        ConsumerFailure.objects.filter(
            consumer=consumer.name,
            status=ConsumerFailureStatus.RETRYING,
            event_id__gt=cursor.last_event_id,
        ).values_list("event_id", flat=True)
    )
    handled = 0
    settled_before = now - dt.timedelta(seconds=_settle_seconds())
    advance_to = cursor.last_event_id
    contiguous = True
    for event in events:
        done = _handle_one(consumer, event, now, event.id in failing)
        if not done:
            break  # keep the order: wait for the retry
        handled += 1
        if contiguous and event.created_at <= settled_before:
            advance_to = event.id
        else:
            contiguous = False
    if advance_to != cursor.last_event_id:
        cursor.last_event_id = advance_to
        cursor.save(update_fields=["last_event_id", "updated_at"])
    return handled


def _pending_events(consumer: Consumer, after_id: int, limit: int) -> Iterable[OutboxEvent]:
    receipts = ConsumerReceipt.objects.filter(consumer=consumer.name, event_id=OuterRef("pk"))
    qs = OutboxEvent.objects.filter(id__gt=after_id).filter(~Exists(receipts))
    if consumer.events is not None:
        qs = qs.filter(name__in=sorted(consumer.events))
    return qs.order_by("id")[:limit]


def _waiting_for_retry(name: str, after_id: int, now: dt.datetime) -> bool:
    """True while the consumer's oldest failing event is not due again yet."""
    return ConsumerFailure.objects.filter(
        consumer=name,
        status=ConsumerFailureStatus.RETRYING,
        event_id__gt=after_id,
        next_attempt_at__gt=now,
    ).exists()


def _handle_one(
    consumer: Consumer, event: OutboxEvent, now: dt.datetime, failed_before: bool
) -> bool:
    """Handle one event in a savepoint; True when the consumer is done with it."""
    try:
        with transaction.atomic():
            _insert_receipt(consumer.name, event.id, timezone.now())
            consumer.handler(event)
    except IntegrityError as exc:
        if ConsumerReceipt.objects.filter(consumer=consumer.name, event_id=event.id).exists():
            return True  # handled by someone else meanwhile
        return _record_failure(consumer.name, event.id, exc, now)
    except Exception as exc:
        return _record_failure(consumer.name, event.id, exc, now)
    if failed_before:
        ConsumerFailure.objects.filter(consumer=consumer.name, event_id=event.id).update(
            status=ConsumerFailureStatus.RESOLVED, next_attempt_at=None
        )
    return True


def _insert_receipt(name: str, event_id: int, now: dt.datetime) -> None:
    """The receipt, in plain SQL: it is written once per event, so the ORM's cost shows."""
    value = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_consumerreceipt (consumer, event_id, ok, created_at)"
            " VALUES (%s, %s, %s, %s)",
            [name, event_id, True, value],
        )


def _record_failure(name: str, event_id: int, exc: BaseException, now: dt.datetime) -> bool:
    """Count the attempt; False (wait and retry) until the last attempt, then give up."""
    failure, _ = ConsumerFailure.objects.get_or_create(consumer=name, event_id=event_id)
    failure.attempts += 1
    failure.last_error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
    gave_up = failure.attempts >= max_attempts()
    if gave_up:
        failure.status = ConsumerFailureStatus.FAILED
        failure.next_attempt_at = None
        ConsumerReceipt.objects.create(consumer=name, event_id=event_id, ok=False)
        log.error("consumer %s gave up on event %s: %s", name, event_id, failure.last_error)
    else:
        failure.status = ConsumerFailureStatus.RETRYING
        failure.next_attempt_at = now + backoff(failure.attempts)
        log.warning("consumer %s failed on event %s: %s", name, event_id, failure.last_error)
    failure.save()
    return gave_up


def retry_failure(failure_id: int) -> bool:
    """Run the handler again for an event a consumer gave up on (the jobs page's "retry").

    Returns True when the handler succeeded; the failure row keeps the new error otherwise."""
    failure = ConsumerFailure.objects.get(pk=failure_id)
    consumer = _consumers.get(failure.consumer)
    event = OutboxEvent.objects.filter(pk=failure.event_id).first()
    if consumer is None or event is None:
        return False
    with transaction.atomic():
        ConsumerReceipt.objects.filter(consumer=consumer.name, event_id=event.id, ok=False).delete()
        try:
            with transaction.atomic():
                ConsumerReceipt.objects.create(consumer=consumer.name, event_id=event.id)
                consumer.handler(event)
        except Exception as exc:
            failure.attempts += 1
            failure.last_error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
            failure.status = ConsumerFailureStatus.FAILED
            failure.save()
            ConsumerReceipt.objects.get_or_create(
                consumer=consumer.name, event_id=event.id, defaults={"ok": False}
            )
            return False
        failure.status = ConsumerFailureStatus.RESOLVED
        failure.next_attempt_at = None
        failure.save()
    return True


def register_periodic() -> None:
    """Add the dispatcher to every worker's periodic jobs."""
    from voronka.core import periodic

    periodic.register("core.dispatch", 1.0, dispatch_job)
