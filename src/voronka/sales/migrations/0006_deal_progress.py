"""Each deal's progress (furthest open/won position reached, last lost stage entered), filled
from the stage history; the funnel's covering index replaces deal_funnel_idx."""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill(apps: Any, schema_editor: Any) -> None:
    from voronka.sales.progress import refresh

    deal = apps.get_model("sales", "Deal")
    refresh(deal.objects.all(), apps.get_model("sales", "DealStageHistory"))


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0001_initial'),
        ('sales', '0005_deal_tags'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='deal',
            name='deal_funnel_idx',
        ),
        migrations.AddField(
            model_name='deal',
            name='furthest_position',
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='deal',
            name='lost_at_stage',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sales.stage'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(fields=['pipeline', 'owner', 'stage', 'furthest_position', 'lost_at_stage', 'currency', 'amount', 'created_at'], name='deal_progress_idx'),
        ),
    ]
