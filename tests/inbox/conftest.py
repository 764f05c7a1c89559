"""Fixtures of the inbox tests: conversations made through ``receive`` as a channel would, a
test sender that records what it delivers (or fails on demand)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


class FakeChannel:
    """A channel's sender as register_sender wants it: records each reply, or raises."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.fail_with: str = ""
        self.exception: type[Exception] = ConnectionError

    def __call__(self, message: Any) -> str:
        if self.fail_with:
            raise self.exception(self.fail_with)
        self.sent.append((message.pk, message.body_text))
        return f"<out-{message.pk}@test>"


@pytest.fixture
def email_sender() -> Iterator[FakeChannel]:
    """Replies by e-mail are possible while the test runs, through the fake channel."""
    from voronka.inbox import services

    previous = services._senders.get("email")
    channel = FakeChannel()
    services.register_sender("email", channel)
    yield channel
    if previous is None:
        services._senders.pop("email", None)
    else:
        services._senders["email"] = previous


@pytest.fixture
def no_email_sender() -> Iterator[None]:
    """No channel app delivers e-mail replies (as before the mail app is set up)."""
    from voronka.inbox import services

    previous = services._senders.pop("email", None)
    yield
    if previous is not None:
        services._senders["email"] = previous


@pytest.fixture
def incoming(db: Any) -> Callable[..., Any]:
    """``incoming(owner, text, ...)``: a message arriving by e-mail, as the mail app would
    pass it to receive(); the same ``thread`` joins one conversation."""
    from voronka.inbox.services import Incoming, receive

    counter = iter(range(1, 10_000))

    def make(owner: Any = None, text: str = "Hello", **extra: Any) -> Any:
        n = next(counter)
        thread = extra.pop("thread", f"thread-{n}")
        email = extra.pop("email", f"customer{n}@example.com")
        data: dict[str, Any] = {
            "kind": "email", "account": "mailbox:1", "external_id": f"<{thread}-{n}@mail>",
            "external_key": thread, "sender": f"Customer {n} <{email}>", "name": f"Customer {n}",
            "email": email, "subject": f"Question {n}", "body_text": text, "source": "E-mail",
            "default_owner_id": owner.pk if owner else None,
        }  # fmt: skip
        data.update(extra)
        return receive(Incoming(**data))

    return make
