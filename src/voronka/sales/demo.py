"""Sales demo data for ``voronka demo`` and the first ``make run``: products, leads, deals
spread over the default pipeline's stages with line items and a believable history, won and
lost deals in recent months (so the dashboard has figures), activities around today, and a
quote. Everything goes through the sales services (channel "system"), so it is exactly what a
user would have made; core.demo deletes the events they publish."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from voronka.accounts.models import RoleCode
from voronka.core.actors import OnBehalfOf
from voronka.core.demo import DemoContext
from voronka.core.models import Channel
from voronka.customers.models import Company, Contact
from voronka.sales.models import (
    ActivityKind,
    Deal,
    DealStageHistory,
    LeadStatus,
    LostReason,
    Pipeline,
    Product,
    StageKind,
)

PRODUCTS = [
    ("LIC-START", "Лицензия CRM «Старт», 1 пользователь", "шт", "Лицензии", "20", "1490"),
    ("LIC-PRO", "Лицензия CRM «Про», 1 пользователь", "шт", "Лицензии", "20", "2990"),
    ("IMPL-1C", "Интеграция с 1С", "усл", "Услуги", "20", "45000"),
    ("IMPL-BASE", "Внедрение под ключ", "усл", "Услуги", "20", "120000"),
    ("TRAIN-DAY", "Обучение персонала, день", "день", "Услуги", "20", "25000"),
    ("SUP-YEAR", "Техподдержка на год", "год", "Поддержка", "20", "60000"),
    ("SRV-RENT", "Аренда сервера, месяц", "мес", "Инфраструктура", "20", "8000"),
    ("CONS-HOUR", "Консультация, час", "ч", "Услуги", "0", "3500"),
]
DEAL_THEMES = ["Внедрение CRM", "Лицензии", "Интеграция с 1С", "Обучение", "Техподдержка",
               "Расширение лицензий", "Аренда серверов"]  # fmt: skip
LEAD_SOURCES = ["website", "telegram", "phone", "exhibition", "referral"]
LEAD_MESSAGES = [
    "Хотим посмотреть демо, нас 15 менеджеров.",
    "Сколько стоит интеграция с 1С?",
    "Нужна CRM для отдела продаж, перезвоните, пожалуйста.",
    "Интересует обучение сотрудников.",
    "Please send a quote for 20 users.",
]
TASKS = ["Позвонить и уточнить бюджет", "Отправить коммерческое предложение",
         "Согласовать договор", "Напомнить об оплате счёта", "Назначить демонстрацию"]  # fmt: skip


def load(ctx: DemoContext) -> None:
    from voronka.sales.services import (
        activity_create,
        deal_create,
        deal_move,
        document_create,
        lead_create,
        product_create,
    )

    sellers = [
        u
        for u in ctx.users
        if u.role and u.role.code in (RoleCode.SALES_REP, RoleCode.HEAD_OF_SALES)
    ]
    head = next((u for u in ctx.users if u.role and u.role.code == RoleCode.HEAD_OF_SALES), None)
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if not sellers or head is None or pipeline is None or not ctx.company_ids:
        return
    rng = ctx.rng
    now = timezone.now()
    existing = {p.sku: p for p in Product.objects.filter(sku__in=[row[0] for row in PRODUCTS])}
    products = [
        existing.get(sku)
        or product_create(
            actor=head,
            channel=Channel.SYSTEM,
            data={
                "sku": sku,
                "name": name,
                "unit": unit,
                "category": category,
                "vat_rate": vat,
                "prices": {"RUB": price},
            },
        )
        for sku, name, unit, category, vat, price in PRODUCTS
    ]
    prices = {p.pk: row[5] for p, row in zip(products, PRODUCTS, strict=True)}
    stages = list(pipeline.stages.order_by("position", "id"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    reasons = list(LostReason.objects.filter(active=True).values_list("id", flat=True))
    companies = {c.pk: c for c in Company.objects.filter(pk__in=ctx.company_ids[:400])}
    company_ids = list(companies)
    deals: list[Deal] = []
    for _n in range(min(120, len(company_ids))):
        owner = rng.choice(sellers)
        company = companies[rng.choice(company_ids)]
        contact_ids = list(Contact.objects.filter(company=company).values_list("id", flat=True)[:2])
        lines = [
            {"product_id": p.pk, "quantity": str(rng.choice([1, 2, 5, 10, 20])),
             "unit_price": prices[p.pk],
             "discount_percent": str(rng.choice([0, 0, 0, 5, 10]))}
            for p in rng.sample(products, rng.randint(1, 3))
        ]  # fmt: skip
        actor = OnBehalfOf(owner)
        deal = deal_create(actor=actor, channel=Channel.SYSTEM, data={
            "title": f"{rng.choice(DEAL_THEMES)} — {company.name}", "company_id": company.pk,
            "contact_ids": contact_ids, "owner_id": owner.pk, "lines": lines,
            "source": rng.choice(LEAD_SOURCES),
            "expected_close_date": (now + dt.timedelta(days=rng.randint(-20, 150))).date(),
        })  # fmt: skip
        # How far it went: most are still open, some won or lost in recent months.
        target = rng.random()
        path = open_stages[1 : rng.randint(1, len(open_stages))]
        if target < 0.2:
            path = [*open_stages[1:], won]
        elif target < 0.32:
            path = [*path, lost]
        for stage in path:
            extra: dict[str, Any] = {}
            if stage == lost:
                extra["lost_reason_id"] = rng.choice(reasons)
            deal = deal_move(
                actor=actor, deal=deal, stage_id=stage.pk, channel=Channel.SYSTEM, **extra
            )
        _backdate(deal, rng.randint(5, 200), rng)
        deals.append(deal)
    ctx.result.more["deals"] = len(deals)

    for n in range(30):
        owner = rng.choice(sellers)
        lead_create(actor=head, channel=Channel.SYSTEM, data={
            "first_name": rng.choice(["Иван", "Мария", "Алексей", "Ольга", "John", "Anna"]),
            "last_name": rng.choice(["Петров", "Сидорова", "Ковалёв", "Орлова", "Smith"]),
            "company_name": f"ООО «Клиент {n + 1}»", "phone": f"+7916{rng.randint(1000000, 9999999)}",
            "email": f"lead{n + 1}@example.com", "source": rng.choice(LEAD_SOURCES),
            "utm_source": rng.choice(["yandex", "google", "vk", ""]), "message": rng.choice(LEAD_MESSAGES),
            "status": rng.choice([LeadStatus.NEW, LeadStatus.NEW, LeadStatus.IN_PROGRESS]),
            "owner_id": owner.pk,
        })  # fmt: skip
    ctx.result.more["leads"] = 30

    open_deals = [d for d in deals if d.stage.kind == StageKind.OPEN]
    count = 0
    for deal in open_deals[:60]:
        owner_id = deal.owner_id
        due = now + dt.timedelta(days=rng.randint(-3, 7), hours=rng.randint(-4, 4))
        due = due.replace(minute=0, second=0, microsecond=0)
        kind = rng.choice(
            [ActivityKind.TASK, ActivityKind.TASK, ActivityKind.CALL, ActivityKind.MEETING]
        )
        data: dict[str, Any] = {
            "kind": kind, "subject": rng.choice(TASKS), "owner_id": owner_id, "deal_id": deal.pk,
            "due_at": due,
        }  # fmt: skip
        if kind == ActivityKind.MEETING:
            data.update(starts_at=due, ends_at=due + dt.timedelta(hours=1), place="Офис клиента")
        activity_create(actor=OnBehalfOf(deal.owner), channel=Channel.SYSTEM, data=data)
        count += 1
    ctx.result.more["activities"] = count

    for deal in open_deals[:3]:
        document_create(
            actor=OnBehalfOf(deal.owner), deal=deal, kind="quote", channel=Channel.SYSTEM
        )


def _backdate(deal: Deal, days: int, rng: Any) -> None:
    """Spread a demo deal's life over the past ``days`` days: created then, each stage entered
    a little later, closed (if it is) within the last weeks, so time in stage looks real."""
    now = timezone.now()
    created = now - dt.timedelta(days=days, hours=rng.randint(0, 8))
    history = list(DealStageHistory.objects.filter(deal=deal).order_by("entered_at", "id"))
    span = (now - created) / (len(history) + 1)
    moment = created
    for i, entry in enumerate(history):
        entry.entered_at = moment
        moment = moment + span * rng.uniform(0.5, 1.0)
        entry.left_at = moment if i < len(history) - 1 else None
        entry.save(update_fields=["entered_at", "left_at"])
    closed = deal.closed_at is not None
    Deal.objects.filter(pk=deal.pk).update(
        created_at=created,
        stage_entered_at=history[-1].entered_at if history else created,
        closed_at=history[-1].entered_at if closed and history else None,
    )
