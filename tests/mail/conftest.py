"""Real mail servers on 127.0.0.1 for the mail tests.

* ``dovecot``: our own Dovecot IMAP server (Debian's ``dovecot-imapd``), started once per
  test session from a config written into a temporary directory: no TLS, users in a
  passwd-file, Maildir storage. Each test gets a fresh mail account (``account``), so what
  one test delivers never shows in another.
* ``smtp``: an aiosmtpd SMTP server in front of it. A message sent to an address of a Dovecot
  user is appended to that user's INBOX over IMAP, i.e. it arrives in the connected
  mailbox; every message it accepts is also kept in ``smtp.received`` (that is where the
  CRM's replies to customers are captured).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import os
import pwd
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap-secret-42"
SMTP_USER = "relay"
SMTP_PASSWORD = "smtp-secret-42"
ACCOUNTS = 200

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            if s.recv(100).startswith(b"* OK"):
                return
        time.sleep(0.1)
    text = log.read_text(errors="replace") if log.exists() else ""
    pytest.fail(f"dovecot did not start on port {port}: {text[-2000:]}")


def _config(version: str, root: Path, port: int) -> str:
    """dovecot.conf for 2.3 or 2.4 (the 2.4 syntax renamed most settings)."""
    common = f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = voronka-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_max_userip_connections = 100
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
"""
    if version.startswith("2.3") or version.startswith("2.2"):
        return f"""{common}
disable_plaintext_auth = no
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    return f"""dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
{common}
auth_allow_cleartext = yes
mail_driver = maildir
mail_home = {root}/mail/%{{user}}
mail_path = ~/Maildir
passdb passwd-file {{
  passwd_file_path = {root}/passwd
}}
userdb passwd-file {{
  passwd_file_path = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    listen = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    """Our own Dovecot with a pool of mail accounts made before it starts: Dovecot reads
    its passwd-file at most once a second, so an account added mid-run may not log in."""

    root: Path
    port: int
    users: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    taken: int = 0

    def new_account(self) -> str:
        with self.lock:
            if self.taken >= len(self.users):
                pytest.fail("the pool of Dovecot test accounts is used up: make it larger")
            self.taken += 1
            return self.users[self.taken - 1]

    def client(self, address: str, password: str = PASSWORD) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(address, password)
        return conn

    def append(
        self, address: str, raw: bytes, *, folder: str = "INBOX", when: float | None = None
    ) -> None:
        conn = self.client(address)
        try:
            date = imaplib.Time2Internaldate(when if when is not None else time.time())
            typ, data = conn.append(folder, None, date, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def messages(self, address: str, folder: str = "INBOX") -> list[EmailMessage]:
        """Every message in a folder, parsed."""
        conn = self.client(address)
        try:
            conn.select(folder, readonly=True)
            _typ, data = conn.uid("SEARCH", "ALL")
            out = []
            for uid in data[0].split():
                _typ, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next(p[1] for p in parts if isinstance(p, tuple))
                out.append(message_from_bytes(raw, policy=policy.default))
            return out  # type: ignore[return-value]
        finally:
            conn.logout()

    def uids(self, address: str, folder: str = "INBOX") -> list[int]:
        conn = self.client(address)
        try:
            conn.select(folder, readonly=True)
            _typ, data = conn.uid("SEARCH", "ALL")
            return [int(x) for x in data[0].split()]
        finally:
            conn.logout()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not os.path.exists(DOVECOT):
        require("dovecot", "install Debian's dovecot-imapd (apt-get install -y dovecot-imapd)")
    version = subprocess.run(
        [DOVECOT, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    # Short path: Dovecot's unix sockets live under base_dir and must fit in 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="vkdc-"))
    os.chmod(root, 0o755)  # noqa: S103 (Dovecot's own processes must reach their sockets)
    if os.geteuid() == 0:
        # Dovecot refuses to give mail to root; the mail belongs to its own system user.
        try:
            user = pwd.getpwnam("dovecot")
            uid, gid = user.pw_uid, user.pw_gid
        except KeyError:
            require("dovecot", "the system user 'dovecot' is missing (reinstall dovecot-core)")
    else:
        uid, gid = os.geteuid(), os.getegid()
    port = free_port()
    users = [f"sales{n}@crm.test" for n in range(1, ACCOUNTS + 1)]
    lines = []
    for address in users:
        home = root / "mail" / address
        home.mkdir(parents=True)
        os.chown(home, uid, gid)
        lines.append(f"{address}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}::\n")
    os.chown(root / "mail", uid, gid)
    (root / "passwd").write_text("".join(lines))
    conf = root / "dovecot.conf"
    text = _config(version, root, port)
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        text += f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    conf.write_text(text)
    log = root / "dovecot.log"
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "stderr.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    try:
        _wait_for_port(port, proc, log)
        yield Dovecot(root=root, port=port, users=users)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if not os.environ.get("VORONKA_KEEP_DOVECOT"):
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def account(dovecot: Dovecot) -> str:
    """A fresh mail account on our Dovecot: the connected mailbox of one test."""
    return dovecot.new_account()


@dataclass
class Smtp:
    """aiosmtpd on 127.0.0.1: mail to a Dovecot user goes into its INBOX; every message is
    kept in ``received`` (envelope sender, recipients, parsed message)."""

    port: int
    dovecot: Dovecot
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        smtp = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                raw = envelope.original_content or envelope.content
                parsed = message_from_bytes(raw, policy=policy.default)
                smtp.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
                for rcpt in envelope.rcpt_tos:
                    if rcpt.lower() in smtp.dovecot.users:
                        smtp.dovecot.append(rcpt.lower(), raw)
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> AuthResult:  # fmt: skip
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode() == SMTP_USER
                and auth_data.password.decode() == SMTP_PASSWORD
            )
            return AuthResult(success=ok, handled=False)

        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticator,
            auth_require_tls=False, auth_required=False,
        )  # fmt: skip
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def send(self, raw: bytes | EmailMessage, to: str, sender: str = "") -> None:
        """What a customer does: hand a message to the SMTP server."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as conn:
            if isinstance(raw, EmailMessage):
                conn.send_message(raw, from_addr=sender or None, to_addrs=[to])
            else:
                conn.sendmail(sender or "customer@client.test", [to], raw)

    def to(self, address: str) -> list[EmailMessage]:
        """Messages the server accepted for this recipient."""
        return [m for _f, rcpts, m in self.received if address in rcpts]


@pytest.fixture(scope="session")
def smtp_server(dovecot: Dovecot) -> Iterator[Smtp]:
    server = Smtp(port=free_port(), dovecot=dovecot)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: Smtp) -> Smtp:
    smtp_server.received.clear()
    return smtp_server


@pytest.fixture
def make_mailbox(admin: Any, dovecot: Dovecot, smtp_server: Smtp) -> Callable[..., Any]:
    """A mailbox connected to ``address`` on our Dovecot, sending through our SMTP server."""
    from voronka.mail.services import mailbox_create

    def make(address: str, **data: Any) -> Any:
        values = {
            "name": "Sales", "address": address, "imap_host": "127.0.0.1",
            "imap_port": dovecot.port, "imap_security": "none", "imap_password": PASSWORD,
            "smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "smtp_security": "none",
            "smtp_username": SMTP_USER, "smtp_password": SMTP_PASSWORD,
            "default_owner_id": admin.pk, "import_since": None,
        }  # fmt: skip
        values.update(data)
        return mailbox_create(actor=admin, data=values)

    return make


@pytest.fixture
def mailbox(make_mailbox: Callable[..., Any], account: str) -> Any:
    return make_mailbox(account)


def later(minutes: int = 5) -> Any:
    """A moment when every mailbox is due again (the poller's clock, moved forward)."""
    import datetime as dt

    from django.utils import timezone

    return timezone.now() + dt.timedelta(minutes=minutes)


def header_ids(value: Any) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(value or ""))
