"""A real crash: ``voronka worker`` killed with SIGKILL in the middle of an import of 50,000
rows on a SQLite database of its own, then started again. The checkpoint always matches the
data (a chunk and its checkpoint commit together), and the restarted worker resumes the job
(its heartbeat went stale) and finishes it: every row once, none twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROWS = 50_000


def _voronka(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "voronka", *args], env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _state(db: Path) -> tuple[str, int, int]:
    """(status, rows_done, contacts in the database), read as another process would."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        status, done = conn.execute("SELECT status, rows_done FROM imports_importjob").fetchone()
        contacts = conn.execute("SELECT count(*) FROM customers_contact").fetchone()[0]
    return status, done, contacts


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "voronka", "worker", "--interval", "0.2"], env=env,
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.slow  # two worker processes, a migrated database, 50,000 rows: about a minute
def test_kill_9_midway_then_restart(tmp_path: Path) -> None:
    db = tmp_path / "kill.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VORONKA_", "DATABASE_"))}
    env.update({
        "DATABASE_URL": f"sqlite:///{db}", "VORONKA_DATA_DIR": str(tmp_path / "data"),
        "VORONKA_IMPORT_STALE_SECONDS": "2", "VORONKA_IMPORT_CHUNK_SIZE": "1000",
        "DJANGO_SETTINGS_MODULE": "voronka.settings", "LOG_LEVEL": "WARNING",
    })  # fmt: skip
    _voronka(env, "manage", "migrate", "--verbosity", "0")
    _voronka(env, "createuser", "importer", "--role", "admin", "--password", "Correct-Horse-42")
    csv_path = tmp_path / "contacts.csv"
    with csv_path.open("w", encoding="utf-8") as f:
        f.write("Фамилия;Имя;E-mail;Телефон\n")
        for i in range(ROWS):
            f.write(
                f"Петров{i};Иван;user{i}@example.com;8 (916) {i // 10000:03d}-{i % 10000:04d}\n"
            )
    assert "Queued as import" in _voronka(
        env, "import", "contacts", str(csv_path), "--user", "importer", "--background"
    )

    log = tmp_path / "worker.log"
    worker = _worker(env, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, log.read_text()
            assert worker.poll() is None, log.read_text()
            status, done, _contacts = _state(db)
            if done >= 5_000:
                break
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    status, done, contacts = _state(db)
    assert status == "running"
    assert 0 < done < ROWS, "killed too late to prove anything: use more rows"
    assert contacts == done  # the data and the checkpoint committed together

    time.sleep(2.5)  # the dead run's heartbeat goes stale
    worker = _worker(env, log)
    try:
        deadline = time.monotonic() + 180
        while _state(db)[0] != "done":
            assert time.monotonic() < deadline, log.read_text()
            assert worker.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    with sqlite3.connect(db) as conn:
        created, done, attempts = conn.execute(
            "SELECT created, rows_done, attempts FROM imports_importjob"
        ).fetchone()
        contacts = conn.execute("SELECT count(*) FROM customers_contact").fetchone()[0]
        emails = conn.execute(
            "SELECT count(*), count(DISTINCT email) FROM customers_contactemail"
        ).fetchone()
    assert (created, done, contacts) == (ROWS, ROWS, ROWS)
    assert emails == (ROWS, ROWS)
    assert attempts == 2
