"""Signing in, out, changing and resetting the password through the pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_by_username(client: Client, alice: Any, password: str) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "Alice" in client.get("/").content.decode()


def test_login_by_email_any_case(client: Client, alice: Any, password: str) -> None:
    response = client.post(reverse("login"),
                           {"username": "Alice@Example.com", "password": password})  # fmt: skip
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_login_sets_language_cookie_from_profile(client: Client, make_user: Any,
                                                 password: str) -> None:  # fmt: skip
    make_user("olga", language="ru")
    response = client.post(reverse("login"), {"username": "olga", "password": password})
    assert response.cookies["voronka_lang"].value == "ru"
    assert "Выйти" in client.get("/").content.decode()


def test_wrong_password_shows_an_error(client: Client, alice: Any) -> None:
    client.cookies["voronka_lang"] = "en"
    response = client.post(reverse("login"), {"username": "alice", "password": "nope-nope"})
    assert response.status_code == 200
    assert "Wrong username, e-mail or password" in response.content.decode()
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_sign_in(client: Client, alice: Any, admin: Any,
                                      password: str) -> None:  # fmt: skip
    from voronka.accounts.services import user_update

    user_update(user=alice, changes={"is_active": False}, actor=admin)
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_login_redirects_to_next(client: Client, alice: Any, password: str) -> None:
    response = client.post(reverse("login"),
                           {"username": "alice", "password": password, "next": "/search/?q=x"})  # fmt: skip
    assert response["Location"] == "/search/?q=x"


def test_logout_is_post_only(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


def test_password_change(client: Client, alice: Any, password: str) -> None:
    client.force_login(alice)
    url = reverse("accounts:password_change")
    bad = client.post(url, {"old_password": "wrong", "new_password1": "Brand-New-Pass-7",
                            "new_password2": "Brand-New-Pass-7"})  # fmt: skip
    assert bad.status_code == 200
    assert "Your old password was entered incorrectly" in bad.content.decode()
    response = client.post(url, {"old_password": password, "new_password1": "Brand-New-Pass-7",
                                 "new_password2": "Brand-New-Pass-7"})  # fmt: skip
    assert response.status_code == 302
    # still signed in (the session hash was updated), and the new password works
    assert client.get("/").status_code == 200
    alice.refresh_from_db()
    assert alice.check_password("Brand-New-Pass-7")


def test_password_reset_by_email(client: Client, alice: Any) -> None:
    client.cookies["voronka_lang"] = "en"
    response = client.post(reverse("accounts:password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "alice" in message.body
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+)", message.body)
    assert link, message.body
    form_page = client.get(link.group(1), follow=True)
    assert "Set a new password" in form_page.content.decode()
    confirm_url = form_page.redirect_chain[-1][0]
    done = client.post(confirm_url, {"new_password1": "Reset-Pass-2026",
                                     "new_password2": "Reset-Pass-2026"})  # fmt: skip
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password("Reset-Pass-2026")
    # the link works once
    again = client.get(link.group(1), follow=True)
    assert "This link is invalid" in again.content.decode()


def test_password_reset_for_unknown_email_sends_nothing(client: Client, alice: Any) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302  # the same answer: no hint whether the account exists
    assert mail.outbox == []


def test_too_many_wrong_passwords_lock_the_login_for_a_while(
    client: Client, alice: Any, bob: Any, password: str
) -> None:
    from django.core.cache import cache

    cache.clear()
    client.cookies["voronka_lang"] = "en"
    for _ in range(10):
        client.post(reverse("login"), {"username": "alice", "password": "wrong-guess"})
    locked = client.post(reverse("login"), {"username": "alice", "password": password})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    assert client.get("/").status_code == 302
    # another login from the same address is not affected
    assert (
        client.post(reverse("login"), {"username": "bob", "password": password}).status_code == 302
    )
    cache.clear()
