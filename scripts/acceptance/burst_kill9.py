#!/usr/bin/env python
"""Acceptance: a burst of events through automation, e-mail and webhooks, with a worker killed.

What it does, on a database of its own (a SQLite file in the data folder by default, or
``--database-url``):

1. starts a real SMTP server (aiosmtpd) and a real HTTP receiver on 127.0.0.1 and points
   ``EMAIL_URL`` and the webhook allow-list at them;
2. creates an administrator, an automation rule "a contact is created → create a task for its
   owner + send it an e-mail" and a webhook subscription to ``contact.created``;
3. imports N contacts with ``voronka import contacts`` (one ``contact.created`` event each — a
   burst, as a real import makes; ``--background`` queues the import for the workers instead);
4. starts ``voronka worker``, kills it with SIGKILL after ``--kill-after`` seconds, starts
   ``--workers`` workers again (``--rq``: with ``REDIS_URL`` and ``VORONKA_TASK_BACKEND=rq``)
   and waits until everything is drained: every event handled by every consumer, no e-mail
   queued or being sent, no webhook delivery pending;
5. prints a table and exits 0 only when every check holds: one task per contact (no
   duplicates), N e-mails received by the SMTP server to N different contacts, every webhook
   delivery logged as delivered and each delivery id seen by the receiver.

Examples::

    .venv/bin/python scripts/acceptance/burst_kill9.py                      # 10,000, SQLite
    .venv/bin/python scripts/acceptance/burst_kill9.py --events 2000 --kill-after 4
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acc_vk \\
        .venv/bin/python scripts/acceptance/burst_kill9.py --recreate
    .venv/bin/python scripts/acceptance/burst_kill9.py --rq --workers 2 --no-kill

Exit codes: 0 all checks pass, 1 a check failed, 2 not drained before ``--timeout``.

``--redis-url`` (default redis://127.0.0.1:6379/14) is a scratch Redis database: it is FLUSHED
at the start. ``--recreate`` DROPS and creates the PostgreSQL database named in the URL."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for entry in (ROOT, ROOT / "src"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from tests.webhooks.receiver import Receiver, ok  # noqa: E402

ADMIN = "burst-admin"
PASSWORD = "Correct-Horse-42"  # noqa: S105 - a throw-away database's user
EMAIL_DOMAIN = "burst.example"
TASK_SUBJECT = "Call {{ contact.first_name }} {{ contact.last_name }}"


# --- local servers ---------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """A real SMTP server that counts what it accepts (recipients of each message)."""

    recipients: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Any = None

    def start(self) -> int:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                with sink.lock:
                    sink.recipients.extend(str(r).lower() for r in envelope.rcpt_tos)
                return "250 OK"

        with socket.socket() as probe:  # aiosmtpd needs a fixed port: take a free one
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()
        return port

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def snapshot(self) -> list[str]:
        with self.lock:
            return list(self.recipients)


# --- the database ----------------------------------------------------------------------------


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def recreate_postgres(url: str) -> None:
    """Drop and create the database named in ``url`` (through the server's "postgres" one)."""
    import psycopg

    parts = urllib.parse.urlsplit(url.replace("postgres://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"--recreate: refusing to drop {name or '(no database name)'!r}")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def child_env(args: argparse.Namespace, smtp_port: int, receiver_port: int) -> dict[str, str]:
    """The environment of every process of the run (this one included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VORONKA_", "DATABASE_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=args.database_url,
        VORONKA_DATA_DIR=str(args.data_dir),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        VORONKA_WEBHOOK_ALLOW_HOSTS=f"127.0.0.1:{receiver_port}",
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "voronka.settings"),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        PYTHONPATH=os.pathsep.join(
            [str(ROOT), str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        VORONKA_LANGUAGE="en",
    )
    if args.rq:
        env.update(REDIS_URL=args.redis_url, VORONKA_TASK_BACKEND="rq")
    return env


def voronka(env: dict[str, str], *argv: str, timeout: float = 900) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "voronka", *argv], env=env, capture_output=True, text=True,
        timeout=timeout, check=False, cwd=ROOT,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"voronka {' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def seed(receiver_url: str) -> None:
    """The administrator, the rule and the webhook subscription, through the services."""
    from voronka.accounts.services import user_create
    from voronka.automation.services import rule_create
    from voronka.customers.models import Contact
    from voronka.webhooks.services import subscription_create

    if Contact.objects.exists():
        raise SystemExit("the database already has contacts: use an empty one (or --recreate)")
    admin = user_create(
        username=ADMIN, password=PASSWORD, email=f"{ADMIN}@example.com", first_name="Burst",
        role_code="admin", team_id=None, language="en",
    )  # fmt: skip
    rule_create(actor=admin, data={
        "name": "Welcome every new contact", "active": True,
        "trigger": {"type": "record_created", "entity": "contact"},
        "conditions": {"op": "and", "items": []},
        "actions": [
            {"type": "create_task", "subject": TASK_SUBJECT, "assignee": "owner"},
            {"type": "send_email", "subject": "Welcome, {{ contact.first_name }}",
             "body": "Hello {{ contact.first_name }}, thank you for your interest."},
        ],
    })  # fmt: skip
    subscription_create(
        actor=admin, data={"name": "Receiver", "url": receiver_url, "events": "contact.created"}
    )


def write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("Фамилия;Имя;E-mail\n")
        for i in range(n):
            f.write(f"Петров{i};Иван{i};c{i}@{EMAIL_DOMAIN}\n")


# --- progress and results ----------------------------------------------------------------------


def state() -> dict[str, int]:
    """What the database says now (read by this process as any other reader would)."""
    from django.db import close_old_connections
    from django.db.models import Count, Exists, OuterRef

    from voronka.automation.models import RuleRun
    from voronka.core import dispatch
    from voronka.core.models import ConsumerReceipt, OutboxEvent
    from voronka.customers.models import Contact
    from voronka.messaging.models import OutgoingMessage
    from voronka.sales.models import Activity
    from voronka.webhooks.models import WebhookDelivery

    close_old_connections()
    unhandled = 0
    for consumer in dispatch.consumers():
        receipts = ConsumerReceipt.objects.filter(consumer=consumer.name, event_id=OuterRef("pk"))
        qs = OutboxEvent.objects.filter(~Exists(receipts))
        if consumer.events is not None:
            qs = qs.filter(name__in=sorted(consumer.events))
        unhandled += qs.count()
    messages = Counter(dict(OutgoingMessage.objects.values_list("status").annotate(n=Count("id"))))
    deliveries = Counter(
        dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("id")))
    )
    tasks = Activity.objects.filter(kind="task", contact__isnull=False)
    out = {
        "contacts": Contact.objects.count(),
        "events": OutboxEvent.objects.filter(name="contact.created").count(),
        "unhandled_events": unhandled,
        "rule_runs": RuleRun.objects.count(),
        "tasks": tasks.count(),
        "task_contacts": tasks.values("contact_id").distinct().count(),
        "emails_queued": messages["queued"],
        "emails_sending": messages["sending"],
        "emails_sent": messages["sent"],
        "emails_failed": messages["failed"] + messages["suppressed"],
        "emails_rows": sum(messages.values()),
        "deliveries": sum(deliveries.values()),
        "deliveries_pending": deliveries["pending"],
        "deliveries_delivered": deliveries["delivered"],
        "deliveries_failed": deliveries["failed"],
    }
    close_old_connections()
    return out


def drained(s: dict[str, int], n: int) -> bool:
    return (
        s["events"] >= n
        and s["unhandled_events"] == 0
        and s["emails_queued"] == 0
        and s["emails_sending"] == 0
        and s["deliveries_pending"] == 0
    )


def note_stages(done: dict[str, float], s: dict[str, int], n: int, at: float) -> None:
    """When each stage first reached N (seconds after the first worker started)."""
    reached = {
        "tasks": s["tasks"] >= n,
        "e-mails": s["emails_sent"] >= n,
        "webhooks": s["deliveries_delivered"] >= n,
    }
    for stage, is_done in reached.items():
        if is_done and stage not in done:
            done[stage] = at


def delivered_ids() -> set[str]:
    from voronka.webhooks.models import WebhookDelivery

    return {str(pk) for pk in WebhookDelivery.objects.filter(status="delivered").values_list(
        "pk", flat=True)}  # fmt: skip


# --- workers -----------------------------------------------------------------------------------


class Workers:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        for _ in range(count):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "voronka", "worker", "--interval", "0.2"],
                    env=self.env,
                    cwd=ROOT,
                    stdout=self.log.open("ab"),
                    stderr=subprocess.STDOUT,
                )
            )

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def kill9(self) -> None:
        for p in self.alive():
            os.kill(p.pid, signal.SIGKILL)
            p.wait(10)
        self.procs = []

    def stop(self) -> None:
        for p in self.alive():
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.procs = []


# --- the run -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--events", type=int, default=10_000, help="contacts imported (default 10000)")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                   help="default: a SQLite file in the data folder")  # fmt: skip
    p.add_argument("--recreate", action="store_true",
                   help="PostgreSQL: drop and create the database first")  # fmt: skip
    p.add_argument("--data-dir", type=Path, help="default: a new temporary folder")
    p.add_argument("--kill-after", type=float, default=20.0,
                   help="seconds after the first worker starts to SIGKILL it (default 20)")  # fmt: skip
    p.add_argument("--no-kill", action="store_true", help="no kill: start --workers at once")
    p.add_argument("--workers", type=int, default=1, help="workers after the kill (default 1)")
    p.add_argument("--rq", action="store_true", help="the RQ task backend (needs Redis)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                   help="a scratch Redis database, flushed at start")  # fmt: skip
    p.add_argument("--background", action="store_true",
                   help="queue the import for the workers instead of running it first")  # fmt: skip
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to drain (default 300)")
    p.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    n = args.events
    args.data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="voronka-burst-"))).resolve()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if not args.database_url:
        args.database_url = f"sqlite:///{args.data_dir / 'burst.sqlite3'}"
    elif args.recreate and _is_postgres(args.database_url):
        recreate_postgres(args.database_url)
    if args.rq:
        import redis

        redis.Redis.from_url(args.redis_url, socket_connect_timeout=2).flushdb()
    db_label = "PostgreSQL" if _is_postgres(args.database_url) else "SQLite"
    print(f"data folder {args.data_dir}; database {db_label}; {n:,} events", flush=True)

    smtp = SmtpSink()
    smtp_port = smtp.start()
    receiver = Receiver(ok).start()
    env = child_env(args, smtp_port, receiver.port)
    log = args.data_dir / "workers.log"
    workers = Workers(env, log)
    timings: dict[str, float] = {}
    killed_at: dict[str, int] | None = None
    try:
        voronka(env, "manage", "migrate", "--verbosity", "0")
        setup_django(env)
        seed(receiver.url)
        csv_path = args.data_dir / "contacts.csv"
        write_csv(csv_path, n)
        started = time.monotonic()
        import_args = ["import", "contacts", str(csv_path), "--user", ADMIN]
        if args.background:
            voronka(env, *import_args, "--background")
        else:
            voronka(env, *import_args)
            timings["import"] = time.monotonic() - started
            print(f"imported {n:,} contacts in {timings['import']:.1f} s", flush=True)
        drain_started = time.monotonic()
        if not args.no_kill:
            workers.start(1)
            time.sleep(args.kill_after)
            workers.kill9()
            killed_at = state()
            print(f"SIGKILL after {args.kill_after:g} s: {killed_at}", flush=True)
        workers.start(args.workers)
        deadline = time.monotonic() + args.timeout
        last_print = 0.0
        current = state()
        stage_done: dict[str, float] = {}
        while not drained(current, n):
            note_stages(stage_done, current, n, time.monotonic() - drain_started)
            if time.monotonic() > deadline:
                break
            if not workers.alive():
                print("every worker has stopped; see " + str(log), flush=True)
                break
            if time.monotonic() - last_print >= 10:
                last_print = time.monotonic()
                print(
                    f"  {time.monotonic() - drain_started:5.0f} s: tasks {current['tasks']:,}, "
                    f"e-mails sent {current['emails_sent']:,}, webhooks delivered "
                    f"{current['deliveries_delivered']:,}, events unhandled "
                    f"{current['unhandled_events']:,}",
                    flush=True,
                )
            time.sleep(1.0)
            current = state()
        timings["drain"] = time.monotonic() - drain_started
        note_stages(stage_done, current, n, timings["drain"])
        timings.update({f"{stage} done": at for stage, at in stage_done.items()})
        timings["total"] = time.monotonic() - started
        time.sleep(1.0)  # a late duplicate (SMTP or HTTP) would arrive now
        workers.stop()
        final = state()
        is_drained = drained(final, n)
        results = results_of(final, n, smtp.snapshot(), receiver, killed_at, timings, is_drained)
    finally:
        workers.stop()
        receiver.stop()
        smtp.stop()
    results.update(database=db_label, rq=args.rq, workers=args.workers,
                   kill_after=None if args.no_kill else args.kill_after)  # fmt: skip
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if not is_drained:
        return 2
    return 0 if results["ok"] else 1


def results_of(
    s: dict[str, int], n: int, recipients: list[str], receiver: Receiver,
    killed_at: dict[str, int] | None, timings: dict[str, float], is_drained: bool,
) -> dict[str, Any]:  # fmt: skip
    seen = [r.headers.get("x-voronka-delivery", "") for r in list(receiver.requests)]
    seen_ids = set(seen)
    logged = delivered_ids()
    by_recipient = Counter(recipients)
    checks = {
        "events published = N": s["events"] == n,
        "one task per contact (= N, no duplicates)": s["tasks"] == s["task_contacts"] == n,
        "e-mails sent (logged) = N": s["emails_sent"] == n,
        "e-mails at SMTP: total = N": len(recipients) == n,
        "e-mails at SMTP: unique recipients = N": len(by_recipient) == n,
        "webhook deliveries logged = N, all delivered": s["deliveries"]
        == n
        == s["deliveries_delivered"],
        "every delivered id seen by the receiver": logged <= seen_ids,
        "receiver saw no unknown id": seen_ids <= logged,
        "drained before the timeout": is_drained,
    }
    drain = timings.get("drain", 0.0)
    return {
        "events": n, "state": s, "killed_at": killed_at,
        "smtp": {"total": len(recipients), "unique": len(by_recipient),
                 "duplicates": sum(c - 1 for c in by_recipient.values() if c > 1)},
        "receiver": {"requests": len(seen), "unique_delivery_ids": len(seen_ids),
                     "repeats": len(seen) - len(seen_ids)},
        "timings": timings,
        "rates_per_s": {
            "rule runs": s["rule_runs"] / drain, "e-mails sent": s["emails_sent"] / drain,
            "webhooks delivered": s["deliveries_delivered"] / drain,
        } if drain else {},
        "checks": checks, "ok": all(checks.values()),
    }  # fmt: skip


def print_table(r: dict[str, Any]) -> None:
    s, n = r["state"], r["events"]
    rows = [
        ("events (contact.created)", f"{s['events']:,}", f"{n:,}"),
        ("rule runs", f"{s['rule_runs']:,}", f"{n:,}"),
        ("tasks created", f"{s['tasks']:,}", f"{n:,}"),
        ("  contacts with a task", f"{s['task_contacts']:,}", f"{n:,}"),
        ("e-mails logged sent", f"{s['emails_sent']:,}", f"{n:,}"),
        ("  still queued / sending / failed",
         f"{s['emails_queued']} / {s['emails_sending']} / {s['emails_failed']}", "0 / 0 / 0"),
        ("e-mails at SMTP: total", f"{r['smtp']['total']:,}", f"{n:,}"),
        ("e-mails at SMTP: unique recipients", f"{r['smtp']['unique']:,}", f"{n:,}"),
        ("webhook deliveries logged", f"{s['deliveries']:,}", f"{n:,}"),
        ("  delivered / pending / failed",
         f"{s['deliveries_delivered']:,} / {s['deliveries_pending']} / {s['deliveries_failed']}",
         f"{n:,} / 0 / 0"),
        ("receiver: requests", f"{r['receiver']['requests']:,}", f"≥ {n:,}"),
        ("receiver: unique delivery ids", f"{r['receiver']['unique_delivery_ids']:,}", f"{n:,}"),
    ]  # fmt: skip
    t = r["timings"]
    if "import" in t:
        rows.append(("import (s)", f"{t['import']:.1f}", ""))
    rows.append(("drain after import (s)", f"{t.get('drain', 0):.1f}", ""))
    for stage in ("tasks", "webhooks", "e-mails"):
        if f"{stage} done" in t:
            rows.append((f"  all {stage} done at (s)", f"{t[f'{stage} done']:.0f}", ""))
    for label, per_s in r["rates_per_s"].items():
        rows.append((f"  {label} per s", f"{per_s:.1f}", ""))
    width = max(len(row[0]) for row in rows)
    kill = "no kill" if r["kill_after"] is None else f"SIGKILL after {r['kill_after']:g} s"
    print(f"\n{r['database']}, {'RQ' if r['rq'] else 'database'} task backend, {kill}, "
          f"then {r['workers']} worker(s)")  # fmt: skip
    if r["killed_at"]:
        k = r["killed_at"]
        print(
            f"at the kill: tasks {k['tasks']:,}, e-mails sent {k['emails_sent']:,}, "
            f"sending {k['emails_sending']}, webhooks delivered {k['deliveries_delivered']:,}"
        )
    print(f"{'':{width}}  {'got':>20}  {'expected':>14}")
    for name, got, want in rows:
        print(f"{name:{width}}  {got:>20}  {want:>14}")
    print()
    for name, passed in r["checks"].items():
        print(f"  [{'ok' if passed else 'FAIL'}] {name}")
    print("\nALL CHECKS PASS" if r["ok"] else "\nSOME CHECKS FAILED")


if __name__ == "__main__":
    sys.exit(main())
