"""Fixtures of the channels tests: forms and sources built through the services, a public
client with no session, and row counts that prove a refused request wrote nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

DEFAULT_FIELDS = [
    {"key": "first_name", "label": "Your name", "required": True},
    {"key": "email", "label": "E-mail", "required": True},
    {"key": "phone", "label": "Phone", "required": False},
    {"key": "message", "label": "Question", "required": False},
]


@pytest.fixture
def make_form(admin: Any) -> Callable[..., Any]:
    from voronka.channels.services import web_form_create

    def make(**data: Any) -> Any:
        data.setdefault("name", "Contact us")
        data.setdefault("fields", [dict(f) for f in DEFAULT_FIELDS])
        return web_form_create(actor=admin, data=data)

    return make


@pytest.fixture
def web_form(make_form: Callable[..., Any]) -> Any:
    return make_form(title="Ask us", source="website", success_message="Thanks, we will call.")


@pytest.fixture
def make_source(admin: Any) -> Callable[..., tuple[Any, str]]:
    from voronka.channels.services import lead_source_create

    def make(**data: Any) -> tuple[Any, str]:
        data.setdefault("name", "Tilda")
        return lead_source_create(actor=admin, data=data)

    return make


@pytest.fixture
def budget_field(db: Any) -> Any:
    """A number custom field on leads."""
    from voronka.core.services import custom_field_create

    return custom_field_create(entity="sales.lead", label="Budget", key="budget", type="number")


@pytest.fixture
def public(db: Any) -> Any:
    """A visitor: no login, no cookies, CSRF enforced as in production."""
    from django.test import Client

    return Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def rows(db: Any) -> Callable[[], dict[str, int]]:
    """Row counts of every table a submission or a webhook call writes."""
    from voronka.channels.models import FormSubmission, InboundLead
    from voronka.core.models import AuditEntry, OutboxEvent
    from voronka.sales.models import Lead

    def counts() -> dict[str, int]:
        return {m.__name__: m.objects.count()
                for m in (Lead, FormSubmission, InboundLead, AuditEntry, OutboxEvent)}  # fmt: skip

    return counts
