"""W6's webhook receiver: a separate process on 127.0.0.1 that answers every POST with 200.

Run as ``python -m bench.workloads.w6_receiver``; it prints its port on the first line of
stdout. ``GET /count`` answers how many POSTs it got. A process of its own, so the receiver's
work does not share the worker's interpreter lock (as a real receiver would not)."""

from __future__ import annotations

import contextlib
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_lock = threading.Lock()
_count = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        global _count
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with _lock:
            _count += 1
        self._answer(b'{"ok":true}')

    def do_GET(self) -> None:
        with _lock:
            count = _count
        self._answer(str(count).encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections under concurrent senders, which then
    # wait a second for the SYN retry: measure our sender, not that.
    request_queue_size = 256
    daemon_threads = True


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
