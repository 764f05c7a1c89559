"""Fixtures of the telephony tests: integrations made through the services, and senders that
sign requests exactly as each PBX does (Mango, Zadarma, our generic JSON)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

MANGO_KEY = "k3y0fvpbx1234567890abcdefghijkl"
MANGO_SALT = "s4ltsalt0987654321zyxwvutsrqpon"
ZADARMA_SECRET = "zdSecret9f8e7d6c5b4a"
GENERIC_SECRET = "vkp_generic-secret-for-tests"


def mango_sign(payload: str, key: str = MANGO_KEY, salt: str = MANGO_SALT) -> str:
    return hashlib.sha256((key + payload + salt).encode()).hexdigest()


def zadarma_sign(data: str, secret: str = ZADARMA_SECRET) -> str:
    """As Zadarma's PHP example: base64_encode(hash_hmac('sha1', $data, $secret))."""
    hexdigest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hexdigest.encode()).decode()


def generic_sign(body: bytes, secret: str = GENERIC_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture(autouse=True)
def crm_in_english(settings: Any) -> None:
    """What calls write is in the CRM's language; these tests read it in English."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def public() -> Client:
    """A client with no session, like a PBX."""
    return Client()


@pytest.fixture
def make_pbx(admin: Any) -> Callable[..., Any]:
    from voronka.telephony.services import integration_create

    defaults = {
        "mango": {"api_key": MANGO_KEY, "secret": MANGO_SALT},
        "zadarma": {"secret": ZADARMA_SECRET},
        "generic": {"secret": GENERIC_SECRET},
    }

    def make(provider: str = "generic", **data: Any) -> Any:
        values = {"name": f"{provider.title()} PBX", "provider": provider, **defaults[provider]}
        values.update(data)
        return integration_create(actor=admin, data=values)[0]

    return make


@pytest.fixture
def mango(make_pbx: Callable[..., Any]) -> Any:
    return make_pbx("mango")


@pytest.fixture
def zadarma(make_pbx: Callable[..., Any]) -> Any:
    return make_pbx("zadarma")


@pytest.fixture
def generic(make_pbx: Callable[..., Any]) -> Any:
    return make_pbx("generic")


@pytest.fixture
def post_mango(public: Client) -> Callable[..., Any]:
    """POST a Mango event the way Mango does: form fields, path appended to the address."""

    def post(pbx: Any, path: str, data: dict[str, Any], *, sign: str | None = None,
             key: str = MANGO_KEY) -> Any:  # fmt: skip
        payload = json.dumps(data, ensure_ascii=False)
        return public.post(
            f"/telephony/hook/{pbx.token}/{path}",
            {"vpbx_api_key": key, "sign": sign or mango_sign(payload), "json": payload},
        )

    return post


ZADARMA_SIGNED = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}


@pytest.fixture
def post_zadarma(public: Client) -> Callable[..., Any]:
    def post(pbx: Any, data: dict[str, str], *, signature: str | None = None) -> Any:
        signed = "".join(data.get(k, "") for k in ZADARMA_SIGNED.get(data["event"], ()))
        headers = {"HTTP_SIGNATURE": signature if signature is not None else zadarma_sign(signed)}
        return public.post(f"/telephony/hook/{pbx.token}/", data, **headers)

    return post


@pytest.fixture
def post_generic(public: Client) -> Callable[..., Any]:
    def post(
        pbx: Any, data: Any, *, signature: str | None = None, raw: bytes | None = None,
        **headers: str,
    ) -> Any:  # fmt: skip
        body = raw if raw is not None else json.dumps(data).encode()
        sig = signature if signature is not None else generic_sign(body)
        return public.post(
            f"/telephony/hook/{pbx.token}/", body, content_type="application/json",
            HTTP_X_VORONKA_SIGNATURE=sig, **headers,
        )  # fmt: skip

    return post


@pytest.fixture
def counts() -> Callable[[], dict[str, int]]:
    """Rows a refused or repeated request must not add."""

    def count() -> dict[str, int]:
        from voronka.core.models import Notification, OutboxEvent
        from voronka.inbox.models import Conversation, Message
        from voronka.sales.models import Activity, Lead
        from voronka.telephony.models import Call, RingingAlert

        return {
            model.__name__: model.objects.count()
            for model in (Call, RingingAlert, Message, Conversation, Lead, Activity,
                          OutboxEvent, Notification)
        }  # fmt: skip

    return count
