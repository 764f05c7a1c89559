"""Periodic jobs run by every background worker: reminders due, schedules, retries.

Each job reads its durable state from our own tables and is safe to run from several workers
at once (it claims rows with SELECT … FOR UPDATE SKIP LOCKED or similar), so the loop needs
no leader election and loses nothing when a worker dies."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

log = logging.getLogger("voronka.periodic")


@dataclass
class PeriodicJob:
    name: str
    interval: float
    func: Callable[[], object]
    last_run: float = 0.0


_jobs: dict[str, PeriodicJob] = {}


def register(name: str, interval: float, func: Callable[[], object]) -> None:
    _jobs[name] = PeriodicJob(name=name, interval=interval, func=func)


def jobs() -> list[PeriodicJob]:
    return list(_jobs.values())


def run_due(now: float | None = None) -> list[str]:
    """Run each job whose interval has passed; a failing job is logged and tried next time."""
    now = time.monotonic() if now is None else now
    ran = []
    for job in _jobs.values():
        if now - job.last_run < job.interval:
            continue
        job.last_run = now
        close_old_connections()
        try:
            result = job.func()
            ran.append(job.name)
            if result:
                log.info("%s: %s", job.name, result)
        except Exception:
            log.exception("periodic job %s failed", job.name)
    return ran


def loop(stop: threading.Event, tick: float = 1.0) -> None:
    while not stop.is_set():
        run_due()
        stop.wait(tick)
