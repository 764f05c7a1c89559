"""``voronka apikey``: the printed key authenticates; a revoked one no longer does."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from voronka.accounts.services import apikey_authenticate


def test_create_list_revoke(db: Any, alice: Any, capsys: Any) -> None:
    call_command("apikey", "create", "--user", "alice", "--name", "1C sync")
    out, err = capsys.readouterr()
    raw = out.strip()
    assert raw.startswith("vk_")
    assert "cannot be shown again" in err
    assert apikey_authenticate(raw) == alice

    call_command("apikey", "list", "--user", "alice")
    listing = capsys.readouterr().out
    assert raw[:11] in listing and "1C sync" in listing and "active" in listing
    assert raw not in listing

    call_command("apikey", "revoke", raw[:11])
    assert "Revoked" in capsys.readouterr().out
    assert apikey_authenticate(raw) is None
    call_command("apikey", "list", "--user", "alice")
    assert "revoked" in capsys.readouterr().out


def test_errors_name_the_argument(db: Any, alice: Any) -> None:
    with pytest.raises(CommandError, match="--user: no user 'nobody'"):
        call_command("apikey", "create", "--user", "nobody")
    with pytest.raises(CommandError, match="prefix: no active key"):
        call_command("apikey", "revoke", "vk_notakey")
