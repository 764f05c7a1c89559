"""A local stand-in for the Telegram Bot API: an HTTP server on 127.0.0.1 in a thread that
speaks the Bot API's HTTP shape (https://core.telegram.org/bots/api#making-requests).

- ``POST|GET /bot<token>/<method>`` with a JSON, form-encoded or multipart body (or a query
  string); the answer is ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": N,
  "description": "…", "parameters": {"retry_after": N}}`` with the same HTTP status.
- Methods: getMe, setWebhook, deleteWebhook, getWebhookInfo, getUpdates (queued updates,
  confirmed by ``offset`` like Telegram does), sendMessage, sendDocument, sendPhoto, getFile.
- ``GET /file/bot<token>/<file_path>``: the bytes of a file added with :meth:`add_file`.

Every request is recorded in ``calls``; :meth:`fail` makes the next calls of a method fail.
Run it alone (``python tests/telegram/fake_bot_api.py --port 8113``) to point a dev server's
``VORONKA_TELEGRAM_API_URL`` at it."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "123456789:AAHfake-token-for-tests_0123456789abc"
OTHER_TOKEN = "987654321:AAHanother-fake-token_0123456789xyz"


@dataclass
class Call:
    """One request the server received."""

    method: str
    token: str
    params: dict[str, Any]
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # name, type, bytes


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    times: int = 1


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, files) of a request body in any of the three encodings the Bot API takes."""
    if not body:
        return {}, {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        data = json.loads(body)
        return (data if isinstance(data, dict) else {}), {}
    if kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                files[str(name)] = (filename, part.get_content_type(), payload)
            else:
                params[str(name)] = payload.decode()
        return params, files
    return {k: v[-1] for k, v in parse_qs(body.decode()).items()}, {}


class FakeBotApi:
    """The fake server. ``add_bot`` makes a token valid; ``queue`` adds updates for
    getUpdates; ``add_file`` stores a file to be fetched through getFile."""

    def __init__(self) -> None:
        self.bots: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.updates: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.blocked: set[str] = set()  # chat ids that blocked the bot
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = {}
        self.webhook_info: dict[str, Any] = {}  # extra fields for getWebhookInfo
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- set-up ---------------------------------------------------------------------------------

    def add_bot(self, token: str = TOKEN, username: str = "shop_bot", name: str = "Shop") -> str:
        bot_id = int(token.split(":", 1)[0])
        self.bots[token] = {
            "id": bot_id, "is_bot": True, "first_name": name, "username": username,
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }  # fmt: skip
        return token

    def queue(self, update: dict[str, Any], token: str = TOKEN) -> None:
        self.updates.setdefault(token, []).append(update)

    def add_file(self, content: bytes, path: str) -> str:
        file_id = f"FILE{next(self._ids)}"
        self.files[file_id] = (path, content)
        return file_id

    def fail(
        self, method: str, status: int, description: str, *, retry_after: int | None = None,
        times: int = 1,
    ) -> None:  # fmt: skip
        self.failures.setdefault(method, []).append(
            Failure(status, description, retry_after, times)
        )

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # --- the server -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self, port: int = 0) -> FakeBotApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if parts.path.startswith("/file/bot"):
                    status, raw = fake.serve_file(unquote(parts.path[len("/file/bot") :]))
                    self._answer(status, raw, "application/octet-stream")
                    return
                if not parts.path.startswith("/bot") or parts.path.count("/") != 2:
                    self._answer(404, b'{"ok":false,"error_code":404,"description":"Not Found"}',
                                 "application/json")  # fmt: skip
                    return
                token, method = parts.path[len("/bot") :].split("/", 1)
                params, files = _parse_body(self.headers.get("Content-Type", ""), body)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                status, answer = fake.handle(unquote(token), method, {**query, **params}, files)
                self._answer(status, json.dumps(answer).encode(), "application/json")

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- the Bot API ----------------------------------------------------------------------------

    def serve_file(self, rest: str) -> tuple[int, bytes]:
        token, _, path = rest.partition("/")
        if token not in self.bots:
            return 401, b"Unauthorized"
        for file_path, content in self.files.values():
            if file_path == path:
                return 200, content
        return 404, b"Not Found"

    def _message(self, token: str, chat_id: Any, **content: Any) -> dict[str, Any]:
        bot = self.bots[token]
        return {
            "message_id": next(self._ids),
            "from": {"id": bot["id"], "is_bot": True, "first_name": bot["first_name"],
                     "username": bot["username"]},
            "chat": {"id": int(chat_id), "type": "private"},
            "date": int(time.time()),
            **content,
        }  # fmt: skip

    def handle(
        self, token: str, method: str, params: dict[str, Any], files: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(method, token, params, files))
            if token not in self.bots:
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            queue = self.failures.get(method) or []
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
                answer: dict[str, Any] = {"ok": False, "error_code": failure.status,
                                          "description": failure.description}  # fmt: skip
                if failure.retry_after is not None:
                    answer["parameters"] = {"retry_after": failure.retry_after}
                return failure.status, answer
            result = self._result(token, method, params, files)
            if isinstance(result, tuple):
                return result
            return 200, {"ok": True, "result": result}

    def _result(
        self, token: str, method: str, params: dict[str, Any], files: dict[str, Any]
    ) -> Any:
        if method == "getMe":
            return self.bots[token]
        if method == "setWebhook":
            if not params.get("url"):
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: bad webhook: URL must be provided"}  # fmt: skip
            self.webhooks[token] = dict(params)
            return True
        if method == "deleteWebhook":
            self.webhooks.pop(token, None)
            return True
        if method == "getWebhookInfo":
            hook = self.webhooks.get(token, {})
            return {"url": hook.get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self.updates.get(token, [])),
                    **self.webhook_info}  # fmt: skip
        if method == "getUpdates":
            if token in self.webhooks:
                return 409, {"ok": False, "error_code": 409, "description": (
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first")}  # fmt: skip
            offset = int(params.get("offset") or 0)
            limit = int(params.get("limit") or 100)
            waiting = [u for u in self.updates.get(token, []) if u["update_id"] >= offset]
            self.updates[token] = waiting  # an offset confirms every update before it
            return waiting[:limit]
        if method in ("sendMessage", "sendDocument", "sendPhoto"):
            chat_id = str(params.get("chat_id", ""))
            if not chat_id.lstrip("-").isdigit():
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: chat not found"}  # fmt: skip
            if chat_id in self.blocked:
                return 403, {"ok": False, "error_code": 403,
                             "description": "Forbidden: bot was blocked by the user"}  # fmt: skip
            if method == "sendMessage":
                if not params.get("text"):
                    return 400, {"ok": False, "error_code": 400,
                                 "description": "Bad Request: message text is empty"}  # fmt: skip
                return self._message(token, chat_id, text=params["text"])
            field_name = "document" if method == "sendDocument" else "photo"
            if field_name not in files:
                return 400, {"ok": False, "error_code": 400,
                             "description": f"Bad Request: there is no {field_name} in the request"}  # fmt: skip
            name, content_type, content = files[field_name]
            sent = {"file_id": f"SENT{next(self._ids)}", "file_unique_id": "u",
                    "file_size": len(content)}  # fmt: skip
            if field_name == "document":
                return self._message(token, chat_id, document={**sent, "file_name": name,
                                                              "mime_type": content_type})  # fmt: skip
            return self._message(token, chat_id, photo=[{**sent, "width": 1, "height": 1}])
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            if file_id not in self.files:
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: invalid file_id"}  # fmt: skip
            path, content = self.files[file_id]
            return {"file_id": file_id, "file_unique_id": f"U{file_id}",
                    "file_size": len(content), "file_path": path}  # fmt: skip
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}


# --- Updates shaped as the Bot API documents them -------------------------------------------------

_update_ids = itertools.count(500_000_001)
_message_ids = itertools.count(1)


def user(user_id: int = 4242, first: str = "Anna", last: str = "Ivanova",
         username: str | None = "anna_iv") -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first,
                           "language_code": "ru"}  # fmt: skip
    if last:
        out["last_name"] = last
    if username:
        out["username"] = username
    return out


