"""The incoming-call pop-up in a real browser: a PBX posts "ringing" for the manager's
extension, the manager's open page shows who calls within a few seconds (htmx polls every
3 s), and the card goes when the PBX posts the end of the call.

Runs Chromium through Playwright against pytest-django's live server; the PBX is this test,
posting signed JSON to the webhook like any PBX would."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from typing import Any

import pytest

from tests.browser.helpers import shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SECRET = "vkp_browser-test-secret"


def _shot(page: Any, name: str) -> None:
    shot(page, f"telephony-{name}", full_page=False)


def _post(url: str, data: dict[str, Any]) -> int:
    body = json.dumps(data).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Voronka-Signature": signature},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_manager_sees_the_ringing_call_and_it_goes_at_the_end(
    page: Any, live_server: Any, admin: Any, alice: Any, make_contact: Any, make_company: Any,
    password: str,
) -> None:  # fmt: skip
    from playwright.sync_api import expect

    from voronka.telephony.services import extension_set, integration_create

    pbx, _secret = integration_create(
        actor=admin, data={"name": "Office", "provider": "generic", "secret": SECRET}
    )
    extension_set(actor=admin, integration=pbx, extension="101", user_id=alice.pk)
    company = make_company(alice, name="ООО Ромашка")
    contact = make_contact(alice, first_name="Мария", last_name="Иванова",
                           phones=["+79161234567"], company_id=company.pk)  # fmt: skip
    base = live_server.url
    hook = f"{base}/telephony/hook/{pbx.token}/"
    sign_in(page, base, "alice", password)
    popup = page.locator("#vk-ringing")
    expect(popup).to_be_attached()
    expect(popup.locator(".vk-ring-card")).to_have_count(0)

    call = {"call_id": "b-1", "direction": "in", "from": "+79161234567", "to": "+74951234567",
            "extension": "101"}  # fmt: skip
    assert _post(hook, {"event": "ringing", **call}) == 200
    card = popup.locator(".vk-ring-card")
    expect(card).to_be_visible(timeout=8_000)
    expect(card).to_contain_text("+7 916 123-45-67")
    expect(card).to_contain_text("ООО Ромашка")
    link = card.get_by_role("link")
    expect(link).to_contain_text("Иванова")
    expect(link).to_have_attribute("href", f"/customers/contacts/{contact.pk}/")
    _shot(page, "popup-1280")
    page.set_viewport_size({"width": 390, "height": 800})
    expect(card).to_be_visible()
    _shot(page, "popup-390")
    page.set_viewport_size({"width": 1280, "height": 800})

    assert _post(hook, {"event": "completed", "duration": 42, **call}) == 200
    expect(popup.locator(".vk-ring-card")).to_have_count(0, timeout=8_000)
