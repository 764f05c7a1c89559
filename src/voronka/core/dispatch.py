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
and moves the cursor only past events older than ``VORONKA_DISPATCH_SETTLE_SECONDS``. Batches
read after what this process has already handled; a full scan from the cursor every
``VORONKA_DISPATCH_LATE_SCAN_SECONDS`` finds an event that committed late (see :class:`_Scan`).

Speed: a consumer may declare a *batch handler* (:func:`handles_batches`) that takes the whole
batch at once (one query for the batch's records, one INSERT for its rows). The batch then runs
in one savepoint with one INSERT of receipts; only when it raises is the batch rolled back and
run again event by event, each in its own savepoint, so the failing event is found, retried
with backoff and shown on the jobs page exactly as before. A per-event handler alone keeps the
savepoint per event.

The worker runs :func:`run_loop` in a thread of its own, so a new event is picked up within
``VORONKA_DISPATCH_IDLE_SECONDS`` (0.1 s) instead of waiting behind the other periodic jobs."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Exists, Model, OuterRef
from django.db.models.fields import AutoFieldMixin
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
BatchHandler = Callable[[list[OutboxEvent]], object]
T = TypeVar("T")


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler
    events: frozenset[str] | None  # None: every event
    batch_handler: BatchHandler | None = None


_consumers: dict[str, Consumer] = {}
_batch = threading.local()
# Set while a dispatcher loop (:func:`run_loop`) runs in this process: the periodic job then
# leaves the work to it.
_loop_running = threading.Event()


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


def in_batch() -> bool:
    """True inside a dispatcher batch (where :func:`batch_memo` keeps its values)."""
    return getattr(_batch, "memo", None) is not None


def handles_batches(batch: BatchHandler) -> Callable[[Handler], Handler]:
    """Declare on a per-event handler the function that does the same for a whole batch.

    ``batch(events)`` must have exactly the database effect of calling the handler for each
    event in order; it runs inside one savepoint, so on an error nothing of it stays and the
    dispatcher falls back to the per-event handler to find the failing event."""

    def mark(handler: Handler) -> Handler:
        handler.batch_handler = batch  # type: ignore[attr-defined]
        return handler

    return mark


def register_consumer(
    name: str,
    handler: Handler,
    *,
    events: set[str] | None = None,
    batch_handler: BatchHandler | None = None,
) -> None:
    """Subscribe ``handler`` to the outbox; ``events`` are names like "deal.stage_changed".

    ``batch_handler`` (or one declared with :func:`handles_batches`) handles a batch at once."""
    if len(name) > 64:
        raise ValueError("consumer name longer than 64 characters")
    batch = batch_handler or getattr(handler, "batch_handler", None)
    _consumers[name] = Consumer(
        name, handler, frozenset(events) if events is not None else None, batch
    )


def unregister_consumer(name: str) -> None:
    """Forget a consumer (tests register throw-away ones)."""
    _consumers.pop(name, None)
    _scans.pop(name, None)


def consumers() -> list[Consumer]:
    return list(_consumers.values())


def _setting_int(name: str, default: int) -> int:
    value = getattr(settings, name, None) or os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _setting_float(name: str, default: float) -> float:
    value = getattr(settings, name, None) or os.environ.get(name)
    return float(value) if value not in (None, "") else default


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


def _batch_limit() -> int:
    # SQLite: one writer; a smaller batch holds the write lock for a shorter time.
    return 200 if connection.vendor == "sqlite" else 500


def _pause_between_batches(stop: threading.Event | None = None) -> None:
    """On SQLite, give web requests and the task worker the write lock between batches."""
    if connection.vendor == "sqlite":
        if stop is None:
            time.sleep(0.05)
        else:
            stop.wait(0.05)


def dispatch_job(budget_seconds: float = 5.0) -> int:
    """The periodic job: batches until the outbox is drained or the time budget is spent.

    Does nothing while a :func:`run_loop` thread dispatches in this process. On SQLite the
    batches are smaller and a short pause follows each, so the task worker and the web
    requests get the write lock between them instead of timing out."""
    if _loop_running.is_set():
        return 0
    limit = _batch_limit()
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < budget_seconds:
        handled = dispatch_pending(limit)
        total += handled
        if not handled:
            break
        _pause_between_batches()
    return total


def run_loop(stop: threading.Event, *, idle_seconds: float | None = None) -> None:
    """The worker's dispatcher thread: batch after batch while events come, a short sleep
    (``VORONKA_DISPATCH_IDLE_SECONDS``, 0.1 s) when the outbox is drained.

    The lag from a commit to its handling is then about one batch plus the idle sleep, not
    the periodic loop's tick plus whatever job runs before the dispatcher. While idle, each
    round only reads the outbox's last id (no write transaction, which on SQLite would take
    the write lock ten times a second); the consumers run when it moves, and at least every
    ``VORONKA_DISPATCH_LATE_SCAN_SECONDS`` for retries that come due and late commits."""
    idle = (
        idle_seconds
        if idle_seconds is not None
        else _setting_float("VORONKA_DISPATCH_IDLE_SECONDS", 0.1)
    )
    _loop_running.set()
    seen_top: int | None = None
    ran_at = -math.inf
    try:
        while not stop.is_set():
            handled = 0
            try:
                top = _last_event_id()
                if top != seen_top or time.monotonic() - ran_at >= _late_scan_seconds():
                    ran_at = time.monotonic()
                    handled = dispatch_pending(_batch_limit())
                    seen_top = None if handled else top
            except Exception:  # the database went away: try again after the pause
                log.exception("dispatcher loop")
            if handled:
                _pause_between_batches(stop)
            else:
                close_old_connections()
                stop.wait(idle)
    finally:
        _loop_running.clear()
        connection.close()


def _last_event_id() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def start_loop_thread(stop: threading.Event) -> threading.Thread:
    """Start :func:`run_loop` in a daemon thread (``voronka worker`` does this once)."""
    thread = threading.Thread(target=run_loop, args=(stop,), name="dispatch", daemon=True)
    thread.start()
    return thread


def _ensure_cursor(name: str) -> None:
    if OutboxCursor.objects.filter(consumer=name).exists():
        return
    try:
        with transaction.atomic():
            OutboxCursor.objects.create(consumer=name, last_event_id=0)
    except IntegrityError:
        pass  # another worker created it


def _lock_cursor(name: str) -> OutboxCursor | None:
    return OutboxCursor.objects.select_for_update(skip_locked=True).filter(consumer=name).first()


def _dispatch_consumer(consumer: Consumer, limit: int, now: dt.datetime) -> int:
    with transaction.atomic():
        cursor = _lock_cursor(consumer.name)
        if cursor is None:
            if OutboxCursor.objects.filter(consumer=consumer.name).exists():
                return 0  # another worker holds this consumer
            _ensure_cursor(consumer.name)
            cursor = _lock_cursor(consumer.name)
            if cursor is None:
                return 0
        failing = _retrying(consumer.name, cursor.last_event_id, now)
        if failing is None:
            return 0
        _batch.memo = {}
        try:
            return _run_batch(consumer, cursor, limit, now, failing)
        finally:
            _batch.memo = None


def _retrying(name: str, after_id: int, now: dt.datetime) -> set[int] | None:
    """The consumer's events that failed before and are being retried; None while one of them
    is not due again yet (the consumer waits: its order matters)."""
    rows = ConsumerFailure.objects.filter(
        consumer=name, status=ConsumerFailureStatus.RETRYING, event_id__gt=after_id
    ).values_list("event_id", "next_attempt_at")
    failing = set()
    for event_id, due in rows:
        if due is not None and due > now:
            return None
        failing.add(event_id)
    return failing


@dataclass
class _Scan:
    """What this process knows about one consumer's part of the outbox.

    ``high``: every event up to it that was visible when read has been handled, so the next
    batch reads after it instead of re-reading the whole settle window (on PostgreSQL 60 s of
    handled events, each checked against its receipt: at 1,000 events/s that check was most
    of the dispatcher's time). Every ``VORONKA_DISPATCH_LATE_SCAN_SECONDS`` (1 s) a full scan
    reads from the cursor again, which finds events that committed late, and moves the cursor.
    ``tops``: (the outbox's last id, when it was read): every event up to that id was inserted
    before that moment, which is what tells the cursor how far is settled."""

    high: int = 0
    full_at: float = -math.inf
    tops: deque[tuple[int, dt.datetime]] = field(default_factory=deque)


_scans: dict[str, _Scan] = {}


def _late_scan_seconds() -> float:
    return _setting_float("VORONKA_DISPATCH_LATE_SCAN_SECONDS", 1.0)


def _run_batch(
    consumer: Consumer, cursor: OutboxCursor, limit: int, now: dt.datetime, failing: set[int]
) -> int:
    scan = _scans.setdefault(consumer.name, _Scan())
    settle = _settle_seconds()
    top = _last_event_id()
    scan.tops.append((top, timezone.now()))
    full = (
        settle == 0  # the cursor is always up to date: nothing to skip
        or not cursor.last_event_id < scan.high <= top  # nothing known, or another database
        or time.monotonic() - scan.full_at >= _late_scan_seconds()
    )
    start = cursor.last_event_id if full else scan.high
    if full:
        scan.full_at = time.monotonic()
    events = list(_pending_events(consumer, start, limit))
    done = _handle_batch(consumer, events, failing) if events else []
    if done is None:
        done = []
        for event in events:
            if not _handle_one(consumer, event, now, event.id in failing):
                break  # keep the order: wait for the retry
            done.append(event)
    if len(done) == len(events) < limit:
        covered = max(top, done[-1].id if done else 0)  # everything visible is handled
    else:
        covered = done[-1].id if done else start
    scan.high = max(covered, start)
    if full:
        clock = max(now, timezone.now())  # ``now`` may be a test's clock, set ahead
        _advance(cursor, scan, covered, clock - dt.timedelta(seconds=settle))
    return len(done)


def _advance(cursor: OutboxCursor, scan: _Scan, covered: int, settled_before: dt.datetime) -> None:
    """After a full scan: move the cursor up to ``covered`` (handled from the cursor on) but not
    past events that may still be in an open transaction (inserted after ``settled_before``)."""
    settled, read_at = 0, settled_before
    while scan.tops and scan.tops[0][1] <= settled_before:
        top, at = scan.tops.popleft()
        if top >= settled:
            settled, read_at = top, at
    if settled:
        scan.tops.appendleft((settled, read_at))  # still settled next time
    advance_to = min(covered, settled)
    if advance_to > cursor.last_event_id:
        cursor.last_event_id = advance_to
        cursor.save(update_fields=["last_event_id", "updated_at"])


def _pending_events(consumer: Consumer, after_id: int, limit: int) -> Iterable[OutboxEvent]:
    receipts = ConsumerReceipt.objects.filter(consumer=consumer.name, event_id=OuterRef("pk"))
    qs = OutboxEvent.objects.filter(id__gt=after_id).filter(~Exists(receipts))
    if consumer.events is not None:
        qs = qs.filter(name__in=sorted(consumer.events))
    return qs.order_by("id")[:limit]


def _handle_batch(
    consumer: Consumer, events: list[OutboxEvent], failing: set[int]
) -> list[OutboxEvent] | None:
    """The whole batch in one savepoint with one INSERT of receipts; None when it raised
    (rolled back: the caller goes event by event to find the failing one)."""
    if consumer.batch_handler is None:
        return None
    try:
        with transaction.atomic():
            consumer.batch_handler(events)
            _insert_receipts(consumer.name, [e.id for e in events], timezone.now())
    except Exception as exc:
        log.info("batch of %s failed (%s); handling its events one by one", consumer.name, exc)
        return None
    retried = [e.id for e in events if e.id in failing]
    if retried:
        ConsumerFailure.objects.filter(consumer=consumer.name, event_id__in=retried).update(
            status=ConsumerFailureStatus.RESOLVED, next_attempt_at=None
        )
    return events


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


# Columns whose value of the given Python type goes to the driver as it is.
_PLAIN_FIELDS: dict[str, type] = {
    "CharField": str,
    "TextField": str,
    "BooleanField": bool,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "PositiveBigIntegerField": int,
    "ForeignKey": int,
}


def bulk_insert(objs: Sequence[Model]) -> None:
    """INSERT new rows of one model at once, for batch handlers: ``COPY`` on PostgreSQL, the
    driver's ``executemany`` on SQLite.

    Unlike ``bulk_create`` the objects get no ids back (a UUID key set beforehand stays) and
    the per-row Python is only the fields' own conversion; ``auto_now_add`` fields get one
    timestamp for the whole call. For a batch of deliveries or skipped rule runs this was most
    of the handler's time."""
    if not objs:
        return
    meta = type(objs[0])._meta
    fields = [f for f in meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    # Converting an aware datetime costs more than anything else in a row: once per value.
    # Numbers, text and flags in plain columns go as they are.
    converted: dict[tuple[int, dt.datetime], Any] = {}
    plain = [_PLAIN_FIELDS.get(f.get_internal_type()) for f in fields]

    def prep(i: int, f: Any, value: Any) -> Any:
        if value is None or type(value) is plain[i]:
            return value
        if isinstance(value, dt.datetime):
            key = (i, value)
            if key not in converted:
                converted[key] = f.get_db_prep_save(value, connection)
            return converted[key]
        return f.get_db_prep_save(value, connection)

    rows = [[prep(i, f, getattr(obj, f.attname)) for i, f in enumerate(fields)] for obj in objs]
    _insert_rows(meta.db_table, [str(f.column) for f in fields], rows)


def _insert_rows(table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cur, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            # Names from the models' own metadata; the values go as COPY data.
            with cur.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608
            cur.executemany(sql, rows)


def _insert_receipts(name: str, event_ids: list[int], now: dt.datetime) -> None:
    """All receipts of a batch at once."""
    value = connection.ops.adapt_datetimefield_value(now)
    _insert_rows(
        "core_consumerreceipt",
        ["consumer", "event_id", "ok", "created_at"],
        [(name, event_id, True, value) for event_id in event_ids],
    )


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
