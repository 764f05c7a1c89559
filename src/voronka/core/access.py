"""The one guard for administrators' pages: signed in, and an administrator.

Anyone else gets 403 with ``refusal`` as the reason. A service's ``Forbidden`` and
``NotFound`` need no translating here: they are Django's PermissionDenied and Http404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def admin_only(refusal: Any) -> Callable[[View], View]:
    """``@admin_only(gettext_lazy("only an administrator may …"))`` on a view."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not getattr(request.user, "is_admin", False):
                raise PermissionDenied(str(refusal))
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
