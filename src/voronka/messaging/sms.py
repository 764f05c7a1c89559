"""SMS gateways over HTTP, chosen by ``VORONKA_SMS_URL``:

- ``smsru://API_ID@`` — SMS.ru (``/sms/send?api_id=…&to=…&msg=…&json=1``);
- ``smsc://LOGIN:PASSWORD@`` — SMSC.ru (``/sys/send.php?login=…&psw=…&phones=…&mes=…&fmt=3``);
- ``console:`` — write the message to the log (the default when nothing is set).

``?base=http://127.0.0.1:8025`` replaces the provider's address (tests, a local relay); the
sender name goes in ``?from=``. Requests go through ``voronka.webhooks.http.safe_request``,
so a gateway address can never point into the private network unless allowed."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlencode, urlparse

from django.conf import settings

log = logging.getLogger("voronka.messaging.sms")


class SmsError(Exception):
    """The gateway refused or could not be reached; ``permanent`` means retrying is useless."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsProvider(Protocol):
    def send(self, phone: str, text: str) -> str:
        """Send one SMS; the gateway's message id, or SmsError."""
        ...


def _get(url: str) -> tuple[int, str]:
    from voronka.webhooks.http import DeliveryFailed, UnsafeURL, safe_request

    try:
        response = safe_request("GET", url, timeout=15.0)
    except UnsafeURL as exc:
        raise SmsError(f"unsafe gateway address: {exc}", permanent=True) from exc
    except DeliveryFailed as exc:
        raise SmsError(f"gateway unreachable: {exc}") from exc
    return response.status, response.text


def _json(status: int, text: str) -> dict[str, object]:
    if status >= 500:
        raise SmsError(f"gateway answered HTTP {status}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SmsError(f"gateway answered HTTP {status}: {text[:200]}") from exc
    if not isinstance(data, dict):
        raise SmsError(f"unexpected answer: {text[:200]}")
    return data


@dataclass
class SmsRu:
    api_id: str
    sender: str = ""
    base: str = "https://sms.ru"

    def send(self, phone: str, text: str) -> str:
        params = {"api_id": self.api_id, "to": phone.lstrip("+"), "msg": text, "json": "1"}
        if self.sender:
            params["from"] = self.sender
        data = _json(*_get(f"{self.base.rstrip('/')}/sms/send?{urlencode(params)}"))
        if data.get("status") != "OK":
            raise SmsError(f"SMS.ru: {data.get('status_text') or data}", permanent=True)
        sms = data.get("sms") or {}
        result: object = next(iter(sms.values()), {}) if isinstance(sms, dict) else {}
        if not isinstance(result, dict) or result.get("status") != "OK":
            text_ = result.get("status_text") if isinstance(result, dict) else result
            raise SmsError(f"SMS.ru: {text_}", permanent=True)
        return str(result.get("sms_id", ""))


# SMSC.ru error codes worth a retry: 4 (IP temporarily blocked), 9 (too many requests).
SMSC_TRANSIENT = {4, 9}


@dataclass
class Smsc:
    login: str
    password: str
    sender: str = ""
    base: str = "https://smsc.ru"

    def send(self, phone: str, text: str) -> str:
        params = {
            "login": self.login, "psw": self.password, "phones": phone.lstrip("+"),
            "mes": text, "fmt": "3", "charset": "utf-8",
        }  # fmt: skip
        if self.sender:
            params["sender"] = self.sender
        data = _json(*_get(f"{self.base.rstrip('/')}/sys/send.php?{urlencode(params)}"))
        if "error" in data:
            code = int(str(data.get("error_code") or 0))
            raise SmsError(
                f"SMSC.ru: {data['error']} (code {code})", permanent=code not in SMSC_TRANSIENT
            )
        return str(data.get("id", ""))


class ConsoleSms:
    """No gateway configured: the text goes to the log so development works offline."""

    def send(self, phone: str, text: str) -> str:
        log.info("SMS to %s: %s", phone, text)
        return ""


def sms_url() -> str:
    return getattr(settings, "VORONKA_SMS_URL", "") or os.environ.get("VORONKA_SMS_URL", "")


def provider_from_url(url: str) -> SmsProvider:
    """Parse ``VORONKA_SMS_URL`` into a provider; ValueError on an unknown scheme."""
    if not url or url.startswith("console:"):
        return ConsoleSms()
    parsed = urlparse(url)
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    sender = query.get("from", "")
    user, password = unquote(parsed.username or ""), unquote(parsed.password or "")
    if parsed.scheme == "smsru":
        return SmsRu(api_id=user, sender=sender, base=query.get("base", SmsRu.base))
    if parsed.scheme == "smsc":
        return Smsc(login=user, password=password, sender=sender,
                    base=query.get("base", Smsc.base))  # fmt: skip
    raise ValueError(f"VORONKA_SMS_URL: unsupported scheme {parsed.scheme!r}")


def provider() -> SmsProvider:
    return provider_from_url(sms_url())
