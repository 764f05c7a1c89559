"""An e-mail as it arrives (bytes) turned into what the inbox stores (:class:`Incoming`).

The stdlib ``email`` package with ``policy.default`` decodes headers (RFC 2047) and bodies
(quoted-printable, base64, any charset Python knows: koi8-r, windows-1251, …). A body in a
charset that is wrong or unknown is decoded leniently rather than dropped: a customer's
message with a few odd characters is better than none."""

from __future__ import annotations

import datetime as dt
import hashlib
import html as htmllib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext

from voronka.core.text import normalize_email
from voronka.inbox.services import Incoming, IncomingFile

MSGID_RE = re.compile(r"<[^<>\s]+>")
REPLY_PREFIX_RE = re.compile(r"^\s*((re|fwd?|ответ|отв|на)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# Automatic mail (out-of-office answers, newsletters, bounces) joins a thread it answers but
# never makes a lead of its own.
BULK_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
AUTOMATED_SENDERS = ("mailer-daemon@", "postmaster@")
REFERENCES_KEPT = 20
NAME_BYTES = 150
ID_LIMIT = 255


@dataclass
class ParsedMail:
    """The parts of one e-mail the CRM uses."""

    message_id: str
    in_reply_to: str
    references: list[str]
    from_name: str
    from_address: str
    reply_to: str  # where an answer goes: Reply-To, else From
    to: list[str]
    cc: list[str]
    subject: str
    body_text: str
    body_html: str
    when: dt.datetime | None
    automated: bool
    files: list[IncomingFile] = field(default_factory=list)
    truncated: bool = False  # larger than the limit: the body is cut and attachments dropped

    @property
    def thread_root(self) -> str:
        """The first message of the thread: the conversation's key."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.message_id

    @property
    def parent(self) -> str:
        """The message this one answers."""
        if self.in_reply_to:
            return self.in_reply_to
        return self.references[-1] if self.references else ""

    @property
    def sender(self) -> str:
        if self.from_name:
            return f"{self.from_name} <{self.from_address}>"
        return self.from_address


def msg_ids(value: Any) -> list[str]:
    """Every ``<id@host>`` of a Message-ID, In-Reply-To or References header, in order."""
    if not value:
        return []
    return MSGID_RE.findall(str(value))


def _raw_header(msg: Message, name: str) -> str:
    """A header the parser chokes on (the stdlib's header parser raises on some malformed
    addresses): its raw text, with encoded words decoded where they can be."""
    wanted = name.lower()
    raw = next((str(v) for k, v in msg.raw_items() if k.lower() == wanted), "")
    try:
        return str(make_header(decode_header(raw)))
    except Exception:  # undecodable encoded words: the raw text is the best there is
        return raw


def _header(msg: Message, name: str) -> str:
    """A header as text; a header the parser cannot make sense of is taken raw, so a
    malformed header never costs the whole message."""
    if msg.policy is policy.compat32:  # the fallback parser leaves encoded words as they are
        return clean_text(_raw_header(msg, name))
    try:
        value = str(msg.get(name) or "")
    except Exception:  # the stdlib parser's bugs on broken headers are many and various
        value = _raw_header(msg, name)
    return clean_text(value)


def clean_text(text: str) -> str:
    """Text every database stores: no NUL (PostgreSQL refuses it) and no lone surrogates
    (what undecodable bytes in a header become; UTF-8 cannot encode them)."""
    text = text.replace("\x00", "")
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    aliases = {"x-unknown": "utf-8", "unknown-8bit": "utf-8", "cp-1251": "cp1251"}
    charset = aliases.get(charset.lower(), charset)
    try:
        text = payload.decode(charset, errors="replace")
    except (LookupError, ValueError):  # a charset Python does not know, or garbage
        text = payload.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # a broken filename parameter: the file is kept under a plain name
        name = None
    return short_name(clean_text(str(name or "")).replace("/", "_").replace("\\", "_").strip())


def short_name(name: str) -> str:
    """A file name the disk takes: file systems allow 255 bytes, and a Cyrillic name of
    200 letters is 400; the extension is kept."""
    if len(name.encode()) <= NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    room = NAME_BYTES - len(suffix.encode())
    return stem.encode()[:room].decode("utf-8", "ignore") + suffix


def fit_id(value: str) -> str:
    """A Message-ID as the inbox stores it (255 characters at most): a longer one is replaced
    by its hash, the same each time, so threading and refetches still match."""
    if len(value) <= ID_LIMIT:
        return value
    return f"<{hashlib.sha256(value.encode()).hexdigest()[:40]}@long-id.voronka>"


def _walk(msg: Message, out: dict[str, Any]) -> None:
    """Collect the first text/plain and text/html bodies and every attachment; a part that
    cannot be read is counted, and the rest of the message kept."""
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            _take(part, out)
        except Exception:  # the stdlib's MIME parser has bugs on malformed parts
            out["broken"] = out.get("broken", 0) + 1


def _take(part: Message, out: dict[str, Any]) -> None:
    """One leaf part: the text or HTML body (the first of each), else an attachment."""
    content_type = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    name = _filename(part)
    is_body = disposition != "attachment" and not name
    if is_body and content_type == "text/plain" and "text" not in out:
        out["text"] = _decode(part)
    elif is_body and content_type == "text/html" and "html" not in out:
        out["html"] = _decode(part)
    elif disposition == "attachment" or name or not content_type.startswith("text/"):
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            ext = {"image/png": ".png", "image/jpeg": ".jpg", "application/pdf": ".pdf"}
            out["files"].append(
                IncomingFile(
                    name=name or "attachment" + ext.get(content_type, ""),
                    content=data,
                    content_type=content_type,
                )
            )


def _html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>", "\n", text)
    text = htmllib.unescape(strip_tags(text))
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def _date(msg: Message) -> dt.datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if timezone.is_naive(when):
        when = timezone.make_aware(when, dt.UTC)
    # A date far in the future would pin the thread to the top of the inbox for ever.
    now = timezone.now()
    return min(when, now)


def _addresses(msg: Message, name: str) -> list[str]:
    try:
        pairs = getaddresses([_header(msg, name)])
    except Exception:  # only kept for reference: a broken list is left out
        return []
    return [addr.lower() for _n, addr in pairs if "@" in addr]


def _automated(msg: Message, from_address: str) -> bool:
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if _header(msg, "Precedence").lower() in BULK_PRECEDENCE:
        return True
    if _header(msg, "List-Id") or _header(msg, "List-Unsubscribe"):
        return True
    return from_address.startswith(AUTOMATED_SENDERS)


def _parseaddr(value: str) -> tuple[str, str]:
    try:
        return parseaddr(value)
    except Exception:  # parseaddr raises on some malformed input instead of giving up
        return "", ""


def parse(raw: bytes, *, truncated: bool = False) -> ParsedMail:
    """Parse one message. ``truncated``: only the start of a message too large to fetch was
    read, so attachments (cut off) are dropped and the text says so."""
    msg: Message
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:  # the modern parser gave up on a malformed MIME structure
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    from_name, from_address = _parseaddr(_header(msg, "From"))
    from_address = from_address.strip().lower()
    if "@" not in from_address:
        from_address = ""
    parts: dict[str, Any] = {"files": []}
    _walk(msg, parts)
    text = clean_text(parts.get("text", ""))
    html = clean_text(parts.get("html", ""))
    if not text and html:
        text = _html_to_text(html)
    if parts.get("broken"):
        text += "\n\n" + gettext(
            "[%(n)d parts of the message could not be read. Open it in the mailbox.]"
        ) % {"n": parts["broken"]}
    if truncated:
        text += "\n\n" + gettext(
            "[The message is too large: only its beginning was downloaded, without "
            "attachments. Open it in the mailbox to see all of it.]"
        )
    reply_to = _parseaddr(_header(msg, "Reply-To"))[1].strip().lower()
    message_ids = msg_ids(_header(msg, "Message-ID"))
    references = msg_ids(_header(msg, "References"))
    in_reply_to = msg_ids(_header(msg, "In-Reply-To"))
    return ParsedMail(
        message_id=message_ids[0] if message_ids else "",
        in_reply_to=in_reply_to[-1] if in_reply_to else "",
        references=references,
        from_name=clean_text(from_name).strip().strip('"').strip(),
        from_address=from_address,
        reply_to=reply_to if "@" in reply_to else from_address,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        subject=" ".join(_header(msg, "Subject").split()),
        body_text=text.strip(),
        body_html=html,
        when=_date(msg),
        automated=_automated(msg, from_address),
        files=[] if truncated else parts["files"],
        truncated=truncated,
    )


def thread_subject(subject: str) -> str:
    """The subject without "Re:", "Fwd:", "Ответ:" prefixes."""
    return REPLY_PREFIX_RE.sub("", subject).strip()


def to_incoming(
    mail: ParsedMail,
    *,
    account: str,
    source: str,
    default_owner_id: int | None,
    fallback_id: str,
) -> Incoming:
    """What :func:`voronka.inbox.services.receive` takes. ``fallback_id`` stands in for a
    missing Message-ID (some robots send none) so a refetch still finds the stored copy."""
    message_id = mail.message_id or fallback_id
    try:
        email = normalize_email(mail.from_address) if mail.from_address else ""
    except ValueError:  # an address the CRM would refuse: keep it as the name instead
        email = ""
    return Incoming(
        kind="email",
        account=account,
        external_id=fit_id(message_id),
        in_reply_to=fit_id(mail.parent),
        external_key=fit_id(mail.thread_root or message_id),
        sender=mail.sender,
        name=mail.from_name or ("" if email else mail.from_address),
        email=email,
        subject=mail.subject,
        body_text=mail.body_text,
        body_html=mail.body_html,
        files=mail.files,
        when=mail.when,
        source=source,
        default_owner_id=default_owner_id,
        create_lead=not mail.automated,
        meta={
            # Kept for the answer: its References and its To.
            "references": mail.references[-REFERENCES_KEPT:],
            "reply_to": mail.reply_to,
            "to": mail.to,
            "cc": mail.cc,
            **({"message_id": message_id} if len(message_id) > ID_LIMIT else {}),
            **({"truncated": True} if mail.truncated else {}),
            **({"automated": True} if mail.automated else {}),
        },
    )
