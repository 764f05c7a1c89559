"""The pieces of parsing and threading that need no server: folder names, subjects, ids,
file names, and the thread an e-mail belongs to."""

from __future__ import annotations

from voronka.mail.connections import encode_folder
from voronka.mail.parsing import fit_id, parse, short_name, thread_subject, to_incoming


def test_folder_names_in_modified_utf7() -> None:
    assert encode_folder("INBOX") == '"INBOX"'
    assert encode_folder("Отправленные") == '"&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"'
    assert encode_folder("Sales & Co") == '"Sales &- Co"'
    assert encode_folder('a "b"') == '"a \\"b\\""'


def test_reply_prefixes_are_dropped_from_the_thread_subject() -> None:
    assert thread_subject("Re: RE: Fwd: Счёт") == "Счёт"
    assert thread_subject("Ответ: Re[2]: Доставка") == "Доставка"
    assert thread_subject("Regarding delivery") == "Regarding delivery"


def test_long_ids_and_names_fit_the_database() -> None:
    long_id = "<" + "x" * 300 + "@host>"
    assert len(fit_id(long_id)) < 255 and fit_id(long_id) == fit_id(long_id)
    assert fit_id("<short@host>") == "<short@host>"
    name = "Очень длинное имя файла " * 10 + ".pdf"
    short = short_name(name)
    assert short.endswith(".pdf") and len(short.encode()) <= 150


def test_thread_keys_of_a_reply() -> None:
    raw = (
        b"From: =?utf-8?q?=D0=90=D0=BD=D0=BD=D0=B0?= <Anna@Client.TEST>\r\n"
        b"Message-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\n"
        b"Subject: Re: Hi\r\n\r\nbody\r\n"
    )
    incoming = to_incoming(parse(raw), account="mailbox:1", source="E-mail: S",
                           default_owner_id=None, fallback_id="<f@x>")  # fmt: skip
    assert (incoming.external_id, incoming.in_reply_to, incoming.external_key) == (
        "<c@x>", "<b@x>", "<a@x>",
    )  # fmt: skip
    assert incoming.email == "anna@client.test" and incoming.name == "Анна"
    assert incoming.sender == "Анна <anna@client.test>"


def test_the_first_message_of_a_thread_is_its_own_key() -> None:
    mail = parse(b"From: a@b.test\r\nMessage-ID: <root@x>\r\n\r\nhi\r\n")
    assert mail.thread_root == "<root@x>" and mail.parent == ""
    only_refs = parse(b"From: a@b.test\r\nMessage-ID: <m@x>\r\nReferences: <r@x> <p@x>\r\n\r\n.")
    assert only_refs.parent == "<p@x>" and only_refs.thread_root == "<r@x>"
