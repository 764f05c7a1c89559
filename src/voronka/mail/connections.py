"""Talking to the mail servers: IMAP to read a folder by UID, SMTP to send, both with
timeouts and the security the administrator chose, and errors turned into sentences an
administrator can act on ("login failed", "no answer from imap.example.com:993").

Nothing here touches the database; :mod:`voronka.mail.sync` and :mod:`voronka.mail.sending`
decide what to fetch and what to store."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voronka.mail.models import Security

TIMEOUT = 30.0  # seconds for any one network step of a sync or a send
TEST_TIMEOUT = 15.0  # the "Test connection" button: the administrator is waiting
UID_RE = re.compile(rb"\bUID (\d+)")
SIZE_RE = re.compile(rb"\bRFC822\.SIZE (\d+)")
SENT_NAMES = ("sent", "sent items", "sent messages", "sent mail", "отправленные", "inbox.sent",
              "inbox/sent", "[gmail]/sent mail")  # fmt: skip


class MailError(Exception):
    """A mail server refused or failed; the message is meant for the administrator."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect: one side (IMAP or SMTP) of a mailbox's settings."""

    host: str
    port: int
    security: str
    username: str
    password: str


def describe(exc: BaseException, endpoint: Endpoint) -> str:
    """An exception of a socket, TLS, IMAP or SMTP library as one clear sentence."""
    where = f"{endpoint.host}:{endpoint.port}"
    if isinstance(exc, MailError):
        return str(exc)
    if isinstance(exc, socket.gaierror):
        return _("unknown server name %(host)s") % {"host": endpoint.host}
    if isinstance(exc, TimeoutError | socket.timeout):
        return _("no answer from %(where)s in time") % {"where": where}
    if isinstance(exc, ConnectionRefusedError):
        return _("connection refused by %(where)s: check the server and the port") % {
            "where": where
        }
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return _(
            "secure connection to %(where)s failed (%(error)s): check the security setting"
        ) % {
            "where": where,
            "error": exc,
        }
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return _("login failed: %(error)s") % {"error": f"{exc.smtp_code} {text}".strip()}
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(exc.recipients)
        return _("the server refused the recipient %(to)s") % {"to": refused}
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return _("the server answered %(error)s") % {"error": f"{exc.smtp_code} {text}".strip()}
    if isinstance(exc, smtplib.SMTPServerDisconnected | imaplib.IMAP4.abort | EOFError):
        return _("%(where)s closed the connection (%(error)s)") % {"where": where, "error": exc}
    if isinstance(exc, OSError):
        return _("cannot connect to %(where)s: %(error)s") % {
            "where": where,
            "error": exc.strerror or exc,
        }
    return f"{type(exc).__name__}: {exc}"


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


# --- IMAP ---------------------------------------------------------------------------------------


