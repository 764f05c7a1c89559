"""Outbound HTTP that cannot be turned against our own network (SSRF).

Every URL an administrator or a rule types is checked *after* DNS resolution: an address that
is loopback, private, link-local (cloud metadata at 169.254.169.254), multicast, reserved or
otherwise not global is refused, in any notation (``2130706433``, ``0x7f000001``,
``017700000001``, ``[::ffff:127.0.0.1]``). The connection goes to the address that was checked
(no second lookup a rebinding DNS server could answer differently), and redirects are followed
by hand, each hop checked again, at most five.

``VORONKA_WEBHOOK_ALLOW_HOSTS`` (environment, comma-separated ``host`` or ``host:port``, empty
by default) lets tests and local development reach a receiver on 127.0.0.1. Never set it in
production."""

from __future__ import annotations

import http.client
import ipaddress
import json as jsonlib
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings

log = logging.getLogger("voronka.webhooks")

MAX_REDIRECTS = 5
MAX_BODY = 256 * 1024
USER_AGENT = "Voronka-Webhooks/1"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(Exception):
    """The URL points at a target we never call; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DeliveryFailed(Exception):
    """The request could not be completed: DNS, connection, TLS, timeout, too many redirects."""


@dataclass
class SafeResponse:
    status: int
    headers: dict[str, str]
    text: str
    final_url: str
    elapsed_ms: int
    redirects: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return jsonlib.loads(self.text)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def allowed_hosts() -> set[str]:
    raw = getattr(settings, "VORONKA_WEBHOOK_ALLOW_HOSTS", None)
    if raw is None:
        raw = os.environ.get("VORONKA_WEBHOOK_ALLOW_HOSTS", "")
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return {str(i).strip().lower() for i in items if str(i).strip()}


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse the inet_aton forms browsers and resolvers accept: 2130706433, 0x7f000001,
    017700000001, 127.1, 0x7f.0.0.1."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    nums = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                nums.append(int(part, 16))
            elif len(part) > 1 and part.startswith("0"):
                nums.append(int(part, 8))
            else:
                nums.append(int(part, 10))
        except ValueError:
            return None
    value = 0
    for num in nums[:-1]:
        if num > 255:
            return None
        value = value * 256 + num
    last_bits = 8 * (5 - len(nums))
    if nums[-1] >= 2**last_bits:
        return None
    value = (value << last_bits) | nums[-1]
    return ipaddress.IPv4Address(value)


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _legacy_ipv4(host)


def unsafe_reason(ip: Address) -> str | None:
    """Why ``ip`` may not be called, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return unsafe_reason(mapped)
        if ip.teredo:
            return unsafe_reason(ip.teredo[1])
    checks = [
        ("is_unspecified", "unspecified address"),
        ("is_loopback", "loopback address"),
        ("is_link_local", "link-local address (cloud metadata)"),
        ("is_private", "private network address"),
        ("is_multicast", "multicast address"),
        ("is_reserved", "reserved address"),
    ]
    for attr, reason in checks:
        if getattr(ip, attr):
            return f"{reason} {ip}"
    if not ip.is_global:
        return f"non-public address {ip}"
    return None


def _resolve(host: str, port: int) -> list[Address]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryFailed(f"cannot resolve {host}: {exc}") from exc
    found: list[Address] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise DeliveryFailed(f"cannot resolve {host}")
    return found


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: Address


def check_url(url: str, *, allow: set[str] | None = None) -> Target:
    """Parse and resolve ``url``; raise :class:`UnsafeURL` unless every address is public
    (or the host is on the allow-list given)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"scheme {parts.scheme or '(none)'} is not http or https")
    if parts.username or parts.password:
        raise UnsafeURL("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeURL("no host in the URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL("bad port") from exc
    addresses = _resolve(host, port)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    allow = allow or set()
    if host in allow or f"{host}:{port}" in allow:
        return Target(parts.scheme, host, port, path, addresses[0])
    for ip in addresses:
        reason = unsafe_reason(ip)
        if reason:
            raise UnsafeURL(f"{host} resolves to a {reason}")
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _send(
    target: Target, method: str, body: bytes | None, headers: dict[str, str], timeout: float
) -> tuple[int, dict[str, str], bytes]:
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(str(target.address), target.host, target.port, timeout)
    try:
        conn.request(method, target.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read(MAX_BODY)
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


def safe_request(
    method: str,
    url: str,
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    body: bytes | None = None,
) -> SafeResponse:
    """Send one request (plus up to five redirects), every hop checked against SSRF.

    ``body`` sends exact bytes (a signed payload); ``json`` serializes for you. The
    allow-list applies to the first hop only: a redirect is always checked."""
    method = method.upper()
    send_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    if json is not None and body is None:
        body = jsonlib.dumps(json, ensure_ascii=False).encode()
        send_headers.setdefault("Content-Type", "application/json")
    started = time.monotonic()
    allow = allowed_hosts()
    redirects: list[str] = []
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        try:
            target = check_url(current, allow=allow if hop == 0 else None)
        except UnsafeURL as exc:
            log.warning("refused %s %s: %s", method, current, exc.reason)
            raise
        status, resp_headers, data = _send(target, method, body, send_headers, timeout)
        location = resp_headers.get("location")
        if status in (301, 302, 303, 307, 308) and location:
            redirects.append(current)
            current = urljoin(current, location)
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
                send_headers.pop("Content-Type", None)
            continue
        return SafeResponse(
            status=status,
            headers=resp_headers,
            text=data.decode("utf-8", errors="replace"),
            final_url=current,
            elapsed_ms=int((time.monotonic() - started) * 1000),
            redirects=redirects,
        )
    raise DeliveryFailed(f"more than {MAX_REDIRECTS} redirects")
