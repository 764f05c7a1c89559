"""Steps every browser test takes."""

from __future__ import annotations

import os
from typing import Any

SHOTS = os.environ.get("VORONKA_SHOTS_DIR", "")


def new_page(browser: Any, width: int = 1280, height: int = 800, **context: Any) -> Any:
    """A page in a context of its own (its own cookies: another person's browser)."""
    page = browser.new_context(viewport={"width": width, "height": height}, **context).new_page()
    page.set_default_timeout(20_000)
    return page


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    """Save ``browser-<name>.png`` into VORONKA_SHOTS_DIR, when set, to look at the page."""
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"browser-{name}.png"), full_page=full_page)


def sign_in(page: Any, base: str, login: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
