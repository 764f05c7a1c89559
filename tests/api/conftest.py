"""Helpers for the API tests: row counts that prove a failed request wrote nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def db_rows(db: Any) -> Callable[[], dict[str, int]]:
    """Row counts of every table an API write touches."""
    from voronka.accounts.models import Team
    from voronka.core.models import AuditEntry, CustomField, IdempotencyKey, OutboxEvent
    from voronka.customers.models import (
        Company,
        CompanyAddress,
        Contact,
        ContactEmail,
        ContactPhone,
        Tag,
    )

    models = [Contact, ContactEmail, ContactPhone, Company, CompanyAddress, Tag, Team,
              CustomField, AuditEntry, OutboxEvent, IdempotencyKey]  # fmt: skip

    def counts() -> dict[str, int]:
        return {m.__name__: m.objects.count() for m in models}

    return counts


@pytest.fixture
def region_field(db: Any) -> Any:
    """A select custom field on contacts."""
    from voronka.core.services import custom_field_create

    return custom_field_create(
        entity="customers.contact", label="Region", key="region", type="select",
        options=["Moscow", "SPb"],
    )  # fmt: skip


@pytest.fixture
def budget_field(db: Any) -> Any:
    """A number custom field on contacts."""
    from voronka.core.services import custom_field_create

    return custom_field_create(
        entity="customers.contact", label="Budget", key="budget", type="number"
    )


@pytest.fixture
def can_delete(db: Any) -> None:
    """Let sales reps delete (by default they may not)."""
    from voronka.accounts.models import Role

    Role.objects.filter(code="sales_rep").update(can_delete=True)
