"""Moving what other domains link to a record when that record is merged into another.

Merging two contacts keeps one (the survivor) and deletes the other (the loser). Deals,
activities, leads and whatever later domains add point at the loser; left alone they would be
deleted with it (``CASCADE``) or lose their link (``SET_NULL``). Customers cannot import those
domains, so each domain registers a *mover* here from its ``AppConfig.ready()``, and the merge
service runs every mover of the entity inside its transaction::

    register_mover("customers.contact", "sales.deals", move_contact_deals,
                   label=ngettext_lazy("%(n)d deal", "%(n)d deals", "n"),
                   count=count_contact_deals)

A relation with no mover is still repointed by the merge service with a plain UPDATE (nothing is
lost by CASCADE), but without history entries or domain rules: register a mover for those.

A mover takes ``loser_pk``, ``survivor_pk``, ``actor`` and ``channel`` (keyword-only), moves
*every* linked record, including ones the actor cannot see (they must not be lost), and returns
how many records it moved. ``label`` is a lazy plural ("%(n)d deal" / "%(n)d deals", with
``ngettext_lazy(…, "n")``) that the compare page and the history fill with a number. ``count``
(optional) says how many records the user may see would move, for the compare page; it must not
count records invisible to that user."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class Mover(Protocol):
    def __call__(self, *, loser_pk: int, survivor_pk: int, actor: Any, channel: str) -> int: ...


Counter = Callable[[Iterable[int], Any], int]  # (record pks, user) -> visible linked records


@dataclass(frozen=True)
class MoverEntry:
    entity: str  # "customers.contact" or "customers.company"
    key: str  # unique per entity: "sales.deals"
    move: Mover
    label: Any = ""  # "%(n)d deal" / "%(n)d deals" (ngettext_lazy with "n")
    count: Counter | None = None


_movers: dict[tuple[str, str], MoverEntry] = {}


def register_mover(
    entity: str, key: str, move: Mover, *, label: Any = "", count: Counter | None = None
) -> None:
    """Add (or replace, so a repeated ``ready()`` is harmless) the mover ``key`` of ``entity``."""
    _movers[(entity, key)] = MoverEntry(entity, key, move, label or key, count)


def movers_for(entity: str) -> list[MoverEntry]:
    return sorted((m for m in _movers.values() if m.entity == entity), key=lambda m: m.key)


def run_movers(
    entity: str, *, loser_pk: int, survivor_pk: int, actor: Any, channel: str
) -> dict[str, int]:
    """Run every mover of ``entity``; how many records each moved, by key (zeros left out)."""
    moved: dict[str, int] = {}
    for entry in movers_for(entity):
        n = entry.move(loser_pk=loser_pk, survivor_pk=survivor_pk, actor=actor, channel=channel)
        if n:
            moved[entry.key] = n
    return moved


def describe(entry: MoverEntry, n: int) -> str:
    """ "3 deals": the mover's label filled with a number."""
    try:
        return str(entry.label % {"n": n})
    except (TypeError, KeyError, ValueError):
        return f"{n} {entry.label}"


def linked_counts(entity: str, pks: Iterable[int], user: Any) -> list[tuple[str, int]]:
    """("3 deals", 3) per mover that can count, counting what the user can see, for the UI."""
    ids = list(pks)
    found = []
    for m in movers_for(entity):
        if m.count is not None and (n := m.count(ids, user)):
            found.append((describe(m, n), n))
    return found
