"""A small client of the Telegram Bot API (https://core.telegram.org/bots/api) over HTTP.

Every method is ``POST <base>/bot<token>/<method>`` with a JSON body (or multipart/form-data
when a file is uploaded); the answer is ``{"ok": true, "result": …}`` or ``{"ok": false,
"error_code": 4xx, "description": "…", "parameters": {"retry_after": N}}``. Files are
fetched from ``<base>/file/bot<token>/<file_path>`` after ``getFile``.

``<base>`` is ``VORONKA_TELEGRAM_API_URL`` (default ``https://api.telegram.org``), so the tests
and a self-hosted Bot API server can stand in for Telegram. It is set by the operator, never
typed by a user, so no SSRF guard applies. The standard library's ``urllib`` does the HTTP
(the project has no HTTP client dependency); every call has a timeout, and the token, which
is part of every URL, never appears in an error message."""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

DEFAULT_API_URL = "https://api.telegram.org"
TIMEOUT = 15.0  # seconds, for ordinary calls
TRANSFER_TIMEOUT = 60.0  # seconds, for uploads and downloads
MAX_ANSWER = 10 * 1024 * 1024  # a JSON answer larger than this is not the Bot API's
MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API serves files up to 20 MB
USER_AGENT = "Voronka-Telegram/1"


def api_url() -> str:
    """The Bot API's base address: settings, then the environment, then Telegram's own."""
    value = getattr(settings, "VORONKA_TELEGRAM_API_URL", "") or os.environ.get(
        "VORONKA_TELEGRAM_API_URL", ""
    )
    return (value or DEFAULT_API_URL).rstrip("/")


class BotApiError(Exception):
    """The Bot API answered ``ok: false`` or could not be reached.

    ``status`` is the HTTP status (0 when there was no answer), ``retry_after`` the seconds
    Telegram asks to wait after a 429. The message is Telegram's own description, which is
    what an administrator can act on ("Unauthorized", "Forbidden: bot was blocked by the
    user", "Too Many Requests: retry after 7")."""

    def __init__(self, description: str, *, status: int = 0, retry_after: int | None = None):
        super().__init__(description)
        self.description = description
        self.status = status
        self.retry_after = retry_after

    @property
    def unreachable(self) -> bool:
        """No answer at all: the network, DNS, a timeout."""
        return self.status == 0

    @property
    def transient(self) -> bool:
        """Worth trying again later: no answer, rate limited, or Telegram's own trouble."""
        return self.status == 0 or self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class Upload:
    """A file sent as one part of a multipart request (sendDocument, sendPhoto)."""

    field: str
    name: str
    content: bytes
    content_type: str = "application/octet-stream"


def _multipart(params: dict[str, Any], upload: Upload) -> tuple[bytes, str]:
    boundary = "voronka" + secrets.token_hex(12)
    lines: list[bytes] = []
    for key, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value)
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{key}"'.encode(),
            b"",
            text.encode(),
        ]
    safe_name = upload.name.replace('"', "'").replace("\r", " ").replace("\n", " ")
    lines += [
        f"--{boundary}".encode(),
        f'Content-Disposition: form-data; name="{upload.field}"; filename="{safe_name}"'.encode(),
        f"Content-Type: {upload.content_type or 'application/octet-stream'}".encode(),
        b"",
        upload.content,
        f"--{boundary}--".encode(),
        b"",
    ]
    return b"\r\n".join(lines), f"multipart/form-data; boundary={boundary}"


