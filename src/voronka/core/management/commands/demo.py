"""``voronka demo``: load a realistic demo customer base (companies, contacts, a sales team)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voronka.core.errors import ServiceValidationError


def positive(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Load demo data: companies, contacts and a sales team of demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=positive, default=200, help="default: 200")
        parser.add_argument("--contacts", type=positive, default=1000, help="default: 1000")
        parser.add_argument("--seed", type=int, default=None, help="same seed, same data")
        parser.add_argument(
            "--user-password",
            default=None,
            help="password of new demo users (default: a generated one, printed)",
        )
        parser.add_argument(
            "--no-users", action="store_true", help="no demo users; records have no owner"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from voronka.core.demo import generate

        started = time.monotonic()
        try:
            result = generate(
                companies=options["companies"],
                contacts=options["contacts"],
                seed=options["seed"],
                user_password=options["user_password"],
                with_users=not options["no_users"],
            )
        except ServiceValidationError as exc:
            raise CommandError(exc.detail) from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.companies} companies and {result.contacts} contacts "
                f"in {elapsed:.1f} s."
            )
        )
        if result.more:
            self.stdout.write(
                "Also: " + ", ".join(f"{count} {name}" for name, count in result.more.items())
            )
        if result.new_users:
            self.stdout.write(
                f"Demo users: {', '.join(result.new_users)} (password: {result.user_password})"
            )
        existing = [u for u in result.users if u not in result.new_users]
        if existing:
            self.stdout.write(f"Existing demo users kept their passwords: {', '.join(existing)}")
