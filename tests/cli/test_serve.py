"""``voronka serve --init`` end to end, as ``make run`` starts it: a real process on a free
port with its own data folder (on PostgreSQL: a database of its own, created and dropped here).

It must print the login, answer /healthz, let the printed login in, run background tasks in its
worker, restart a worker that dies, and stop server and worker on SIGINT leaving no process."""

from __future__ import annotations

import http.cookiejar
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

PING = """
import time, django
django.setup()
from voronka.core.tasks import ping
result = ping.enqueue()
for _ in range(200):
    result.refresh()
    if result.is_finished:
        break
    time.sleep(0.1)
print(result.status, result.return_value if result.is_finished else None)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """None for SQLite in the data folder; on PostgreSQL a fresh, empty database."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        yield None
        return
    import psycopg

    name = (os.environ.get("VORONKA_TEST_DB_NAME") or "test_voronka") + "_serve"
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


class Server:
    """The ``voronka serve`` process, its output read line by line in the background."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voronka", "serve", *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = "".join(self.output)
            if match := re.search(pattern, text):
                return match
            try:
                self.output.append(self.lines.get(timeout=0.2))
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
        raise AssertionError(f"{pattern!r} not printed; output:\n{''.join(self.output)}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        self.reader.join(timeout=5)  # the pipe is closed: everything printed is in the queue
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return code


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_until(condition: Any, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _log_in(base: str, username: str, password: str) -> str:
    """Post the login form like a browser; the URL we end up on."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{base}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None and 'name="username"' in page and 'name="password"' in page
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=body, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=10) as response:
        return str(response.geturl())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_make_run_first_start(tmp_path: Path, database_url: str | None) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "VORONKA_DATA_DIR": str(tmp_path), "VORONKA_DEMO_COMPANIES": "6",
           "VORONKA_DEMO_CONTACTS": "30", "ALLOWED_HOSTS": "127.0.0.1,localhost"}  # fmt: skip
    for name in ("DATABASE_URL", "VORONKA_TESTING", "DEBUG", "VORONKA_HTTPS", "SECRET_KEY"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url

    server = Server(["--init", "--port", str(port)], env)
    try:
        login = server.wait_for(r"Log in as '(\S+)' with the password (\S+)")
        assert f"Voronka is running at {base}/" in "".join(server.output)
        username, password = login.group(1), login.group(2)
        assert username == "admin"
        first_login = tmp_path / "first-login.txt"
        assert first_login.stat().st_mode & 0o777 == 0o600
        assert f"Password: {password}" in first_login.read_text()

        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read())["status"] == "ok"
        assert _log_in(base, username, password) == f"{base}/"
        assert _log_in(base, username, "wrong-password") != f"{base}/"

        # The worker is a child of the server and takes tasks.
        assert _wait_until(lambda: len(_children(server.process.pid)) == 1)
        (worker,) = _children(server.process.pid)
        ping = subprocess.run(
            [sys.executable, "-c", PING], env={**env, "DJANGO_SETTINGS_MODULE": "voronka.settings"},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert ping.stdout.strip().endswith("SUCCESSFUL pong"), ping.stderr

        # A worker that dies is started again.
        os.kill(worker, signal.SIGKILL)
        server.wait_for("starting it again")
        assert _wait_until(
            lambda: [p for p in _children(server.process.pid) if p != worker and _alive(p)]
        )
        (worker,) = [p for p in _children(server.process.pid) if _alive(p)]
    finally:
        code = server.stop()
    assert code == 0, "".join(server.output)
    assert "Stopped." in "".join(server.output)
    assert _wait_until(lambda: not _alive(worker), timeout=5), "the worker outlived the server"

    # Once the administrator changed the password, the next start removes the stale file and
    # no longer shows it.
    change = (
        "import django; django.setup(); from voronka.accounts.models import User; "
        "from voronka.accounts.services import user_set_password; "
        "user_set_password(user=User.objects.get(username='admin'), password='New-Secret-4242')"
    )
    subprocess.run(
        [sys.executable, "-c", change], env={**env, "DJANGO_SETTINGS_MODULE": "voronka.settings"},
        check=True, timeout=60,
    )  # fmt: skip
    again = Server(["--init", "--no-worker", "--port", str(port)], env)
    try:
        again.wait_for("Log in with your username and password")
    finally:
        assert again.stop() == 0
    assert not first_login.exists()
    assert "the password" not in "".join(again.output)
    assert "Preparing the database" not in "".join(again.output)


def test_serve_on_a_database_never_migrated_says_how_to_start(
    tmp_path: Path, database_url: str | None
) -> None:
    """Without --init on a new data folder: a one-line error naming the fix, no traceback,
    nothing left listening."""
    port = _free_port()
    env = {**os.environ, "VORONKA_DATA_DIR": str(tmp_path)}
    for name in ("DATABASE_URL", "VORONKA_TESTING", "DEBUG", "SECRET_KEY"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "voronka", "serve", "--port", str(port)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "migrations to apply" in done.stderr
    assert "voronka serve --init" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the port was let go