class BotApi:
    """One bot's view of the Bot API. Methods return the ``result`` of the answer."""

    def __init__(self, token: str, base_url: str | None = None) -> None:
        self.token = token
        self.base_url = (base_url or api_url()).rstrip("/")

    # --- plumbing -------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self.token, "<token>") if self.token else text

    def _open(self, request: urllib.request.Request, timeout: float, limit: int) -> bytes:
        """The body of a 2xx answer. A 4xx/5xx answer raises with Telegram's description."""
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                body = response.read(limit + 1)
        except urllib.error.HTTPError as exc:
            raw = exc.read(MAX_ANSWER) if exc.fp is not None else b""
            raise self._error_from(exc.code, raw) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BotApiError(
                self._scrub(f"cannot reach the Telegram Bot API: {reason}"), status=0
            ) from None
        if len(body) > limit:
            raise BotApiError("the Telegram Bot API sent more than expected", status=502)
        return body

    def _error_from(self, status: int, raw: bytes) -> BotApiError:
        try:
            data = json.loads(raw.decode("utf-8", "replace")) if raw else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        description = str(data.get("description") or f"HTTP {status} from the Telegram Bot API")
        parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        retry_after = parameters.get("retry_after") if parameters else None
        code = data.get("error_code")
        if isinstance(code, int) and not isinstance(code, bool) and code:
            status = code
        return BotApiError(
            self._scrub(description),
            status=status,
            retry_after=retry_after if isinstance(retry_after, int) else None,
        )

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        upload: Upload | None = None,
        timeout: float = TIMEOUT,
    ) -> Any:
        """Call one Bot API method; its ``result``, or BotApiError."""
        url = f"{self.base_url}/bot{self.token}/{method}"
        if upload is not None:
            data, content_type = _multipart(params or {}, upload)
        else:
            data, content_type = json.dumps(params or {}).encode(), "application/json"
        request = urllib.request.Request(  # noqa: S310 (the operator's Bot API address)
            url,
            data=data,
            method="POST",
            headers={"Content-Type": content_type, "User-Agent": USER_AGENT},
        )
        raw = self._open(request, timeout, MAX_ANSWER)
        try:
            answer = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise BotApiError("the Telegram Bot API did not answer with JSON", status=502) from None
        if not isinstance(answer, dict):
            raise BotApiError("the Telegram Bot API did not answer with an object", status=502)
        if not answer.get("ok"):
            raise self._error_from(200, raw)
        return answer.get("result")

    # --- the methods Voronka uses ---------------------------------------------------------------

    def get_me(self) -> dict[str, Any]:
        result = self.call("getMe")
        if not isinstance(result, dict):
            raise BotApiError("getMe did not return a user", status=502)
        return result

    def set_webhook(self, url: str, secret_token: str, allowed_updates: list[str]) -> None:
        self.call(
            "setWebhook",
            {"url": url, "secret_token": secret_token, "allowed_updates": allowed_updates},
        )

    def delete_webhook(self) -> None:
        self.call("deleteWebhook", {"drop_pending_updates": False})

    def get_webhook_info(self) -> dict[str, Any]:
        result = self.call("getWebhookInfo")
        return result if isinstance(result, dict) else {}

    def get_updates(
        self, offset: int, allowed_updates: list[str], limit: int = 100
    ) -> list[dict[str, Any]]:
        # timeout=0: a short poll. The periodic loop runs every job in turn, so a long poll
        # would hold up the other jobs of the worker.
        result = self.call(
            "getUpdates",
            {"offset": offset, "limit": limit, "timeout": 0, "allowed_updates": allowed_updates},
        )
        if not isinstance(result, list):
            raise BotApiError("getUpdates did not return a list", status=502)
        return [u for u in result if isinstance(u, dict)]

    def send_message(self, chat_id: str | int, text: str) -> dict[str, Any]:
        result = self.call("sendMessage", {"chat_id": chat_id, "text": text})
        if not isinstance(result, dict):
            raise BotApiError("sendMessage did not return a message", status=502)
        return result

    def send_file(self, method: str, field: str, chat_id: str | int, upload: Upload) -> Any:
        """sendDocument or sendPhoto with the file in the request."""
        return self.call(
            method,
            {"chat_id": str(chat_id)},
            upload=Upload(field, upload.name, upload.content, upload.content_type),
            timeout=TRANSFER_TIMEOUT,
        )

    def download(self, file_id: str) -> bytes:
        """A file a user sent: ``getFile`` gives its path, then the file is fetched."""
        info = self.call("getFile", {"file_id": file_id})
        path = info.get("file_path") if isinstance(info, dict) else None
        if not isinstance(path, str) or not path:
            raise BotApiError("getFile gave no file_path", status=400)
        request = urllib.request.Request(  # noqa: S310 (the operator's Bot API address)
            f"{self.base_url}/file/bot{self.token}/{path.lstrip('/')}",
            headers={"User-Agent": USER_AGENT},
        )
        return self._open(request, TRANSFER_TIMEOUT, MAX_DOWNLOAD)
