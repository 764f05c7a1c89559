"""API authentication (bearer keys and the browser session) and the users and teams
endpoints. Users are read-only here; teams are read by anyone and changed by an admin."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from voronka.accounts import selectors
from voronka.accounts.models import Team, User
from voronka.accounts.schemas import TeamIn, TeamOut, TeamPage, UserOut, UserPage
from voronka.accounts.services import apikey_authenticate, team_create, team_delete, team_update
from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    idempotent,
    page_body,
    require_admin,
    simple_page,
)
from voronka.core.errors import NotFound
from voronka.core.models import Channel
from voronka.core.schemas import ERRORS

# --- authentication -------------------------------------------------------------------------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _speak_their_language(request: HttpRequest, user: User | None) -> User | None:
    """Error messages in the user's language; the language middleware ran before we knew who
    sent a bearer key."""
    if user is not None and user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language
    return user


class BearerKeyAuth(HttpBearer):
    """``Authorization: Bearer vk_…``: a key made on the profile page; revoked keys fail."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return _speak_their_language(request, apikey_authenticate(token))


class SessionCsrfAuth(APIKeyCookie):
    """The logged-in browser session, so the interactive docs work without a key.

    Unlike ninja's SessionAuth the CSRF check runs only once a session user is found, so a
    request with no credentials at all answers 401 rather than a confusing CSRF 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        _speak_their_language(request, user)
        if request.method not in SAFE_METHODS and check_csrf(request):
            raise HttpError(403, _("CSRF check failed: send the X-CSRFToken header"))
        return user


AUTH = [BearerKeyAuth(), SessionCsrfAuth()]

# --- users ----------------------------------------------------------------------------------

users = Router(tags=["users"])


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.pk, "username": user.username, "first_name": user.first_name,
        "middle_name": user.middle_name, "last_name": user.last_name, "email": user.email,
        "team_id": user.team_id, "role": user.role.code if user.role else None,
        "is_active": user.is_active,
    }  # fmt: skip


@users.get("", response={200: UserPage, **ERRORS})
def list_users(
    request: ApiRequest, page: Query[PageParams], is_active: bool | None = None,
    team: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Everyone who can own records (to pick an owner_id), sorted by last and first name."""
    qs = selectors.users_all()
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    if team is not None:
        qs = qs.filter(team_id=team)
    return page_body(simple_page(qs, ["last_name", "first_name", "id"], page), user_out)


@users.get("/{user_id}", response={200: UserOut, **ERRORS})
def read_user(request: ApiRequest, user_id: int) -> dict[str, Any]:
    user = selectors.users_all().filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user_out(user)


# --- teams ----------------------------------------------------------------------------------

teams = Router(tags=["teams"])


def team_out(team: Team) -> dict[str, Any]:
    return {"id": team.pk, "name": team.name, "created_at": team.created_at}


def _get_team(team_id: int) -> Team:
    team = selectors.teams().filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


@teams.get("", response={200: TeamPage, **ERRORS})
def list_teams(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    return page_body(simple_page(selectors.teams(), ["name", "id"], page), team_out)


@teams.post("", response={201: TeamOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_team(request: ApiRequest, payload: TeamIn) -> Status[dict[str, Any]]:
    require_admin(request.auth)
    team = team_create(name=payload.name, actor=request.auth, channel=Channel.API)
    return Status(201, team_out(team))


@teams.get("/{team_id}", response={200: TeamOut, **ERRORS})
def read_team(request: ApiRequest, team_id: int) -> dict[str, Any]:
    return team_out(_get_team(team_id))


@teams.patch("/{team_id}", response={200: TeamOut, **ERRORS})
def update_team(request: ApiRequest, team_id: int, payload: TeamIn) -> dict[str, Any]:
    require_admin(request.auth)
    team = team_update(
        team=_get_team(team_id), name=payload.name, actor=request.auth, channel=Channel.API
    )
    return team_out(team)


@teams.delete("/{team_id}", response={204: None, **ERRORS})
def delete_team(request: ApiRequest, team_id: int) -> Status[None]:
    require_admin(request.auth)
    team_delete(team=_get_team(team_id), actor=request.auth, channel=Channel.API)
    return Status(204, None)
