"""Reads for the start page. Each is a short, index-friendly query limited to a few rows:
the start page never counts a whole table."""

from __future__ import annotations

from typing import Any

from voronka.customers.models import Company, Contact


def recent_contacts(user: Any, limit: int = 8) -> list[Contact]:
    """The user's own contacts, most recently changed first (visibility applied)."""
    qs = Contact.objects.visible_to(user).filter(owner_id=user.pk).select_related("company")
    return list(qs.order_by("-updated_at", "-id")[:limit])


def recent_companies(user: Any, limit: int = 8) -> list[Company]:
    """The user's own companies, most recently changed first (visibility applied)."""
    qs = Company.objects.visible_to(user).filter(owner_id=user.pk)
    return list(qs.order_by("-updated_at", "-id")[:limit])