def message(
    chat_id: int | None = None, *, sender: dict[str, Any] | None = None,
    message_id: int | None = None, date: int | None = None, **content: Any,
) -> dict[str, Any]:  # fmt: skip
    """A Message in a private chat (the chat's id is the user's id)."""
    sender = sender or user()
    chat_id = chat_id if chat_id is not None else sender["id"]
    chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": sender["first_name"]}
    if sender.get("last_name"):
        chat["last_name"] = sender["last_name"]
    if sender.get("username"):
        chat["username"] = sender["username"]
    return {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "from": sender,
        "chat": chat,
        "date": date if date is not None else int(time.time()),
        **content,
    }


def update(
    msg: dict[str, Any], *, update_id: int | None = None, edited: bool = False
) -> dict[str, Any]:
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        ("edited_message" if edited else "message"): msg,
    }


def photo_sizes(file_ids: list[str]) -> list[dict[str, Any]]:
    """PhotoSize objects from small to large, like Telegram lists them."""
    sizes = [(90, 67), (320, 240), (800, 600), (1280, 960)]
    return [
        {"file_id": fid, "file_unique_id": f"u{fid}", "width": w, "height": h,
         "file_size": 1000 * (i + 1)}
        for i, (fid, (w, h)) in enumerate(zip(file_ids, sizes, strict=False))
    ]  # fmt: skip


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8113)
    args = parser.parse_args()
    fake = FakeBotApi()
    fake.add_bot(TOKEN, "shop_bot", "Shop")
    fake.add_bot(OTHER_TOKEN, "support_help_bot", "Support")
    fake.start(args.port)
    print(f"Fake Bot API at {fake.url}; tokens:\n  {TOKEN}\n  {OTHER_TOKEN}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()
