"""Batch handlers: a whole dispatcher batch in one savepoint, the per-event path when it fails,
and the worker's dispatcher thread picking up new events quickly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from voronka.core import dispatch
from voronka.core.events import publish
from voronka.core.models import (
    ConsumerFailure,
    ConsumerReceipt,
    Note,
    OutboxCursor,
    OutboxEvent,
)

NAME = "test.batched"


def _publish(n: int) -> list[OutboxEvent]:
    with transaction.atomic():
        return [publish("deal.updated", entity="deal", entity_id=i) for i in range(n)]


def _note(event: OutboxEvent) -> Note:
    return Note(
        content_type=ContentType.objects.get_for_model(OutboxEvent),
        object_id=event.id,
        body_html=str(event.id),
    )


def _notes() -> list[int]:
    return list(
        Note.objects.filter(content_type=ContentType.objects.get_for_model(OutboxEvent))
        .order_by("id")
        .values_list("object_id", flat=True)
    )


class Recorder:
    """A consumer with both handlers; ``bad`` is the entity id its handlers reject."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.singles: list[int] = []
        self.bad: int | None = None

    def one(self, event: OutboxEvent) -> None:
        self.singles.append(event.id)
        if event.entity_id == self.bad:
            raise ValueError("the receiver rejected it")
        _note(event).save()

    def many(self, events: list[OutboxEvent]) -> None:
        self.batches.append([e.id for e in events])
        Note.objects.bulk_create([_note(e) for e in events])  # the effect, before the error
        if any(e.entity_id == self.bad for e in events):
            raise ValueError("the receiver rejected it")


@pytest.fixture
def recorder(settings: Any) -> Iterator[Recorder]:
    settings.VORONKA_DISPATCH_SETTLE_SECONDS = "0"
    rec = Recorder()
    dispatch.register_consumer(NAME, rec.one, batch_handler=rec.many)
    yield rec
    dispatch.unregister_consumer(NAME)


def test_a_batch_is_handled_at_once_with_a_fixed_number_of_queries(
    db: Any, recorder: Recorder
) -> None:
    dispatch.dispatch_pending(only=[NAME])  # creates the cursor
    ContentType.objects.get_for_model(OutboxEvent)  # cached: the notes' own lookup
    events = _publish(50)
    with CaptureQueriesContext(connection) as ctx:
        assert dispatch.dispatch_pending(only=[NAME]) == 50
    ids = [e.id for e in events]
    assert recorder.batches == [ids] and recorder.singles == []
    assert _notes() == ids
    assert ConsumerReceipt.objects.filter(consumer=NAME).count() == 50
    assert OutboxCursor.objects.get(consumer=NAME).last_event_id == ids[-1]
    # Savepoint, cursor, failures, last id, events, savepoint, notes, receipts, release,
    # cursor update, release: the same for 50 events as for one.
    assert len(ctx.captured_queries) <= 11, [q["sql"] for q in ctx.captured_queries]
    # Redelivery (the cursor lost): the receipts make it a no-op.
    OutboxCursor.objects.filter(consumer=NAME).update(last_event_id=0)
    assert dispatch.dispatch_pending(only=[NAME]) == 0
    assert _notes() == ids


def test_a_failing_batch_is_undone_and_run_event_by_event(db: Any, recorder: Recorder) -> None:
    events = _publish(4)
    recorder.bad = 2
    assert dispatch.dispatch_pending(only=[NAME]) == 2
    ids = [e.id for e in events]
    # The batch's notes were rolled back; events 0 and 1 were then handled one by one, and
    # the consumer waits at event 2 (its order matters) with the failure recorded.
    assert recorder.singles == ids[:3]
    assert _notes() == ids[:2]
    failure = ConsumerFailure.objects.get(consumer=NAME)
    assert failure.event_id == ids[2] and failure.status == "retrying"
    assert "rejected" in failure.last_error
    # Fixed, and due again: the rest goes through as a batch and the failure is resolved.
    recorder.bad = None
    ConsumerFailure.objects.filter(pk=failure.pk).update(next_attempt_at=None)
    assert dispatch.dispatch_pending(only=[NAME]) == 2
    assert recorder.batches[-1] == ids[2:]
    assert _notes() == ids
    failure.refresh_from_db()
    assert failure.status == "resolved"


