"""Shared fixtures. Every endpoint test has an owner (alice), a teammate (bob) and an
outsider (charlie); records are built through the services, never fixtures files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests check results, not speed: a busy machine must not fail them.
hypothesis_settings.register_profile(
    "voronka", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("voronka")

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(resource: str, reason: str) -> None:
    """Skip with a reason on a developer's machine; fail in CI, where everything is required."""
    if CI:
        pytest.fail(f"{resource} is required in CI: {reason}")
    pytest.skip(f"{resource} not available: {reason}")


@pytest.fixture
def password() -> str:
    return "Correct-Horse-42"


@pytest.fixture
def team_a(db: Any) -> Any:
    from voronka.accounts.services import team_create

    return team_create(name="Team A")


@pytest.fixture
def team_b(db: Any) -> Any:
    from voronka.accounts.services import team_create

    return team_create(name="Team B")


@pytest.fixture
def make_user(db: Any, password: str) -> Callable[..., Any]:
    from voronka.accounts.services import user_create

    def make(username: str, role: str = "sales_rep", team: Any = None, **extra: Any) -> Any:
        return user_create(
            username=username, password=password, email=f"{username}@example.com",
            first_name=username.title(), role_code=role, team_id=team.pk if team else None,
            language=extra.pop("language", "en"), **extra,
        )  # fmt: skip

    return make


@pytest.fixture
def admin(make_user: Callable[..., Any]) -> Any:
    return make_user("admin", role="admin")


@pytest.fixture
def alice(make_user: Callable[..., Any], team_a: Any) -> Any:
    """A sales rep with scope "own" in team A."""
    return make_user("alice", team=team_a)


@pytest.fixture
def bob(make_user: Callable[..., Any], team_a: Any) -> Any:
    """Alice's teammate, also a sales rep with scope "own"."""
    return make_user("bob", team=team_a)


@pytest.fixture
def charlie(make_user: Callable[..., Any], team_b: Any) -> Any:
    """An outsider: a sales rep in team B."""
    return make_user("charlie", team=team_b)


@pytest.fixture
def set_scope(db: Any) -> Callable[[str, str], None]:
    from voronka.accounts.models import Role

    def set_(role_code: str, scope: str) -> None:
        Role.objects.filter(code=role_code).update(scope=scope)

    return set_


@pytest.fixture
def make_contact(db: Any) -> Callable[..., Any]:
    from voronka.customers.services import contact_create

    def make(owner: Any, **data: Any) -> Any:
        data.setdefault("first_name", "Иван")
        data.setdefault("last_name", "Петров")
        data.setdefault("owner_id", owner.pk)
        return contact_create(actor=owner, data=data)

    return make


@pytest.fixture
def make_company(db: Any) -> Callable[..., Any]:
    from voronka.customers.services import company_create

    def make(owner: Any, **data: Any) -> Any:
        data.setdefault("name", "ООО Ромашка")
        data.setdefault("owner_id", owner.pk)
        return company_create(actor=owner, data=data)

    return make


@pytest.fixture(autouse=True)
def english_outside_requests() -> Any:
    """Code run outside a request (services called by a test) speaks English, the language
    the tests assert in; a request still gets its user's or the site's language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def api_key_for(db: Any) -> Callable[[Any], str]:
    from voronka.accounts.services import apikey_create

    def make(user: Any) -> str:
        return apikey_create(user=user, name="test")[1]

    return make


@pytest.fixture
def api(client: Any, api_key_for: Callable[[Any], str]) -> Callable[[Any], Any]:
    """``api(user).get("/api/v1/contacts")``: a JSON client authenticated by a bearer key."""

    class ApiClient:
        def __init__(self, key: str) -> None:
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

        def get(self, path: str, **params: Any) -> Any:
            return client.get(path, params, **self.headers)

        def post(self, path: str, body: Any = None, *, raw: str | None = None, **extra: Any) -> Any:
            import json

            data = raw if raw is not None else json.dumps(body)
            return client.post(path, data, content_type="application/json", **self.headers, **extra)

        def patch(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
            import json

            data = raw if raw is not None else json.dumps(body)
            return client.patch(path, data, content_type="application/json", **self.headers)

        def delete(self, path: str) -> Any:
            return client.delete(path, **self.headers)

    return lambda user: ApiClient(api_key_for(user))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("VORONKA_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.exists(path) or shutil.which(path)):
        require("Chromium", f"{path} not found (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        require("Playwright", str(exc))
    return path


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("VORONKA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        require("Redis", f"{url}: {exc}")
    return url
