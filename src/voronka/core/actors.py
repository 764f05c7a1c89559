"""Actors that are not a person clicking: a step the system takes on a user's behalf.

Services take an ``actor`` and ask it ``can_write``, ``is_admin``, ``visibility_scope`` and
``pk``. A user is the usual actor. :class:`OnBehalfOf` is for a step a service takes *for* a
user on records the user did not choose and may not see: lead conversion completes a matched
contact (so no duplicate is made) and links it to the new deal. The audit trail still names
the user (``pk`` is theirs), while the step is allowed to reach every record. Automation
(rules running without anyone logged in) will use :class:`System`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OnBehalfOf:
    """The user's identity with a system step's reach: sees everything, may write, not delete,
    is not an administrator."""

    user: Any

    @property
    def pk(self) -> Any:
        return getattr(self.user, "pk", None)

    is_authenticated = True
    is_active = True
    is_admin = False
    can_write = True
    can_delete = False
    visibility_scope = "all"
    team_id = None


@dataclass(frozen=True)
class System:
    """No user at all: automation and background jobs. Audit entries show no person."""

    pk = None
    is_authenticated = True
    is_active = True
    is_admin = False
    can_write = True
    can_delete = False
    visibility_scope = "all"
    team_id = None
