"""``voronka createuser``: the user is made through the service; bad input names the field."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from voronka.accounts.models import Team, User


def test_createuser_with_role_team_and_language(db: Any, capsys: Any) -> None:
    call_command(
        "createuser", "olga", "--email", "Olga@Example.com", "--password", "Correct-Horse-42",
        "--role", "head_of_sales", "--team", "Продажи", "--language", "en",
    )  # fmt: skip
    user = User.objects.get(username="olga")
    assert user.email == "olga@example.com"
    assert user.role.code == "head_of_sales"
    assert user.team is not None and user.team.name == "Продажи"
    assert user.language == "en"
    assert user.check_password("Correct-Horse-42")
    assert "Created user 'olga'" in capsys.readouterr().out


def test_createuser_joins_an_existing_team(db: Any, team_a: Any) -> None:
    call_command("createuser", "bob", "--password", "Correct-Horse-42", "--team", "Team A")
    assert User.objects.get(username="bob").team == team_a
    assert Team.objects.filter(name="Team A").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss"], "--role: must be one of"),
        (["--email", "not-an-email"], "--email: "),
        (["--language", "de"], "--language: must be ru or en"),
        (["--password", "123"], "--password: "),
        (["--team", " " * 3 + "x" * 200], "--team: is longer than 128 characters"),
        (["--team", "New team", "--email", "bad"], "--email: "),
    ],
)
def test_createuser_bad_input_names_the_field(db: Any, args: list[str], message: str) -> None:
    base = ["--password", "Correct-Horse-42"] if "--password" not in args else []
    with pytest.raises(CommandError) as exc:
        call_command("createuser", "newbie", *base, *args)
    assert message in str(exc.value)
    assert not User.objects.filter(username="newbie").exists()
    assert not Team.objects.exists()


def test_createuser_taken_username(db: Any, alice: Any) -> None:
    with pytest.raises(CommandError, match="USERNAME: this username is taken"):
        call_command("createuser", "Alice", "--password", "Correct-Horse-42")


def test_createuser_from_the_shell_prints_a_clean_error(tmp_path: Path) -> None:
    """The real entry point: exit status 1 and one line naming the option, no traceback."""
    env = {**os.environ, "VORONKA_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "voronka", "createuser", "x", "--role", "boss", "--password", "p"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "--role: must be one of: admin, head_of_sales" in result.stderr
    assert "Traceback" not in result.stderr
