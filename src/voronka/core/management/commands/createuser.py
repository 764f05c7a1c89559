"""``voronka createuser USERNAME``: add a user from the shell (the first administrator, say)."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import translation

from voronka.accounts.models import RoleCode, Team
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel

# Service field names → the option a user typed them with.
OPTION_NAMES = {"team_id": "--team", "role_id": "--role", "role": "--role", "username": "USERNAME"}


def command_error(exc: ServiceValidationError) -> CommandError:
    """One line per bad field, named as on the command line."""
    lines = [
        f"{OPTION_NAMES.get(e.field, '--' + e.field.replace('_', '-'))}: {e.message}"
        for e in exc.errors
    ]
    return CommandError("\n".join(lines))


class Command(BaseCommand):
    help = "Create a user. Without --password the password is asked for (twice)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None, help="default: ask for it")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--role",
            default=RoleCode.SALES_REP.value,
            help=f"one of: {', '.join(RoleCode.values)} (default: sales_rep)",
        )
        parser.add_argument("--team", default="", help="team name; created when missing")
        parser.add_argument("--language", default=None, help="ru or en (default: VORONKA_LANGUAGE)")

    def handle(self, *args: Any, **options: Any) -> None:
        # The command line speaks English whatever VORONKA_LANGUAGE says, so that the service's
        # messages match the options they name.
        with translation.override("en"):
            self._handle(options)

    def _handle(self, options: dict[str, Any]) -> None:
        from voronka.accounts.services import user_create

        role = options["role"]
        if role not in RoleCode.values:
            raise CommandError(f"--role: must be one of: {', '.join(RoleCode.values)}")
        password = options["password"]
        if password is None:
            password = self._ask_password()
        if not password:
            raise CommandError("--password: this field is required")
        try:
            with transaction.atomic():
                team_id = None
                if name := options["team"].strip():
                    team_id = self._team_id(name)
                user = user_create(
                    username=options["username"],
                    password=password,
                    email=options["email"],
                    first_name=options["first_name"],
                    last_name=options["last_name"],
                    role_code=role,
                    team_id=team_id,
                    language=options["language"],
                    channel=Channel.SYSTEM,
                )
        except ServiceValidationError as exc:
            raise command_error(exc) from exc
        team_note = f" in team {user.team.name!r}" if user.team else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Created user {user.username!r} ({RoleCode(role).label}){team_note}."
            )
        )

    def _team_id(self, name: str) -> int:
        from voronka.accounts.services import team_create

        team = Team.objects.filter(name=name).first()
        if team is None:
            try:
                team = team_create(name=name, channel=Channel.SYSTEM)
            except ServiceValidationError as exc:
                raise CommandError(f"--team: {exc.errors[0].message}") from exc
        return team.pk

    def _ask_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("--password: give it, or run in a terminal to be asked for it")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("--password: the two passwords differ")
        return first
