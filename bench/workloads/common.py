"""Timing, query counting and the raw-SQL helpers every workload shares."""

from __future__ import annotations

import os
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass
class Settings:
    """How hard to measure: iterations per case and a time cap per case."""

    iterations: int = 40
    warmup: int = 3
    max_seconds: float = 8.0
    clients: int = 8
    http_requests: int = 2000
    http_seconds: float = 15.0
    mix_levels: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    mix_seconds: float = 6.0
    port: int = 0
    smoke: bool = False
    import_rows: int = 100_000  # W3's file; the whole scale when smaller


@dataclass
class Result:
    """One row of the report."""

    workload: str
    case: str
    db: str
    user: str = ""
    metric: str = "latency"  # latency (ms) or rate (per second)
    ours: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    ratio: float | None = None
    queries: int | None = None
    baseline_queries: int | None = None
    peak_kb: float | None = None
    rows: int | None = None
    target: str = ""
    passed: bool | None = None
    ids_match: bool | None = None
    status: str = "measured"
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IdsMismatch(AssertionError):
    pass


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 and mean of durations given in seconds, reported in milliseconds."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def pick(p: float) -> float:
        index = min(len(ordered) - 1, max(0, round(p * (len(ordered) - 1))))
        return ordered[index] * 1000

    return {
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "mean": statistics.fmean(ordered) * 1000,
        "n": float(len(ordered)),
    }


def time_calls(
    fn: Callable[[], Any], settings: Settings, *, known_slow: bool = False
) -> list[float]:
    """Durations of repeated calls after a warm-up, stopping early past the time cap.

    A call slower than a second (the funnel over a million deals) is warmed up once and timed
    at least three times instead of five, so one slow case cannot take minutes of a 1M run;
    its p95 and p99 are then its slowest call. ``known_slow``: the caller's own first call
    took over a second and warmed it up already."""
    slow = known_slow
    for _ in range(0 if slow else settings.warmup):
        t0 = time.perf_counter()
        fn()
        if time.perf_counter() - t0 > 1.0:
            slow = True
            break
    minimum = 3 if slow else 5
    if slow and settings.max_seconds < 8:
        minimum = 2  # a 1M run (max_seconds 4): a case of several seconds per call, twice
    samples: list[float] = []
    deadline = time.perf_counter() + settings.max_seconds
    for i in range(settings.iterations):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        if time.perf_counter() > deadline and i + 1 >= minimum:
            break
    return samples


@dataclass
class FirstCall:
    """What one untimed call returned, the statements it ran, its peak Python memory."""

    value: Any
    queries: int
    peak_kb: float
    seconds: float


def first_call(fn: Callable[[], Any]) -> FirstCall:
    """One untimed call that gives the rows to compare, the query count and the memory at once,
    and warms the caches up: a slow case (the funnel over 1M deals) is not run four times
    before its timing starts."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with CaptureQueriesContext(connection) as ctx:
            value = fn()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return FirstCall(value, len(ctx.captured_queries), peak / 1024, time.perf_counter() - t0)


def count_queries(fn: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def peak_alloc_kb(fn: Callable[[], Any]) -> float:
    """Peak Python memory allocated during one call, in KiB (tracemalloc, outside timing)."""
    tracemalloc.start()
    try:
        fn()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1024


def compare_ids(what: str, ours: Sequence[Any], baseline: Sequence[Any]) -> bool:
    """Our path and the baseline must return the same rows in the same order."""
    if list(ours) == list(baseline):
        return True
    first = next(
        (i for i, (a, b) in enumerate(zip(ours, baseline, strict=False)) if a != b),
        min(len(ours), len(baseline)),
    )
    raise IdsMismatch(
        f"{what}: our path and the raw SQL baseline returned different rows "
        f"({len(ours)} vs {len(baseline)}; first difference at position {first}: "
        f"{list(ours)[first : first + 3]} vs {list(baseline)[first : first + 3]})"
    )


class RawSQL:
    """The database driver's own cursor (sqlite3 / psycopg), without Django in between."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw: Any = connection.connection
        self.postgres = connection.vendor == "postgresql"
        self.statements = 0

    def sql(self, text: str) -> str:
        return text if self.postgres else text.replace("%s", "?")

    def fetch(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.statements += 1
        cur = self.raw.cursor()
        try:
            cur.execute(self.sql(text), list(params))
            return list(cur.fetchall())
        finally:
            cur.close()

    def marks(self, values: Sequence[Any]) -> str:
        return ", ".join("%s" for _ in values)


def fresh_user(user_id: int) -> Any:
    """The user as a request sees it: loaded anew, with role and team, nothing cached."""
    from voronka.accounts.models import User

    return User.objects.select_related("role", "team").get(pk=user_id)


class RssSampler:
    """Peak private resident memory of a process (ours or the server's), sampled every 20 ms.

    Resident pages less the shared ones: a memory-mapped database file's pages are the OS page
    cache, not memory the process holds (SQLite maps up to 2 GiB of its file)."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid or os.getpid()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        try:
            with open(f"/proc/{self.pid}/statm") as f:
                fields = f.read().split()
            return (int(fields[1]) - int(fields[2])) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def visible_owner_ids(raw: RawSQL, user: Any) -> list[int] | None:
    """The owners whose records ``user`` sees, looked up by hand; None means every record."""
    scope = user.visibility_scope
    if scope == "all":
        return None
    if scope == "team" and user.team_id:
        owners = [r[0] for r in raw.fetch(
            "SELECT id FROM accounts_user WHERE team_id = %s", [user.team_id]
        )]  # fmt: skip
        if user.pk not in owners:
            owners.append(user.pk)
        return owners
    return [user.pk]
