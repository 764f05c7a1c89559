"""The reminder e-mail consumer starts at the outbox's end on an existing installation.

Before it existed, reminders sent their e-mail themselves; a cursor at 0 would e-mail every
past reminder again."""

from django.db import migrations


def start_at_the_end(apps, schema_editor):  # type: ignore[no-untyped-def]
    cursors = apps.get_model("core", "OutboxCursor")
    outbox = apps.get_model("core", "OutboxEvent")
    last = outbox.objects.order_by("-id").values_list("id", flat=True).first() or 0
    cursors.objects.get_or_create(consumer="messaging.staff_mail", defaults={"last_event_id": last})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_consumer_receipt"),
        ("messaging", "0001_initial"),
    ]

    operations = [migrations.RunPython(start_at_the_end, migrations.RunPython.noop)]
