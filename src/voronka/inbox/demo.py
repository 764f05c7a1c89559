"""Demo conversations, so the inbox of a fresh install shows what it is for: e-mail threads
with known customers and with strangers (who become leads), a Telegram chat and calls.

Everything goes through :func:`voronka.inbox.services.receive`, as the channels do; replies
already sent are logged as outgoing messages. The accounts are demo ones: replying in these
threads fails with a clear reason until a real mailbox or bot is connected."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from voronka.core.demo import DemoContext
from voronka.customers.models import ContactEmail, ContactPhone
from voronka.inbox.services import Incoming, receive

MAIL = "mailbox:demo"
TELEGRAM = "telegram:demo"
PBX = "pbx:demo"

KNOWN_MAIL = [
    ("Счёт на поставку", ["Добрый день! Пришлите, пожалуйста, счёт на 20 коробок.",
                          "Спасибо! И ещё вопрос: можно ли оплатить частями?"],
     "Здравствуйте! Счёт отправим сегодня до 15:00."),
    ("Сроки доставки", ["Подскажите, когда будет доставка по последнему заказу?"], ""),
    ("Re: коммерческое предложение", ["Спасибо, КП получили. Обсудим с директором и вернёмся "
                                      "к вам в четверг."], ""),
]  # fmt: skip
STRANGERS = [
    ("Новиков Павел", "p.novikov@example.ru", "Сотрудничество",
     "Хотим стать вашим дилером в Казани. Какие условия для партнёров?"),
    ("Anna Schmidt", "anna.schmidt@example.de", "Price list request",
     "Hello, could you send your price list and delivery terms to Germany?"),
]  # fmt: skip


def load(ctx: DemoContext) -> None:
    if not ctx.contact_ids or not ctx.users:
        return
    now = timezone.now()
    sellers = [u.pk for u in ctx.users if u.role and u.role.code in ("sales_rep", "head_of_sales")]
    manager = sellers[0] if sellers else None  # who answers strangers until rules exist
    emails = list(
        ContactEmail.objects.filter(contact_id__in=ctx.contact_ids[:50])
        .order_by("contact_id")
        .values_list("email", "contact__first_name", "contact__last_name")[: len(KNOWN_MAIL)]
    )
    count = 0
    for n, ((subject, texts, answer), (email, first, last)) in enumerate(
        zip(KNOWN_MAIL, emails, strict=False)
    ):
        when = now - dt.timedelta(hours=3 + 9 * n)
        sender = f"{last} {first} <{email}>"
        root = f"<demo-{n}-0@customer.example>"
        receive(Incoming(kind="email", account=MAIL, external_id=root, external_key=root,
                         sender=sender, name=f"{first} {last}", email=email, subject=subject,
                         body_text=texts[0], when=when, source="E-mail", notify=n == 0))  # fmt: skip
        count += 1
        if answer:
            receive(Incoming(kind="email", account=MAIL, external_id=f"<demo-{n}-r@crm>",
                             in_reply_to=root, sender="Voronka", email=email,
                             subject=f"Re: {subject}", body_text=answer,
                             when=when + dt.timedelta(minutes=40), direction="out",
                             event=""))  # fmt: skip
        for k, text in enumerate(texts[1:], start=1):
            receive(Incoming(kind="email", account=MAIL, external_id=f"<demo-{n}-{k}@customer>",
                             in_reply_to=root, sender=sender, email=email,
                             subject=f"Re: {subject}", body_text=text,
                             when=when + dt.timedelta(hours=2), notify=False))  # fmt: skip
    for n, (name, email, subject, text) in enumerate(STRANGERS):
        receive(Incoming(kind="email", account=MAIL, external_id=f"<demo-new-{n}@example>",
                         external_key=f"<demo-new-{n}@example>", sender=f"{name} <{email}>",
                         name=name, email=email, subject=subject, body_text=text,
                         when=now - dt.timedelta(hours=5 + 20 * n), source="E-mail",
                         default_owner_id=manager, notify=False))  # fmt: skip
        count += 1
    receive(Incoming(kind="telegram", account=TELEGRAM, external_id="777001:1",
                     external_key="777001", sender="Ольга Ветрова (@olga_v)",
                     name="Ольга Ветрова", body_text="Здравствуйте! Есть ли у вас коробки "
                     "60×40×40? Нужно 300 штук к пятнице.", when=now - dt.timedelta(hours=1),
                     source="Telegram", meta={"chat_id": 777001, "username": "olga_v"},
                     default_owner_id=manager))  # fmt: skip
    count += 1
    phone = (
        ContactPhone.objects.filter(contact_id__in=ctx.contact_ids[:50])
        .order_by("-contact_id")
        .values_list("phone", flat=True)
        .first()
    )
    if phone:
        receive(Incoming(kind="call", account=PBX, external_id="call:demo-1", external_key=phone,
                         sender=phone, phone=phone, body_text="Пропущенный звонок",
                         meta={"status": "missed"}, when=now - dt.timedelta(hours=2),
                         create_lead=False, event="", notify=False))  # fmt: skip
        count += 1
    ctx.result.more["conversations"] = count
