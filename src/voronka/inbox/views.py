"""The unified inbox (placeholder until its pages land)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return HttpResponse("inbox")


@login_required
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(f"conversation {pk}")
