"""Scale-out acceptance: two ``voronka worker`` processes on the RQ task backend share a burst.

An import of 500 contacts is queued on Redis and run by one of the workers; each contact's
``contact.created`` event triggers a rule (create a task, send an e-mail) and a webhook
subscription. Both workers dispatch events and send e-mails and webhooks at the same time, on a
database of their own (a SQLite file, or a fresh PostgreSQL database when the tests run on
PostgreSQL). The scenario is scripts/acceptance/burst_kill9.py, the script the kill -9
acceptance uses at 10,000; this test runs it small and checks its numbers: one task and one
e-mail per contact, every webhook delivery logged as delivered and seen by the receiver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "acceptance" / "burst_kill9.py"
N = 500


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite file, or on PostgreSQL a fresh database (created and dropped here)."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'workers.sqlite3'}"
        return
    import psycopg

    name = (os.environ.get("VORONKA_TEST_DB_NAME") or "test_voronka") + "_workers"
    admin_url = base.replace("postgres://", "postgresql://", 1)
    try:
        conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        require("PostgreSQL", str(exc))
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urllib.parse.urlsplit(base)._replace(path=f"/{name}").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow  # two worker processes and 500 contacts through rules, SMTP and HTTP: ~90 s
@pytest.mark.redis
def test_two_rq_workers_share_a_burst_with_each_effect_once(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    data = tmp_path / "data"
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VORONKA_", "DATABASE_"))}
    env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", "voronka.settings")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", str(N), "--no-kill", "--rq", "--workers", "2",
         "--background", "--redis-url", redis_url, "--database-url", database_url,
         "--data-dir", str(data), "--timeout", "240", "--json", str(out)],
        env=env, capture_output=True, text=True, timeout=420, check=False,
    )  # fmt: skip
    log_path = data / "workers.log"
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    report = f"{run.stdout}\n{run.stderr}\n--- workers.log (end) ---\n{log[-3000:]}"
    assert out.exists(), report
    result = json.loads(out.read_text())
    state = result["state"]

    # Two RQ workers ran, and one of them ran the import as an RQ job.
    assert log.count("started with PID") == 2, report
    assert "voronka.imports.tasks" in log and "Job OK" in log, report
    assert state["contacts"] == state["events"] == N, report
    assert state["unhandled_events"] == 0, report
    # Exactly one task per contact.
    assert state["tasks"] == state["task_contacts"] == N, report
    # Exactly one e-mail per contact reached the SMTP server.
    assert state["emails_sent"] == N, report
    assert result["smtp"] == {"total": N, "unique": N, "duplicates": 0}, report
    # One delivery per event, each logged as delivered, each id seen by the receiver.
    assert state["deliveries"] == state["deliveries_delivered"] == N, report
    assert result["receiver"]["unique_delivery_ids"] == N, report
    assert result["checks"]["every delivered id seen by the receiver"], report
    assert result["ok"] and run.returncode == 0, report
