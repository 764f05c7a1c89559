"""Steps every browser test takes."""

from __future__ import annotations

from typing import Any


def sign_in(page: Any, base: str, login: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
