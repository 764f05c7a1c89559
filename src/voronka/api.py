"""The REST API instance; each domain contributes a router from its own api.py.

Served under /api/v1: the OpenAPI document at /api/v1/openapi.json and the interactive docs
at /api/v1/docs (swagger-ui from ninja's bundled static files; "ninja" is in INSTALLED_APPS
so no CDN is used)."""

from __future__ import annotations

from ninja import NinjaAPI, Router

from voronka.accounts.api import AUTH, teams, users
from voronka.automation.api import automation
from voronka.channels.api import lead_sources, web_forms
from voronka.core.api import ApiRequest, StrictParser, install_error_handlers
from voronka.core.api import custom_fields as custom_fields_router
from voronka.core.errors import NotFound
from voronka.customers.api import companies, contacts, search, tags
from voronka.customers.api_merge import companies_merge, contacts_merge
from voronka.imports.api import imports
from voronka.inbox.api import conversations
from voronka.mail.api import mailboxes
from voronka.messaging.api import message_templates, messages
from voronka.sales.api import (
    activities,
    deals,
    invoices,
    leads,
    pipelines,
    products,
    quotes,
    stages,
)
from voronka.telegram.api import telegram_bots
from voronka.telephony.api import calls, tracking_numbers
from voronka.webhooks.api import webhook_deliveries, webhooks
from voronka.webhooks.schemas import OPENAPI_WEBHOOKS

api = NinjaAPI(
    title="Voronka API",
    version="1",
    urls_namespace="api",
    auth=AUTH,
    parser=StrictParser(),
    description="Contacts, companies, tags and custom fields, and sales: leads, pipelines, "
    "deals with products, activities, quotes and invoices of Voronka CRM. "
    "Money is a decimal string, dates are ISO 8601. "
    "Authenticate with `Authorization: Bearer <key>` (make a key on your profile page). "
    "See docs/api-guide.md for pagination, filters, errors and idempotency.",
)
install_error_handlers(api)
api.openapi_extra["webhooks"] = OPENAPI_WEBHOOKS

api.add_router("/contacts", contacts)
api.add_router("/companies", companies)
api.add_router("/tags", tags)
api.add_router("/custom-fields", custom_fields_router)
api.add_router("/users", users)
api.add_router("/teams", teams)
api.add_router("/search", search)
api.add_router("/leads", leads)
api.add_router("/pipelines", pipelines)
api.add_router("/stages", stages)
api.add_router("/deals", deals)
api.add_router("/products", products)
api.add_router("/activities", activities)
api.add_router("/quotes", quotes)
api.add_router("/invoices", invoices)

api.add_router("/contacts", contacts_merge)
api.add_router("/companies", companies_merge)
api.add_router("/imports", imports)
api.add_router("/web-forms", web_forms)
api.add_router("/lead-sources", lead_sources)
api.add_router("/message-templates", message_templates)
api.add_router("/messages", messages)
api.add_router("/automation", automation)
api.add_router("/webhooks", webhooks)
api.add_router("/webhook-deliveries", webhook_deliveries)
api.add_router("/conversations", conversations)
api.add_router("/mailboxes", mailboxes)
api.add_router("/telegram-bots", telegram_bots)
api.add_router("/calls", calls)
api.add_router("/tracking-numbers", tracking_numbers)

# Last, so it only catches what no router matched: unknown API paths answer JSON, not HTML.
unknown = Router()


@unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def unknown_endpoint(request: ApiRequest, rest: str) -> None:
    raise NotFound(f"no endpoint /api/v1/{rest}")


api.add_router("", unknown)
