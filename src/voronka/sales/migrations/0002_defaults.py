"""Starting data every installation needs: currencies, a default pipeline, lost reasons.
Names follow VORONKA_LANGUAGE at install time; administrators rename them freely."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations

RU = settings.LANGUAGE_CODE.startswith("ru")
CURRENCIES = [
    ("RUB", "Российский рубль" if RU else "Russian rouble", "₽", Decimal(1), True),
    ("USD", "Доллар США" if RU else "US dollar", "$", Decimal("90"), False),
    ("EUR", "Евро" if RU else "Euro", "€", Decimal("100"), False),
]
STAGES = [
    # name ru, name en, probability, colour, kind, checklist ru, checklist en
    ("Новая", "New", 10, "#74c0fc", "open", ["Связаться с клиентом в течение часа"], ["Call the customer within an hour"]),
    ("Квалификация", "Qualification", 25, "#4dabf7", "open", ["Выяснить потребность и бюджет", "Найти лицо, принимающее решение"], ["Find out the need and the budget", "Find the decision maker"]),
    ("Предложение", "Proposal", 50, "#748ffc", "open", ["Отправить коммерческое предложение"], ["Send the quote"]),
    ("Переговоры", "Negotiation", 75, "#9775fa", "open", ["Согласовать условия и договор"], ["Agree on terms and the contract"]),
    ("Успешно", "Won", 100, "#40c057", "won", [], []),
    ("Проиграна", "Lost", 0, "#fa5252", "lost", [], []),
]
LOST_REASONS_RU = ["Дорого", "Выбрали конкурента", "Нет бюджета", "Не отвечает", "Нет потребности"]
LOST_REASONS_EN = ["Too expensive", "Chose a competitor", "No budget", "No response", "No need"]


def create(apps, schema_editor):
    Currency = apps.get_model("sales", "Currency")
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    LostReason = apps.get_model("sales", "LostReason")
    for code, name, symbol, rate, is_base in CURRENCIES:
        Currency.objects.get_or_create(code=code, defaults=dict(name=name, symbol=symbol, rate=rate, is_base=is_base))
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="Продажи" if RU else "Sales", is_default=True)
        for i, (ru, en, prob, color, kind, check_ru, check_en) in enumerate(STAGES):
            Stage.objects.create(
                pipeline=pipeline, name=ru if RU else en, position=i, probability=prob, color=color,
                kind=kind, instructions=check_ru if RU else check_en,
            )
    for i, name in enumerate(LOST_REASONS_RU if RU else LOST_REASONS_EN):
        LostReason.objects.get_or_create(name=name, defaults={"position": i})


def remove(apps, schema_editor):
    apps.get_model("sales", "LostReason").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
