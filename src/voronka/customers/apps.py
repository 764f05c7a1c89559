from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "voronka.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from voronka.core.custom_fields import register_entity
        from voronka.customers import search_index

        register_entity("customers.company", str(_("Companies")))
        register_entity("customers.contact", str(_("Contacts")))
        # Cross-cutting plumbing (listed in docs/dev/signals.md): the search index must exist
        # after every migrate, also when SQLite rebuilt a table and dropped its triggers.
        post_migrate.connect(search_index.ensure, sender=self)