def encode_folder(name: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 5.1.3) for non-ASCII names
    ("Отправленные"), quoted when it holds spaces."""

    def b64(chunk: str) -> str:
        raw = base64.b64encode(chunk.encode("utf-16-be")).decode().rstrip("=")
        return "&" + raw.replace("/", ",") + "-"

    out: list[str] = []
    pending = ""
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            if pending:
                out.append(b64(pending))
                pending = ""
            out.append("&-" if ch == "&" else ch)
        else:
            pending += ch
    if pending:
        out.append(b64(pending))
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _login_imap(conn: imaplib.IMAP4, endpoint: Endpoint) -> None:
    try:
        if endpoint.username.isascii() and endpoint.password.isascii():
            conn.login(endpoint.username, endpoint.password)
        else:
            # LOGIN takes ASCII only; AUTHENTICATE PLAIN carries UTF-8.
            token = f"\0{endpoint.username}\0{endpoint.password}".encode()
            conn.authenticate("PLAIN", lambda _challenge: token)
    except imaplib.IMAP4.error as exc:
        text = exc.args[0] if exc.args else exc
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        raise MailError(_("login failed: %(error)s") % {"error": text}) from exc


@contextmanager
def imap(endpoint: Endpoint, *, timeout: float = TIMEOUT) -> Iterator[imaplib.IMAP4]:
    """A logged-in IMAP connection, logged out (or dropped) at the end."""
    conn: imaplib.IMAP4
    if endpoint.security == Security.SSL:
        conn = imaplib.IMAP4_SSL(endpoint.host, endpoint.port, ssl_context=_tls(), timeout=timeout)
    else:
        conn = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=timeout)
        if endpoint.security == Security.STARTTLS:
            conn.starttls(ssl_context=_tls())
    try:
        _login_imap(conn, endpoint)
        yield conn
    finally:
        try:
            conn.logout()
        except Exception:  # the connection is gone already; close what is left
            with contextlib.suppress(Exception):
                conn.shutdown()


def _ok(typ: str, data: list[object], what: str) -> list[object]:
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise MailError(f"{what}: {detail or typ}")
    return data


@dataclass
class FolderState:
    uidvalidity: int
    exists: int


def select(conn: imaplib.IMAP4, folder: str) -> FolderState:
    """Open the folder read-only (EXAMINE): a sync never changes flags or deletes."""
    typ, data = conn.select(encode_folder(folder or "INBOX"), readonly=True)
    if typ != "OK":
        raise MailError(_("the folder %(folder)s cannot be opened") % {"folder": folder})
    _typ, validity = conn.response("UIDVALIDITY")
    value = validity[0] if validity and validity[0] else b"0"
    exists = int(data[0]) if data and data[0] else 0
    return FolderState(uidvalidity=int(value), exists=exists)


def new_uids(conn: imaplib.IMAP4, after: int, since: str = "") -> list[int]:
    """UIDs above ``after``, oldest first. "UID n:*" always includes the last message even
    when its UID is below n, so the list is filtered here."""
    criteria = [f"UID {after + 1}:*"]
    if since:
        criteria.append(f"SINCE {since}")
    data = _ok(*conn.uid("SEARCH", *criteria), "SEARCH")
    found: set[int] = set()
    for line in data:
        if isinstance(line, bytes):
            found.update(int(x) for x in line.split() if x.isdigit())
    return sorted(uid for uid in found if uid > after)


def sizes(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    if not uids:
        return {}
    data = _ok(*conn.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)"), "FETCH")
    out: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, size = UID_RE.search(line), SIZE_RE.search(line)
        if uid and size:
            out[int(uid.group(1))] = int(size.group(1))
    return out


def fetch(conn: imaplib.IMAP4, uid: int, *, first_bytes: int | None = None) -> bytes | None:
    """The message's bytes without setting \\Seen (BODY.PEEK), or only its first bytes for
    a message too large; None when it was deleted meanwhile."""
    part = f"BODY.PEEK[]<0.{first_bytes}>" if first_bytes else "BODY.PEEK[]"
    data = _ok(*conn.uid("FETCH", str(uid), f"({part})"), "FETCH")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            match = UID_RE.search(item[0]) if isinstance(item[0], bytes) else None
            if match is None or int(match.group(1)) == uid:
                return item[1]
    return None


LIST_RE = re.compile(rb'\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$')


def sent_folder(conn: imaplib.IMAP4) -> str | None:
    """The folder flagged \\Sent (RFC 6154), else one with a usual name; as the server
    spells it, ready for APPEND."""
    typ, data = conn.list()
    if typ != "OK":
        return None
    by_name: dict[str, str] = {}
    for line in data:
        if not isinstance(line, bytes) or not (m := LIST_RE.match(line)):
            continue
        raw = m.group("name").decode(errors="replace")
        if b"\\sent" in m.group("flags").lower():
            return raw
        by_name[raw.strip('"').lower()] = raw
    for name in SENT_NAMES:
        if name in by_name:
            return by_name[name]
    return None


def append_sent(endpoint: Endpoint, raw: bytes) -> bool:
    """A copy of a sent reply in the Sent folder, so the mailbox shows it in any mail
    program; False when there is no such folder."""
    with imap(endpoint) as conn:
        folder = sent_folder(conn)
        if folder is None:
            return False
        if not folder.startswith('"'):
            folder = f'"{folder}"'
        typ, data = conn.append(folder, "(\\Seen)", imaplib.Time2Internaldate(time.time()), raw)
        _ok(typ, list(data), "APPEND")
    return True


# --- SMTP ---------------------------------------------------------------------------------------


@contextmanager
def smtp(endpoint: Endpoint, *, timeout: float = TIMEOUT) -> Iterator[smtplib.SMTP]:
    """A connected SMTP session, logged in when a login is set and the server offers AUTH."""
    conn: smtplib.SMTP
    if endpoint.security == Security.SSL:
        conn = smtplib.SMTP_SSL(endpoint.host, endpoint.port, timeout=timeout, context=_tls())
    else:
        conn = smtplib.SMTP(endpoint.host, endpoint.port, timeout=timeout)
    try:
        conn.ehlo()
        if endpoint.security == Security.STARTTLS:
            conn.starttls(context=_tls())
            conn.ehlo()
        if endpoint.username and endpoint.password and conn.has_extn("auth"):
            conn.login(endpoint.username, endpoint.password)
        yield conn
    finally:
        try:
            conn.quit()
        except Exception:  # the server hung up first; the socket is closed either way
            conn.close()


def send(endpoint: Endpoint, message: EmailMessage, sender: str, recipients: list[str]) -> None:
    with smtp(endpoint) as conn:
        refused = conn.send_message(message, from_addr=sender, to_addrs=recipients)
        if refused:
            raise MailError(
                _("the server refused the recipient %(to)s") % {"to": ", ".join(refused)}
            )


# --- checking settings --------------------------------------------------------------------------


@dataclass
class Check:
    ok: bool
    message: str


def check_imap(endpoint: Endpoint, folder: str) -> Check:
    try:
        with imap(endpoint, timeout=TEST_TIMEOUT) as conn:
            state = select(conn, folder)
    except Exception as exc:  # every failure is a result to show, not an error page
        return Check(False, describe(exc, endpoint))
    text = ngettext(
        "logged in; the folder %(folder)s has %(n)d message",
        "logged in; the folder %(folder)s has %(n)d messages",
        state.exists,
    )
    return Check(True, text % {"folder": folder or "INBOX", "n": state.exists})


def check_smtp(endpoint: Endpoint) -> Check:
    try:
        with smtp(endpoint, timeout=TEST_TIMEOUT) as conn:
            logged_in = bool(endpoint.username and endpoint.password and conn.has_extn("auth"))
    except Exception as exc:  # every failure is a result to show, not an error page
        return Check(False, describe(exc, endpoint))
    if logged_in:
        return Check(True, _("connected and logged in"))
    return Check(True, _("connected (the server asks for no login)"))
