"""Mailboxes over the REST API: administrators only, passwords write-only, errors that name
the field, and "sync" and "test" that talk to the real servers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mail.conftest import PASSWORD, SMTP_PASSWORD, SMTP_USER, Dovecot, Smtp
from tests.mail.test_receive import customer_mail
from voronka.core.models import AuditEntry
from voronka.mail.models import Mailbox

pytestmark = pytest.mark.django_db

URL = "/api/v1/mailboxes"


def body(dovecot: Dovecot, smtp: Smtp, address: str, **extra: Any) -> dict[str, Any]:
    data = {
        "name": "Support", "address": address, "imap_host": "127.0.0.1",
        "imap_port": dovecot.port, "imap_security": "none", "imap_password": PASSWORD,
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
        "smtp_username": SMTP_USER, "smtp_password": SMTP_PASSWORD, "import_since": None,
    }  # fmt: skip
    data.update(extra)
    return data


def test_create_read_list_patch_delete(
    api: Any, admin: Any, dovecot: Dovecot, smtp: Smtp, account: str
) -> None:
    client = api(admin)
    created = client.post(
        URL,
        body(dovecot, smtp, account, imap_password="app-pass-abcd-wxyz", smtp_password="short1"),
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["address"] == account and data["imap_port"] == dovecot.port
    assert data["imap_password_set"] is True and data["imap_password_hint"] == "…wxyz"
    assert data["smtp_password_set"] is True and data["smtp_password_hint"] == "••••"
    assert "imap_password" not in data and "smtp_password" not in data
    assert "app-pass-abcd-wxyz" not in created.content.decode()
    assert data["message_count"] == 0 and data["last_sync_at"] is None
    pk = data["id"]

    assert client.get(f"{URL}/{pk}").json()["name"] == "Support"
    listed = client.get(URL).json()
    assert [m["id"] for m in listed["items"]] == [pk] and listed["next_cursor"] is None

    # A PATCH without the password keeps it; an empty or null one too.
    for value in ({}, {"imap_password": ""}, {"imap_password": None}):
        patched = client.patch(f"{URL}/{pk}", {"name": "Help desk", **value})
        assert patched.status_code == 200, patched.json()
    assert Mailbox.objects.get(pk=pk).imap_password == "app-pass-abcd-wxyz"
    assert patched.json()["name"] == "Help desk"
    history = AuditEntry.objects.filter(object_id=pk, action="update").first()
    assert history is not None and "app-pass" not in str(history.changes)

    assert client.delete(f"{URL}/{pk}").status_code == 204
    assert client.get(f"{URL}/{pk}").status_code == 404


def test_bad_input_names_the_field_and_writes_nothing(api: Any, admin: Any) -> None:
    client = api(admin)
    answer = client.post(URL, {"name": "", "address": "not-an-address", "imap_host": "imap x",
                               "imap_port": 70000, "imap_security": "tls", "smtp_host": "",
                               "default_owner_id": 999999, "import_since": "yesterday"})  # fmt: skip
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"name", "address", "imap_host", "imap_port", "imap_security", "smtp_host",
                      "default_owner_id", "import_since"}  # fmt: skip
    assert not Mailbox.objects.exists()
    unknown = client.post(URL, {"name": "x", "colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "colour", "message": "unknown field"}]


def test_only_administrators(api: Any, alice: Any, admin: Any) -> None:
    from voronka.mail.services import mailbox_create

    box = mailbox_create(actor=admin, data={"name": "Info", "address": "info@crm.test",
                                            "imap_host": "imap.crm.test",
                                            "smtp_host": "smtp.crm.test"})  # fmt: skip
    client = api(alice)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/{box.pk}").status_code == 403
    assert client.post(URL, {"name": "x"}).status_code == 403
    assert client.patch(f"{URL}/{box.pk}", {"name": "x"}).status_code == 403
    assert client.delete(f"{URL}/{box.pk}").status_code == 403
    assert client.post(f"{URL}/{box.pk}/sync").status_code == 403
    assert Mailbox.objects.get().name == "Info"


def test_sync_and_test_talk_to_the_servers(
    api: Any, admin: Any, dovecot: Dovecot, smtp: Smtp, account: str
) -> None:
    client = api(admin)
    pk = client.post(URL, body(dovecot, smtp, account)).json()["id"]
    smtp.send(customer_mail(account), account)

    synced = client.post(f"{URL}/{pk}/sync")
    assert synced.status_code == 200
    assert synced.json() == {
        "mailbox_id": pk, "ok": True, "stored": 1, "already": 0, "skipped": 0, "ignored": 0,
        "more": False, "busy": False, "error": "", "problems": [],
    }  # fmt: skip
    after = client.get(f"{URL}/{pk}").json()
    assert after["message_count"] == 1 and after["last_uid"] == 1

    tested = client.post(f"{URL}/{pk}/test").json()
    assert tested["imap"]["ok"] and tested["smtp"]["ok"]
    assert tested["imap"]["message"] == "logged in; the folder INBOX has 1 message"
    assert tested["smtp"]["message"] == "connected and logged in"

    client.patch(f"{URL}/{pk}", {"smtp_password": "wrong"})
    tested = client.post(f"{URL}/{pk}/test").json()
    assert tested["imap"]["ok"] and not tested["smtp"]["ok"]
    assert tested["smtp"]["message"].startswith("login failed: 535")
    assert client.post(f"{URL}/999999/sync").status_code == 404


def test_pointing_at_another_server_needs_the_password_again(
    api: Any, admin: Any, dovecot: Dovecot, smtp: Smtp, account: str
) -> None:
    client = api(admin)
    pk = client.post(URL, body(dovecot, smtp, account)).json()["id"]
    moved = client.patch(f"{URL}/{pk}", {"imap_host": "imap.evil.test"})
    assert moved.status_code == 422
    assert moved.json()["errors"] == [
        {"field": "imap_password", "message": "type the password again: the server changed"}
    ]
    ok = client.patch(f"{URL}/{pk}", {"imap_host": "imap.other.test", "imap_password": "new"})
    assert ok.status_code == 200
    data = ok.json()
    assert data["uidvalidity"] is None and data["last_uid"] == 0  # read afresh


def test_list_costs_a_fixed_number_of_queries(
    api: Any, admin: Any, django_assert_max_num_queries: Any
) -> None:
    from voronka.mail.services import mailbox_create

    for n in range(5):
        mailbox_create(actor=admin, data={"name": f"Box {n}", "address": f"b{n}@crm.test",
                                          "imap_host": "imap.crm.test", "smtp_host": "s.crm.test",
                                          "default_owner_id": admin.pk})  # fmt: skip
    client = api(admin)
    with django_assert_max_num_queries(6):
        answer = client.get(URL)
    assert len(answer.json()["items"]) == 5
