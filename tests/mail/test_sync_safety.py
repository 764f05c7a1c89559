"""What goes wrong while syncing: a wrong password, a server that is down, a connection cut
mid-sync, a message that cannot be stored, a worker that died holding a mailbox. Each is
recorded on the mailbox for the administrator; nothing is lost or stored twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from tests.mail.conftest import Dovecot, Smtp, free_port, later
from tests.mail.test_receive import customer_mail
from voronka.core import periodic
from voronka.inbox.models import Message
from voronka.mail.models import Mailbox
from voronka.mail.sync import claim, claim_due, mailbox_sync, poll_due, sync_now

pytestmark = pytest.mark.django_db


def test_the_poller_and_the_sender_are_registered_at_start() -> None:
    from voronka.inbox import services
    from voronka.mail.sending import send_reply

    assert "mail.poll" in {job.name for job in periodic.jobs()}
    assert services._senders["email"] is send_reply


def test_wrong_password_is_recorded_and_nothing_breaks(
    smtp: Smtp, make_mailbox: Any, account: str
) -> None:
    mailbox = make_mailbox(account, imap_password="not-the-password")
    smtp.send(customer_mail(account), account)

    assert poll_due() == 0

    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("login failed: ")
    assert "AUTHENTICATIONFAILED" in mailbox.last_error
    assert mailbox.last_error_at is not None and mailbox.last_sync_at is None
    assert mailbox.locked_until is None  # released for the next poll
    assert not Message.objects.exists()

    # Fixed: the next sync clears the error and brings the mail.
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password="imap-secret-42")
    assert poll_due(later()) == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.last_sync_at is not None


def test_server_down_and_wrong_security_are_recorded(make_mailbox: Any, account: str) -> None:
    refused = make_mailbox(account, imap_port=free_port())
    result = sync_now(refused.pk)
    assert not result.ok
    assert result.error.startswith("connection refused by 127.0.0.1:")
    refused.refresh_from_db()
    assert refused.last_error == result.error

    tls = make_mailbox(account, name="TLS", imap_security="ssl")  # Dovecot speaks plain here
    result = sync_now(tls.pk)
    assert "secure connection to 127.0.0.1" in result.error


def test_missing_folder_is_recorded(make_mailbox: Any, account: str) -> None:
    box = make_mailbox(account, folder="Archive 2019")
    result = sync_now(box.pk)
    assert result.error == "the folder Archive 2019 cannot be opened"


class CuttingProxy:
    """A TCP proxy before Dovecot that drops the connection when the client asks for the
    ``cut_at``-th message body: a network failure, or a worker dying, mid-sync."""

    def __init__(self, port: int, cut_at: int) -> None:
        self.target = port
        self.cut_at = cut_at
        self.fetches = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, watch: bool) -> None:
        try:
            while data := src.recv(65536):
                if watch and b"BODY.PEEK[]" in data:
                    self.fetches += 1
                    if self.fetches == self.cut_at:
                        raise OSError("cut")
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def cutting_proxy(dovecot: Dovecot) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(dovecot.port, cut_at=2)
    yield proxy
    proxy.close()


def test_connection_cut_mid_sync_loses_and_doubles_nothing(
    smtp: Smtp, make_mailbox: Any, account: str, cutting_proxy: CuttingProxy
) -> None:
    for n in range(3):
        smtp.send(customer_mail(account, subject=f"Order {n}"), account)
    mailbox = make_mailbox(account, imap_port=cutting_proxy.port)

    assert poll_due() == 1  # the first message, then the line went dead

    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1  # only what was stored
    assert "closed the connection" in mailbox.last_error or "cannot connect" in mailbox.last_error
    assert list(Message.objects.values_list("subject", flat=True)) == ["Order 0"]

    # The next sync goes on from there.
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=cutting_proxy.target)
    assert poll_due(later()) == 2
    assert sorted(Message.objects.values_list("subject", flat=True)) == [
        "Order 0", "Order 1", "Order 2",
    ]  # fmt: skip
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3 and mailbox.last_error == ""


def test_a_message_that_cannot_be_stored_is_retried_then_skipped(
    smtp: Smtp, mailbox: Mailbox, settings: Any, tmp_path: Any
) -> None:
    """Its attachment cannot be written (the media folder is a file here: a broken disk).
    The next polls try it again, in case the cause passes; the third one steps over it,
    records why, and the messages behind it come in."""
    smtp.send(customer_mail(mailbox.address, subject="Before"), mailbox.address)
    stuck = customer_mail(mailbox.address, subject="With a scan")
    stuck.add_attachment(b"scan", maintype="image", subtype="png", filename="scan.png")
    smtp.send(stuck, mailbox.address)
    smtp.send(customer_mail(mailbox.address, subject="After"), mailbox.address)
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(not_a_folder)

    assert poll_due() == 1
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1
    assert mailbox.last_error.startswith("message UID 2 could not be stored (try 1 of 3): ")
    assert poll_due(later(5)) == 0
    mailbox.refresh_from_db()
    assert "(try 2 of 3)" in mailbox.last_error and mailbox.last_uid == 1

    assert poll_due(later(10)) == 1  # skipped at the third try; "After" comes in

    assert sorted(Message.objects.values_list("subject", flat=True)) == ["After", "Before"]
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3
    assert mailbox.last_error.startswith("message UID 2 skipped: ")
    assert mailbox.skipped[0]["uid"] == 2 and mailbox.skipped[0]["subject"] == "With a scan"
    assert mailbox.stuck_uid is None

    # It is not tried again, and a clean sync clears the error; the list of skipped stays.
    assert poll_due(later(15)) == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and len(mailbox.skipped) == 1


def test_a_message_that_failed_once_comes_in_when_the_cause_passes(
    smtp: Smtp, mailbox: Mailbox, settings: Any, tmp_path: Any
) -> None:
    mail = customer_mail(mailbox.address, subject="With a scan")
    mail.add_attachment(b"scan", maintype="image", subtype="png", filename="scan.png")
    smtp.send(mail, mailbox.address)
    media = tmp_path / "media"
    media.write_text("not a folder yet")
    settings.MEDIA_ROOT = str(media)
    assert poll_due() == 0
    media.unlink()  # the disk is fixed
    assert poll_due(later()) == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.stuck_uid is None and mailbox.skipped == []
    assert Message.objects.get().attachments.get().name == "scan.png"


def test_a_message_with_broken_headers_is_kept(smtp: Smtp, mailbox: Mailbox) -> None:
    """The stdlib's header parser raises on some malformed headers; the message is kept
    with what can be read."""
    raw = (
        b'From: \\\\qc",\xd0=c <odd@client.test>\r\nTo: \x80:B;;\\\xff-\r\n'
        b"Subject: =?utf-8?b?0J/RgNC40LLQtdGC?=\r\nMessage-ID: <odd-1@client.test>\r\n"
        b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
        b"Content-Type: text/plain; charset=x-bogus\r\n\r\nstill readable\r\n--BB--\r\n"
    )
    smtp.send(raw, mailbox.address)
    assert poll_due() == 1
    message = Message.objects.get()
    assert message.subject == "Привет"
    assert message.body_text == "still readable"
    assert message.external_id == "<odd-1@client.test>"


def test_a_mailbox_is_synced_by_one_worker_at_a_time(mailbox: Mailbox) -> None:
    now = timezone.now()
    assert claim_due(now) == [mailbox.pk]
    assert claim_due(now) == []  # leased to the first worker
    assert not claim(mailbox.pk, now)
    busy = sync_now(mailbox.pk)
    assert busy.busy and not busy.ok
    # The first worker died: once its lease runs out, another takes the mailbox.
    assert claim_due(now + dt.timedelta(minutes=11)) == [mailbox.pk]


def test_a_sync_stops_at_the_batch_and_the_next_goes_on(smtp: Smtp, mailbox: Mailbox) -> None:
    for n in range(3):
        smtp.send(customer_mail(mailbox.address, subject=f"Order {n}"), mailbox.address)
    first = mailbox_sync(mailbox.pk, limit=2, claimed=False)
    assert first.stored == 2 and first.more
    mailbox.refresh_from_db()
    assert mailbox.next_sync_at is not None and mailbox.next_sync_at <= timezone.now()
    assert poll_due() == 1  # due at once, not after the interval
