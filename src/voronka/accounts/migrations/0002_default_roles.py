from django.db import migrations

ROLES = [
    # code, name, scope, is_admin, can_write, can_delete, can_export
    ("admin", "Administrator", "all", True, True, True, True),
    ("head_of_sales", "Head of sales", "all", False, True, True, True),
    ("sales_rep", "Sales rep", "own", False, True, False, True),
    ("marketer", "Marketer", "all", False, True, False, True),
    ("support", "Support agent", "all", False, True, False, False),
    ("read_only", "Read-only", "all", False, False, False, False),
]


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, name, scope, is_admin, can_write, can_delete, can_export in ROLES:
        Role.objects.update_or_create(
            code=code,
            defaults=dict(
                name=name, scope=scope, is_admin=is_admin, can_write=can_write,
                can_delete=can_delete, can_export=can_export,
            ),
        )


def remove_roles(apps, schema_editor):
    apps.get_model("accounts", "Role").objects.filter(code__in=[r[0] for r in ROLES]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, remove_roles)]
