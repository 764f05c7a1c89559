"""A real server on the bench database and a small keep-alive HTTP client for load.

The server is ``voronka serve --no-worker`` in a child process (the same waitress setup a
deployment runs), bound to 127.0.0.1 only. Clients are threads with http.client; every loop is
bounded in requests and in time."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """``voronka serve --no-worker`` on the bench database, stopped on exit."""

    def __init__(self, port: int, log_path: Path, threads: int = 8) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        from django.core.management import get_commands

        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "voronka.settings"}
        if "serve" in get_commands():
            cmd = [sys.executable, "-m", "voronka", "serve", "--no-worker", "--host", HOST,
                   "--port", str(self.port), "--threads", str(self.threads)]  # fmt: skip
        else:
            cmd = [sys.executable, "-m", "waitress", f"--listen={HOST}:{self.port}",
                   f"--threads={self.threads}", "voronka.wsgi:application"]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            try:
                status, _body, _ms = request(self.port, "GET", "/healthz")
                if status < 500:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"the server did not answer within 60 s; see {self.log_path}")

    def __exit__(self, *_: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0


def request(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes, float]:
    """(status, body, milliseconds) of one request, on ``conn`` when given (keep-alive)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, port, timeout=60)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    t0 = time.perf_counter()
    try:
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        payload = response.read()
    finally:
        if own:
            conn.close()
    return response.status, payload, (time.perf_counter() - t0) * 1000


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    by_kind: dict[str, list[float]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


# One client step: (connection, thread index, step number) -> (kind, status, body, ms).
Step = Callable[[http.client.HTTPConnection, int, int], tuple[str, int, bytes, float]]


def run_load(port: int, clients: int, total: int, seconds: float, step: Step) -> LoadResult:
    """``clients`` threads run ``step`` until ``total`` requests or ``seconds`` have passed."""
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        try:
            while time.monotonic() < deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                try:
                    kind, status, body, ms = step(conn, index, n)
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=60)
                    with lock:
                        result.errors += 1
                        if len(result.error_samples) < 5:
                            result.error_samples.append(repr(exc))
                    continue
                with lock:
                    result.latencies_ms.append(ms)
                    result.by_kind.setdefault(kind, []).append(ms)
                    if status >= 400:
                        result.errors += 1
                        if len(result.error_samples) < 5:
                            result.error_samples.append(f"{kind}: {status} {body[:200]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - t0
    return result
