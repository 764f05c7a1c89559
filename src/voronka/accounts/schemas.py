"""API shapes of users and teams."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from voronka.core.schemas import StrictInput


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    middle_name: str
    last_name: str
    email: str
    team_id: int | None
    role: str | None
    is_active: bool


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class TeamOut(Schema):
    id: int
    name: str
    created_at: dt.datetime


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


class TeamIn(StrictInput):
    # Checked here too: team_update has no length check of its own.
    name: str = Field(max_length=128)
