"""The administrator's mail pages: what they show, what their buttons do, and who may see
them. "Sync now" and "Test connection" talk to the real local servers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.mail.conftest import PASSWORD, SMTP_PASSWORD, SMTP_USER, Dovecot, Smtp
from tests.mail.test_receive import customer_mail
from voronka.mail.models import Mailbox

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def form(dovecot: Dovecot, smtp: Smtp, address: str, **extra: str) -> dict[str, str]:
    data = {
        "name": "Sales", "address": address, "imap_host": "127.0.0.1",
        "imap_port": str(dovecot.port), "imap_security": "none", "imap_username": "",
        "imap_password": PASSWORD, "folder": "INBOX", "smtp_host": "127.0.0.1",
        "smtp_port": str(smtp.port), "smtp_security": "none", "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD, "default_owner_id": "", "import_since": "",
        "active": "on",
    }  # fmt: skip
    data.update(extra)
    return data


def text(response: Any) -> str:
    """The page's visible text, tags removed, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_only_administrators_see_the_pages(client: Any, alice: Any, mailbox: Mailbox) -> None:
    assert client.get("/mail/").status_code == 302  # to the sign-in page
    client.force_login(alice)
    for url in ("/mail/", "/mail/add/", f"/mail/{mailbox.pk}/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/mail/{mailbox.pk}/sync/").status_code == 403
    assert client.post(f"/mail/{mailbox.pk}/delete/").status_code == 403
    assert Mailbox.objects.filter(pk=mailbox.pk).exists()


def test_empty_list_says_what_to_do(client: Any, admin: Any) -> None:
    client.force_login(admin)
    page = text(client.get("/mail/"))
    assert "No mailbox is connected yet." in page
    assert "Add a mailbox" in page


def test_add_a_mailbox_then_sync_it_now(
    client: Any, admin: Any, dovecot: Dovecot, smtp: Smtp, account: str
) -> None:
    client.force_login(admin)
    assert "Incoming mail (IMAP)" in text(client.get("/mail/add/"))
    answer = client.post("/mail/add/", form(dovecot, smtp, account))
    assert answer.status_code == 302 and answer["Location"] == "/mail/"
    box = Mailbox.objects.get()
    assert box.imap_password == PASSWORD and box.import_since is None

    smtp.send(customer_mail(account), account)
    listing = text(client.get("/mail/"))
    assert f"Sales {account}" in listing and "not synced yet" in listing

    row = client.post(f"/mail/{box.pk}/sync/", **HTMX)
    assert row.status_code == 200
    row_text = text(row)
    assert "1 new message." in row_text
    assert "working" in row_text
    assert 'data-label="Messages" class="text-end">1</td>' in row.content.decode()

    # Without htmx the button posts and comes back to the list with the outcome.
    again = client.post(f"/mail/{box.pk}/sync/", follow=True)
    assert "Sales: 0 new messages." in text(again)


def test_bad_input_is_shown_next_to_the_field(client: Any, admin: Any) -> None:
    client.force_login(admin)
    answer = client.post("/mail/add/", {"name": "", "address": "nope", "imap_host": "",
                                        "smtp_host": "smtp.x.test", "imap_port": "99999",
                                        "imap_security": "ssl", "smtp_security": "ssl"})  # fmt: skip
    assert answer.status_code == 400
    page = text(answer)
    assert "enter a valid e-mail address" in page
    assert "must be a port number from 1 to 65535" in page
    assert "this field is required" in page
    assert not Mailbox.objects.exists()


