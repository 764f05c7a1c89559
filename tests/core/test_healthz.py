"""/healthz: what a load balancer asks. 200 while the database answers, 503 with why if not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.db import connection


def test_healthz_ok_without_login(client: Any, db: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


# Runs in a fresh interpreter whose database cannot be reached: the real settings, the real
# view, nothing patched.
PROBE = """
import django, json
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost").get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def _probe(tmp_path: Path, database_url: str) -> dict[str, Any]:
    env = {**os.environ, "VORONKA_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url,
           "DJANGO_SETTINGS_MODULE": "voronka.settings"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_healthz_503_when_postgres_is_down(tmp_path: Path) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    answer = _probe(tmp_path, "postgres://voronka@127.0.0.1:1/voronka")
    assert answer["status"] == 503
    assert answer["body"]["status"] == "error"
    assert answer["body"]["reason"].startswith("database:")
    assert "127.0.0.1" in answer["body"]["reason"] or "refused" in answer["body"]["reason"]


def test_healthz_503_when_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "voronka.sqlite3"
    answer = _probe(tmp_path, f"sqlite:///{missing}")
    assert answer["status"] == 503
    assert "unable to open database file" in answer["body"]["reason"]
