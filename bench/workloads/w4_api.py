"""W4: the REST API over HTTP against a real server.

N client threads with an API key: ``POST /api/v1/contacts`` creates, then
``GET /api/v1/contacts?limit=50`` pages (following ``next_cursor``). Reported: requests/s and
p50/p95/p99 as the clients saw them, queries per request (the same request made in-process
under CaptureQueriesContext) and the server's peak memory.

Baseline: the same writes by hand with the same number of threads and the driver directly —
per contact one transaction inserting the contact, its e-mail and phone, the audit entry and
the outbox event (what ``contact_create`` writes) — and the W1 raw-SQL page for reads."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from bench.dataset import DatasetInfo
from bench.workloads import http
from bench.workloads.common import (
    RawSQL,
    Result,
    RssSampler,
    Settings,
    fresh_user,
    percentiles,
)
from bench.workloads.w1_list import Case, baseline_page
from voronka.core.text import digits, fold

CREATE_TARGET = "≥ 500 creates/s"
PATH = "/api/v1/contacts"


def _contact_body(n: int) -> dict[str, Any]:
    return {
        "first_name": "Пётр",
        "last_name": f"Нагрузкин{n}",
        "position": "Закупщик",
        "emails": [f"load{n}@bench.example"],
        "phones": [f"+7916{n % 10_000_000:07d}"],
    }


def driver_connect() -> Any:
    """A new connection of the database driver to the bench database (one per thread)."""
    db = django_settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.connect(
            dbname=db["NAME"], user=db.get("USER") or None, password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None, port=db.get("PORT") or None, autocommit=True,
        )  # fmt: skip
    import sqlite3

    conn = sqlite3.connect(db["NAME"], isolation_level=None, timeout=20)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _raw_create(conn: Any, postgres: bool, owner_id: int, content_type_id: int, n: int) -> None:
    body = _contact_body(n)
    email, phone = body["emails"][0], body["phones"][0]
    search = fold(f"{body['last_name']} {body['first_name']} {body['position']} {email} "
                  f"{digits(phone)}")  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    stamp: Any = now if postgres else now.replace(tzinfo=None).isoformat(sep=" ")
    snapshot = json.dumps({**body, "owner_id": owner_id}, ensure_ascii=False)
    p = "%s" if postgres else "?"
    insert_contact = (
        "INSERT INTO customers_contact (first_name, middle_name, last_name, company_id, position,"
        " birthday, owner_id, source, email_consent, sms_consent, custom, search_text,"
        f" created_at, updated_at) VALUES ({p}, '', {p}, NULL, {p}, NULL, {p}, '', {p}, {p},"
        f" '{{}}', {p}, {p}, {p})"
    )
    values = [body["first_name"], body["last_name"], body["position"], owner_id, False, False,
              search, stamp, stamp]  # fmt: skip
    cur = conn.cursor()
    if postgres:
        with conn.transaction():
            cur.execute(insert_contact + " RETURNING id", values)
            contact_id = cur.fetchone()[0]
            _children(cur, p, contact_id, email, phone, owner_id, content_type_id, snapshot, stamp)
    else:
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(insert_contact, values)
            contact_id = cur.lastrowid
            _children(cur, p, contact_id, email, phone, owner_id, content_type_id, snapshot, stamp)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    cur.close()


def _children(
    cur: Any, p: str, contact_id: int, email: str, phone: str, owner_id: int,
    content_type_id: int, snapshot: str, stamp: Any,
) -> None:  # fmt: skip
    cur.execute(
        f"INSERT INTO customers_contactemail (contact_id, email, kind) VALUES ({p}, {p}, 'work')",
        [contact_id, email],
    )
    cur.execute(
        f"INSERT INTO customers_contactphone (contact_id, phone, kind) VALUES ({p}, {p}, 'mobile')",
        [contact_id, phone],
    )
    cur.execute(
        "INSERT INTO core_auditentry (content_type_id, object_id, action, changes, actor_id,"
        f" channel, created_at) VALUES ({p}, {p}, 'create', {p}, {p}, 'api', {p})",
        [content_type_id, contact_id, snapshot, owner_id, stamp],
    )
    cur.execute(
        "INSERT INTO core_outboxevent (name, entity, entity_id, payload, actor_id, channel,"
        f" created_at) VALUES ('contact.created', 'customers.contact', {p}, {p}, {p}, 'api', {p})",
        [contact_id, snapshot, owner_id, stamp],
    )


def _threads(clients: int, total: int, seconds: float, work: Any) -> tuple[int, float, list[float]]:
    """Run ``work(state, n)`` in ``clients`` threads; (done, seconds, latencies in seconds)."""
    lock = threading.Lock()
    counter = iter(range(total))
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def worker() -> None:
        state: dict[str, Any] = {}
        try:
            while time.monotonic() < deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                t0 = time.perf_counter()
                work(state, n)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
        finally:
            if "conn" in state:
                state["conn"].close()
            connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), time.perf_counter() - t0, latencies


def _rate_stats(latencies_s: list[float], done: int, seconds: float) -> dict[str, float]:
    stats = percentiles(latencies_s)
    stats["per_s"] = done / seconds if seconds else 0.0
    return stats


def run(info: DatasetInfo, db: str, settings: Settings, workdir: Path) -> list[Result]:
    from django.contrib.contenttypes.models import ContentType
    from django.test.utils import CaptureQueriesContext

    from voronka.accounts.services import apikey_create
    from voronka.customers.models import Contact

    rep = fresh_user(info.rep_id)
    _key, secret = apikey_create(user=rep, name="bench W4")
    auth = {"Authorization": f"Bearer {secret}"}
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {secret}")
    results: list[Result] = []
    with http.Server(settings.port, workdir / f"server-{db}.log") as server:
        status, _body, _ms = http.request(server.port, "GET", f"{PATH}?limit=1", headers=auth)
        if status == 404:
            return [Result(workload="W4", case="API", db=db, status="not available",
                           note=f"GET {PATH} answered 404: the API is not built yet")]  # fmt: skip
        # One request of each kind first: this process's one-off lookups (the content type
        # cache, the key's first use) are not what every request costs.
        client.post(PATH, _contact_body(9_999_998), content_type="application/json")
        client.get(f"{PATH}?limit=50")
        with CaptureQueriesContext(connection) as ctx:
            client.post(PATH, _contact_body(9_999_999), content_type="application/json")
        create_queries = len(ctx.captured_queries)
        with CaptureQueriesContext(connection) as ctx:
            client.get(f"{PATH}?limit=50")
        list_queries = len(ctx.captured_queries)

        def create(conn: Any, index: int, n: int) -> tuple[str, int, bytes, float]:
            status, body, ms = http.request(server.port, "POST", PATH, _contact_body(n), auth, conn)
            return "create", status, body, ms

        cursors: dict[int, str | None] = {}

        def page(conn: Any, index: int, n: int) -> tuple[str, int, bytes, float]:
            cursor = cursors.get(index)
            path = f"{PATH}?limit=50" + (f"&cursor={cursor}" if cursor else "")
            status, body, ms = http.request(server.port, "GET", path, None, auth, conn)
            if status == 200:
                data = json.loads(body)
                cursors[index] = data.get("next_cursor") if n % 5 else None
            return "list", status, body, ms

        with RssSampler(server.pid) as create_mem:
            creates = http.run_load(
                server.port, settings.clients, settings.http_requests, settings.http_seconds,
                create,
            )  # fmt: skip
        with RssSampler(server.pid) as list_mem:
            pages = http.run_load(
                server.port, settings.clients, settings.http_requests, settings.http_seconds, page
            )

    content_type_id = ContentType.objects.get_for_model(Contact).pk
    postgres = connection.vendor == "postgresql"

    def raw_create(state: dict[str, Any], n: int) -> None:
        if "conn" not in state:
            state["conn"] = driver_connect()
        _raw_create(state["conn"], postgres, rep.pk, content_type_id, 5_000_000 + n)

    done, seconds, latencies = _threads(
        settings.clients, creates.count or settings.http_requests, settings.http_seconds,
        raw_create,
    )  # fmt: skip
    base_create = _rate_stats(latencies, done, seconds)

    def raw_page(state: dict[str, Any], n: int) -> None:
        if "raw" not in state:
            state["raw"] = RawSQL()
            state["user"] = fresh_user(info.rep_id)
        baseline_page(state["raw"], state["user"], Case("default", {}, order=[
            ("c.last_name", False), ("c.first_name", False), ("c.id", False)]))  # fmt: skip

    done, seconds, latencies = _threads(
        settings.clients, pages.count or settings.http_requests, settings.http_seconds, raw_page
    )
    base_list = _rate_stats(latencies, done, seconds)

    for name, load, base, queries, mem, target in (
        ("POST /api/v1/contacts (create)", creates, base_create, create_queries, create_mem,
         CREATE_TARGET),
        ("GET /api/v1/contacts?limit=50 (pages)", pages, base_list, list_queries, list_mem, ""),
    ):  # fmt: skip
        ours = percentiles([ms / 1000 for ms in load.latencies_ms])
        ours["per_s"] = load.rate
        ours["errors"] = float(load.errors)
        result = Result(
            workload="W4", case=f"{name}, {settings.clients} clients", db=db, user="sales rep",
            metric="rate", ours=ours, baseline=base,
            ratio=base["per_s"] / load.rate if load.rate else None, queries=queries,
            peak_kb=mem.peak_mb * 1024, rows=load.count, target=target,
            note=("; ".join(load.error_samples) if load.errors else "")
            + "ratio = raw SQL rate ÷ our rate; memory = the server's peak private RSS",
        )  # fmt: skip
        if target:
            result.passed = load.rate >= 500 and load.errors == 0
        results.append(result)
    return results
