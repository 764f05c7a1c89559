"""The embed snippet in a real browser, on a page served from ANOTHER origin: a landing page on
a little http.server loads the script from the live server, draws the form, shows a field
error, then sends it through a CORS request; the lead appears in the CRM with its UTM tags.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import shot

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static website on 127.0.0.1 (the live server answers on localhost: another origin)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def _shot(page: Any, name: str) -> None:
    shot(page, f"{name}")


def test_an_embedded_form_on_another_site_makes_a_lead_with_utm(
    page: Any, live_server: Any, other_site: tuple[str, Path], admin: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.channels.models import FormSubmission
    from voronka.channels.services import web_form_create
    from voronka.sales.models import Lead

    form = web_form_create(actor=admin, data={
        "name": "Landing", "title": "Get a quote", "source": "landing", "button_text": "Get a quote",
        "fields": [{"key": "first_name", "label": "Your name", "required": True},
                   {"key": "email", "label": "Work e-mail", "required": True},
                   {"key": "message", "label": "What do you need?"}],
        "consent_required": True, "consent_text": "I agree to be contacted.",
        "success_message": "Thank you! We will call you today.",
    })  # fmt: skip
    site, root = other_site
    assert not live_server.url.startswith(site)
    (root / "landing.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>ACME landing</title></head>"
        "<body><h1>ACME</h1>"
        f'<div id="voronka-form-{form.token}"></div>'
        f'<script src="{live_server.url}/channels/f/{form.token}/embed.js" async></script>'
        "</body></html>",
        encoding="utf-8",
    )
    page.goto(f"{site}/landing.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring")

    page.get_by_label("Your name").fill("Мария")
    page.get_by_label("Work e-mail").fill("not-an-email")
    page.get_by_label("I agree to be contacted.").check()
    page.get_by_role("button", name="Get a quote").click()
    # The server's per-field error appears next to the input, and focus goes there.
    email = page.get_by_label("Work e-mail")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#vkf-{form.token}-email-error")).to_have_text(
        "not a valid e-mail address"
    )
    expect(email).to_be_focused()
    _shot(page, "embed-error")
    assert not Lead.objects.exists()

    email.fill("Maria@Example.com")
    page.get_by_label("What do you need?").fill("A quote for 20 seats")
    page.get_by_role("button", name="Get a quote").click()
    # A JSON POST to another origin is sent only after the CORS preflight succeeds, and its
    # answer is readable only with Access-Control-Allow-Origin: the thank-you proves both.
    expect(page.get_by_text("Thank you! We will call you today.")).to_be_visible()
    _shot(page, "embed-thanks")

    lead = Lead.objects.get()
    assert (lead.first_name, lead.email, lead.source) == ("Мария", "maria@example.com", "landing")
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        "newsletter",
        "email",
        "spring",
    )
    submission = FormSubmission.objects.get()
    assert submission.page_url.startswith(f"{site}/landing.html?utm_source=newsletter")

    # The lead is in the CRM, with its UTM tags on its card.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or e-mail").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/channels/forms/{form.pk}/submissions/")
    page.get_by_role("link", name="Мария").click()
    page.wait_for_url(f"{live_server.url}/sales/leads/{lead.pk}/")
    expect(page.get_by_text("newsletter", exact=True)).to_be_visible()
    expect(page.get_by_text("spring", exact=True)).to_be_visible()
    _shot(page, "embed-lead-card")
