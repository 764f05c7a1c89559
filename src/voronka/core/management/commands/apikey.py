"""``voronka apikey create|list|revoke``: API keys from the shell (for scripts and integrations).

The key is printed once on creation; only its SHA-256 is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from voronka.accounts.models import ApiKey, User


def _user(username: str) -> User:
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise CommandError(f"--user: no user {username!r}")
    return user


class Command(BaseCommand):
    help = "Create, list and revoke API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key; it is printed once")
        create.add_argument("--user", required=True, help="the key acts as this user")
        create.add_argument("--name", default="", help="a label, e.g. the integration's name")
        listing = sub.add_parser("list", help="a user's keys")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix (vk_…)")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override("en"):  # the command line speaks English
            getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        from voronka.accounts.services import apikey_create

        user = _user(options["user"])
        if not user.is_active:
            raise CommandError(f"--user: {user.username!r} is deactivated")
        key, raw = apikey_create(user=user, name=options["name"])
        self.stdout.write(raw)
        self.stderr.write(
            f"Key {key.prefix}… ({key.name}) for {user.username}. "
            "Store it now: it cannot be shown again."
        )

    def _list(self, options: dict[str, Any]) -> None:
        user = _user(options["user"])
        keys = list(ApiKey.objects.filter(user=user))
        if not keys:
            self.stdout.write(f"{user.username} has no API keys.")
            return
        for key in keys:
            status = (
                "active"
                if key.is_active
                else f"revoked {timezone.localtime(key.revoked_at):%Y-%m-%d}"
            )
            used = (
                f"last used {timezone.localtime(key.last_used_at):%Y-%m-%d %H:%M}"
                if key.last_used_at
                else "never used"
            )
            self.stdout.write(
                f"{key.prefix}…  {key.name}  created {timezone.localtime(key.created_at):%Y-%m-%d}"
                f"  {used}  {status}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        from voronka.accounts.services import apikey_revoke

        prefix = options["prefix"].strip().rstrip("…").rstrip(".")
        if len(prefix) < 6:
            raise CommandError("prefix: give the key's prefix as listed (vk_ and 8 characters)")
        matches = list(ApiKey.objects.filter(prefix__startswith=prefix[:11], revoked_at=None))
        matches = [k for k in matches if prefix.startswith(k.prefix) or k.prefix.startswith(prefix)]
        if not matches:
            raise CommandError(f"prefix: no active key starts with {prefix!r}")
        if len(matches) > 1:
            raise CommandError(f"prefix: {len(matches)} keys start with {prefix!r}; give more")
        apikey_revoke(key=matches[0])
        self.stdout.write(self.style.SUCCESS(f"Revoked {matches[0].prefix}… ({matches[0].name})."))