def test_a_handler_declares_its_batch_handler(db: Any, settings: Any) -> None:
    settings.VORONKA_DISPATCH_SETTLE_SECONDS = "0"
    seen: list[int] = []

    def many(events: list[OutboxEvent]) -> None:
        seen.extend(e.id for e in events)

    @dispatch.handles_batches(many)
    def one(event: OutboxEvent) -> None:  # pragma: no cover - the batch path is taken
        raise AssertionError("the batch handler should have run")

    dispatch.register_consumer("test.declared", one)
    try:
        events = _publish(3)
        dispatch.dispatch_pending(only=["test.declared"])
    finally:
        dispatch.unregister_consumer("test.declared")
    assert seen == [e.id for e in events]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps content type ids
def test_the_dispatcher_thread_picks_up_new_events_quickly(settings: Any) -> None:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and ("memory" in name or not name):
        pytest.skip("threads need a file database on SQLite")
    settings.VORONKA_DISPATCH_SETTLE_SECONDS = "0"
    handled: dict[int, float] = {}
    dispatch.register_consumer("test.thread", lambda e: handled.setdefault(e.id, time.time()))
    stop = threading.Event()
    thread = dispatch.start_loop_thread(stop)
    try:
        deadline = time.monotonic() + 10
        while not dispatch._loop_running.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        # While the thread runs, the periodic job leaves the work to it.
        assert dispatch.dispatch_job() == 0
        published = time.time()
        events = _publish(5)
        while len(handled) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(10)
        dispatch.unregister_consumer("test.thread")
    assert sorted(handled) == [e.id for e in events]
    assert max(handled.values()) - published < 2.0
    assert not dispatch._loop_running.is_set()


def test_an_event_that_commits_late_below_the_read_position_is_found(
    db: Any, settings: Any
) -> None:
    """PostgreSQL may show id 2 after id 4 (a longer transaction). Batches read after what
    they have handled; a full scan from the cursor, every LATE_SCAN seconds, finds the gap."""
    settings.VORONKA_DISPATCH_SETTLE_SECONDS = "3600"
    settings.VORONKA_DISPATCH_LATE_SCAN_SECONDS = "3600"
    seen: list[int] = []
    dispatch.register_consumer("test.late", lambda e: seen.append(e.id))
    try:
        events = _publish(4)
        late = events[1]
        OutboxEvent.objects.filter(pk=late.pk).delete()  # not visible yet
        dispatch.dispatch_pending(only=["test.late"])
        assert seen == [events[0].id, events[2].id, events[3].id]
        OutboxEvent.objects.create(
            id=late.pk, name="deal.updated", entity="deal", entity_id=1
        )  # now it commits
        dispatch.dispatch_pending(only=["test.late"])
        assert late.pk not in seen  # read after the last event handled: not seen yet
        settings.VORONKA_DISPATCH_LATE_SCAN_SECONDS = "0"
        dispatch.dispatch_pending(only=["test.late"])
        assert seen[-1] == late.pk and len(seen) == 4
        # Inside the settle window the cursor has not moved past any of them.
        assert OutboxCursor.objects.get(consumer="test.late").last_event_id == 0
        settings.VORONKA_DISPATCH_SETTLE_SECONDS = "0"
        dispatch.dispatch_pending(only=["test.late"])
        assert OutboxCursor.objects.get(consumer="test.late").last_event_id == events[-1].id
        assert len(seen) == 4
    finally:
        dispatch.unregister_consumer("test.late")


def test_a_consumer_of_some_events_moves_its_cursor_past_the_others(db: Any, settings: Any) -> None:
    """Otherwise each batch would read every event since the last one it wanted."""
    settings.VORONKA_DISPATCH_SETTLE_SECONDS = "0"
    dispatch.register_consumer("test.rare", lambda e: None, events={"deal.won"})
    try:
        events = _publish(30)
        assert dispatch.dispatch_pending(only=["test.rare"]) == 0
        assert OutboxCursor.objects.get(consumer="test.rare").last_event_id == events[-1].id
    finally:
        dispatch.unregister_consumer("test.rare")
