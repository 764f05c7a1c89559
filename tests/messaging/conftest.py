"""Fixtures of the messaging tests: a real SMTP server (aiosmtpd) on 127.0.0.1 that
EMAIL_URL points to, a fake SMS gateway speaking SMS.ru's and SMSC.ru's formats, and
contacts with and without marketing consent."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Smtp:
    """A real SMTP server; ``messages`` are the parsed e-mails it accepted."""

    port: int
    received: list[Any] = field(default_factory=list)
    controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        received = self.received

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                received.append(envelope)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(e.original_content, policy=policy.default)  # type: ignore[misc]
            for e in self.received
        ]


def point_email_url(settings: Any, url: str) -> None:
    """Apply EMAIL_URL the way settings.py does at start-up."""
    from voronka.settings import _email_settings

    for name, value in _email_settings(url).items():
        setattr(settings, name, value)


@pytest.fixture
def smtp_down(settings: Any) -> Iterator[Smtp]:
    """EMAIL_URL points to a port where no server listens yet; ``start()`` brings it up."""
    server = Smtp(port=free_port())
    point_email_url(settings, f"smtp://127.0.0.1:{server.port}")
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down: Smtp) -> Smtp:
    smtp_down.start()
    return smtp_down


@dataclass
class Gateway:
    """A fake SMS gateway on 127.0.0.1; ``answers`` are the JSON bodies it replies with, in
    order (the last one repeats); ``requests`` the query strings it received."""

    port: int
    answers: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def gateway(settings: Any) -> Iterator[Gateway]:
    gw = Gateway(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            gw.requests.append((parts.path, query))
            answer = gw.answers.pop(0) if len(gw.answers) > 1 else gw.answers[0]
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", gw.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.VORONKA_WEBHOOK_ALLOW_HOSTS = f"127.0.0.1:{gw.port}"
    yield gw
    server.shutdown()
    server.server_close()


@pytest.fixture
def deliver() -> Callable[..., int]:
    """Run the delivery job as the worker would (optionally at a later time)."""
    from voronka.messaging.delivery import deliver_due

    return deliver_due


@pytest.fixture
def fan(make_contact: Callable[..., Any], alice: Any) -> Any:
    """Alice's contact who agreed to e-mail and SMS marketing."""
    return make_contact(alice, first_name="Мария", last_name="Иванова",
                        emails=[{"email": "maria@example.com"}],
                        phones=[{"phone": "+7 916 123-45-67"}],
                        email_consent=True, sms_consent=True)  # fmt: skip


@pytest.fixture
def quiet(make_contact: Callable[..., Any], alice: Any) -> Any:
    """Alice's contact who never agreed to marketing."""
    return make_contact(alice, first_name="Олег", last_name="Сидоров",
                        emails=[{"email": "oleg@example.com"}],
                        phones=[{"phone": "+79161112233"}])  # fmt: skip
