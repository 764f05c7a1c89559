"""safe_request refuses every way of reaching our own network, and says why in the log."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.webhooks.receiver import Receiver, ok
from voronka.webhooks.http import DeliveryFailed, UnsafeURL, safe_request


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(ok).start()
    yield r
    r.stop()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.5/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0x7f000001/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://017700000001/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[fd00::1]/", "private"),
        ("http://100.64.0.1/", "address"),
        ("http://localhost/", "loopback"),
        ("http://localhost.:8080/x", "loopback"),
    ],
)
def test_internal_targets_are_refused_and_logged(
    url: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="voronka.webhooks")
    with pytest.raises(UnsafeURL) as exc:
        safe_request("POST", url, json={"a": 1}, timeout=2)
    assert why in exc.value.reason
    assert any(why in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.com/", "ftp://x/"])
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        safe_request("GET", url)


def test_a_public_url_that_redirects_inside_is_refused(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The first hop (our stand-in for a public site) is allowed; its redirect is not."""
    target = Receiver(ok).start()
    try:
        for location in (
            f"http://127.0.0.1:{target.port}/",
            "http://169.254.169.254/latest/meta-data/",
            f"http://localhost:{target.port}/",
            f"http://[::ffff:127.0.0.1]:{target.port}/",
        ):
            receiver.reply = lambda _r, loc=location: (302, {"Location": loc}, b"")
            monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{receiver.port}")
            caplog.clear()
            caplog.set_level(logging.WARNING, logger="voronka.webhooks")
            with pytest.raises(UnsafeURL):
                safe_request("POST", receiver.url, json={"x": 1}, timeout=3)
            assert any("refused" in r.getMessage() for r in caplog.records)
        assert target.requests == []  # never reached
    finally:
        target.stop()


def test_allowed_local_receiver_gets_the_request(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{receiver.port}")
    resp = safe_request("POST", receiver.url, json={"x": 1}, headers={"X-A": "b"})
    assert resp.status == 200 and resp.json() == {"ok": True}
    assert resp.final_url == receiver.url
    assert receiver.requests[0].json() == {"x": 1}
    assert receiver.requests[0].headers["x-a"] == "b"
    # Without the allow-list the same receiver is refused.
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", "")
    with pytest.raises(UnsafeURL):
        safe_request("POST", receiver.url, json={"x": 1})


def test_too_many_redirects(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{receiver.port}")
    receiver.reply = lambda _r: (302, {"Location": receiver.url}, b"")
    # The second hop is checked without the allow-list, so even a self-redirect is refused.
    with pytest.raises(UnsafeURL):
        safe_request("GET", receiver.url)


def test_a_closed_port_is_a_delivery_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    monkeypatch.setenv("VORONKA_WEBHOOK_ALLOW_HOSTS", f"127.0.0.1:{port}")
    with pytest.raises(DeliveryFailed):
        safe_request("POST", f"http://127.0.0.1:{port}/", json={}, timeout=2)


def test_unknown_host_is_a_delivery_failure(**_: Any) -> None:
    with pytest.raises(DeliveryFailed):
        safe_request("GET", "http://no-such-host.invalid/", timeout=2)