def test_a_stored_password_is_never_sent_back_and_empty_keeps_it(
    client: Any, admin: Any, make_mailbox: Any, account: str
) -> None:
    box = make_mailbox(account, imap_password="app-pass-abcd-wxyz")
    client.force_login(admin)
    page = client.get(f"/mail/{box.pk}/").content.decode()
    assert "app-pass-abcd-wxyz" not in page and SMTP_PASSWORD not in page
    assert "Stored (…wxyz). Leave empty to keep it." in page
    assert re.search(r'type="password" name="imap_password" id="[^"]+" value=""', page)

    values = {
        "name": "Sales team", "address": account, "imap_host": "127.0.0.1",
        "imap_port": str(box.imap_port), "imap_security": "none", "imap_password": "",
        "folder": "INBOX", "smtp_host": "127.0.0.1", "smtp_port": str(box.smtp_port),
        "smtp_security": "none", "smtp_username": SMTP_USER, "smtp_password": "",
        "import_since": "", "active": "on",
    }  # fmt: skip
    answer = client.post(f"/mail/{box.pk}/", values)
    assert answer.status_code == 302
    box.refresh_from_db()
    assert box.name == "Sales team"
    assert (box.imap_password, box.smtp_password) == ("app-pass-abcd-wxyz", SMTP_PASSWORD)


def test_test_connection_reports_each_server(
    client: Any, admin: Any, dovecot: Dovecot, smtp: Smtp, account: str
) -> None:
    client.force_login(admin)
    good = text(client.post("/mail/add/test/", form(dovecot, smtp, account), **HTMX))
    assert "IMAP works: logged in; the folder INBOX has 0 messages" in good
    assert "SMTP works: connected and logged in" in good

    bad = text(client.post("/mail/add/test/",
                           form(dovecot, smtp, account, imap_password="wrong",
                                smtp_password="wrong"), **HTMX))  # fmt: skip
    assert "IMAP fails: login failed:" in bad
    assert "SMTP fails: login failed: 535" in bad
    assert not Mailbox.objects.exists()  # a test saves nothing

    # Without htmx: the whole form again, with the results under it.
    page = client.post("/mail/add/test/", form(dovecot, smtp, account))
    assert page.status_code == 200
    assert "IMAP works" in text(page) and 'name="imap_host"' in page.content.decode()


def test_test_connection_of_a_saved_mailbox_uses_its_stored_passwords(
    client: Any, admin: Any, dovecot: Dovecot, smtp: Smtp, mailbox: Mailbox
) -> None:
    client.force_login(admin)
    typed = form(dovecot, smtp, mailbox.address, imap_password="", smtp_password="")
    page = text(client.post(f"/mail/{mailbox.pk}/test/", typed, **HTMX))
    assert "IMAP works" in page and "SMTP works" in page
    # Another server: the stored password is not sent there.
    moved = text(client.post(f"/mail/{mailbox.pk}/test/",
                             {**typed, "imap_host": "imap.elsewhere.test"}, **HTMX))  # fmt: skip
    assert "type the password again: the server changed" in moved


def test_an_error_is_shown_on_the_list_and_the_form(
    client: Any, admin: Any, make_mailbox: Any, account: str
) -> None:
    from voronka.mail.sync import poll_due

    box = make_mailbox(account, imap_password="wrong")
    poll_due()
    client.force_login(admin)
    listing = text(client.get("/mail/"))
    assert "error" in listing and "login failed:" in listing
    assert "Last error" in text(client.get(f"/mail/{box.pk}/"))


def test_delete(client: Any, admin: Any, mailbox: Mailbox) -> None:
    client.force_login(admin)
    answer = client.post(f"/mail/{mailbox.pk}/delete/", follow=True)
    assert "Mailbox “Sales” deleted." in text(answer)
    assert not Mailbox.objects.exists()
    assert client.get(f"/mail/{mailbox.pk}/").status_code == 404


def test_list_page_costs_a_fixed_number_of_queries(
    client: Any, admin: Any, django_assert_max_num_queries: Any
) -> None:
    from voronka.mail.services import mailbox_create

    client.force_login(admin)
    client.get("/mail/")  # warm the session and the user's language
    for n in range(6):
        mailbox_create(actor=admin, data={"name": f"Box {n}", "address": f"b{n}@crm.test",
                                          "imap_host": "imap.crm.test", "smtp_host": "s.crm.test",
                                          "default_owner_id": admin.pk})  # fmt: skip
    with django_assert_max_num_queries(12):
        page = client.get("/mail/")
    assert text(page).count("Sync now") == 6
