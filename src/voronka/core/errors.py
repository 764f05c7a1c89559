"""Errors that services raise and every interface (form, API, CLI) turns into a clear message."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ServiceValidationError(Exception):
    """Bad input: one or more fields named with what is wrong. Nothing has been written."""

    def __init__(self, errors: list[FieldError] | FieldError, detail: str | None = None) -> None:
        self.errors = errors if isinstance(errors, list) else [errors]
        self.detail = detail or "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(self.detail)

    @classmethod
    def single(cls, field: str, message: str) -> ServiceValidationError:
        return cls([FieldError(str(field), str(message))])


class NotFound(Http404):
    """The record does not exist or the user may not see it: both answer 404. A subclass of
    Django's Http404, so a view that lets it pass shows the 404 page."""


class Forbidden(PermissionDenied):
    """The user sees the record but may not do this to it (a read-only role writing, say).
    A subclass of PermissionDenied, so a view that lets it pass answers 403."""


class Collector:
    """Gathers field errors so a service reports all of them at once, then raises."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, str(message)))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ServiceValidationError(self.errors)
