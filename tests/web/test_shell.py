"""The shell seen through the test client: start page, global search, language, error pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_home_requires_sign_in(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_shows_only_my_recent_records(
    client: Client, alice: Any, charlie: Any, make_contact: Callable[..., Any],
    make_company: Callable[..., Any],
) -> None:  # fmt: skip
    make_contact(alice, last_name="Смирнова", first_name="Анна")
    make_company(alice, name="ООО Алисин Сад")
    make_contact(charlie, last_name="Чужой", first_name="Контакт")
    make_company(charlie, name="ООО Чарли")
    page = signed_in(client, alice).get("/").content.decode()
    assert "Alice" in page  # the greeting
    assert "Смирнова Анна" in page
    assert "ООО Алисин Сад" in page
    assert "Чужой" not in page
    assert "ООО Чарли" not in page
    assert reverse("customers:contact_new") in page


def test_home_empty_state_says_what_to_do(client: Client, alice: Any) -> None:
    page = signed_in(client, alice).get("/").content.decode()
    assert "You have no contacts yet." in page
    assert "Add your first contact" in page


def test_home_query_count_is_fixed(
    client: Client, alice: Any, make_contact: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    for i in range(12):
        make_contact(alice, last_name=f"Фамилия{i}")
    signed_in(client, alice)
    with django_assert_max_num_queries(8):
        response = client.get("/")
    assert response.status_code == 200
    assert response.content.decode().count('href="/customers/contacts/') >= 8


def test_search_finds_contact_by_phone_in_any_format(
    client: Client, alice: Any, charlie: Any, make_contact: Callable[..., Any]
) -> None:
    mine = make_contact(alice, last_name="Телефонова", phones=["+79161234567"])
    theirs = make_contact(charlie, last_name="Секретова", phones=["+79161234567"])
    signed_in(client, alice)
    response = client.get(reverse("search"), {"q": "8 (916) 123-45-67"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Телефонова" in html
    assert reverse("customers:contact", args=[mine.pk]) in html
    assert "Секретова" not in html
    assert reverse("customers:contact", args=[theirs.pk]) not in html
    # the drop-down is a fragment, not a whole page
    assert "<html" not in html


def test_search_full_page_on_enter(
    client: Client, alice: Any, make_contact: Callable[..., Any], make_company: Callable[..., Any]
) -> None:
    make_contact(alice, last_name="Рогова", emails=["roga@example.com"])
    company = make_company(alice, name="Рога и копыта")
    signed_in(client, alice)
    response = client.get(reverse("search"), {"q": "рог"})
    html = response.content.decode()
    assert "<html" in html
    assert "Рогова" in html
    assert reverse("customers:company", args=[company.pk]) in html
    by_mail = client.get(reverse("search"), {"q": "roga@example.com"}).content.decode()
    assert "Рогова" in by_mail


def test_search_hides_outsiders_company(
    client: Client, alice: Any, charlie: Any, make_company: Callable[..., Any]
) -> None:
    secret = make_company(charlie, name="Секретная Компания")
    signed_in(client, alice)
    html = client.get(
        reverse("search"), {"q": "Секретная"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Секретная Компания" not in html
    assert reverse("customers:company", args=[secret.pk]) not in html
    assert "Nothing found" in html


def test_search_with_empty_query(client: Client, alice: Any) -> None:
    signed_in(client, alice)
    assert client.get(reverse("search"), {"q": ""}, HTTP_HX_REQUEST="true").content.strip() == b""
    assert client.get(reverse("search")).status_code == 200


def test_language_switch_changes_page_language_and_is_saved(client: Client, alice: Any) -> None:
    signed_in(client, alice)
    assert "Sign out" in client.get("/").content.decode()
    response = client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies["voronka_lang"].value == "ru"
    alice.refresh_from_db()
    assert alice.language == "ru"
    page = client.get("/").content.decode()
    assert "Выйти" in page
    assert 'lang="ru"' in page


def test_language_switch_before_sign_in_uses_cookie(client: Client) -> None:
    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert "Forgot your password?" in client.get(reverse("login")).content.decode()
    client.post(reverse("set_language"), {"language": "ru", "next": reverse("login")})
    assert "Забыли пароль?" in client.get(reverse("login")).content.decode()


def test_language_switch_refuses_foreign_redirect_and_bad_language(
    client: Client, alice: Any
) -> None:
    signed_in(client, alice)
    response = client.post(reverse("set_language"),
                           {"language": "de", "next": "https://evil.example.com/"})  # fmt: skip
    assert response["Location"] == reverse("home")
    assert "voronka_lang" not in response.cookies
    alice.refresh_from_db()
    assert alice.language == "en"


def test_unknown_page_is_styled_404(client: Client, alice: Any, settings: Any) -> None:
    settings.DEBUG = False
    signed_in(client, alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'id="global-search-input"' in html  # the shell is there


def test_500_template_renders_without_context() -> None:
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "Something went wrong" in html


def test_search_query_count_is_fixed(
    client: Client,
    alice: Any,
    make_contact: Callable[..., Any],
    make_company: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(10):
        make_contact(
            alice, last_name=f"Счётов{i}", phones=[f"+7916555440{i}"], emails=[f"s{i}@x.ru"]
        )
        make_company(alice, name=f"Счёт-Фактура {i}")
    signed_in(client, alice)
    client.get("/")  # warm the session and the user
    with django_assert_max_num_queries(10):
        response = client.get(reverse("search"), {"q": "счёт"})
    assert response.content.decode().count("/customers/contacts/") >= 10
