"""The outbox dispatcher: order per consumer, receipts against redelivery, retries, workers
running at once, and a worker killed with SIGKILL in the middle of a burst."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from voronka.core import dispatch
from voronka.core.events import publish
from voronka.core.models import (
    ConsumerFailure,
    ConsumerReceipt,
    Note,
    OutboxCursor,
    OutboxEvent,
)

ROOT = Path(__file__).resolve().parents[2]


def _publish(n: int, name: str = "deal.updated") -> list[OutboxEvent]:
    with transaction.atomic():
        return [publish(name, entity="deal", entity_id=i, payload={"i": i}) for i in range(n)]


def _note_effect(event: OutboxEvent) -> None:
    """A database effect: one note per event, keyed by the event id in its body."""
    Note.objects.create(
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


@pytest.fixture
def consumer() -> Iterator[list[int]]:
    """A throw-away consumer that records the order it saw and writes a note per event."""
    seen: list[int] = []

    def handle(event: OutboxEvent) -> None:
        seen.append(event.id)
        _note_effect(event)

    dispatch.register_consumer("test.notes", handle)
    yield seen
    dispatch.unregister_consumer("test.notes")


def test_events_reach_a_consumer_in_id_order_once(
    db: Any, consumer: list[int], settings: Any
) -> None:
    settings.VORONKA_DISPATCH_SETTLE_SECONDS = "0"  # PostgreSQL waits 60 s before moving it
    events = _publish(25)
    assert dispatch.dispatch_pending(limit=10, only=["test.notes"]) == 10
    while dispatch.dispatch_pending(limit=10, only=["test.notes"]):
        pass
    ids = [e.id for e in events]
    assert consumer == ids
    assert _notes() == ids
    assert OutboxCursor.objects.get(consumer="test.notes").last_event_id == ids[-1]


def test_the_cursor_waits_for_late_commits_without_redelivering(
    db: Any, consumer: list[int], settings: Any
) -> None:
    """Inside the settle window the cursor stays put; receipts keep events from coming twice."""
    settings.VORONKA_DISPATCH_SETTLE_SECONDS = "3600"
    events = _publish(3)
    dispatch.dispatch_pending(only=["test.notes"])
    assert OutboxCursor.objects.get(consumer="test.notes").last_event_id == 0
    late = _publish(1)  # as if an older transaction committed now
    dispatch.dispatch_pending(only=["test.notes"])
    assert consumer == [e.id for e in events + late]


def test_a_redelivered_event_has_no_second_effect(db: Any, consumer: list[int]) -> None:
    events = _publish(5)
    dispatch.dispatch_pending(only=["test.notes"])
    # The cursor is lost (a crash between the effect and the cursor in a weaker design):
    OutboxCursor.objects.filter(consumer="test.notes").update(last_event_id=0)
    assert dispatch.dispatch_pending(only=["test.notes"]) == 0
    assert _notes() == [e.id for e in events]
    assert ConsumerReceipt.objects.filter(consumer="test.notes").count() == 5


def test_events_filter_by_name(db: Any) -> None:
    got: list[str] = []
    dispatch.register_consumer("test.only_won", lambda e: got.append(e.name), events={"deal.won"})
    try:
        _publish(3, "deal.updated")
        _publish(2, "deal.won")
        dispatch.dispatch_pending(only=["test.only_won"])
    finally:
        dispatch.unregister_consumer("test.only_won")
    assert got == ["deal.won", "deal.won"]


def test_a_failing_handler_is_retried_then_recorded_and_others_go_on(
    db: Any, consumer: list[int]
) -> None:
    calls: list[int] = []

    def flaky(event: OutboxEvent) -> None:
        calls.append(event.id)
        _note_effect(event)  # rolled back with the failure
        if event.entity_id == 1:
            raise ValueError("receiver rejected the order")

    dispatch.register_consumer("test.flaky", flaky)
    try:
        events = _publish(3)
        now = timezone.now()
        dispatch.dispatch_pending(only=["test.flaky", "test.notes"], now=now)
        # The healthy consumer got everything; the flaky one stopped at the bad event.
        assert consumer == [e.id for e in events]
        failure = ConsumerFailure.objects.get(consumer="test.flaky")
        assert failure.event_id == events[1].id and failure.attempts == 1
        assert failure.status == "retrying"
        # Not due yet: nothing is tried.
        dispatch.dispatch_pending(only=["test.flaky"], now=now)
        assert calls == [events[0].id, events[1].id]
        # Each later run is one more attempt, until the last one gives up and moves on.
        for _ in range(dispatch.max_attempts() - 1):
            now += dt.timedelta(hours=1)
            dispatch.dispatch_pending(only=["test.flaky"], now=now)
        failure.refresh_from_db()
        assert failure.status == "failed"
        assert failure.attempts == dispatch.max_attempts()
        assert "receiver rejected the order" in failure.last_error
        assert calls[-1] == events[2].id  # moved on to the next event
        # The failed attempts left no note; the two good events left one each (plus test.notes').
        assert _notes().count(events[1].id) == 1
        assert _notes().count(events[2].id) == 2
        # A retry (the jobs page's button) with the handler fixed succeeds once.
        dispatch.register_consumer("test.flaky", _note_effect)
        assert dispatch.retry_failure(failure.pk) is True
        failure.refresh_from_db()
        assert failure.status == "resolved"
        assert _notes().count(events[1].id) == 2
        assert ConsumerReceipt.objects.get(consumer="test.flaky", event_id=events[1].id).ok
    finally:
        dispatch.unregister_consumer("test.flaky")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps content type ids
def test_two_dispatchers_at_once_do_not_double_handle(consumer: list[int]) -> None:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and ("memory" in name or not name):
        pytest.skip("threads need a file database on SQLite; the kill test covers it")
    events = _publish(400)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            while dispatch.dispatch_pending(limit=20, only=["test.notes"]):
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(_notes()) == [e.id for e in events]
    assert len(consumer) == len(events)


# --- kill -9 -----------------------------------------------------------------------------------

KILL_SETTINGS = "tests.core.dispatch_kill_settings"


def _env(db_path: Path, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("VORONKA_TEST_DB_NAME", None)
    env.update(
        DJANGO_SETTINGS_MODULE=KILL_SETTINGS,
        DATABASE_URL=f"sqlite:///{db_path}",
        VORONKA_DATA_DIR=str(data_dir),
        PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'src'}",
    )
    return env


def _count(db_path: Path) -> tuple[int, int]:
    con = sqlite3.connect(db_path, timeout=30)
    try:
        total, distinct = con.execute(
            "SELECT COUNT(*), COUNT(DISTINCT body_html) FROM core_note WHERE body_html LIKE 'kill:%'"
        ).fetchone()
    finally:
        con.close()
    return int(total), int(distinct)


def _wait_for(db_path: Path, predicate: Any, timeout: float) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            counts = _count(db_path)
        except sqlite3.OperationalError:
            counts = (0, 0)
        if predicate(counts):
            return counts
        time.sleep(0.2)
    return _count(db_path)


def test_a_worker_killed_mid_burst_leaves_each_effect_exactly_once(tmp_path: Path) -> None:
    n = 10_000
    db_path = tmp_path / "kill.sqlite3"
    env = _env(db_path, tmp_path)
    voronka = [sys.executable, "-m", "voronka"]
    subprocess.run([*voronka, "manage", "migrate", "-v0"], env=env, check=True, cwd=tmp_path)
    seed = (
        "import django; django.setup();"
        "from voronka.core.models import OutboxEvent as E;"
        f"E.objects.bulk_create([E(name='kill.test', entity='t', entity_id=i) for i in range({n})],"
        " batch_size=2000)"
    )
    subprocess.run([sys.executable, "-c", seed], env=env, check=True, cwd=tmp_path)

    worker = subprocess.Popen(
        [*voronka, "worker"], env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        total, _ = _wait_for(db_path, lambda c: c[0] >= 1500, 120)
        assert total >= 1500, "the worker did not start dispatching"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    killed_at, _ = _count(db_path)
    assert killed_at < n, "the burst finished before the kill; make it bigger"

    worker = subprocess.Popen(
        [*voronka, "worker"], env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        total, distinct = _wait_for(db_path, lambda c: c[0] >= n, 180)
        time.sleep(1.5)  # a duplicate would show up now
        total, distinct = _count(db_path)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    assert (total, distinct) == (n, n)
