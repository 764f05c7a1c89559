"""Deals for the bench database: as many deals as contacts, spread over two pipelines, each
with the stage history the services would have written while it moved (entered/left times),
one contact, an owner from the sales teams, and won/lost outcomes with lost reasons.

The generator yields rows for ``sales_deal``, ``sales_deal_contacts`` and
``sales_dealstagehistory`` in chunks; ``bench.dataset.build`` loads them like the contacts."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

DEAL_COLUMNS = [
    "id", "title", "company_id", "pipeline_id", "stage_id", "amount", "currency_id",
    "expected_close_date", "probability", "owner_id", "source", "custom", "lost_reason_id",
    "lost_comment", "stage_entered_at", "closed_at", "created_at", "updated_at",
    "furthest_position", "lost_at_stage_id",
]  # fmt: skip
DEAL_CONTACT_COLUMNS = ["id", "deal_id", "contact_id"]
HISTORY_COLUMNS = ["id", "deal_id", "stage_id", "entered_at", "left_at", "actor_id"]
DEAL_TABLES = ["sales_deal", "sales_deal_contacts", "sales_dealstagehistory"]

PRODUCTS = [
    "Поставка оборудования", "Лицензии", "Внедрение CRM", "Техподдержка на год", "Консалтинг",
    "Обучение персонала", "Аренда серверов", "Интеграция с 1С", "Hardware supply",
    "Annual support", "Cloud subscription", "Onboarding",
]  # fmt: skip
DEAL_SOURCES = ["website", "referral", "cold call", "exhibition", "telegram", "e-mail"]
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
SPAN_SECONDS = 3 * 365 * 86400
CHUNK = 20_000


@dataclass
class PipelineShape:
    """The stages of one pipeline as the generator needs them."""

    id: int
    open_stages: list[int]  # in order
    won: int
    lost: int
    share: float  # of all deals
    positions: dict[int, int] = field(default_factory=dict)  # stage id → position


@dataclass
class DealChunk:
    deals: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)


class Stamper:
    """Timestamps given as seconds after START, as text the database takes: the dates of the
    span are formatted once, so a stamp costs a divmod and an f-string, not a datetime."""

    def __init__(self, postgres: bool) -> None:
        self.zone = "+00:00" if postgres else ""
        self.days: dict[int, str] = {}

    def __call__(self, seconds: float) -> str:
        micro = int(seconds * 1_000_000)
        day, micro = divmod(micro, 86_400_000_000)
        date = self.days.get(day)
        if date is None:
            date = self.days[day] = (START + dt.timedelta(days=day)).date().isoformat()
        second, micro = divmod(micro, 1_000_000)
        minute, second = divmod(second, 60)
        hour, minute = divmod(minute, 60)
        return f"{date} {hour:02d}:{minute:02d}:{second:02d}.{micro:06d}{self.zone}"

    def date(self, seconds: float) -> str:
        return self(seconds)[:10]


def _pick(rng: random.Random, seq: Sequence[Any]) -> Any:
    return seq[int(rng.random() * len(seq))]


def deal_chunks(
    *,
    count: int,
    contacts: int,
    company_names: Sequence[str],
    pipelines: Sequence[PipelineShape],
    owners: Sequence[int],
    lost_reasons: Sequence[int],
    postgres: bool,
    rng: random.Random,
) -> Iterator[DealChunk]:
    step = SPAN_SECONDS / max(count, 1)
    stamp = Stamper(postgres)
    random_ = rng.random
    companies = len(company_names) - 1
    history_id = 0
    chunk = DealChunk()
    cumulative = []
    total = 0.0
    for p in pipelines:
        total += p.share
        cumulative.append((total, p))
    for i in range(1, count + 1):
        roll = random_() * total
        pipeline = next(p for bound, p in cumulative if roll <= bound)
        created = (i + random_()) * step
        company_id = int(random_() * companies) + 1 if random_() < 0.85 else None
        product = _pick(rng, PRODUCTS)
        title = f"{product} — {company_names[company_id]}" if company_id else product
        currency = "RUB" if random_() < 0.85 else _pick(rng, ("USD", "EUR"))
        if currency == "RUB":
            amount = f"{(int(random_() * 4990) + 10) * 1000}.00"
        else:
            amount = f"{(int(random_() * 59) + 1) * 500}.00"
        owner = _pick(rng, owners) if random_() < 0.98 else None
        # How far it got through the open stages, then the outcome.
        reached = 1
        while reached < len(pipeline.open_stages) and random_() < 0.6:
            reached += 1
        outcome = random_()
        path = pipeline.open_stages[:reached]
        lost_reason = None
        if outcome < 0.25 and reached == len(pipeline.open_stages):
            path = [*path, pipeline.won]
        elif outcome < 0.55:
            path = [*path, pipeline.lost]
            lost_reason = _pick(rng, lost_reasons)
        moment = created
        entered = stamp(moment)
        last = len(path) - 1
        for n, stage_id in enumerate(path):
            history_id += 1
            if n == last:
                chunk.history.append((history_id, i, stage_id, entered, None, owner))
            else:
                moment += 3600 * (2 + int(random_() * (24 * 20 - 2)))
                left = stamp(moment)
                chunk.history.append((history_id, i, stage_id, entered, left, owner))
                entered = left
        closed = entered if path[-1] in (pipeline.won, pipeline.lost) else None
        # What the services keep on the deal (voronka.sales.progress): the furthest open or
        # won position entered and the lost stage entered.
        furthest = pipeline.positions[path[-2] if lost_reason is not None else path[-1]]
        lost_at = pipeline.lost if lost_reason is not None else None
        close_date = stamp.date(created + 86400 * (14 + int(random_() * 106)))
        chunk.deals.append((
            i, title, company_id, pipeline.id, path[-1], amount, currency, close_date, None,
            owner, _pick(rng, DEAL_SOURCES), "{}", lost_reason, "", entered, closed,
            stamp(created), entered, furthest, lost_at,
        ))  # fmt: skip
        chunk.contacts.append((i, i, int(random_() * contacts) + 1))
        if len(chunk.deals) >= CHUNK:
            yield chunk
            chunk = DealChunk()
    if chunk.deals:
        yield chunk


def pipeline_shapes(admin: Any) -> list[PipelineShape]:
    """The migration's default pipeline plus a second one made through the service."""
    from voronka.sales.models import Pipeline, StageKind
    from voronka.sales.services import pipeline_create

    if Pipeline.objects.count() < 2:
        pipeline_create(
            actor=admin,
            name="Тендеры",
            stages=[
                {"name": "Заявка", "probability": 10},
                {"name": "Документы поданы", "probability": 30},
                {"name": "Торги", "probability": 60},
                {"name": "Контракт", "probability": 100, "kind": StageKind.WON},
                {"name": "Не выиграли", "probability": 0, "kind": StageKind.LOST},
            ],
        )
    shapes = []
    for n, pipeline in enumerate(Pipeline.objects.order_by("position", "id")):
        stages = list(pipeline.stages.order_by("position", "id"))
        shapes.append(
            PipelineShape(
                id=pipeline.pk,
                open_stages=[s.pk for s in stages if s.kind == StageKind.OPEN],
                won=next(s.pk for s in stages if s.kind == StageKind.WON),
                lost=next(s.pk for s in stages if s.kind == StageKind.LOST),
                share=0.8 if n == 0 else 0.2,
                positions={s.pk: s.position for s in stages},
            )
        )
    return shapes
